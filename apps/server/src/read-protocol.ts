import type { MemConfig } from '@mem/config';
import type { SearchOptions, SearchResponse } from '@mem/core';

// Messages between the REST server's main thread and its search workers (read-pool.ts, read-worker.ts).

/** What a search worker is started with. */
export interface ReadWorkerData {
  /** The server's configuration; the worker opens the same SQLite file read-only. */
  readonly config: MemConfig;
}

/** A search as the worker runs it: `Memory.search`'s options without the signal (aborts are messages). */
export type WireSearchOptions = Omit<SearchOptions, 'signal'>;

/** Main thread to worker. */
export type ReadRequest =
  | {
      readonly type: 'search';
      readonly id: number;
      readonly query: string;
      readonly options: WireSearchOptions;
      /** The caller's signal was already aborted: the search fails as `Memory.search` would. */
      readonly aborted: boolean;
    }
  | { readonly type: 'abort'; readonly id: number }
  | { readonly type: 'close' };

/** An error thrown in the worker, as plain data: a `MemError` keeps its class name, code and fields. */
export interface WireError {
  readonly mem: boolean;
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  /** The error's own fields (`field`, `setting`, `provider`, `status`, `retryable`, …): strings, numbers, booleans. */
  readonly fields?: Readonly<Record<string, string | number | boolean | undefined>>;
}

/** Worker to main thread. */
export type ReadReply =
  /** The worker opened its memory and answers searches. */
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly response: SearchResponse }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  /** The worker could not open its memory (e.g. the file cannot be opened read-only); it answers nothing. */
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'closed' };
