import { AbortedError, MemError, type ProviderRequestError } from '../contract/errors';
import { integerOption } from './settings';

/** One retry about to happen, as reported to `onRetry`. */
export interface RetryEvent {
  /** The operation, e.g. `generate`, `embed`, `upsert`. */
  readonly operation: string;
  /** 1 for the first retry, 2 for the second, … */
  readonly retry: number;
  /** How long the adapter waits before sending the request again, in milliseconds. */
  readonly delayMs: number;
  /** The failure being retried (its message holds no secrets). */
  readonly error: ProviderRequestError;
}

/** How an adapter retries retryable failures. Build one with {@link resolveRetryPolicy}. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 2 */
  readonly maxRetries: number;
  /** First backoff delay in milliseconds; doubles on every retry. @default 500 */
  readonly initialDelayMs: number;
  /** Upper bound of a backoff delay in milliseconds. @default 8000 */
  readonly maxDelayMs: number;
  /** Longest `retry-after` waited for, in milliseconds; a longer one ends the call. @default 60000 */
  readonly maxRetryAfterMs: number;
  /** Called before each retry, e.g. to log or count retries. */
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
}

/** The retry options adapters accept from users; see {@link retryPolicyFromOptions}. */
export interface RetryOptions {
  /** Retries of a failed request (429, 408, 409, 5xx, connection failures only). @default 2 */
  readonly maxRetries?: number;
  /** First backoff delay between retries, in milliseconds; doubles each retry, with jitter. @default 500 */
  readonly retryInitialDelayMs?: number;
  /** Longest backoff delay, in milliseconds. @default 8000 */
  readonly retryMaxDelayMs?: number;
  /**
   * Longest `retry-after` the adapter honours, in milliseconds. When the server asks for a longer
   * wait, the call fails at once with the rate-limit error instead. @default 60000
   */
  readonly maxRetryAfterMs?: number;
  /** Called before each retry, e.g. to log or count them. Adapters never log themselves. */
  readonly onRetry?: (event: RetryEvent) => void;
}

/**
 * Validates user {@link RetryOptions} (typed errors naming `options.<name>`) and fills the defaults.
 * @throws {InvalidInputError} for a value out of range.
 */
export function retryPolicyFromOptions(options: RetryOptions): RetryPolicy {
  return {
    maxRetries: integerOption(options.maxRetries, 'options.maxRetries', 2, 0, 20),
    initialDelayMs: integerOption(options.retryInitialDelayMs, 'options.retryInitialDelayMs', 500, 0, 600_000),
    maxDelayMs: integerOption(options.retryMaxDelayMs, 'options.retryMaxDelayMs', 8_000, 0, 600_000),
    maxRetryAfterMs: integerOption(options.maxRetryAfterMs, 'options.maxRetryAfterMs', 60_000, 0, 3_600_000),
    onRetry: options.onRetry,
  };
}

/** Fills the documented defaults of a {@link RetryPolicy}. */
export function resolveRetryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxRetries: options.maxRetries ?? 2,
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 8_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    onRetry: options.onRetry,
  };
}

/**
 * Runs `attempt` until it succeeds, retrying only failures core marks retryable
 * (`ProviderRequestError.retryable`: 408, 409, 429, 5xx, connection failures). Waits what the server
 * asks for (`retryAfterMs`), else exponential backoff with equal jitter. An aborted signal stops at
 * once, also during a wait, and is never retried. Adapters turn their SDK's own retries off and use
 * this, so every provider retries the same way.
 *
 * @example
 * return withRetries({ provider: 'openai', operation: 'embed', policy, signal,
 *   attempt: () => client.embeddings.create(body), toError: mapOpenAIError, retryAfterMs: readRetryAfter });
 */
export async function withRetries<T>(options: {
  readonly provider: string;
  readonly operation: string;
  readonly policy: RetryPolicy;
  readonly signal: AbortSignal | undefined;
  readonly attempt: () => Promise<T>;
  /** Maps a raw failure to a mem error; `retries` is how many retries were already made. */
  readonly toError: (error: unknown, retries: number) => MemError;
  /** The delay a failure asks for (e.g. its `retry-after` headers), in milliseconds. */
  readonly retryAfterMs?: (raw: unknown, error: ProviderRequestError) => number | undefined;
  /** Narrows which retryable failures are retried, e.g. not a 409 on create. @default all */
  readonly shouldRetry?: (error: ProviderRequestError) => boolean;
}): Promise<T> {
  const { policy, signal } = options;
  const name = `${options.provider} ${options.operation}`;
  for (let retries = 0; ; retries++) {
    if (signal?.aborted) throw new AbortedError(name, { cause: signal.reason });
    try {
      return await options.attempt();
    } catch (raw) {
      const error = options.toError(raw, retries);
      if (!isRetryable(error) || retries >= policy.maxRetries || options.shouldRetry?.(error) === false) throw error;
      const askedMs = options.retryAfterMs?.(raw, error);
      if (askedMs !== undefined && askedMs > policy.maxRetryAfterMs) throw error;
      const delayMs = askedMs ?? backoffMs(retries, policy);
      policy.onRetry?.({ operation: options.operation, retry: retries + 1, delayMs, error });
      await abortableDelay(delayMs, signal, name);
    }
  }
}

function isRetryable(error: MemError): error is ProviderRequestError {
  return MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).retryable;
}

/** "Equal jitter": half of the exponential delay is fixed, half random, so clients spread out. */
function backoffMs(retries: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retries);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Waits `delayMs` milliseconds, or rejects with an `ABORTED` error as soon as `signal` fires.
 * @param name - the operation named in the abort error, e.g. `pinecone ensureCollection`
 */
export function abortableDelay(delayMs: number, signal: AbortSignal | undefined, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(name, { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(name, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Reads `retry-after-ms` / `retry-after` (seconds or an HTTP date) from response headers, in milliseconds. */
export function retryAfterFromHeaders(get: (name: string) => string | null | undefined, now = Date.now()): number | undefined {
  const ms = get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const value = get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
