import { EXPIRES_AT_KEY, MEMORY_TYPE_KEY, type Filter, type Scope } from '@mem/core/adapter';
import {
  ANN_ROW_OVERHEAD_BYTES,
  APPROXIMATE_MIN_CANDIDATES,
  AnnScope,
  type AnnStorage,
  DEFAULT_APPROXIMATE_EXPANSION,
} from './sqlite-vector-ann';
import { ChangeLogCursor, intern, MAX_APPLIED_CHANGES, replay, type ChangeLogSource } from './sqlite-change-log';
import { AnnBuild } from './sqlite-vector-ann-build';
import { strideOf, type VectorArena } from './sqlite-vector-scan';

/** A scope column of the memories table: the one a cached scope is keyed by, or one of the others. */
export type ScopeColumn = 'user_id' | 'agent_id' | 'run_id';

const SCOPE_COLUMNS: readonly (readonly [keyof Scope, ScopeColumn])[] = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
];

/** A memory as the cache reads it: its key, id, scope, the mirrored filter columns and its vector. */
export interface CacheSourceRow {
  readonly seq: number;
  readonly id_order: Buffer;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
  readonly expires_at: number | null;
  readonly memory_type: string | Buffer | null;
  readonly embedding: Buffer;
  readonly occurred_at: number;
  readonly created_at: number;
}

/** One row of the change log: a memory (seq) changed, and a scope it had before or after the change. */
export interface CacheChange {
  readonly version: number;
  readonly seq: number;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
}

/**
 * What the cache reads from the file, all inside one read transaction the caller holds (so every
 * answer comes from the same snapshot).
 */
export interface VectorCacheSource extends ChangeLogSource<CacheSourceRow> {
  /**
   * Whether the change log also records changed dates (occurredAt, createdAt) of a memory whose vector
   * row was not written: a trigger added after the others, which a file opened read-only may lack.
   */
  hasDatesLog(): boolean;
  /** The log row of `version`, if the log holds it. */
  changeAt(version: number): CacheChange | undefined;
  /** How many memories have `value` in `column`. */
  countScope(column: ScopeColumn, value: string): number;
  /**
   * Runs `work` in a read transaction of its own, outside any search (an index build reading on in
   * the background, see {@link AnnBuild}); `undefined` when the store cannot read now (closed, or
   * inside a transaction of the caller's on a shared connection).
   */
  readNow<T>(work: () => T): T | undefined;
  /**
   * Every memory with `value` in `column`, in runs of rows (see {@link ScopeRun}): what the scope's
   * (column, id_order) index and the vectors table hold, so no memory row is read.
   */
  scopeRuns(column: ScopeColumn, value: string, dimensions: number): Iterable<ScopeRun>;
  /** The scope columns of every memory with `value` in `column` (read when a query sets more than that id). */
  scopeValues(column: ScopeColumn, value: string): readonly (readonly [number, string | null, string | null, string | null])[];
  /** [seq, occurred_at, created_at] of every memory with `value` in `column` (read for the first conversation listing). */
  scopeDates(column: ScopeColumn, value: string): readonly (readonly [number, number, number])[];
}

/**
 * Consecutive memories of a scope (in id order): for each, [seq, id_order in hex, expires_at,
 * memory_type (a string, the array, or null)], and all their vectors back to back in one buffer.
 * One buffer per run instead of one per memory: reading a scope costs a few searches, not dozens.
 */
export interface ScopeRun {
  readonly rows: readonly (readonly [number, string, number | null, string | readonly unknown[] | null])[];
  readonly vectors: Buffer;
}

/** The mirrored columns a row test reads, by slot: what a held scope (vectors or keywords) keeps of each memory. */
export interface CachedColumns {
  readonly scopeValues: Readonly<Record<ScopeColumn, readonly (string | null)[]>>;
  readonly expires: readonly number[];
  readonly types: readonly (string | readonly string[] | null)[];
}

/** A row test on the cached columns (see {@link compileCacheFilter}). */
export type CachedRowTest = (entry: CachedColumns, slot: number) => boolean;

/** A memory of a cached scope as `listKeys` gives it: its id, and its dates in ms. */
export interface CachedKey {
  readonly id: string;
  readonly createdAt: number;
  readonly occurredAt: number;
}

/** A scored memory of a cached scope: its seq, for reading the record, and its cosine similarity. */
export interface CachedMatch {
  readonly seq: number;
  readonly score: number;
}

/** Bytes a cached memory costs beside its vector: seq, id string, scope and filter columns, seq-to-slot map entry. */
export const CACHE_ROW_OVERHEAD_BYTES = 160;
/** Rows of a full chunk of vectors: a scope grows by chunks, so growing never copies more than half of one. */
const CHUNK_ROWS = 4096;
/** Rows of a scope's first chunk, doubled until it is full. */
const FIRST_CHUNK_ROWS = 16;
/**
 * Scopes remembered as searched once (see {@link SqliteVectorCache.scope}); past this many the
 * memory starts over, which only delays caching.
 */
