import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Index } from 'usearch';

/** The parts of usearch the store uses (its CommonJS build's exports). */
interface Usearch {
  readonly Index: typeof Index;
}

let usearchModule: Usearch | undefined;

/**
 * usearch, loaded on first use: its native module is read only by a store with `approximate` on,
 * so a platform without its prebuilt binary can still use every other part of the store.
 */
function usearch(): Usearch {
  usearchModule ??= createRequire(import.meta.url)('usearch') as Usearch;
  return usearchModule;
}
import type { CacheSourceRow, ScopeColumn, ScopeRun } from './sqlite-vector-cache';

/**
 * Links per node of the graph (HNSW's M). 16 keeps a build of 100k × 384 within tens of seconds on
 * two cores; more links raise recall on hard (near-uniform) data at a higher build cost.
 */
const ANN_CONNECTIVITY = 16;
/** Candidates the graph keeps while inserting (HNSW's efConstruction). */
const ANN_EXPANSION_ADD = 128;
/**
 * Candidates the graph keeps while searching (HNSW's ef) unless the store sets
 * `approximateExpansion`: the knob of recall against latency. At 1M × 384 clustered vectors, on one
 * saved index, recall@10 was 0.988 / 0.993 / 0.997 at ef 256 / 512 / 1024 on 300 held-out queries
 * (chosen on two other query sets, where 256 and 512 were above 0.99 too: too thin a margin), at
 * 2.3 / 3.6 / 5.7 ms median (docs/bench).
 */
export const DEFAULT_APPROXIMATE_EXPANSION = 1024;
/**
 * Bytes an indexed memory costs beside its int8 vector (one byte per dimension): its base-level
 * links (2 × M of 4 bytes), upper levels on average, key, level and lock. An estimate for the
 * cache's budget, not an exact count of the native allocator's bytes.
 */
export const ANN_ROW_OVERHEAD_BYTES = 2 * ANN_CONNECTIVITY * 4 + 96;

/**
 * The memories of one large scope-column value held in an approximate nearest-neighbour index (an
 * HNSW graph of usearch, vectors quantised to int8 for cosine similarity), keyed by seq. It finds
 * candidates only: the store re-reads their vectors from the file and ranks them exactly (see the
 * store's approximateQuery), so a score is never the index's. No float32 copy of the scope is kept.
 */
export class AnnScope {
  private index: Index;
  /** Memories of the scope whose exact neighbours a build tracks, to measure the index's recall (see {@link measureRecall}). */
  private probes: Probe[] | undefined;
  /** Changes taken in since the index was last written to or read from its file (see {@link AnnStorage}). */
  changed = true;

  /** @param expansion Candidates the graph keeps while searching (HNSW's ef; see `approximateExpansion`). */
  constructor(
    readonly column: ScopeColumn,
    readonly value: string,
    readonly dimensions: number,
    readonly expansion: number = DEFAULT_APPROXIMATE_EXPANSION,
  ) {
    this.index = AnnScope.newIndex(dimensions, expansion);
  }

  private static newIndex(dimensions: number, expansion: number): Index {
    return new (usearch().Index)({
      dimensions,
      // MetricKind.Cos and ScalarKind.I8 (string enums; their values, so that only the type is imported).
      metric: 'cos' as ConstructorParameters<typeof Index>[1] & {},
      quantization: 'i8' as ConstructorParameters<typeof Index>[2] & {},
      connectivity: ANN_CONNECTIVITY,
      expansion_add: ANN_EXPANSION_ADD,
      expansion_search: expansion,
      multi: false,
    });
  }

  /** Memories indexed. */
  get count(): number {
    return this.index.size();
  }

  /** Bytes this scope is estimated to hold (see {@link ANN_ROW_OVERHEAD_BYTES}). */
  get bytes(): number {
    return this.index.size() * (this.dimensions + ANN_ROW_OVERHEAD_BYTES);
  }

  /**
   * Adds a run of the scope's memories (see the cache's ScopeRun) in one call: usearch inserts them
   * on all cores, and the call blocks its thread until done (a build runs in a worker thread: see
   * {@link AnnBuild}).
   */
  appendRun(run: ScopeRun): void {
    const count = run.rows.length;
    if (count === 0) return;
    const keys = new BigUint64Array(count);
    const vectors = new Float32Array(count * this.dimensions);
    new Uint8Array(vectors.buffer).set(run.vectors.subarray(0, count * this.dimensions * 4));
    run.rows.forEach(([seq], index) => {
      keys[index] = BigInt(seq);
    });
    this.addRows(keys, vectors, true);
  }

