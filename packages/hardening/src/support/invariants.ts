import { SCOPE_FIELDS } from '@mem/core/adapter';
import { MemError, type HistoryEvent, type HistoryStore, type MemoryRecord, type Scope, type VectorStore } from '@mem/core';

/** Whether two scopes set exactly the same ids. */
export function sameScope(a: Scope, b: Scope): boolean {
  return SCOPE_FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));
}

/** Whether a record of scope `record` is visible to a call with scope `call` (every id the call sets is equal). */
export function visible(call: Scope, record: Scope): boolean {
  return SCOPE_FIELDS.every((field) => call[field] === undefined || call[field] === record[field]);
}

/** Every record stored with exactly one of `scopes`, keyed by id. */
export async function recordsOf(store: VectorStore, scopes: readonly Scope[]): Promise<Map<string, MemoryRecord>> {
  const records = new Map<string, MemoryRecord>();
  for (const scope of scopes) {
    for await (const record of store.list({ scope })) if (sameScope(record.scope, scope)) records.set(record.id, record);
  }
  return records;
}

/** A comparable picture of records: everything but the vector, which is compared by its first components. */
export function fingerprint(records: ReadonlyMap<string, MemoryRecord>): Map<string, string> {
  return new Map(
    [...records].map(([id, record]) => [
      id,
      JSON.stringify({
        text: record.text,
        hash: record.hash,
        scope: SCOPE_FIELDS.map((field) => record.scope[field] ?? null),
        metadata: record.metadata,
        dates: [record.createdAt.getTime(), record.updatedAt.getTime(), record.occurredAt.getTime()],
        vector: record.vector.slice(0, 4).map((value) => Math.round(value * 1e5)),
      }),
    ]),
  );
}

/** Differences between two fingerprints, as readable lines (empty when equal). */
export function diff(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const [id, value] of before) {
    if (!after.has(id)) lines.push(`${id} disappeared`);
    else if (after.get(id) !== value) lines.push(`${id} changed`);
  }
  for (const id of after.keys()) if (!before.has(id)) lines.push(`${id} appeared`);
  return lines;
}

/**
 * Checks the history of each memory against the store: events are ordered and chained (first an
 * ADD; each UPDATE/DELETE starts from the text the previous event left; nothing after a DELETE),
 * every stored record's last event is an ADD or UPDATE with its text and scope, and a memory whose
 * last event is a DELETE is not stored. Returns the violations.
 */
export async function historyViolations(options: {
  readonly historyStore: HistoryStore;
  readonly records: ReadonlyMap<string, MemoryRecord>;
  /** Further memory ids to check (e.g. every id an `add` reported), stored or not. */
  readonly memoryIds?: Iterable<string>;
}): Promise<string[]> {
  const violations: string[] = [];
  const ids = new Set([...options.records.keys(), ...(options.memoryIds ?? [])]);
  for (const id of ids) {
    const events = await options.historyStore.list({ memoryId: id });
    const record = options.records.get(id);
    violations.push(...chainViolations(id, events));
    const last = events[events.length - 1];
    if (record) {
      if (!last) violations.push(`${id}: stored without history`);
      else if (last.kind === 'DELETE') violations.push(`${id}: stored, but its last event is a DELETE`);
      else {
        if (last.text !== record.text) violations.push(`${id}: stored text differs from the last event's text`);
        if (!sameScope(last.scope, record.scope)) violations.push(`${id}: stored scope differs from the history's scope`);
      }
    } else if (last && last.kind !== 'DELETE') {
      violations.push(`${id}: history says ${last.kind} but the memory is not stored`);
    }
  }
  return violations;
}

/** Order and chaining of one memory's events. */
export function chainViolations(id: string, events: readonly HistoryEvent[]): string[] {
  const violations: string[] = [];
  let text: string | null = null;
  let deleted = false;
  events.forEach((event, index) => {
    if (event.memoryId !== id) violations.push(`${id}: event ${index} belongs to ${event.memoryId}`);
    if (deleted) violations.push(`${id}: event ${index} (${event.kind}) after a DELETE`);
    if (index === 0 && event.kind !== 'ADD') violations.push(`${id}: first event is ${event.kind}, not ADD`);
    if (index > 0 && event.kind === 'ADD') violations.push(`${id}: second ADD at event ${index}`);
    if (index > 0 && event.previousText !== text)
      violations.push(`${id}: event ${index} (${event.kind}) does not start from the previous text`);
    if (index > 0 && !sameScope(event.scope, events[0]!.scope)) violations.push(`${id}: event ${index} moved the memory to another scope`);
    if (index > 0 && event.createdAt.getTime() < events[index - 1]!.createdAt.getTime())
      violations.push(`${id}: event ${index} is older than event ${index - 1}`);
    text = event.text;
    if (event.kind === 'DELETE') deleted = true;
  });
  return violations;
}

/** Runs `action`; returns its value, or the error when it is a typed mem error. Anything else is rethrown. */
export async function typed<T>(action: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: MemError }> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    if (MemError.is(error)) return { ok: false, error };
    throw error;
  }
}
