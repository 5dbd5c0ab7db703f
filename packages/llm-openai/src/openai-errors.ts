import { AbortedError, MemError, ProviderRequestError, ProviderResponseInvalidError, retryAfterFromHeaders } from '@mem/core/adapter';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from 'openai';

/** What {@link toOpenAIError} needs to know about the failed call. */
export interface OpenAIErrorContext {
  /** `generate` or `embed`. */
  readonly operation: string;
  /** How many times the call was already retried when it failed this time. */
  readonly retries: number;
  /** The caller's signal: once aborted, every failure is reported as `ABORTED`. */
  readonly signal: AbortSignal | undefined;
  /** Origin of the API (`https://api.openai.com`), named in connection errors; never a path or query. */
  readonly origin: string;
  /** The model the call used, named in 404 errors. */
  readonly model: string;
  /** Where the API key came from, named in 401/403 errors: `OPENAI_API_KEY` or `options.apiKey`. */
  readonly keySource: string;
  /** Per-attempt timeout in milliseconds, when known. */
  readonly timeoutMs: number | undefined;
}

const PROVIDER = 'openai';

/**
 * Maps anything the OpenAI SDK throws to a typed mem error: `AbortedError` for a cancelled call,
 * `ProviderRequestError` for HTTP and connection failures (`retryable` decided by core from the
 * status), `ProviderResponseInvalidError` for a response the SDK could not decode.
 *
 * Messages name the status, the provider's error `code`/`type`/`param` and the fix. They never
 * quote the provider's free-text message (it can echo request content), the API key, headers or
 * bodies; the SDK error stays available as `cause`.
 */
export function toOpenAIError(error: unknown, context: OpenAIErrorContext): MemError {
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
      message: `no answer from ${context.origin} within the timeout${limit}; ${retried}. Raise timeoutMs, or check the server's load.`,
      cause: error,
    });
  }
  if (isA(error, APIConnectionError)) {
    return new ProviderRequestError({
      provider: PROVIDER,
      operation,
      message: `could not connect to ${context.origin}; ${retried}. Check the network and the baseURL option or OPENAI_BASE_URL.`,
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
      // A 429 for an exhausted quota does not clear by waiting: the account needs credit.
      ...(error.status === 429 && error.code === 'insufficient_quota' ? { retryable: false } : {}),
    });
  }
  if (isA(error, OpenAIError)) {
    // Raised by the SDK before any request was sent (e.g. a bad client option): retrying cannot help.
    return new ProviderRequestError({
      provider: PROVIDER,
      operation,
      message: `the OpenAI SDK rejected the call before sending it (${error.constructor.name}). Check the adapter options; see error.cause.`,
      cause: error,
      retryable: false,
    });
  }
  // Anything else came out of decoding the response (bad JSON, a base64 embedding of the wrong length).
  return new ProviderResponseInvalidError(
    PROVIDER,
    operation,
    `the response could not be decoded (${errorName(error)}); see error.cause.`,
    {
      cause: error,
    },
  );
}

function describeStatus(error: APIError, context: OpenAIErrorContext, retried: string): string {
  const details = providerDetails(error);
  const status = error.status ?? 0;
  switch (status) {
    case 401:
      return `the API key was rejected${details}. Check ${context.keySource}: it must be a valid key for this server.`;
    case 403:
      return `the API key has no access to this resource${details}. Check ${context.keySource}, its project and its permissions for model "${context.model}".`;
    case 404:
      return `not found${details}. Check the model option ("${context.model}") and the baseURL option or OPENAI_BASE_URL (it usually ends in /v1).`;
    case 429:
      if (error.code === 'insufficient_quota') {
        return `the account has run out of quota${details}. Add credit or raise the usage limit of the organization; retrying does not help.`;
      }
      return `rate limited${details}; ${retried}${retryAfterText(error.headers)}. Lower the request rate, raise maxRetries, or ask for a higher rate limit.`;
    default:
      if (status === 400 || status === 422) {
        return `the request was rejected${details}. Check the model's support for the structuredOutput mode and the options; the provider's message is in error.cause.`;
      }
      if (status >= 500) return `the server failed${details}; ${retried}. Try again later.`;
      return `the request failed${details}; ${retried}. The provider's message is in error.cause.`;
  }
}

/** The provider's machine-readable error fields, which name a parameter but never quote input. */
function providerDetails(error: APIError): string {
  const parts = [
    typeof error.code === 'string' ? `code ${error.code}` : undefined,
    typeof error.type === 'string' ? `type ${error.type}` : undefined,
    typeof error.param === 'string' ? `param ${error.param}` : undefined,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
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
 * The delay a failed response asks for: `retry-after-ms` (milliseconds, sent by OpenAI and Azure),
 * else `retry-after` (seconds or an HTTP date). `undefined` when neither is present or parseable.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  return headers ? retryAfterFromHeaders((name) => headers.get(name), now) : undefined;
}

/** The headers of an SDK HTTP error, for `retry-after`; `undefined` for anything else. */
export function openAIErrorHeaders(error: unknown): Headers | undefined {
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