  /**
   * Adds memories by seq (`vectors` back to back, scaled to unit length here, in place), replacing
   * any held under one of their seqs. `scanned`: rows of the build's one read of the scope, whose
   * probes' nearest neighbours are tracked (see {@link trackProbes}); changes read from the change
   * log are not, as a memory already seen would count twice.
   */
  addRows(keys: BigUint64Array, vectors: Float32Array, scanned: boolean): void {
    const count = keys.length;
    if (count === 0) return;
    for (let row = 0; row < count; row++) normalise(vectors.subarray(row * this.dimensions, (row + 1) * this.dimensions));
    if (scanned) this.trackProbes(keys, vectors);
    if (this.index.size() > 0) {
      const held = this.index.contains(keys) as boolean[];
      const replaced = keys.filter((_, row) => held[row] === true);
      if (replaced.length > 0) this.index.remove(replaced);
    }
    this.index.add(keys, vectors, 0);
    this.changed = true;
  }

  /**
   * On the first run of a build, picks up to {@link RECALL_PROBES} of its memories, evenly spaced, as
   * probes; on every run, keeps each probe's {@link RECALL_DEPTH} nearest other memories, exactly (one
   * pass of dot products of unit vectors over the run: a build reads each vector once anyway).
   */
  private trackProbes(keys: BigUint64Array, vectors: Float32Array): void {
    const dimensions = this.dimensions;
    if (this.probes === undefined) {
      const step = Math.max(1, Math.floor(keys.length / RECALL_PROBES));
      this.probes = [];
      for (let row = 0; row < keys.length && this.probes.length < RECALL_PROBES; row += step) {
        this.probes.push({ key: keys[row]!, vector: vectors.slice(row * dimensions, (row + 1) * dimensions), keys: [], scores: [] });
      }
    }
    for (const probe of this.probes) {
      const query = probe.vector;
      for (let row = 0; row < keys.length; row++) {
        if (keys[row] === probe.key) continue;
        let dot = 0;
        const base = row * dimensions;
        for (let index = 0; index < dimensions; index++) dot += query[index]! * vectors[base + index]!;
        const { scores } = probe;
        if (scores.length === RECALL_DEPTH && dot <= scores[RECALL_DEPTH - 1]!) continue;
        let at = scores.length;
        while (at > 0 && scores[at - 1]! < dot) at--;
        scores.splice(at, 0, dot);
        probe.keys.splice(at, 0, keys[row]!);
        if (scores.length > RECALL_DEPTH) {
          scores.pop();
          probe.keys.pop();
        }
      }
    }
  }

  /**
   * After a build: the share of the probes' exact {@link RECALL_DEPTH} nearest memories that are
   * among the index's `candidates` nearest to each probe, as a search would ask it (1 when the scope
   * has too few memories to tell). Also valid part way through a build (the probes' neighbours among
   * the memories indexed so far); `final` drops the probes.
   */
  measureRecall(candidates: number, final = true): number {
    const probes = this.probes ?? [];
    if (final) this.probes = undefined;
    let wanted = 0;
    let found = 0;
    for (const probe of probes) {
      const proposed = new Set(this.index.search(probe.vector, Math.min(candidates, this.index.size()), 1).keys);
      wanted += probe.keys.length;
      for (const key of probe.keys) if (proposed.has(key)) found++;
    }
    return wanted === 0 ? 1 : found / wanted;
  }

  /** Adds a memory, or replaces the vector of the one with its seq. */
  put(row: CacheSourceRow): void {
    const vector = new Float32Array(this.dimensions);
    new Uint8Array(vector.buffer).set(row.embedding.subarray(0, this.dimensions * 4));
    this.addRows(BigUint64Array.of(BigInt(row.seq)), vector, false);
  }

  /** Removes a memory if held. */
  remove(seq: number): void {
    const key = BigInt(seq);
    if (this.index.contains(key)) {
      this.index.remove(key);
      this.changed = true;
    }
  }

  /** Writes the index to `path` (usearch's own format). */
  save(path: string): void {
    this.index.save(path);
    this.changed = false;
  }

  /**
   * An index read from `path` (written by {@link save}), or `undefined` when usearch cannot read it
   * or it does not hold `count` vectors of `dimensions`.
   */
  static load(
    path: string,
    column: ScopeColumn,
    value: string,
    dimensions: number,
    count: number,
    expansion: number = DEFAULT_APPROXIMATE_EXPANSION,
  ): AnnScope | undefined {
    const scope = new AnnScope(column, value, dimensions, expansion);
    try {
      scope.index.load(path);
    } catch {
      return undefined;
    }
    if (scope.index.size() !== count || scope.index.dimensions() !== dimensions) return undefined;
    scope.changed = false;
    return scope;
  }