const MAX_SEEN_SCOPES = 100_000;

/** A block of the arena's memory a cache holds (see {@link VectorArena}). */
interface Blocks {
  /** Byte offset to size of every block held, so that all can be given back at once. */
  readonly held: Map<number, number>;
}

/** Thrown when the arena's memory (4 GiB for the process) has no room: the cache then gives up the scope. */
class ArenaFullError extends Error {}

/**
 * The memories of one scope-column value (for example every memory with user_id 'alice'), held for
 * ranking: their seq, id (the tie-break of the total order), scope columns, mirrored filter columns,
 * and unit-length vectors (so the dot product is the cosine similarity) in the arena's memory, in
 * chunks of {@link CHUNK_ROWS} rows of `stride` floats (the dimensions rounded up to a multiple of 4,
 * the rest zero). Rows sit in slots 0 to count - 1 in no particular order; a removal moves the last
 * row into the hole.
 */
export class ScopeVectors {
  count = 0;
  readonly seqs: number[] = [];
  /** Each memory's id_order as a string that sorts the same way (see orderKey): the tie-break. */
  readonly ids: string[] = [];
  readonly scopeValues: Readonly<Record<ScopeColumn, (string | null)[]>> = { user_id: [], agent_id: [], run_id: [] };
  /** `expires_at`, NaN when it is NULL. */
  readonly expires: number[] = [];
  /** `memory_type`: the string, the text elements of the array, or null. */
  readonly types: (string | readonly string[] | null)[] = [];
  /** `occurred_at` and `created_at` in ms: NaN for memories read by scope runs until {@link loadDates}. */
  readonly occurred: number[] = [];
  readonly created: number[] = [];
  readonly stride: number;
  /** Byte offset of each chunk in the arena, and its size in rows. */
  private readonly chunkOffsets: number[] = [];
  private readonly chunkRows: number[] = [];
  private readonly slots = new Map<number, number>();
  private allocatedRows = 0;
  private readonly interned = new Map<string, string>();
  /** Whether `scopeValues` holds the scope columns other than `column` (read on demand, see {@link loadScopeValues}). */
  private scopeValuesLoaded = false;
  /** Whether `occurred` and `created` hold every memory's dates (read on demand, see {@link loadDates}). */
  private datesLoaded = false;

  constructor(
    readonly column: ScopeColumn,
    readonly value: string,
    readonly dimensions: number,
    private readonly arena: VectorArena,
    private readonly blocks: Blocks,
  ) {
    this.stride = strideOf(dimensions);
  }

  /** Bytes this scope holds (see {@link CACHE_ROW_OVERHEAD_BYTES}). */
  get bytes(): number {
    return this.allocatedRows * this.stride * 4 + this.count * CACHE_ROW_OVERHEAD_BYTES;
  }

  /**
   * Adds a memory (or replaces the one with its seq).
   * @throws {ArenaFullError} when the arena has no room for another chunk.
   */
  put(row: CacheSourceRow): void {
    const existing = this.slots.get(row.seq);
    const slot = existing ?? this.count;
    if (existing === undefined) {
      this.reserve(slot + 1);
      this.count += 1;
      this.slots.set(row.seq, slot);
    }
    this.seqs[slot] = row.seq;
    this.ids[slot] = orderKey(row.id_order);
    for (const [, column] of SCOPE_COLUMNS) this.scopeValues[column][slot] = this.intern(row[column]);
    this.expires[slot] = row.expires_at ?? Number.NaN;
    this.types[slot] = memoryTypeOf(row.memory_type);
    this.occurred[slot] = row.occurred_at;
    this.created[slot] = row.created_at;
    this.arena.writeUnitVector(row.embedding, this.floatIndex(slot) * 4, this.dimensions, this.stride);
  }

  /**
   * Adds a memory read through the scope's index (see {@link VectorCacheSource.scopeRows}): its other
   * scope columns stay unknown until {@link loadScopeValues}.
   * @throws {ArenaFullError} when the arena has no room for another chunk.
   */
  appendRun(run: ScopeRun): void {
    const size = this.dimensions * 4;
    run.rows.forEach(([seq, idOrder, expiresAt, memoryType], index) => {
      this.append(seq, Buffer.from(idOrder, 'hex'), expiresAt, memoryType, run.vectors.subarray(index * size, (index + 1) * size));
    });
  }

  private append(
    seq: number,
    idOrder: Buffer,
    expiresAt: number | null,
    memoryType: string | readonly unknown[] | null,
    embedding: Buffer,
  ): void {
    const slot = this.count;
    this.reserve(slot + 1);
    this.count += 1;
    this.slots.set(seq, slot);
    this.seqs[slot] = seq;
    this.ids[slot] = orderKey(idOrder);
    this.scopeValues[this.column][slot] = this.value;
    this.expires[slot] = expiresAt ?? Number.NaN;
    this.types[slot] = memoryTypeOf(memoryType);
    this.occurred[slot] = Number.NaN;
    this.created[slot] = Number.NaN;
    this.arena.writeUnitVector(embedding, this.floatIndex(slot) * 4, this.dimensions, this.stride);
  }

