import { AbortedError, MemError, throwIfAborted, type ProviderRequestError } from '@mem/core';
import { toChromaError, type ChromaErrorContext } from './chroma-errors';

/** Longest pause between two attempts, in milliseconds. */
const MAX_DELAY_MS = 5_000;

/** How {@link callChroma} retries. */
export interface ChromaRetryPolicy extends ChromaErrorContext {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** First pause in milliseconds; doubled per retry, with full jitter. */
  readonly retryDelayMs: number;
}

/**
 * Runs one chromadb call, mapping its failure with {@link toChromaError} and retrying only when
 * core marked the mapped error `retryable` (every call this adapter makes is idempotent: reads,
 * upserts by id, deletes by id). chromadb takes no per-request `AbortSignal`, so the signal is
 * checked before each attempt and ends a pause early; a request already sent runs to its end.
 *
 * @throws {MemError} the mapped error of the last attempt, or `ABORTED`.
 */
export async function callChroma<T>(operation: string, policy: ChromaRetryPolicy, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal, `chroma ${operation}`);
    try {
      return await call();
    } catch (error) {
      const mapped = toChromaError(error, operation, policy);
      const retryable = MemError.is(mapped, 'PROVIDER_REQUEST_FAILED') && (mapped as ProviderRequestError).retryable;
      if (!retryable || attempt >= policy.maxRetries) throw mapped;
      await pause(Math.random() * Math.min(MAX_DELAY_MS, policy.retryDelayMs * 2 ** attempt), signal, operation);
    }
  }
}

function pause(ms: number, signal: AbortSignal | undefined, operation: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(`chroma ${operation}`, { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(`chroma ${operation}`, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
