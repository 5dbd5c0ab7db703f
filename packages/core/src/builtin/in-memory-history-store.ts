import { defineHistoryStoreCapabilities } from '../contract/capabilities';
import { InvalidInputError, MemError, throwIfAborted } from '../contract/errors';
import type { HistoryStore } from '../contract/interfaces';
import { scopeKey } from '../contract/scope';
import type { Call, HistoryEvent, IdempotencyRecord, Scope } from '../contract/types';

/**
 * A {@link HistoryStore} in process memory. Use `@mem/history-sqlite` to keep history.
 *
 * Single-process by nature: its data and its locks live in this process (`writeLocks: 'process'`),
 * so a `Memory` on it must be the only writer of its vector store.
 */
export class InMemoryHistoryStore implements HistoryStore {
  readonly provider = 'in-memory';
  /** Locks reach this process only (core already orders its writers); keeps idempotency records. */
  readonly capabilities = defineHistoryStoreCapabilities({ writeLocks: 'process', idempotencyRecords: true });
  private readonly events: HistoryEvent[] = [];
  /** Ids of the events appended as pending and not settled yet. */
  private readonly pending = new Set<string>();
  /** Idempotency records by exact scope and key. */
  private readonly records = new Map<string, IdempotencyRecord>();

  /** Runs `work`: within one process, core's own locks already keep writers apart. */
  async lock<T>(request: Call<{ keys: readonly string[] }>, work: () => Promise<T>): Promise<T> {
    throwIfAborted(request.signal, 'in-memory history lock');
    return work();
  }

  async append(request: Call<{ events: readonly HistoryEvent[]; pending?: boolean }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory history append');
    // All or none: check every id (against the store and within the batch) before storing any.
    const seen = new Set(this.events.map((event) => event.id));
    for (const event of request.events) {
      if (seen.has(event.id)) {
        throw new MemError(
          'CONFLICT',
          'A history event with this id is already stored (or appears twice in the batch). Give every event a fresh id; nothing was appended.',
        );
      }
      seen.add(event.id);
    }
    this.events.push(...request.events.map((event) => structuredClone(event)));
    if (request.pending === true) for (const event of request.events) this.pending.add(event.id);
  }

  async list(request: Call<{ memoryId: string }>): Promise<HistoryEvent[]> {
    throwIfAborted(request.signal, 'in-memory history list');
    return this.events
      .filter((event) => event.memoryId === request.memoryId && !this.pending.has(event.id))
      .map((event) => structuredClone(event));
  }

  async listPending(request: Call<{ limit: number }>): Promise<HistoryEvent[]> {
    throwIfAborted(request.signal, 'in-memory history listPending');
    return this.events
      .filter((event) => this.pending.has(event.id))
      .slice(0, request.limit)
      .map((event) => structuredClone(event));
  }

  async settle(
    request: Call<{ commit?: readonly string[]; discard?: readonly string[]; idempotencyRecord?: IdempotencyRecord }>,
  ): Promise<void> {
    throwIfAborted(request.signal, 'in-memory history settle');
    if (request.idempotencyRecord !== undefined) this.storeRecord(request.idempotencyRecord);
    for (const id of request.commit ?? []) this.pending.delete(id);
    const discard = new Set((request.discard ?? []).filter((id) => this.pending.has(id)));
    for (let index = this.events.length - 1; index >= 0; index--) if (discard.has(this.events[index]!.id)) this.events.splice(index, 1);
    for (const id of discard) this.pending.delete(id);
  }

  async getIdempotencyRecord(request: Call<{ scope: Scope; key: string; now: Date }>): Promise<IdempotencyRecord | null> {
    throwIfAborted(request.signal, 'in-memory history getIdempotencyRecord');
    const record = this.records.get(recordKey(request.scope, request.key));
    return record && record.expiresAt.getTime() > request.now.getTime() ? structuredClone(record) : null;
  }

  async putIdempotencyRecord(request: Call<{ record: IdempotencyRecord }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory history putIdempotencyRecord');
    this.storeRecord(request.record);
  }

  async purgeIdempotencyRecords(request: Call<{ before: Date }>): Promise<{ purged: number }> {
    throwIfAborted(request.signal, 'in-memory history purgeIdempotencyRecords');
    let purged = 0;
    for (const [key, record] of this.records) {
      if (record.expiresAt.getTime() <= request.before.getTime()) {
        this.records.delete(key);
        purged++;
      }
    }
    return { purged };
  }

  private storeRecord(record: IdempotencyRecord): void {
    if (typeof record?.key !== 'string' || typeof record.result !== 'string' || typeof record.requestHash !== 'string') {
      throw new InvalidInputError(
        'record',
        'expected an idempotency record',
        'Pass { scope, key, requestHash, result, createdAt, expiresAt }.',
      );
    }
    this.records.set(recordKey(record.scope, record.key), structuredClone(record));
  }

  async reset(): Promise<void> {
    this.events.length = 0;
    this.pending.clear();
    this.records.clear();
  }

  async close(): Promise<void> {}
}

function recordKey(scope: Scope, key: string): string {
  return JSON.stringify([scopeKey(scope), key]);
}