  /** Drops the graph (its native memory goes with the object). */
  release(): void {
    this.index = AnnScope.newIndex(this.dimensions, this.expansion);
  }

  /**
   * The seqs of about the `candidates` memories nearest to each of `queries` (unit vectors), in no
   * particular order: approximate, to be ranked exactly by the caller.
   */
  candidates(queries: readonly Float32Array[], candidates: number): number[] {
    const size = this.index.size();
    if (size === 0) return [];
    const wanted = Math.min(candidates, size);
    const seqs = new Set<number>();
    for (const query of queries) {
      const matches = this.index.search(query, wanted, 1);
      for (const key of matches.keys) {
        // usearch pads missing results with the largest key.
        if (key !== 0xffff_ffff_ffff_ffffn) seqs.add(Number(key));
      }
    }
    return [...seqs];
  }
}

/**
 * Scales `vector` to length 1 in place (a zero vector stays zero): int8 quantisation maps each
 * component of a unit vector onto -127..127, so a longer vector would be clipped.
 */
function normalise(vector: Float32Array): void {
  let sum = 0;
  for (let index = 0; index < vector.length; index++) sum += vector[index]! * vector[index]!;
  if (sum === 0) return;
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! * scale;
}

/** Fewest candidates a search asks of the index per query vector (the store asks max(this, 4 × topK + 16)). */
export const APPROXIMATE_MIN_CANDIDATES = 64;
/**
 * Memories a build indexes before it measures recall a first time: a scope whose vectors an index
 * cannot serve is then turned away after a fraction of a full build (which blocks the event loop).
 */
export const EARLY_RECALL_ROWS = 16_384;
/** Memories a build measures the index's recall on (see {@link AnnScope.measureRecall}). */
const RECALL_PROBES = 32;
/** Neighbours per probe whose presence among the candidates is counted: the recall@10 of a search. */
const RECALL_DEPTH = 10;
/**
 * Fewest of the probes' true neighbours an index must propose to serve searches: below it the scope
 * is held exact instead. A floor against data an index cannot serve (uniform random vectors: about
 * 0.24 at 100k × 384), set under the issue's bar of 0.99 (which the bench checks on 100 queries:
 * 1.000 on clustered vectors) because 320 neighbours measure recall only to about ±0.01: a floor at
 * 0.99 turned a good index (0.9875 in one build, 1.000 in others) away on noise.
 */
export const APPROXIMATE_MIN_RECALL = 0.97;

/** A probe of a build: a memory's key and unit vector, and its nearest other memories so far, best first. */
interface Probe {
  readonly key: bigint;
  readonly vector: Float32Array;
  readonly keys: bigint[];
  readonly scores: number[];
}

/** Version of the layout of {@link AnnStorage}'s files: another one is never read. */
const ANN_FILE_FORMAT = 1;

/** What the `.json` beside a saved index records, all of which must match for it to be read. */
interface AnnFileMeta {
  readonly format: number;
  readonly table: string;
  readonly column: ScopeColumn;
  readonly value: string;
  readonly dimensions: number;
  readonly connectivity: number;
  /** The store's schema identity when it was written (see SqliteVectorStore.tableSchema): a table dropped and created again since changes it. */
  readonly schemaVersion: string;
  /** The change-log version the index reflects. */
  readonly version: number;
  /** The change-log row of that version (see the cache's logFingerprint): a log rewritten since has another. */
  readonly fingerprint: string;
  readonly count: number;
  readonly bytes: number;
  /** SHA-1 of the index file: a file changed or cut short since is never read. */
  readonly sha1: string;
}

/**
 * Approximate indexes kept next to the database file, in `<file>.ann/`: one usearch file per scope
 * and a `.json` naming the change-log version it reflects, so that a reopened store reads the index
 * and catches up from the log instead of building it again. Only a starting point: each process
 * keeps its own index in memory; a file that does not match (format, table, scope, dimensions,
 * schema, size, checksum) is removed and the scope is built from the file's rows.
 */
export class AnnStorage {
  /** Whether this store has looked for temporary files left by processes that died (see {@link removeStale}). */
  private swept = false;

  constructor(
    readonly directory: string,
    readonly table: string,
  ) {}

  /**
   * Removes the temporary files (see {@link temporaryPath}) of processes no longer running: a process
   * that dies between a build's end and the search that takes its index leaves one as large as the
   * index. Once per store, on its first read of a saved index; another live process's files stay.
   */
  private removeStale(): void {
    if (this.swept) return;
    this.swept = true;
    let files: string[];
    try {
      files = readdirSync(this.directory);
    } catch {
      return;
    }
    for (const file of files) {
      const pid = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(file)?.[1];
      if (pid === undefined || Number(pid) === process.pid || processRuns(Number(pid))) continue;
      rmSync(join(this.directory, file), { force: true });
    }
  }

