import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { replay } from './sqlite-change-log';
import { APPROXIMATE_MIN_RECALL, AnnScope, type AnnStorage } from './sqlite-vector-ann';
import type { CacheChange, ScopeColumn, ScopeRun, VectorCacheSource } from './sqlite-vector-cache';

/** What a build's worker is started with (see sqlite-vector-ann-worker.ts). */
export interface AnnWorkerData {
  readonly column: ScopeColumn;
  readonly value: string;
  readonly dimensions: number;
  readonly expansion: number;
  /** Memories of the scope when the build started: the early recall check is for a build part way. */
  readonly rows: number;
  /** Candidates per probe when recall is measured (what a search asks). */
  readonly candidates: number;
}

/** Messages to a build's worker. */
export type AnnBuildRequest =
  /** Memories to add or replace; `scanned`: rows of the scope's one read (acknowledged with `taken`), else changes. */
  | { readonly type: 'rows'; readonly keys: BigUint64Array; readonly vectors: Float32Array; readonly scanned: boolean }
  | { readonly type: 'remove'; readonly keys: BigUint64Array }
  /** Every row is sent: measure recall (answered with a final `recall`). */
  | { readonly type: 'finish' }
  | { readonly type: 'save'; readonly path: string };

/** Messages from a build's worker. */
export type AnnBuildReply =
  | { readonly type: 'taken' }
  | { readonly type: 'recall'; readonly recall: number; readonly final: boolean }
  | { readonly type: 'saved'; readonly count: number; readonly bytes: number; readonly sha1: string }
  | { readonly type: 'failed'; readonly message: string };

/**
 * Where a build stands: `running`; `ready` (the index is written, for {@link AnnBuild.take});
 * `poor` (its recall missed {@link APPROXIMATE_MIN_RECALL}: hold the scope exact); `failed` (the
 * worker could not build it: hold the scope exact); `stopped` (cancelled, or the file changed under
 * it in a way the change log cannot tell: a later search starts again).
 */
export type AnnBuildState = 'running' | 'ready' | 'poor' | 'failed' | 'stopped';

/** Scope runs a build has sent its worker and not yet seen taken: enough that the worker never waits for the next. */
const RUNS_IN_FLIGHT = 2;
/** How long a build waits before reading again when the store cannot read now (inside the caller's transaction). */
const RETRY_MS = 25;

/**
 * The build of one scope's approximate index (see {@link AnnScope}) in a worker thread, so that the
 * store's thread (the event loop) stays free: searches of the scope rank exactly (in SQLite) until
 * the index is ready. This thread reads the scope's rows a run at a time, each in its own short
 * read transaction between other work, and sends them to the worker; each read also forwards the
 * changes the change log recorded since the last one (inserts, updates, deletes, moves between
 * scopes), so that the index the worker writes reflects the log's version {@link version}. The
 * cache then reads that file ({@link take}), catches it up from the log and serves searches with it.
 */
export class AnnBuild {
  state: AnnBuildState = 'running';
  /** Settles when the build leaves `running`. */
  readonly settled: Promise<void>;
  /** The change-log version the worker's index reflects (every change up to it forwarded). */
  private version: number;
  private readonly worker: Worker;
  private readonly runs: Iterator<ScopeRun>;
  private scanDone = false;
  private inFlight = 0;
  private finishing = false;
  private retry: NodeJS.Timeout | undefined;
  /** Where the worker writes the index: beside the saved ones, or in the system's temporary directory. */
  private readonly path: string;
  private written: { readonly count: number; readonly bytes: number; readonly sha1: string } | undefined;
  private settle!: () => void;
  private stopping: Promise<void> | undefined;
  /** Callers waiting for the build (see {@link keepAlive}). */
  private waiters = 0;

