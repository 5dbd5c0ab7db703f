import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  AbortedError,
  DimensionMismatchError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  MemError,
  MissingSettingError,
  NotFoundError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  UnsupportedCapabilityError,
  type Memory,
  type MemErrorCode,
  type SearchOptions,
  type SearchResponse,
} from '@mem/core';
import type { MemConfig } from '@mem/config';
import type { Logger } from './logger';
import type { ReadReply, ReadRequest, ReadWorkerData, WireError } from './read-protocol';

/** How long {@link ReadPool.close} waits for a worker to close its connection before stopping it. */
const CLOSE_TIMEOUT_MS = 5_000;
/** Workers in a row that stop before they are ready, after which searches stay on the main thread. */
const MAX_START_FAILURES = 3;

/** Classes a worker's `MemError` is rebuilt as, by name, so the server answers it exactly as if thrown here. */
const ERROR_CLASSES: Record<string, { prototype: MemError }> = {
  MemError,
  InvalidInputError,
  MissingSettingError,
  UnsupportedCapabilityError,
  DimensionMismatchError,
  NotFoundError,
  IdempotencyKeyReusedError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  AbortedError,
};

interface Pending {
  readonly resolve: (response: SearchResponse) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Resolves when the worker has opened its memory (never rejects). */
  readonly started: Promise<void>;
  ready: boolean;
  exited: boolean;
  closing?: Promise<void>;
}

/** Whether a configuration lets searches run in workers: the embedded SQLite vector store on a file, no graph store. */
export function readWorkersApply(config: MemConfig): boolean {
  return config.vectorStore.provider === 'sqlite' && config.db !== ':memory:' && config.db !== '' && config.graphStore.provider === 'none';
}

/**
 * Runs `POST /v1/search` in worker threads, each with its own read-only connection to the SQLite
 * file (`MEM_READ_WORKERS`), so searches of one busy scope use every core while writes stay on the
 * main thread under the existing locks. WAL lets the workers read while the main thread writes, and
 * each statement sees every transaction committed before it began: a search sent after an add was
 * acknowledged sees that add.
 *
 * The main thread still runs the first search (it creates the tables and records the dimensions,
 * which a read-only connection cannot; the workers start after it), every search while no worker
 * is ready, and searches with `rerank: true` (the reranker lives here). A worker's error comes back
 * as the same `MemError` class, code and fields; a worker that dies fails the searches it held with
 * an internal error (500) and is replaced.
 */
