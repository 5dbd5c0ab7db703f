import { scopeKey } from '../contract/scope';
import type { MemoryRecord } from '../contract/types';
import { historyEvent } from '../store/history-event';
import type { MemoryWriter } from '../store/memory-writer';
import { ensureDimensions } from '../store/readiness';

/**
 * `Memory.importRecords`: stores checked records as they are, scope by scope, each group under the
 * locks of its scope and its memories, with one history event per record (ADD, or UPDATE when its
 * id is already stored in its scope) committed through the write protocol.
 */
export async function importRecords(
  /** Records checked by `Memory` (one vector length for all, recomputed hashes). */
  records: readonly MemoryRecord[],
  parts: { readonly writer: MemoryWriter; readonly now: () => Date },
  signal?: AbortSignal,
): Promise<{ added: number; updated: number }> {
  const counts = { added: 0, updated: 0 };
  if (records.length === 0) return counts;
  await ensureDimensions(parts.writer.vectorStore, records[0]!.vector.length, signal);
  const byScope = new Map<string, MemoryRecord[]>();
  for (const record of records) byScope.set(scopeKey(record.scope), [...(byScope.get(scopeKey(record.scope)) ?? []), record]);
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