  /** Reads the scope columns of every memory held, once, for a query that sets more ids than `column`. */
  loadScopeValues(source: VectorCacheSource): void {
    if (this.scopeValuesLoaded) return;
    for (const [seq, userId, agentId, runId] of source.scopeValues(this.column, this.value)) {
      const slot = this.slots.get(seq);
      if (slot === undefined) continue;
      this.scopeValues.user_id[slot] = this.intern(userId);
      this.scopeValues.agent_id[slot] = this.intern(agentId);
      this.scopeValues.run_id[slot] = this.intern(runId);
    }
    this.scopeValuesLoaded = true;
  }

  /** Reads the dates of every memory held, once, for the first {@link conversationKeys} (the runs read no memory row). */
  loadDates(source: VectorCacheSource): void {
    if (this.datesLoaded) return;
    for (const [seq, occurredAt, createdAt] of source.scopeDates(this.column, this.value)) {
      const slot = this.slots.get(seq);
      if (slot === undefined) continue;
      this.occurred[slot] = occurredAt;
      this.created[slot] = createdAt;
    }
    this.datesLoaded = true;
  }

  /**
   * The first `limit` memories (in id order) whose occurredAt is one of `times` and that pass `test`:
   * what `listKeys` answers for core's neighbour read (the conversations of a search's best
   * candidates), without a query. Call {@link loadDates} first.
   */
  conversationKeys(times: ReadonlySet<number>, test: CachedRowTest, limit: number): CachedKey[] {
    const slots: number[] = [];
    const occurred = this.occurred;
    // A search asks for a handful of conversations: comparing with each beats hashing every memory's date.
    const wanted = Float64Array.from(times);
    const few = wanted.length <= 16;
    for (let slot = 0; slot < this.count; slot++) {
      const time = occurred[slot]!;
      let hit = false;
      if (few) {
        for (let index = 0; index < wanted.length; index++) {
          if (wanted[index] === time) {
            hit = true;
            break;
          }
        }
      } else hit = times.has(time);
      if (hit && test(this, slot)) slots.push(slot);
    }
    const ids = this.ids;
    slots.sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
    return slots
      .slice(0, limit)
      .map((slot) => ({ id: idOfOrderKey(ids[slot]!), createdAt: this.created[slot]!, occurredAt: occurred[slot]! }));
  }

  /** Removes a memory if held: the last row moves into its slot. */
  remove(seq: number): void {
    const slot = this.slots.get(seq);
    if (slot === undefined) return;
    this.slots.delete(seq);
    const last = this.count - 1;
    if (slot !== last) {
      const lastSeq = this.seqs[last]!;
      this.seqs[slot] = lastSeq;
      this.ids[slot] = this.ids[last]!;
      for (const [, column] of SCOPE_COLUMNS) this.scopeValues[column][slot] = this.scopeValues[column][last]!;
      this.expires[slot] = this.expires[last]!;
      this.types[slot] = this.types[last]!;
      this.occurred[slot] = this.occurred[last]!;
      this.created[slot] = this.created[last]!;
      const from = this.floatIndex(last);
      this.arena.floats.copyWithin(this.floatIndex(slot), from, from + this.stride);
      this.slots.set(lastSeq, slot);
    }
    this.seqs.length = last;
    this.ids.length = last;
    for (const [, column] of SCOPE_COLUMNS) this.scopeValues[column].length = last;
    this.expires.length = last;
    this.types.length = last;
    this.occurred.length = last;
    this.created.length = last;
    this.count = last;
  }

  /** Gives the scope's chunks back to the arena; the scope is empty after. */
  release(): void {
    for (let index = 0; index < this.chunkOffsets.length; index++) this.free(this.chunkOffsets[index]!, this.chunkRows[index]!);
    this.chunkOffsets.length = 0;
    this.chunkRows.length = 0;
    this.allocatedRows = 0;
    this.count = 0;
    this.slots.clear();
  }