  private paths(column: ScopeColumn, value: string): { index: string; meta: string } {
    const name = `${this.table}.${column}.${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
    return { index: join(this.directory, `${name}.usearch`), meta: join(this.directory, `${name}.json`) };
  }

  /**
   * The saved index of a scope and the version it reflects, or `undefined` (nothing saved, or a file
   * that does not match: then it is removed).
   */
  load(
    column: ScopeColumn,
    value: string,
    dimensions: number,
    schemaVersion: string,
    expansion: number,
  ): { scope: AnnScope; version: number; fingerprint: string } | undefined {
    this.removeStale();
    const paths = this.paths(column, value);
    if (!existsSync(paths.meta)) return undefined;
    try {
      const meta = JSON.parse(readFileSync(paths.meta, 'utf8')) as AnnFileMeta;
      const matches =
        meta.format === ANN_FILE_FORMAT &&
        meta.table === this.table &&
        meta.column === column &&
        meta.value === value &&
        meta.dimensions === dimensions &&
        meta.connectivity === ANN_CONNECTIVITY &&
        meta.schemaVersion === schemaVersion &&
        Number.isSafeInteger(meta.version) &&
        typeof meta.fingerprint === 'string' &&
        statSync(paths.index).size === meta.bytes &&
        fileSha1(paths.index) === meta.sha1;
      const scope = matches ? AnnScope.load(paths.index, column, value, dimensions, meta.count, expansion) : undefined;
      if (scope !== undefined) return { scope, version: meta.version, fingerprint: meta.fingerprint };
    } catch {
      // Unreadable or half-written: built again below.
    }
    this.remove(column, value);
    return undefined;
  }

  /** Writes a scope's index and the version it reflects, each to a temporary file renamed into place. */
  save(scope: AnnScope, version: number, schemaVersion: string, fingerprint: string): void {
    const temporary = this.temporaryPath(scope.column, scope.value);
    try {
      scope.save(temporary);
      this.adopt(temporary, scope, version, schemaVersion, fingerprint);
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  /**
   * A new path beside a scope's index file (same directory, so a rename moves it into place) for an
   * index being written, by this thread or a build's worker (see {@link adopt}).
   */
  temporaryPath(column: ScopeColumn, value: string): string {
    mkdirSync(this.directory, { recursive: true });
    return `${this.paths(column, value).index}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  }

  /**
   * Moves an index written to `temporary` (see {@link temporaryPath}) into place as the scope's saved
   * index, with the version it reflects. `written`: its size and SHA-1 when the writer took them.
   */
  adopt(
    temporary: string,
    scope: Pick<AnnScope, 'column' | 'value' | 'dimensions' | 'count'>,
    version: number,
    schemaVersion: string,
    fingerprint: string,
    written?: { readonly bytes: number; readonly sha1: string },
  ): void {
    const paths = this.paths(scope.column, scope.value);
    const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    // The old description goes first: a crash between the two renames leaves no .json naming the new index.
    rmSync(paths.meta, { force: true });
    // Size and checksum of this process's file, taken before the rename: should another process's
    // index land on the same name after it, the description no longer matches and neither is read.
    const bytes = written?.bytes ?? statSync(temporary).size;
    const sha1 = written?.sha1 ?? fileSha1(temporary);
    renameSync(temporary, paths.index);
    const meta: AnnFileMeta = {
      format: ANN_FILE_FORMAT,
      table: this.table,
      column: scope.column,
      value: scope.value,
      dimensions: scope.dimensions,
      connectivity: ANN_CONNECTIVITY,
      schemaVersion,
      version,
      fingerprint,
      count: scope.count,
      bytes,
      sha1,
    };
    writeFileSync(paths.meta + suffix, JSON.stringify(meta));
    renameSync(paths.meta + suffix, paths.meta);
  }

  /** Removes a scope's saved index. */
  remove(column: ScopeColumn, value: string): void {
    const paths = this.paths(column, value);
    rmSync(paths.meta, { force: true });
    rmSync(paths.index, { force: true });
  }
}

/** Whether a process of this id runs (signal 0 tests it; EPERM: it runs, as another user). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SHA-1 of a file, read in 8 MiB pieces. */
export function fileSha1(path: string): string {
  const hash = createHash('sha1');
  const buffer = Buffer.alloc(8 * 1024 * 1024);
  const descriptor = openSync(path, 'r');
  try {
    for (;;) {
      const read = readSync(descriptor, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    closeSync(descriptor);
  }
  return hash.digest('hex');
}