export class ReadPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  /** Set once a search ran on the main thread and started the workers. */
  private started = false;
  /** Set when a worker could not open its memory: every search then runs on the main thread. */
  private disabled = false;
  private closed = false;
  /** Workers that stopped before they were ready, in a row. */
  private startFailures = 0;
  /** Searches sent to the workers and run on the main thread since the start (diagnostics, tests). */
  readonly counts = { workers: 0, mainThread: 0 };

  private constructor(
    private readonly memory: Memory,
    private readonly config: MemConfig,
    private readonly logger: Logger,
    private readonly wanted: number,
  ) {}

  /** A pool of `size` workers (at least 1) for `memory`, built from `config`; they start after the first search. */
  static start(options: { memory: Memory; config: MemConfig; logger: Logger; size: number }): ReadPool {
    return new ReadPool(options.memory, options.config, options.logger, Math.max(1, options.size));
  }

  /** How many workers run once the pool has started (a replaced worker keeps the number). */
  get size(): number {
    return this.wanted;
  }

  /** The current worker threads (diagnostics, tests). */
  get threads(): readonly Worker[] {
    return this.slots.map((slot) => slot.worker);
  }

  /** Resolves when every current worker has opened its memory; at once before the first search started the workers. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.started));
  }

  /** `Memory.search`, in a worker when it can run there. */
  search(query: string, options: SearchOptions): Promise<SearchResponse> {
    const ready = this.disabled || this.closed || options.rerank === true ? [] : this.slots.filter((slot) => slot.ready);
    if (ready.length === 0) return this.onMainThread(query, options);
    const { signal, ...rest } = options;
    const slot = ready.reduce((best, candidate) => (candidate.pending.size < best.pending.size ? candidate : best));
    const id = this.nextId++;
    return new Promise<SearchResponse>((resolve, reject) => {
      const onAbort = () => slot.worker.postMessage({ type: 'abort', id } satisfies ReadRequest);
      const done = () => signal?.removeEventListener('abort', onAbort);
      slot.pending.set(id, {
        resolve: (response) => {
          done();
          resolve(response);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      slot.worker.postMessage({ type: 'search', id, query, options: rest, aborted: signal?.aborted === true } satisfies ReadRequest);
      this.counts.workers += 1;
    });
  }

  /** Stops the workers after they closed their connections (waits at most 5 s each). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot) => this.stop(slot)));
  }

  private async onMainThread(query: string, options: SearchOptions): Promise<SearchResponse> {
    this.counts.mainThread += 1;
    const response = await this.memory.search(query, options);
    // The file now has its tables, its dimensions and WAL mode (set with the first write), so a
    // read-only connection opened from here on reads what the main thread commits.
    if (!this.started && !this.closed && !this.disabled) {
      this.started = true;
      for (let index = 0; index < this.wanted; index++) this.slots.push(this.spawn());
    }
    return response;
  }

  private spawn(): Slot {
    const worker = startWorker({ config: this.config });
    let started = () => {};
    const slot: Slot = {
      worker,
      pending: new Map(),
      started: new Promise<void>((resolve) => (started = resolve)),
      ready: false,
      exited: false,
    };
    worker.on('message', (reply: ReadReply) => {
      if (reply.type === 'ready') {
        slot.ready = true;
        this.startFailures = 0;
        started();
      } else if (reply.type === 'failed') {
        this.disable('search workers could not open the database read-only; searches run on the main thread', reply.error);
      } else this.receive(slot, reply);
    });
    worker.on('error', (error) => {
      this.logger.error({ msg: 'search worker failed', errorName: error.name, ...(error.stack ? { stack: frames(error.stack) } : {}) });
    });
    worker.on('exit', (exitCode) => {
      slot.exited = true;
      started();
      const waiting = [...slot.pending.values()];
      slot.pending.clear();
      // Searches go only to ready workers; one that stops may have been half done, so it fails (500)
      // rather than run twice.
      for (const pending of waiting) {
        pending.reject(new Error(`The search worker stopped (exit code ${exitCode}) before answering; the search was not completed.`));
      }
      if (this.closed || this.disabled || slot.closing) return;
      if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
        this.disable('search workers keep stopping before they are ready; searches run on the main thread');
        return;
      }
      this.logger.error({ msg: 'search worker stopped; starting another', exitCode });
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
    });
    return slot;
  }

  private receive(slot: Slot, reply: Exclude<ReadReply, { type: 'ready' | 'failed' }>): void {
    if (reply.type === 'closed') return;
    const pending = slot.pending.get(reply.id);
    if (!pending) return;
    slot.pending.delete(reply.id);
    switch (reply.type) {
      case 'result':
        pending.resolve(reply.response);
        return;
      case 'error':
        pending.reject(fromWireError(reply.error));
        return;
    }
  }

  /** Leaves every search on the main thread from now on and stops the workers (logged once). */
  private disable(msg: string, error?: WireError): void {
    if (this.disabled) return;
    this.disabled = true;
    this.logger.error({ msg, ...(error ? { errorName: error.name, ...(error.code ? { errorCode: error.code } : {}) } : {}) });
    for (const slot of this.slots) void this.stop(slot);
  }

  private stop(slot: Slot): Promise<void> {
    slot.closing ??= new Promise<void>((resolve) => {
      if (slot.exited) return resolve();
      const worker = slot.worker;
      const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      timer.unref();
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'close' } satisfies ReadRequest);
    });
    return slot.closing;
  }
}

/**
 * Starts a worker on the built `read-worker.js` beside this module or, running from source (tests,
 * `pnpm load`), on `read-worker.ts` loaded through tsx (a worker does not inherit the parent's loader).
 */
function startWorker(workerData: ReadWorkerData): Worker {
  const built = new URL('./read-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  const source = new URL('./read-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(source)}, ${JSON.stringify(import.meta.url)}));`;
  return new Worker(code, { eval: true, workerData });
}

/** A worker's error rebuilt on this thread: a `MemError` as its own class with its code and fields. */
export function fromWireError(wire: WireError): Error {
  if (!wire.mem) {
    const error = new Error(wire.message);
    error.name = wire.name;
    return error;
  }
  const error = new MemError((wire.code ?? 'PROVIDER_REQUEST_FAILED') as MemErrorCode, wire.message);
  Object.setPrototypeOf(error, (ERROR_CLASSES[wire.name] ?? MemError).prototype);
  Object.assign(error, wire.fields ?? {});
  error.name = wire.name;
  return error;
}

function frames(stack: string): string {
  return stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .join(' | ');
}