  /**
   * The `topK` memories passing `test` nearest to any of `queries` (unit vectors), best first: score
   * descending, then id_order ascending (the store's id order). The arena's scan
   * scores a chunk at a time; a bounded heap keeps the best `topK` seen, so nothing is sorted but them.
   * @throws {ArenaFullError} when the arena has no room for the query and the scores.
   */
  top(queries: readonly Float32Array[], topK: number, test: CachedRowTest): CachedMatch[] {
    const heap = new TopHeap(Math.min(topK, this.count), this.ids);
    const stride = this.stride;
    const queryBytes = queries.length * stride * 4;
    const scratch = this.arena.allocate(queryBytes + CHUNK_ROWS * 4);
    if (scratch === undefined) throw new ArenaFullError();
    try {
      const floats = this.arena.floats;
      for (let index = 0; index < queries.length; index++) {
        const at = (scratch >> 2) + index * stride;
        floats.set(queries[index]!, at);
        floats.fill(0, at + this.dimensions, at + stride);
      }
      const scores = (scratch + queryBytes) >> 2;
      for (let chunk = 0; chunk < this.chunkOffsets.length; chunk++) {
        const first = chunk * CHUNK_ROWS;
        const rows = Math.min(this.chunkRows[chunk]!, this.count - first);
        if (rows <= 0) break;
        for (let index = 0; index < queries.length; index++) {
          this.arena.scores(this.chunkOffsets[chunk]!, scratch + index * stride * 4, scratch + queryBytes, rows, stride, index > 0);
        }
        // Most rows score below the worst held one once the heap is full: skip those without a call.
        let floor = heap.floor;
        for (let row = 0; row < rows; row++) {
          const score = floats[scores + row]!;
          if (score < floor) continue;
          const slot = first + row;
          if (heap.admits(score, slot) && test(this, slot)) {
            heap.push(score, slot);
            floor = heap.floor;
          }
        }
      }
    } finally {
      this.arena.release(scratch, queryBytes + CHUNK_ROWS * 4);
    }
    return heap.sorted().map(({ slot, score }) => ({ seq: this.seqs[slot]!, score }));
  }

  /** Index in the arena's floats of a slot's vector. */
  private floatIndex(slot: number): number {
    return (this.chunkOffsets[Math.floor(slot / CHUNK_ROWS)]! >> 2) + (slot % CHUNK_ROWS) * this.stride;
  }

  private reserve(rows: number): void {
    while (this.allocatedRows < rows) {
      const last = this.chunkOffsets.length - 1;
      const lastSize = last < 0 ? 0 : this.chunkRows[last]!;
      if (last >= 0 && lastSize < CHUNK_ROWS) {
        // The first chunk is not full size yet: double it (a copy of at most half a chunk).
        const size = Math.min(CHUNK_ROWS, lastSize * 2);
        const offset = this.allocate(size);
        this.arena.floats.copyWithin(offset >> 2, this.chunkOffsets[last]! >> 2, (this.chunkOffsets[last]! >> 2) + lastSize * this.stride);
        this.free(this.chunkOffsets[last]!, lastSize);
        this.chunkOffsets[last] = offset;
        this.chunkRows[last] = size;
        this.allocatedRows += size - lastSize;
      } else {
        const size = last < 0 ? FIRST_CHUNK_ROWS : CHUNK_ROWS;
        this.chunkOffsets.push(this.allocate(size));
        this.chunkRows.push(size);
        this.allocatedRows += size;
      }
    }
  }

  private allocate(rows: number): number {
    const bytes = rows * this.stride * 4;
    const offset = this.arena.allocate(bytes);
    if (offset === undefined) throw new ArenaFullError();
    this.blocks.held.set(offset, bytes);
    return offset;
  }

  private free(offset: number, rows: number): void {
    this.blocks.held.delete(offset);
    this.arena.release(offset, rows * this.stride * 4);
  }

  /** One string object per distinct scope value (the driver makes a new one per row read). */
  private intern(value: string | null): string | null {
    return intern(this.interned, value);
  }
}

/** Gives back the arena blocks of a cache that was garbage-collected without being cleared (a store never closed). */
const unreleased = new FinalizationRegistry<{ readonly arena: VectorArena; readonly blocks: Blocks }>(({ arena, blocks }) => {
  for (const [offset, bytes] of blocks.held) arena.release(offset, bytes);
  blocks.held.clear();
});

/**
 * The vectors of the scopes searched lately, kept in step with the file: the change log the file's
 * triggers write in the same transaction as each change (see the store's `changeLog` statements)
 * tells which memories changed since the version the cache reflects. Before each use the cache
 * reads the log's bounds and re-reads the memories changed since (or drops everything when the log
 * was pruned past its version, or the schema changed). All within the caller's read transaction, so
 * the cache then reflects exactly the snapshot the caller reads.
 *
 * Scopes are evicted least recently used first when their bytes would pass `budgetBytes`.
 */
export class SqliteVectorCache {
  private readonly entries = new Map<string, ScopeVectors | AnnScope>();
  /** Scopes larger than the whole budget: searched in SQLite until the cache is dropped. */
  private readonly oversized = new Set<string>();
  /** Scopes whose approximate index missed {@link APPROXIMATE_MIN_RECALL} when built: held exact until the cache is dropped. */
  private readonly exactOnly = new Set<string>();
  /** Scopes searched once and not held: the next search of one builds it. */
  private readonly seen = new Set<string>();
  /** Where the held scopes stand in the change log. */
  private readonly log = new ChangeLogCursor();
  /** Approximate indexes being built in a worker (see {@link AnnBuild}); their scopes rank in SQLite meanwhile. */
  private readonly builds = new Map<string, AnnBuild>();
  /** Builds cancelled and their workers not yet exited (see {@link stopped}). */
  private readonly stopping = new Set<Promise<void>>();
  /** Whether the log records date changes too, so held dates can be trusted (see {@link held}). */
  private datesLogged = false;
  private bytes = 0;
  private readonly blocks: Blocks = { held: new Map() };

