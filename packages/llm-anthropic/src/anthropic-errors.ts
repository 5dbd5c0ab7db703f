import { AbortedError, MemError, ProviderRequestError, ProviderResponseInvalidError, retryAfterFromHeaders } from '@mem/core/adapter';
import { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';

/** What {@link toAnthropicError} needs to know about the failed call. */
export interface AnthropicErrorContext {
  /** `generate`. */
  readonly operation: string;
  /** How many times the call was already retried when it failed this time. */
  readonly retries: number;
  /** The caller's signal: once aborted, every failure is reported as `ABORTED`. */
  readonly signal: AbortSignal | undefined;
  /** Origin of the API (`https://api.anthropic.com`), named in connection errors; never a path or query. */
  readonly origin: string;
  /** The model the call used, named in 404 errors. */
  readonly model: string;
  /** Where the API key came from, named in 401/403 errors. */
  readonly keySource: string;
  /** Per-attempt timeout in milliseconds, when known. */
  readonly timeoutMs: number | undefined;
}

const PROVIDER = 'anthropic';

/**
 * Maps anything the Anthropic SDK throws to a typed mem error: `AbortedError` for a cancelled call,
 * `ProviderRequestError` for HTTP and connection failures (`retryable` decided by core from the
 * status; 529 overloaded counts as 5xx), `ProviderResponseInvalidError` for a response that could not
 * be decoded.
 *
 * Messages name the status, the provider's error `type` and the fix. They never quote the provider's
 * free-text message (it can echo request content), the API key, headers or bodies; the SDK error
 * stays available as `cause`.
 */
export function toAnthropicError(error: unknown, context: AnthropicErrorContext): MemError {
  if (MemError.is(error)) return error;
  const operation = context.operation;
  if (context.signal?.aborted || isA(error, APIUserAbortError)) {
    return new AbortedError(`${PROVIDER} ${operation}`, { cause: error });
  }
  const retried = retriedText(context.retries);
  if (isA(error, APIConnectionTimeoutError)) {
    const limit = context.timeoutMs === undefined ? '' : ` of ${context.timeoutMs} ms`;
    return new ProviderRequestError({
      provider: PROVIDER,
      operation,
      message: `no answer from ${context.origin} within the timeout${limit}; ${retried}. Raise timeoutMs, or lower maxTokens.`,
      cause: error,
    });
  }
  if (isA(error, APIConnectionError)) {
    return new ProviderRequestError({
      provider: PROVIDER,
      operation,
      message: `could not connect to ${context.origin}; ${retried}. Check the network and the baseURL option or ANTHROPIC_BASE_URL.`,
      cause: error,
    });
  }
  if (isA(error, APIError) && typeof error.status === 'number') {
    return new ProviderRequestError({
      provider: PROVIDER,
      operation,
      status: error.status,
      message: describeStatus(error, context, retried),
      cause: error,
    });
  }
  if (isA(error, AnthropicError)) {
    // Raised by the SDK before any request was sent (e.g. a bad client option): retrying cannot help.
    return new ProviderRequestError({
      provider: PROVIDER,
      operation,
      message: `the Anthropic SDK rejected the call before sending it (${error.name}). Check the adapter options; see error.cause.`,
      cause: error,
      retryable: false,
    });
  }
  return new ProviderResponseInvalidError(
    PROVIDER,
    operation,
    `the response could not be decoded (${errorName(error)}); see error.cause.`,
    { cause: error },
  );
}

function describeStatus(error: APIError, context: AnthropicErrorContext, retried: string): string {
  const status = error.status ?? 0;
  const details = typeof error.type === 'string' ? ` (type ${error.type})` : '';
  switch (status) {
    case 401:
      return `the API key was rejected${details}. Check ${context.keySource}: it must be a valid Anthropic API key.`;
    case 403:
      return `the API key has no access to this resource${details}. Check ${context.keySource} and its workspace's access to model "${context.model}".`;
    case 404:
      return `not found${details}. Check the model option ("${context.model}") and the baseURL option or ANTHROPIC_BASE_URL (without /v1).`;
    case 429:
      return `rate limited${details}; ${retried}${retryAfterText(error.headers)}. Lower the request rate, raise maxRetries, or ask for a higher rate limit.`;
    case 529:
      return `the API is overloaded${details}; ${retried}. Try again later.`;
    default:
      if (status === 400 || status === 413 || status === 422) {
        return `the request was rejected${details}. Check the model and the options (maxTokens, temperature); the provider's message is in error.cause.`;
      }
      if (status >= 500) return `the server failed${details}; ${retried}. Try again later.`;
      return `the request failed${details}; ${retried}. The provider's message is in error.cause.`;
  }
}

function retriedText(retries: number): string {
  return retries === 0 ? 'not retried' : `retried ${retries} ${retries === 1 ? 'time' : 'times'}`;
}

function retryAfterText(headers: Headers | undefined): string {
  const delayMs = retryAfterMs(headers);
  if (delayMs === undefined) return '';
  return delayMs < 1000
    ? `; the server asked to wait ${Math.round(delayMs)} ms`
    : `; the server asked to wait ${Math.round(delayMs / 1000)} s`;
}

/**
 * The delay a failed response asks for: `retry-after-ms` (milliseconds), else `retry-after`
 * (seconds or an HTTP date, which Anthropic sends with 429). `undefined` when neither parses.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  return headers ? retryAfterFromHeaders((name) => headers.get(name), now) : undefined;
}

/** The headers of an SDK HTTP error, for `retry-after`; `undefined` for anything else. */
export function anthropicErrorHeaders(error: unknown): Headers | undefined {
  if (!isA(error, APIError)) return undefined;
  const headers: unknown = error.headers;
  return typeof headers === 'object' && headers !== null && typeof (headers as Headers).get === 'function'
    ? (headers as Headers)
    : undefined;
}

/**
 * `instanceof`, or the same class name up the prototype chain: a `client` built with another
 * installed copy of the SDK throws errors of that copy's classes.
 */
function isA<T>(error: unknown, type: abstract new (...args: never[]) => T): error is T {
  if ((error as object) instanceof type) return true;
  for (
    let prototype = typeof error === 'object' && error !== null ? Object.getPrototypeOf(error) : null;
    prototype;
    prototype = Object.getPrototypeOf(prototype)
  ) {
    if (prototype.constructor?.name === type.name) return true;
  }
  return false;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
