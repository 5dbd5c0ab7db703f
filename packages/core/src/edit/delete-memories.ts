import { evaluateFilter, type Filter } from '../contract/filter';
import type { Scope } from '../contract/types';
import type { GraphSettings } from '../graph/graph-options';
import { scanScope } from '../store/filtered-reads';
import { historyEvent } from '../store/history-event';
import type { MemoryWriter } from '../store/memory-writer';

/** How many memories `deleteMemories` deletes per locked batch. */
const DELETE_BATCH = 500;

/** `Memory.delete`: under the locks of the scope and the memory, commits one DELETE. */
export async function deleteMemory(
  request: { readonly id: string; readonly scope: Scope; readonly signal?: AbortSignal | undefined },
  parts: { readonly writer: MemoryWriter; readonly now: () => Date },
): Promise<{ deleted: boolean }> {
  const { id, scope } = request;
  return parts.writer.locked({ scope, ids: [id], signal: request.signal }, async (session) => {
    const record = (await session.read([id])).get(id);
    if (!record) return { deleted: false };
    const event = historyEvent({
      memoryId: record.id,
      scope: record.scope,
      kind: 'DELETE',
      previousText: record.text,
      text: null,
      actor: 'delete',
      now: parts.now(),
    });
    await session.commit({ events: [event], upserts: [], deletes: [id] });
    return { deleted: true };
  });
}

/**
 * `Memory.deleteAll`: deletes every memory of `scope` that matches `filter`, however many, in
 * batches, each under the locks of its memories. Without a filter, also deletes the scope's graph.
 */
export async function deleteMemories(
  request: { readonly scope: Scope; readonly filter: Filter | undefined; readonly signal?: AbortSignal | undefined },
  parts: { readonly writer: MemoryWriter; readonly graph: GraphSettings | undefined; readonly now: () => Date },
): Promise<{ deleted: number }> {
  const { scope, filter, signal } = request;
  return parts.writer.locked({ scope, signal }, async (scopeSession) => {
    // Collect first: deleting while paging a cursor would be safe with id order, but not every
    // backend pages consistently under concurrent deletes.
    const doomed: string[] = [];
    for await (const record of scanScope(parts.writer.vectorStore, { scope, filter, signal })) doomed.push(record.id);
    let deleted = 0;
    for (let start = 0; start < doomed.length; start += DELETE_BATCH) {
      const ids = doomed.slice(start, start + DELETE_BATCH);
      // Under the memories' locks, re-read them: a call through an overlapping scope may have
      // changed (or deleted) one since the scan, and the history must start from its last text.
      deleted += await scopeSession.lockRecords(ids, async (session) => {
        const batch = [...(await session.read(ids)).values()].filter((record) => !filter || evaluateFilter(filter, record));
        const now = parts.now();
        const events = batch.map((record) =>
          historyEvent({
            memoryId: record.id,
            scope: record.scope,
            kind: 'DELETE',
            previousText: record.text,
            text: null,
            actor: 'deleteAll',
            now,
          }),
        );
        await session.commit({ events, upserts: [], deletes: batch.map((record) => record.id) });
        return batch.length;
      });
    }
    // Graph memory: without a filter, the graph of the scope goes too (a metadata filter selects memories only).
    if (parts.graph && filter === undefined) await parts.graph.store.deleteAll({ scope, ...(signal ? { signal } : {}) });
    return { deleted };
  });
}