  /**
   * @param approximateMinRows Scopes of at least this many memories, when read, are held in an
   *   approximate index ({@link AnnScope}) instead of as float32 vectors; `undefined`: never.
   * @param storage Where approximate indexes are saved and read again (next to the database file);
   *   `undefined`: they live in memory only.
   * @param approximate How approximate indexes search: HNSW's ef, and the candidates asked per query
   *   vector (the fewest; the store asks more for a large topK), which a build's recall check asks too.
   */
  constructor(
    readonly budgetBytes: number,
    private readonly arena: VectorArena,
    readonly approximateMinRows: number | undefined = undefined,
    private readonly storage: AnnStorage | undefined = undefined,
    private readonly approximate: { readonly expansion: number; readonly candidates: number } = {
      expansion: DEFAULT_APPROXIMATE_EXPANSION,
      candidates: APPROXIMATE_MIN_CANDIDATES,
    },
  ) {
    unreleased.register(this, { arena, blocks: this.blocks });
  }

  /** Bytes held across scopes. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Scopes held. */
  get scopeCount(): number {
    return this.entries.size;
  }

  /** Settles once no approximate index build is under way (each then waits for the next search to take it). */
  async built(): Promise<void> {
    while (this.builds.size > 0) {
      const running = [...this.builds.values()].filter((build) => build.state === 'running');
      if (running.length === 0) return;
      // A build's worker does not keep the process alive, except while someone waits for it.
      for (const build of running) build.keepAlive(true);
      try {
        await Promise.all(running.map((build) => build.settled));
      } finally {
        for (const build of running) build.keepAlive(false);
      }
    }
  }

  /** Cancels a build (see {@link AnnBuild.cancel}), kept track of until its worker has exited. */
  private stop(build: AnnBuild): void {
    const stopping = build.cancel();
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
  }

  /** Settles once the workers of the builds {@link clear} stopped have exited and their files are removed. */
  async stopped(): Promise<void> {
    await Promise.all(this.stopping);
  }

  /** Forgets every scope and gives their memory back to the arena, and stops builds under way (dropCollection, close). */
  clear(): void {
    for (const build of this.builds.values()) this.stop(build);
    this.builds.clear();
    this.dropScopes();
    this.exactOnly.clear();
    this.log.reset();
    this.bytes = 0;
  }

