import { AbortedError, MemError, ProviderRequestError } from '@mem/core';

/** One retry about to happen, as reported to `onRetry`. */
export interface AnthropicRetryEvent {
  /** `generate` or `embed`. */
  readonly operation: string;
  /** 1 for the first retry, 2 for the second, … */
  readonly retry: number;
  /** How long the adapter waits before sending the request again, in milliseconds. */
  readonly delayMs: number;
  /** The failure being retried (its message holds no secrets). */
  readonly error: ProviderRequestError;
}

/** How the adapter retries. Resolved from the options by {@link resolveAnthropicSettings}. */
export interface AnthropicRetryPolicy {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** First backoff delay in milliseconds; doubles on every retry. */
  readonly initialDelayMs: number;
  /** Upper bound of a backoff delay in milliseconds. */
  readonly maxDelayMs: number;
  /** Longest `retry-after` the adapter waits for, in milliseconds; a longer one ends the call. */
  readonly maxRetryAfterMs: number;
  readonly onRetry: ((event: AnthropicRetryEvent) => void) | undefined;
}

/**
 * Runs `attempt` until it succeeds, retrying only failures core marks `retryable` (408, 409, 429,
 * 5xx, connection failures). Waits what the server asks for (`retry-after-ms`, `retry-after`), else
 * exponential backoff with jitter. An aborted signal stops at once, also during a wait.
 *
 * The SDK's own retries are off (`maxRetries: 0` on every request), so these are the only ones.
 */
export async function withAnthropicRetries<T>(options: {
  readonly operation: string;
  readonly policy: AnthropicRetryPolicy;
  readonly signal: AbortSignal | undefined;
  readonly attempt: () => Promise<T>;
  /** Maps a raw failure to a mem error; `retries` is how many retries were already made. */
  readonly toError: (error: unknown, retries: number) => MemError;
  /** The delay a raw failure asks for, from its `retry-after` headers. */
  readonly retryAfterMs: (error: unknown) => number | undefined;
}): Promise<T> {
  const { policy, signal } = options;
  for (let retries = 0; ; retries++) {
    if (signal?.aborted) throw new AbortedError(`anthropic ${options.operation}`, { cause: signal.reason });
    try {
      return await options.attempt();
    } catch (raw) {
      const error = options.toError(raw, retries);
      if (!isRetryable(error) || retries >= policy.maxRetries) throw error;
      const askedMs = options.retryAfterMs(raw);
      if (askedMs !== undefined && askedMs > policy.maxRetryAfterMs) throw error;
      const delayMs = askedMs ?? backoffMs(retries, policy);
      policy.onRetry?.({ operation: options.operation, retry: retries + 1, delayMs, error });
      await pause(delayMs, signal, options.operation);
    }
  }
}

function isRetryable(error: MemError): error is ProviderRequestError {
  return MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).retryable;
}

/** "Equal jitter": half of the exponential delay is fixed, half random, so clients spread out. */
function backoffMs(retries: number, policy: AnthropicRetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retries);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function pause(delayMs: number, signal: AbortSignal | undefined, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(`anthropic ${operation}`, { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(`anthropic ${operation}`, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
