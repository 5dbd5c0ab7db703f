import { resolveRetryPolicy, withRetries } from '@mem/core/adapter';
import { toChromaError, type ChromaErrorContext } from './chroma-errors';

/** Longest pause between two attempts, in milliseconds. */
const MAX_DELAY_MS = 5_000;

/** How {@link callChroma} retries. */
export interface ChromaRetryPolicy extends ChromaErrorContext {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** First pause in milliseconds; doubled per retry, with jitter (core's `withRetries`). */
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
export function callChroma<T>(
  operation: string,
  policy: ChromaRetryPolicy,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  return withRetries({
    provider: 'chroma',
    operation,
    signal,
    attempt: call,
    policy: resolveRetryPolicy({ maxRetries: policy.maxRetries, initialDelayMs: policy.retryDelayMs, maxDelayMs: MAX_DELAY_MS }),
    toError: (error) => toChromaError(error, operation, policy),
  });
}