  /**
   * The cached scope of `value` in `column`, up to date with the caller's snapshot; built on its
   * second search (reading a scope costs several searches in SQLite, which a scope searched once
   * would never pay back). `undefined` when the cache does not serve it (first search, no change log
   * in the file, a scope larger than the budget): the caller ranks in SQLite.
   */
  scope(source: VectorCacheSource, column: ScopeColumn, value: string, dimensions: number): ScopeVectors | AnnScope | undefined {
    this.synchronise(source);
    if (!this.log.usable) return undefined;
    const key = `${column}\u0000${value}`;
    const held = this.entries.get(key);
    if (held !== undefined && held.dimensions === dimensions) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, held);
      return held;
    }
    if (held !== undefined) this.evict(key);
    if (this.oversized.has(key)) return undefined;
    const build = this.builds.get(key);
    if (build !== undefined) {
      if (build.state === 'running' && build.dimensions === dimensions) return undefined;
      this.builds.delete(key);
      if (build.state === 'ready' && build.dimensions === dimensions) {
        const taken = build.take(source, MAX_APPLIED_CHANGES, (version) => logFingerprint(source.changeAt(version)));
        if (taken !== undefined) {
          this.hold(key, taken);
          return taken;
        }
      }
      this.stop(build);
      // Its index misses too many true neighbours on this scope's vectors (near-uniform ones, which
      // have no neighbourhoods to follow), or the worker failed: hold the scope exact instead.
      if (build.state === 'poor' || build.state === 'failed') this.exactOnly.add(key);
      // Otherwise (stopped, or too far behind the log to catch up) built again from this search on.
      this.seen.add(key);
    }
    const saved = this.loadSaved(source, column, value, dimensions);
    if (saved !== undefined) {
      this.hold(key, saved);
      return saved;
    }
    if (!this.seen.has(key)) {
      if (this.seen.size >= MAX_SEEN_SCOPES) this.seen.clear();
      this.seen.add(key);
      return undefined;
    }
    this.seen.delete(key);
    const rows = source.countScope(column, value);
    const approximate = this.approximateMinRows !== undefined && rows >= this.approximateMinRows && !this.exactOnly.has(key);
    const needed = rows * (approximate ? dimensions + ANN_ROW_OVERHEAD_BYTES : dimensions * 4 + CACHE_ROW_OVERHEAD_BYTES);
    if (needed > this.budgetBytes) {
      this.oversized.add(key);
      return undefined;
    }
    if (approximate) {
      // Built in a worker from the rows and the change log since this version; this search and those
      // after it rank in SQLite until a search after the build takes the index (see AnnBuild).
      const started = new AnnBuild(source, column, value, dimensions, {
        rows,
        expansion: this.approximate.expansion,
        candidates: this.approximate.candidates,
        schemaVersion: this.log.schemaVersion!,
        version: this.log.version!,
        storage: this.storage,
      });
      this.builds.set(key, started);
      started.start();
      return undefined;
    }
    for (const oldest of this.entries.keys()) {
      if (this.bytes + needed <= this.budgetBytes) break;
      this.evict(oldest);
    }
    const entry = new ScopeVectors(column, value, dimensions, this.arena, this.blocks);
    try {
      for (const run of source.scopeRuns(column, value, dimensions)) entry.appendRun(run);
    } catch (error) {
      entry.release();
      if (!(error instanceof ArenaFullError)) throw error;
      this.oversized.add(key);
      return undefined;
    }
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    return entry;
  }

  /**
   * The exact scope of `value` in `column` when it is held, up to date with the caller's snapshot;
   * `undefined` otherwise, and when the file's log does not record date changes (its dates could go
   * stale). Unlike {@link scope}, it never reads a scope in (nor counts a search of it).
   */
  held(source: VectorCacheSource, column: ScopeColumn, value: string): ScopeVectors | undefined {
    this.synchronise(source);
    if (!this.log.usable || !this.datesLogged) return undefined;
    const entry = this.entries.get(`${column}\u0000${value}`);
    return entry instanceof ScopeVectors ? entry : undefined;
  }

  /** Writes every approximate scope changed since it was saved (close). */
  persist(source: VectorCacheSource): void {
    for (const entry of this.entries.values()) if (entry instanceof AnnScope && entry.changed) this.saveScope(source, entry);
  }

  private saveScope(source: VectorCacheSource, entry: AnnScope): void {
    const { version, schemaVersion } = this.log;
    if (this.storage === undefined || version === undefined || schemaVersion === undefined) return;
    try {
      this.storage.save(entry, version, schemaVersion, logFingerprint(source.changeAt(version)));
    } catch {
      // No room or no permission next to the file: the index lives in memory only, as for `:memory:`.
    }
  }

  /**
   * A scope's saved approximate index brought up to the caller's snapshot from the change log, or
   * `undefined` when none is saved, or it cannot be: a version the log no longer reaches back to (or
   * one it never reached: a file restored from a copy), more changes than are applied at once, or a
   * file that does not match (see {@link AnnStorage.load}). The file is then removed and the scope
   * is read from the rows as usual.
   */
  private loadSaved(source: VectorCacheSource, column: ScopeColumn, value: string, dimensions: number): AnnScope | undefined {
    const { schemaVersion } = this.log;
    if (this.storage === undefined || this.approximateMinRows === undefined || schemaVersion === undefined) return undefined;
    const saved = this.storage.load(column, value, dimensions, schemaVersion, this.approximate.expansion);
    if (saved === undefined) return undefined;
    const { first, last } = source.logBounds();
    const { scope, version, fingerprint } = saved;
    // The log row of the saved version must be the one it was saved after: a file whose last
    // transactions were lost (a power cut) and written again reuses those versions for other changes.
    if (
      version > last ||
      (version < first - 1 && first > 0) ||
      last - version > MAX_APPLIED_CHANGES ||
      logFingerprint(source.changeAt(version)) !== fingerprint
    ) {
      this.storage.remove(column, value);
      return undefined;
    }
    const seqs = new Set<number>();
    for (const change of source.changesSince(version)) if (change[column] === value) seqs.add(change.seq);
    if (seqs.size > 0) replay(scope, seqs, new Map(source.rowsBySeq([...seqs]).map((row) => [row.seq, row])));
    this.seen.delete(`${column}\u0000${value}`);
    return scope;
  }

  /** Holds a scope, making room within the budget by evicting the least recently used. */
  private hold(key: string, entry: AnnScope): void {
    for (const oldest of this.entries.keys()) {
      if (this.bytes + entry.bytes <= this.budgetBytes) break;
      this.evict(oldest);
    }
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
  }

  /**
   * The best matches of a held scope (see {@link ScopeVectors.top}), or `undefined` when the arena
   * has no room for the query (the caller ranks in SQLite).
   */
  top(entry: ScopeVectors, queries: readonly Float32Array[], topK: number, test: CachedRowTest): CachedMatch[] | undefined {
    try {
      return entry.top(queries, topK, test);
    } catch (error) {
      if (error instanceof ArenaFullError) return undefined;
      throw error;
    }
  }

  /** Brings every held scope to the caller's snapshot (see the class comment). */
  private synchronise(source: VectorCacheSource): void {
    const applied = this.log.follow<ScopeVectors | AnnScope, CacheSourceRow>(source, {
      clear: () => this.clear(),
      schemaRead: (usable) => {
        this.datesLogged = usable && source.hasDatesLog();
      },
      holdsAny: () => this.entries.size > 0,
      dropScopes: () => {
        if (this.entries.size > 0) this.dropScopes();
      },
      held: (key) => this.entries.get(key),
      apply: (touched, rows) => {
        const current = new Map(rows.map((row) => [row.seq, row]));
        try {
          for (const [entry, changed] of touched) {
            const before = entry.bytes;
            replay(entry, changed, current);
            this.bytes += entry.bytes - before;
          }
        } catch (error) {
          if (!(error instanceof ArenaFullError)) throw error;
          // No room to grow a scope: start over from nothing held.
          this.dropScopes();
        }
      },
    });
    if (!applied) return;
    if (this.approximateMinRows !== undefined) {
      // An exact scope that has grown to twice the threshold leaves, to be read again as an approximate one.
      for (const [key, entry] of this.entries) {
        if (entry instanceof ScopeVectors && entry.count >= 2 * this.approximateMinRows && !this.exactOnly.has(key)) this.evict(key);
      }
    }
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.budgetBytes) break;
      this.evict(oldest);
    }
  }

  private dropScopes(): void {
    for (const entry of this.entries.values()) entry.release();
    this.entries.clear();
    this.oversized.clear();
    this.bytes = 0;
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    entry.release();
  }
}

