import { emptyUsage } from '@mem/core/adapter';
import type { Scope, Usage } from '@mem/core';

/** One request that spent provider calls, as `GET /v1/usage` returns it. */
export interface UsageEntry {
  readonly at: Date;
  readonly operation: 'add' | 'search' | 'update' | 'import';
  /** The public id of the API key that made the request. */
  readonly keyId: string;
  readonly scope: Scope;
  readonly durationMs: number;
  readonly usage: Usage;
}

/**
 * What the last requests of `add`, `search`, `update` and `import` cost (LLM calls, tokens,
 * embedding calls), kept in memory: a ring of the newest `capacity` entries, so recording is one
 * array write and the server never grows. Nothing of a request's content is kept: no text, query
 * or metadata. Lost on restart by design.
 */
export class UsageLog {
  readonly capacity: number;
  private readonly entries: (UsageEntry | undefined)[];
  private next = 0;
  private size = 0;

  /** @param capacity - how many requests to remember. @default 500 */
  constructor(capacity = 500) {
    this.capacity = capacity;
    this.entries = new Array<UsageEntry | undefined>(capacity);
  }

  record(entry: UsageEntry): void {
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /**
   * The remembered entries, newest first, of one key (or every key when `keyId` is undefined),
   * the newest `limit` of them, and the totals of all of that key's remembered entries.
   */
  list(options: { readonly keyId: string | undefined; readonly limit: number }): {
    entries: UsageEntry[];
    totals: Usage;
    requests: number;
  } {
    const entries: UsageEntry[] = [];
    const totals = emptyUsage();
    let requests = 0;
    for (let offset = 1; offset <= this.size; offset++) {
      const entry = this.entries[(this.next - offset + this.capacity) % this.capacity]!;
      if (options.keyId !== undefined && entry.keyId !== options.keyId) continue;
      requests++;
      for (const field of Object.keys(totals) as (keyof Usage)[]) totals[field] += entry.usage[field];
      if (entries.length < options.limit) entries.push(entry);
    }
    return { entries, totals, requests };
  }
}
