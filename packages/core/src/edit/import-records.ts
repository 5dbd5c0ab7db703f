import { StoredConflictError } from '../contract/errors';
import { scopeKey } from '../contract/scope';
import type { MemoryRecord } from '../contract/types';
import { historyEvent } from '../store/history-event';
import type { MemoryWriter } from '../store/memory-writer';
import { ensureDimensions } from '../store/readiness';

/**
 * `Memory.importRecords`: stores checked records as they are, scope by scope, each group under the
 * locks of its scope and its memories, with one history event per record (ADD, or UPDATE when its
 * id is already stored in its scope) committed through the write protocol.
 *
 * An id that names a memory of another scope is refused before anything is written.
 * @throws {InvalidInputError} naming `records[i].id` for a repeated id.
 * @throws {StoredConflictError} (code `CONFLICT`) naming `records[i].id` for an id of another scope's memory.
 */
export async function importRecords(
  /** Records checked by `Memory` (one vector length for all, recomputed hashes). */
  records: readonly MemoryRecord[],
  parts: { readonly writer: MemoryWriter; readonly now: () => Date },
  signal?: AbortSignal,
): Promise<{ added: number; updated: number }> {
  const counts = { added: 0, updated: 0 };
  if (records.length === 0) return counts;
  const byScope = new Map<string, MemoryRecord[]>();
  for (const record of records) byScope.set(scopeKey(record.scope), [...(byScope.get(scopeKey(record.scope)) ?? []), record]);
  await refuseOtherScopesIds(records, byScope, parts.writer, signal);
  await ensureDimensions(parts.writer.vectorStore, records[0]!.vector.length, signal);
  for (const group of byScope.values()) {
    const ids = group.map((record) => record.id);
    await parts.writer.locked({ scope: group[0]!.scope, ids, signal }, async (session) => {
      const existing = await session.read(ids);
      const now = parts.now();
      const events = group.map((record) => {
        const previous = existing.get(record.id);
        if (previous) counts.updated++;
        else counts.added++;
        return historyEvent({
          memoryId: record.id,
          scope: record.scope,
          kind: previous ? 'UPDATE' : 'ADD',
          previousText: previous?.text ?? null,
          text: record.text,
          actor: previous ? 'update' : 'add',
          now,
        });
      });
      await session.commit({ events, upserts: group, deletes: [] });
    });
  }
  return counts;
}

/**
 * Refuses a record whose id names a memory of another scope. Stores key records by id alone, and a
 * scoped read sees only its scope and narrower ones: such a record would overwrite another scope's
 * memory (another tenant's), or move a narrower scope's memory into this one. The history store is
 * read by id (every memory written through `Memory` has history, deleted ones too), and each
 * scope is read for ids its narrower scopes hold (records written to the store directly).
 */
async function refuseOtherScopesIds(
  records: readonly MemoryRecord[],
  byScope: ReadonlyMap<string, readonly MemoryRecord[]>,
  writer: MemoryWriter,
  signal: AbortSignal | undefined,
): Promise<void> {
  const call = signal ? { signal } : {};
  const taken = (id: string) =>
    new StoredConflictError(
      `records[${records.findIndex((record) => record.id === id)}].id`,
      'is the id of a memory of another scope',
      'An id names one memory in one scope: import the record under a new id.',
    );
  for (const record of records) {
    const events = await writer.historyStore.list({ memoryId: record.id, ...call });
    if (events.some((event) => scopeKey(event.scope) !== scopeKey(record.scope))) throw taken(record.id);
  }
  for (const [key, group] of byScope) {
    const stored = await writer.vectorStore.get({ scope: group[0]!.scope, ids: group.map((record) => record.id), ...call });
    const other = stored.find((record) => scopeKey(record.scope) !== key);
    if (other) throw taken(other.id);
  }
}