/** A change-log row as a string, to tell whether the log still holds the history a saved index followed. */
function logFingerprint(change: CacheChange | undefined): string {
  return change === undefined ? '' : JSON.stringify([change.version, change.seq, change.user_id, change.agent_id, change.run_id]);
}

/**
 * The filter as a test on the cached columns, or `undefined` when it reads anything else (the
 * caller then ranks in SQLite). The cache holds what core's own filters read: `expiresAt` compared
 * with a number (`not expired`) and `memoryType` equal to strings (`not procedural`), under any
 * `and`, `or` and `not`. Each test agrees with the SQL one on the mirrored columns (see
 * `filterToSql`): an `expiresAt` that is not a number passes no comparison; a `memoryType` array
 * equals a string it holds as an element; a missing one equals nothing.
 */
export function compileCacheFilter(filter: Filter | undefined): CachedRowTest | undefined {
  if (filter === undefined) return pass;
  return compile(filter);
}

const pass: CachedRowTest = () => true;

/**
 * A test every memory that `filter` picks passes, for a filter {@link compileCacheFilter} cannot
 * test whole (a metadata key of the caller's): the parts of its `and`s and `or`s the cache can test,
 * the others taken as passing (a `not` of such a part too). So its picks are a superset of the
 * filter's; the store checks them against the filter in SQL (see SqliteVectorStore.firstPassing).
 */
export function looseCacheFilter(filter: Filter | undefined): CachedRowTest {
  if (filter === undefined) return pass;
  return loosen(filter);
}

function loosen(filter: Filter): CachedRowTest {
  const exact = compile(filter);
  if (exact !== undefined) return exact;
  if (filter.op !== 'and' && filter.op !== 'or') return pass;
  const parts = filter.filters.map(loosen);
  if (filter.op === 'or') return parts.includes(pass) ? pass : (entry, slot) => parts.some((part) => part(entry, slot));
  const tested = parts.filter((part) => part !== pass);
  if (tested.length === 0) return pass;
  return (entry, slot) => tested.every((part) => part(entry, slot));
}

function compile(filter: Filter): CachedRowTest | undefined {
  switch (filter.op) {
    case 'and':
    case 'or': {
      const parts: CachedRowTest[] = [];
      for (const child of filter.filters) {
        const part = compile(child);
        if (part === undefined) return undefined;
        parts.push(part);
      }
      if (filter.op === 'and') return (entry, slot) => parts.every((part) => part(entry, slot));
      return (entry, slot) => parts.some((part) => part(entry, slot));
    }
    case 'not': {
      const inner = compile(filter.filter);
      return inner === undefined ? undefined : (entry, slot) => !inner(entry, slot);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (filter.field !== EXPIRES_AT_KEY) return undefined;
      const value = filter.value;
      // NaN (no number stored) fails every comparison, as `(expires_at op ?) IS 1` does on NULL.
      if (filter.op === 'gt') return (entry, slot) => entry.expires[slot]! > value;
      if (filter.op === 'gte') return (entry, slot) => entry.expires[slot]! >= value;
      if (filter.op === 'lt') return (entry, slot) => entry.expires[slot]! < value;
      return (entry, slot) => entry.expires[slot]! <= value;
    }
    case 'eq':
    case 'ne':
    case 'in':
    case 'nin': {
      if (filter.field !== MEMORY_TYPE_KEY) return undefined;
      const values: readonly unknown[] = 'values' in filter ? filter.values : [filter.value];
      if (!values.every((value) => typeof value === 'string')) return undefined;
      const wanted = new Set<string>(values as readonly string[]);
      const matches: CachedRowTest = (entry, slot) => {
        const type = entry.types[slot];
        if (type === null || type === undefined) return false;
        if (typeof type === 'string') return wanted.has(type);
        return type.some((element) => wanted.has(element));
      };
      return filter.op === 'eq' || filter.op === 'in' ? matches : (entry, slot) => !matches(entry, slot);
    }
    default:
      return undefined;
  }
}