  constructor(
    private readonly source: VectorCacheSource,
    readonly column: ScopeColumn,
    readonly value: string,
    readonly dimensions: number,
    private readonly options: {
      readonly rows: number;
      readonly expansion: number;
      readonly candidates: number;
      readonly schemaVersion: string;
      readonly version: number;
      readonly storage: AnnStorage | undefined;
    },
  ) {
    this.settled = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.version = options.version;
    this.path =
      options.storage?.temporaryPath(column, value) ?? join(tmpdir(), `mem-ann-${process.pid}-${randomBytes(6).toString('hex')}.usearch`);
    this.runs = source.scopeRuns(column, value, dimensions)[Symbol.iterator]();
    const data: AnnWorkerData = {
      column,
      value,
      dimensions,
      expansion: options.expansion,
      rows: options.rows,
      candidates: options.candidates,
    };
    this.worker = startWorker(data);
    // A build never keeps the process alive: a process that exits without closing the store drops it.
    this.worker.unref();
    this.worker.on('message', (reply: AnnBuildReply) => this.receive(reply));
    this.worker.on('error', () => this.end('failed'));
    this.worker.on('exit', () => this.end(this.state === 'running' && this.written === undefined ? 'failed' : this.state));
  }

  /** One more (`true`) or one fewer waiter for the build: the worker keeps the process alive only while there are any. */
  keepAlive(keep: boolean): void {
    this.waiters += keep ? 1 : -1;
    if (this.waiters > 0) this.worker.ref();
    else this.worker.unref();
  }

  /** Whether a build's recall is enough to serve searches (see {@link APPROXIMATE_MIN_RECALL}). */
  static acceptsRecall(recall: number): boolean {
    return recall >= APPROXIMATE_MIN_RECALL;
  }

  /** Starts reading the scope, once the caller's read transaction (a search's) is over. */
  start(): void {
    setImmediate(() => this.pump()).unref();
  }

  private pump(): void {
    this.retry = undefined;
    if (this.state !== 'running' || this.finishing) return;
    const read = this.source.readNow(() => this.readMore());
    if (read === undefined) this.later();
    else if (!read) this.end('stopped');
  }

  private later(): void {
    this.retry ??= setTimeout(() => this.pump(), RETRY_MS);
    this.retry.unref();
  }

  /** Inside a read transaction: forwards the changes, then scope runs while fewer than RUNS_IN_FLIGHT are out. `false`: the file changed beyond the log. */
  private readMore(): boolean {
    const source = this.source;
    if (source.schemaVersion() !== this.options.schemaVersion) return false;
    const { first, last } = source.logBounds();
    if (this.version > last || (this.version < first - 1 && first > 0)) return false;
    if (last > this.version) this.forward(source.changesSince(this.version), last);
    while (!this.scanDone && this.inFlight < RUNS_IN_FLIGHT) {
      const next = this.runs.next();
      if (next.done === true) {
        this.scanDone = true;
        break;
      }
      this.send(next.value);
    }
    if (this.scanDone && this.inFlight === 0) {
      this.finishing = true;
      this.post({ type: 'finish' });
    }
    return true;
  }

  /** Sends the worker the current rows of the scope's memories among `changes` (up to `last`), and the removal of the rest. */
  private forward(changes: readonly CacheChange[], last: number): void {
    const seqs = new Set<number>();
    for (const change of changes) if (change[this.column] === this.value) seqs.add(change.seq);
    this.version = changes.length === 0 ? last : Math.max(last, changes[changes.length - 1]!.version);
    if (seqs.size === 0) return;
    const current = this.source.rowsBySeq([...seqs]).filter((row) => row[this.column] === this.value);
    const present = new Set(current.map((row) => row.seq));
    const gone = [...seqs].filter((seq) => !present.has(seq));
    if (gone.length > 0) this.post({ type: 'remove', keys: BigUint64Array.from(gone, (seq) => BigInt(seq)) });
    if (current.length === 0) return;
    const keys = BigUint64Array.from(current, (row) => BigInt(row.seq));
    const vectors = new Float32Array(current.length * this.dimensions);
    const bytes = new Uint8Array(vectors.buffer);
    current.forEach((row, index) => bytes.set(row.embedding.subarray(0, this.dimensions * 4), index * this.dimensions * 4));
    this.post({ type: 'rows', keys, vectors, scanned: false }, [vectors.buffer]);
  }

