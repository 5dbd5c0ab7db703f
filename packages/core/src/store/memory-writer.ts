import { MemError } from '../contract/errors';
import type { HistoryStore, VectorStore } from '../contract/interfaces';
import { scopeKey } from '../contract/scope';
import type { HistoryEvent, IdempotencyRecord, MemoryRecord, Scope } from '../contract/types';
import { KeyedMutex, recordLock, scopeLock } from './locks';
import { settlePending, writeAhead, type SettleReport } from './write-ahead';

/** One write to the memories of a scope: the history events that describe it and the vector writes that make it. */
export interface Change {
  /** Built with `historyEvent()`, one per memory added, updated or deleted. */
  readonly events: readonly HistoryEvent[];
  /** Records to store (new, or replacing one by id), written in batches of the store's `maxUpsertBatch`. */
  readonly upserts: readonly MemoryRecord[];
  /** Ids to delete, within the session's scope. */
  readonly deletes: readonly string[];
  /** An idempotent add's key and result: stored by the settle that commits `events` (or alone when there are none). */
  readonly idempotencyRecord?: IdempotencyRecord | undefined;
}

/** What a write sees while it holds its locks. It exists only inside {@link MemoryWriter.locked}. */
export interface WriteSession {
  readonly scope: Scope;
  readonly vectorStore: VectorStore;
  readonly signal?: AbortSignal;
  /** The records of the scope with these ids, as stored now, by id (no call for no ids). */
  read(ids: readonly string[]): Promise<Map<string, MemoryRecord>>;
  /** Writes `change` ahead in the history (pending), then to the vector store, then commits the events. */
  commit(change: Change): Promise<void>;
  /**
   * Takes the locks of more memories of the scope (which sort after the scope's lock this session
   * holds) and runs `work` holding them too.
   */
  lockRecords<T>(ids: readonly string[], work: (session: WriteSession) => Promise<T>): Promise<T>;
}

/**
 * The one write protocol of `Memory`, used by `add`, `update`, `delete`, `deleteAll` and
 * `importRecords` (and `recover` after a crash):
 *
 * 1. lock: the scope's lock, then the lock of every memory the write may change, in sorted order,
 *    so adds of one scope apply one at a time and a change made through an overlapping scope waits;
 * 2. read: the records the write changes, re-read under the locks;
 * 3. commit: the history events are appended as pending (the write-ahead log), the vector store is
 *    written, the events are committed. A write that fails is settled at once by what the vector
 *    store holds; a process killed in between leaves pending events for {@link recover}.
 */
export class MemoryWriter {
  private readonly locks = new KeyedMutex();
  /** Ids of history events this instance is writing (pending until their vector write is done). */
  private readonly inFlight = new Set<string>();

  constructor(
    readonly vectorStore: VectorStore,
    readonly historyStore: HistoryStore,
  ) {}

  /**
   * Runs `work` holding the lock of `scope` and of each memory in `ids`: first in this process, then
   * through the history store's `lock`, which reaches every process on the same database when the
   * store declares `writeLocks: 'database'`.
   */
  locked<T>(
    request: { readonly scope: Scope; readonly ids?: readonly string[]; readonly signal?: AbortSignal | undefined },
    work: (session: WriteSession) => Promise<T>,
  ): Promise<T> {
    const ids = request.ids ?? [];
    return this.lockAll([scopeLock(request.scope), ...ids.map(recordLock)], request.signal, () =>
      work(this.session(request.scope, request.signal)),
    );
  }

  /** Takes `keys` in this process (in sorted order), then through the history store, and runs `work`. */
  private lockAll<T>(keys: readonly string[], signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    return this.locks.runAll(sorted, () => this.historyStore.lock({ keys: sorted, ...(signal ? { signal } : {}) }, work));
  }

  /**
   * Settles the pending events a crashed process left, by what the vector store holds (see
   * `Memory.recover()`). Events this instance is writing are pending by design and left alone.
   */
  async recover(signal?: AbortSignal): Promise<SettleReport> {
    const call = signal ? { signal } : {};
    const total: SettleReport = { committed: 0, discarded: 0, completed: 0 };
    const settled = new Set<string>();
    for (;;) {
      const listed = await this.historyStore.listPending({ limit: 500 + this.inFlight.size, ...call });
      const events = listed.filter((event) => !this.inFlight.has(event.id));
      if (events.length === 0) return total;
      if (events.some((event) => settled.has(event.id))) {
        throw new MemError(
          'CONFLICT',
          `${this.historyStore.provider} history store still lists events as pending after settling them. Check that its settle() commits and discards them.`,
        );
      }
      // Settled under the locks of each memory (and of its scope, which an add holds): an event another
      // process is still writing is pending by design, and its writer holds those locks until it has
      // committed the event (settling an event that is no longer pending changes nothing).
      const groups = new Map<string, { scope: Scope; events: HistoryEvent[] }>();
      for (const event of events) {
        const key = scopeKey(event.scope);
        const group = groups.get(key) ?? { scope: event.scope, events: [] };
        group.events.push(event);
        groups.set(key, group);
      }
      for (const group of groups.values()) {
        const keys = [scopeLock(group.scope), ...group.events.map((event) => recordLock(event.memoryId))];
        const report = await this.lockAll(keys, signal, () =>
          settlePending({
            historyStore: this.historyStore,
            vectorStore: this.vectorStore,
            events: group.events,
            finishDeletes: true,
            ...call,
          }),
        );
        total.committed += report.committed;
        total.discarded += report.discarded;
        total.completed += report.completed;
      }
      for (const event of events) settled.add(event.id);
    }
  }

  private session(scope: Scope, signal: AbortSignal | undefined): WriteSession {
    const call = signal ? { signal } : {};
    const { vectorStore, historyStore, inFlight } = this;
    return {
      scope,
      vectorStore,
      ...call,
      read: async (ids) => {
        if (ids.length === 0) return new Map();
        return new Map((await vectorStore.get({ scope, ids, ...call })).map((record) => [record.id, record] as const));
      },
      commit: (change) =>
        writeAhead(
          { historyStore, vectorStore, events: change.events, idempotencyRecord: change.idempotencyRecord, inFlight, ...call },
          async () => {
            await upsertInBatches(vectorStore, change.upserts, signal);
            if (change.deletes.length > 0) await vectorStore.delete({ scope, ids: change.deletes, ...call });
          },
        ),
      lockRecords: (ids, work) => this.lockAll(ids.map(recordLock), signal, () => work(this.session(scope, signal))),
    };
  }
}

/** Splits an upsert into batches of the store's `maxUpsertBatch`. */
async function upsertInBatches(vectorStore: VectorStore, records: readonly MemoryRecord[], signal?: AbortSignal): Promise<void> {
  const size = vectorStore.capabilities.maxUpsertBatch;
  for (let start = 0; start < records.length; start += size) {
    await vectorStore.upsert({ records: records.slice(start, start + size), ...(signal ? { signal } : {}) });
  }
}