/** The test of the scope ids a query sets beyond the column its cached scope is keyed by. */
export function scopeRestTest(scope: Scope, column: ScopeColumn): CachedRowTest | undefined {
  const rest = SCOPE_COLUMNS.filter(([field, name]) => name !== column && scope[field] !== undefined).map(
    ([field, name]) => [name, scope[field]!] as const,
  );
  if (rest.length === 0) return undefined;
  return (entry, slot) => rest.every(([name, value]) => entry.scopeValues[name][slot] === value);
}

/** `vector` (float32 bytes) scaled to length 1 as float32; a zero vector stays zero (cosine 0 with anything). */
export function unitVector(vector: Buffer, dimensions: number): Float32Array {
  const unit = new Float32Array(dimensions);
  writeUnitVector(vector, unit, 0, dimensions);
  return unit;
}

let scratch = new Float32Array(0);

/** Writes the unit vector of `blob` at `offset` of `target`. */
function writeUnitVector(blob: Buffer, target: Float32Array, offset: number, dimensions: number): void {
  // Copy into an aligned buffer first: the driver's Buffer may start at any byte offset.
  if (scratch.length !== dimensions) scratch = new Float32Array(dimensions);
  const source = scratch;
  new Uint8Array(source.buffer).set(blob.subarray(0, dimensions * 4));
  let sum = 0;
  for (let index = 0; index < dimensions; index++) sum += source[index]! * source[index]!;
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  for (let index = 0; index < dimensions; index++) target[offset + index] = source[index]! * scale;
}

/**
 * A string that sorts (JavaScript `<`, by code units) as `id_order` sorts in SQLite (memcmp): one
 * character per byte. The store orders ties by id_order, so the cache does too.
 */
function orderKey(idOrder: Buffer): string {
  return idOrder.toString('latin1');
}

/** The id an {@link orderKey} was made from (id_order is the id's UTF-16 code units, big-endian). */
function idOfOrderKey(key: string): string {
  return Buffer.from(key, 'latin1').swap16().toString('utf16le');
}

export function memoryTypeOf(value: string | Buffer | readonly unknown[] | null): string | readonly string[] | null {
  if (value === null || typeof value === 'string') return value;
  // An array's JSON (see metadataMirrors): only its strings can equal a filter's strings.
  const parsed = Buffer.isBuffer(value) ? (JSON.parse(value.toString('utf8')) as unknown) : value;
  return Array.isArray(parsed) ? parsed.filter((element): element is string => typeof element === 'string') : null;
}

/**
 * The best `capacity` (score, slot) pairs pushed, as a binary heap with the worst at the root:
 * lower score is worse, and at equal scores the larger id (so ties keep the smaller ids, as the
 * store's order by (rank, id_order) does).
 */
export class TopHeap {
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private size = 0;

  constructor(
    private readonly capacity: number,
    private readonly ids: readonly string[],
  ) {
    this.scores = new Float64Array(capacity);
    this.slots = new Int32Array(capacity);
  }

  /** A score below which nothing enters the heap: the worst held score once it is full, else -Infinity. */
  get floor(): number {
    return this.size < this.capacity || this.capacity === 0 ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  /** Whether (score, slot) would enter the heap. */
  admits(score: number, slot: number): boolean {
    if (this.size < this.capacity) return true;
    if (this.capacity === 0) return false;
    return this.worse(0, score, slot);
  }

  /** Pushes a pair that {@link admits} accepted. */
  push(score: number, slot: number): void {
    if (this.size < this.capacity) {
      let index = this.size++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        // The root is the worst: stop under a parent worse than the new pair.
        if (this.worse(parent, score, slot)) break;
        this.scores[index] = this.scores[parent]!;
        this.slots[index] = this.slots[parent]!;
        index = parent;
      }
      this.scores[index] = score;
      this.slots[index] = slot;
      return;
    }
    // Replace the root (the worst) and sift down.
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= this.size) break;
      const right = left + 1;
      let child = left;
      if (right < this.size && this.worse(right, this.scores[left]!, this.slots[left]!)) child = right;
      if (!this.worse(child, score, slot)) break;
      this.scores[index] = this.scores[child]!;
      this.slots[index] = this.slots[child]!;
      index = child;
    }
    this.scores[index] = score;
    this.slots[index] = slot;
  }

  /** The pairs, best first. */
  sorted(): { score: number; slot: number }[] {
    const pairs = Array.from({ length: this.size }, (_, index) => ({ score: this.scores[index]!, slot: this.slots[index]! }));
    return pairs.sort((a, b) => b.score - a.score || (this.ids[a.slot]! < this.ids[b.slot]! ? -1 : 1));
  }

  /** Whether the pair at `index` is worse than (score, slot). */
  private worse(index: number, score: number, slot: number): boolean {
    const held = this.scores[index]!;
    return held < score || (held === score && this.ids[this.slots[index]!]! > this.ids[slot]!);
  }
}
