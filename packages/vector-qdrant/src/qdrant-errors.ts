import { AbortedError, InvalidInputError, MemError, ProviderRequestError, ProviderResponseInvalidError } from '@mem/core/adapter';
import { QDRANT_PROVIDER, isObject } from './qdrant-payload';

/** What {@link toMemError} needs to know about the failed call. */
export interface QdrantFailureContext {
  /** The adapter operation, e.g. `upsert`; used in messages and `ProviderRequestError.operation`. */
  readonly operation: string;
  /** The caller's signal: when it is aborted, the failure is an `AbortedError`. */
  readonly signal?: AbortSignal;
  /** Set when the adapter's own timeout ended the request. */
  readonly timeoutMs?: number;
}

/** How long Qdrant asked us to wait before retrying (its Retry-After header), per error. */
const retryAfterByError = new WeakMap<ProviderRequestError, number>();

/** The wait Qdrant asked for before retrying `error`, in milliseconds, if it named one. */
export function retryAfterMs(error: ProviderRequestError): number | undefined {
  return retryAfterByError.get(error);
}

/** Longest server message kept in an error, in characters. */
const MAX_SERVER_MESSAGE = 300;

/**
 * Maps anything the Qdrant SDK (or `fetch` under it) throws to a mem error, so no raw SDK error
 * escapes the adapter. `retryable` is left to core's `isRetryableStatus`.
 *
 * - the caller's `AbortSignal` fired → {@link AbortedError}
 * - the adapter's timeout fired → `ProviderRequestError` without status (retryable)
 * - an HTTP error answer (the SDK's `ApiError`) → `ProviderRequestError` with its status and
 *   Qdrant's `status.error` text, with quoted strings removed (they may echo request data)
 * - 429 with Retry-After (`QdrantClientResourceExhaustedError`) → status 429, wait remembered
 * - a 2xx answer other than 200/201 (`QdrantClientUnexpectedResponseError`) → {@link ProviderResponseInvalidError}
 * - `QdrantClientConfigError` → {@link InvalidInputError} on `url`
 * - a connection failure (`fetch failed`, ECONNREFUSED, …) → `ProviderRequestError` without status (retryable)
 */
export function toMemError(error: unknown, context: QdrantFailureContext): MemError {
  const { operation } = context;
  if (MemError.is(error)) return error;
  if (context.signal?.aborted) return new AbortedError(`${QDRANT_PROVIDER} ${operation}`, { cause: context.signal.reason });
  if (context.timeoutMs !== undefined) {
    return new ProviderRequestError({
      provider: QDRANT_PROVIDER,
      operation,
      message: `no answer within ${context.timeoutMs} ms. Check that the server is healthy, or raise the timeoutMs option`,
      cause: error,
    });
  }
  const name = error instanceof Error ? error.name : '';
  if (name === 'QdrantClientResourceExhaustedError') {
    const mapped = new ProviderRequestError({
      provider: QDRANT_PROVIDER,
      operation,
      status: 429,
      message: 'Qdrant is rate limiting this client (resource exhausted). Retry later or lower the request rate',
      cause: error,
    });
    const seconds = (error as { retry_after?: unknown }).retry_after;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) retryAfterByError.set(mapped, seconds * 1000);
    return mapped;
  }
  if (isApiError(error)) {
    const mapped = new ProviderRequestError({
      provider: QDRANT_PROVIDER,
      operation,
      status: error.status,
      message: describeStatus(error.status, serverMessage(error.data)),
      cause: error,
    });
    const header = error.headers?.get?.('retry-after');
    const seconds = header ? Number(header) : Number.NaN; // the HTTP-date form is left to the backoff
    if (Number.isFinite(seconds) && seconds >= 0) retryAfterByError.set(mapped, seconds * 1000);
    return mapped;
  }
  if (name === 'QdrantClientUnexpectedResponseError') {
    return new ProviderResponseInvalidError(
      QDRANT_PROVIDER,
      operation,
      'Qdrant answered with an unexpected success status (not 200 or 201)',
      { cause: error },
    );
  }
  if (name === 'QdrantClientConfigError') {
    return new InvalidInputError(
      'url',
      'the Qdrant client rejected the connection settings',
      'Pass url as "http(s)://host:port", or host without protocol and port.',
    );
  }
  const code = connectionErrorCode(error);
  if (code !== undefined) {
    return new ProviderRequestError({
      provider: QDRANT_PROVIDER,
      operation,
      message: `could not reach Qdrant${code ? ` (${code})` : ''}. Check the url option or QDRANT_URL, and that the server is running`,
      cause: error,
    });
  }
  return new ProviderRequestError({
    provider: QDRANT_PROVIDER,
    operation,
    message: `the Qdrant client failed unexpectedly (${name || typeof error})`,
    cause: error,
    retryable: false,
  });
}

interface ApiErrorLike {
  readonly status: number;
  readonly data: unknown;
  readonly headers?: { get?(name: string): string | null };
}

/**
 * The SDK's HTTP error (`ApiError` of `@qdrant/openapi-typescript-fetch`, which it does not
 * re-export), recognised by shape so two installed copies both match.
 */
function isApiError(error: unknown): error is ApiErrorLike {
  return error instanceof Error && typeof (error as { status?: unknown }).status === 'number' && 'data' in error;
}

/** Qdrant's `{ status: { error } }` text, without quoted strings (they may echo request data). */
function serverMessage(data: unknown): string | undefined {
  let text: unknown;
  if (isObject(data) && isObject(data['status'])) text = data['status']['error'];
  else if (typeof data === 'string') text = data;
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const redacted = text
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\s+/g, ' ')
    .trim();
  return redacted.length > MAX_SERVER_MESSAGE ? `${redacted.slice(0, MAX_SERVER_MESSAGE)}…` : redacted;
}

function describeStatus(status: number, server: string | undefined): string {
  const said = server ? `Qdrant said: ${server}` : 'Qdrant gave no error text';
  switch (status) {
    case 401:
    case 403:
      return `${said}. Check the apiKey option or QDRANT_API_KEY`;
    case 404:
      return `${said}. Call ensureCollection({ dimensions }) first, or check the collection option`;
    case 400:
    case 422:
      return `${said}. The request was rejected as invalid`;
    default:
      return said;
  }
}

/** The error code of a failed connection (`fetch failed` with a system error cause), if it is one. */
function connectionErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof TypeError && /fetch failed/i.test(error.message) ? '' : undefined;
}