  private send(run: ScopeRun): void {
    const count = run.rows.length;
    if (count === 0) return;
    const keys = BigUint64Array.from(run.rows, ([seq]) => BigInt(seq));
    const vectors = new Float32Array(count * this.dimensions);
    new Uint8Array(vectors.buffer).set(run.vectors.subarray(0, count * this.dimensions * 4));
    this.inFlight++;
    this.post({ type: 'rows', keys, vectors, scanned: true }, [vectors.buffer, keys.buffer]);
  }

  private post(request: AnnBuildRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private receive(reply: AnnBuildReply): void {
    if (this.state !== 'running') return;
    switch (reply.type) {
      case 'taken':
        this.inFlight--;
        this.pump();
        break;
      case 'recall':
        if (!AnnBuild.acceptsRecall(reply.recall)) this.end('poor');
        else if (reply.final) this.post({ type: 'save', path: this.path });
        break;
      case 'saved':
        this.written = reply;
        this.end('ready');
        break;
      case 'failed':
        this.end('failed');
        break;
    }
  }

  /** Leaves `running` (once): the worker is let go, and so is its file unless the build is `ready`. */
  private end(state: AnnBuildState): void {
    if (this.state !== 'running') return;
    this.state = state;
    if (this.retry !== undefined) clearTimeout(this.retry);
    const path = this.path;
    const keep = state === 'ready';
    this.stopping = this.worker.terminate().then(
      () => {
        if (!keep) rmSync(path, { force: true });
      },
      () => undefined,
    );
    this.settle();
  }

  /** Stops a build under way (close, dropCollection) and lets go of its file; settles once the worker has exited. */
  async cancel(): Promise<void> {
    this.end('stopped');
    if (this.state === 'ready') this.discard();
    // The caller (close) waits for the worker's exit: until then it keeps the process alive.
    this.worker.ref();
    await this.stopping;
  }

  /** Removes the index file of a `ready` build that will not be taken. */
  private discard(): void {
    rmSync(this.path, { force: true });
  }

  /**
   * The built index, read from the worker's file and brought up to the caller's snapshot from the
   * change log (inside the caller's read transaction), and saved beside the database when it has a
   * file; `undefined` when it cannot be: more than `maxChanges` changes since, a log that no longer
   * reaches back, or a file usearch cannot read (the caller builds again).
   */
  take(source: VectorCacheSource, maxChanges: number, fingerprint: (version: number) => string): AnnScope | undefined {
    const written = this.written;
    if (this.state !== 'ready' || written === undefined) return undefined;
    try {
      const { first, last } = source.logBounds();
      if (this.version > last || (this.version < first - 1 && first > 0) || last - this.version > maxChanges) return undefined;
      const scope = AnnScope.load(this.path, this.column, this.value, this.dimensions, written.count, this.options.expansion);
      if (scope === undefined) return undefined;
      const storage = this.options.storage;
      if (storage !== undefined) {
        try {
          storage.adopt(this.path, scope, this.version, this.options.schemaVersion, fingerprint(this.version), written);
        } catch {
          // No room or no permission next to the file: the index lives in memory only, as for `:memory:`.
        }
      }
      const seqs = new Set<number>();
      for (const change of source.changesSince(this.version)) if (change[this.column] === this.value) seqs.add(change.seq);
      // Saved at `version`: changes after it leave the index to be saved again (close).
      scope.changed = seqs.size > 0 || storage === undefined;
      if (seqs.size > 0) replay(scope, seqs, new Map(source.rowsBySeq([...seqs]).map((row) => [row.seq, row])));
      return scope;
    } finally {
      this.discard();
    }
  }
}

/**
 * The build's worker: the built `sqlite-vector-ann-worker.js` beside this module (the package's
 * dist, ESM or CommonJS alike), or, run from source (vitest, tsx), the TypeScript one through tsx's
 * loader.
 */
function startWorker(data: AnnWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sqlite-vector-ann-worker.js', here), { workerData: data });
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api')).href;
  const worker = new URL('./sqlite-vector-ann-worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { (api.register ?? api.default.register)(); return import(${JSON.stringify(worker)}); });`;
  return new Worker(bootstrap, {
    eval: true,
    workerData: data,
  });
}
