import type { HistoryStore, VectorStore } from '../contract/interfaces';
import { scopeKey } from '../contract/scope';
import type { HistoryEvent, IdempotencyRecord, MemoryRecord, Scope } from '../contract/types';

/**
 * The history store is the write-ahead log of every change: a change's events are appended as
 * pending, then the vector store is written, then the events are committed. A process that dies in
 * between leaves pending events, which {@link settlePending} (run by `Memory.recover()`) settles by
 * what the vector store holds. So the history never shows a change that did not happen, and every
 * stored memory has its history.
 *
 * An `idempotencyRecord` (an idempotent add's key and result) is stored by the settle that commits
 * the events, in the same step, so a change is never committed without its key; a change with no
 * events stores it on its own after `write`. It is never stored when `write` fails.
 */
export async function writeAhead<T>(
  options: {
    historyStore: HistoryStore;
    vectorStore: VectorStore;
    events: readonly HistoryEvent[];
    /** Stored with the commit of `events` (see above). */
    idempotencyRecord?: IdempotencyRecord | undefined;
    /** Ids of the events this process is writing, which its own `recover()` must leave alone. */
    inFlight?: Set<string>;
    signal?: AbortSignal;
  },
  write: () => Promise<T>,
): Promise<T> {
  const { historyStore, vectorStore, events, idempotencyRecord, inFlight, signal } = options;
  if (events.length === 0) {
    const result = await write();
    if (idempotencyRecord) await historyStore.putIdempotencyRecord!({ record: idempotencyRecord });
    return result;
  }
  for (const event of events) inFlight?.add(event.id);
  try {
    await historyStore.append({ events, pending: true, ...(signal ? { signal } : {}) });
    let result: T;
    try {
      result = await write();
    } catch (error) {
      // The vector store may hold part of the change (one batch of several, or a write whose answer
      // was lost): settle each event by what it holds now. If the store cannot be read either, or a
      // read may not see the write yet (eventually consistent stores), the events stay pending for recover().
      if (vectorStore.capabilities.readAfterWrite === 'immediate') {
        await settlePending({ historyStore, vectorStore, events, finishDeletes: false }).catch(() => undefined);
      }
      throw error;
    }
    // No signal: the vector store is written, so the log must say so even if the caller gave up.
    await historyStore.settle({ commit: events.map((event) => event.id), ...(idempotencyRecord ? { idempotencyRecord } : {}) });
    return result;
  } finally {
    for (const event of events) inFlight?.delete(event.id);
  }
}

/** What settling pending events did. */
export interface SettleReport {
  /** Events whose change the vector store holds: now committed. */
  committed: number;
  /** Events whose change never reached the vector store: dropped from the history. */
  discarded: number;
  /** DELETE events whose memory was still stored: the memory was deleted, the event committed. */
  completed: number;
}

/**
 * Settles pending events by the state of the vector store, memory by memory:
 * - ADD: committed when the memory is stored, else dropped (its text and metadata were never stored);
 * - UPDATE: committed when the memory holds the event's text with the event's time as `updatedAt`,
 *   else dropped (the memory keeps its previous state, which the history already shows);
 * - DELETE: committed when the memory is gone. When it is still stored, `finishDeletes` decides:
 *   true (recovery: the caller asked for the deletion and never heard back) deletes it and
 *   commits; false (the caller is being told the call failed) drops the event.
 */
export async function settlePending(options: {
  historyStore: HistoryStore;
  vectorStore: VectorStore;
  events: readonly HistoryEvent[];
  finishDeletes: boolean;
  signal?: AbortSignal;
}): Promise<SettleReport> {
  const { historyStore, vectorStore, events, finishDeletes, signal } = options;
  const call = signal ? { signal } : {};
  // One read per scope: an event's scope is its memory's own scope, so a scoped get finds the memory if it is stored.
  const scopes = new Map<string, { scope: Scope; ids: Set<string> }>();
  for (const event of events) {
    const key = scopeKey(event.scope);
    const group = scopes.get(key) ?? { scope: event.scope, ids: new Set<string>() };
    group.ids.add(event.memoryId);
    scopes.set(key, group);
  }
  const stored = new Map<string, MemoryRecord>();
  for (const { scope, ids } of scopes.values()) {
    const all = [...ids];
    for (let start = 0; start < all.length; start += READ_BATCH) {
      for (const record of await vectorStore.get({ scope, ids: all.slice(start, start + READ_BATCH), ...call }))
        stored.set(record.id, record);
    }
  }
  const report: SettleReport = { committed: 0, discarded: 0, completed: 0 };
  const commit: string[] = [];
  const discard: string[] = [];
  const unfinished = new Map<string, { scope: Scope; ids: string[] }>();
  for (const event of events) {
    const record = stored.get(event.memoryId);
    if (event.kind === 'DELETE') {
      if (!record) {
        commit.push(event.id);
        report.committed++;
        continue;
      }
      if (!finishDeletes) {
        discard.push(event.id);
        report.discarded++;
        continue;
      }
      commit.push(event.id);
      const key = scopeKey(event.scope);
      const group = unfinished.get(key) ?? { scope: event.scope, ids: [] };
      group.ids.push(event.memoryId);
      unfinished.set(key, group);
      report.completed++;
      continue;
    }
    const applied =
      event.kind === 'ADD'
        ? record !== undefined
        : record !== undefined && record.text === event.text && record.updatedAt.getTime() === event.createdAt.getTime();
    (applied ? commit : discard).push(event.id);
    if (applied) report.committed++;
    else report.discarded++;
  }
  for (const { scope, ids } of unfinished.values()) await vectorStore.delete({ scope, ids, ...call });
  await historyStore.settle({ commit, discard, ...call });
  return report;
}

/** How many ids one `get` reads while settling. */
const READ_BATCH = 100;
