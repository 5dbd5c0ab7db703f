import { AbortedError, MemError, ProviderRequestError, ProviderResponseInvalidError } from '@mem/core/adapter';
import {
  ChromaClientError,
  ChromaConnectionError,
  ChromaForbiddenError,
  ChromaNotFoundError,
  ChromaQuotaExceededError,
  ChromaRateLimitError,
  ChromaServerError,
  ChromaUnauthorizedError,
  ChromaUniqueError,
  ChromaValueError,
  InvalidArgumentError,
  InvalidCollectionError,
} from 'chromadb';

const PROVIDER = 'chroma';
/** Longest server explanation copied into an error message. */
const MAX_REASON_LENGTH = 240;

/** Where a failed request was going; both parts are safe to show (no credentials). */
export interface ChromaErrorContext {
  /** Base URL, e.g. `http://localhost:8000`. */
  readonly endpoint: string;
  readonly collection: string;
}

/**
 * Turns anything a chromadb call threw into a typed {@link MemError}: HTTP failures become
 * {@link ProviderRequestError} with the status the SDK's error class stands for (the SDK does not
 * expose the status itself), so core decides `retryable`; a `MemError` passes through unchanged.
 *
 * Messages carry the operation, the endpoint, the collection and Chroma's own short explanation
 * for 4xx/5xx answers, never headers, API keys, record text or request bodies.
 */
export function toChromaError(error: unknown, operation: string, context: ChromaErrorContext): MemError {
  if (MemError.is(error)) return error;
  const base = { provider: PROVIDER, operation, cause: error };
  const where = `${context.endpoint}, collection "${context.collection}"`;
  if (error instanceof ChromaConnectionError) {
    return new ProviderRequestError({
      ...base,
      message: `could not reach the Chroma server (${context.endpoint}). Start it (npx chroma run --path ./chroma-data) or set url / CHROMA_URL to a running server.`,
    });
  }
  if (error instanceof ChromaUnauthorizedError) {
    return new ProviderRequestError({
      ...base,
      status: 401,
      message: `${where} rejected the credentials. Set apiKey (or CHROMA_API_KEY) or the auth header the server expects.`,
    });
  }
  if (error instanceof ChromaForbiddenError) {
    return new ProviderRequestError({
      ...base,
      status: 403,
      message: `${where} refused access. Check that the API key may use this tenant and database.`,
    });
  }
  if (error instanceof ChromaNotFoundError) {
    return new ProviderRequestError({
      ...base,
      status: 404,
      message: `${where}: the collection, tenant or database does not exist. Check tenant and database, and call ensureCollection({ dimensions }) after the collection was deleted.`,
    });
  }
  if (error instanceof ChromaUniqueError) {
    return new ProviderRequestError({ ...base, status: 409, message: `${where}: the resource already exists.` });
  }
  if (error instanceof ChromaQuotaExceededError) {
    return new ProviderRequestError({
      ...base,
      status: 422,
      message: `${where}: ${reason(error.message)} Raise the quota or send smaller requests (pageSize, maxUpsertBatch).`,
    });
  }
  if (error instanceof ChromaRateLimitError) {
    return new ProviderRequestError({
      ...base,
      status: 429,
      message: `${where} is rate limiting requests. Retry later or lower the request rate.`,
    });
  }
  if (error instanceof ChromaClientError) {
    // chromadb raises this for 400 and 422 answers; its message embeds the server's explanation.
    return new ProviderRequestError({ ...base, status: 400, message: `${where} rejected the request: ${reason(error.message)}` });
  }
  if (error instanceof ChromaServerError) {
    const status = serverStatus(error.message);
    return new ProviderRequestError({ ...base, status, message: `${where} failed: ${reason(error.message)}` });
  }
  if (error instanceof ChromaValueError || error instanceof InvalidArgumentError || error instanceof InvalidCollectionError) {
    // Raised by the SDK's own validation before any request: retrying cannot help.
    return new ProviderRequestError({
      ...base,
      retryable: false,
      message: `the chromadb client refused the request before sending it: ${reason(error.message)}`,
    });
  }
  if (error instanceof Error && error.name === 'AbortError') return new AbortedError(`chroma ${operation}`, { cause: error });
  return new ProviderResponseInvalidError(
    PROVIDER,
    operation,
    `the chromadb client failed unexpectedly (${error instanceof Error ? error.name : typeof error})`,
    { cause: error },
  );
}

/** Chroma's explanation without the request URL chromadb prepends, cut to a readable length. */
function reason(message: string): string {
  const text = message.replace(/^Bad request to \S+ with status: /, '').trim() || 'no explanation given';
  const short = text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text;
  return /[.!?…]$/.test(short) ? short : `${short}.`;
}

/**
 * chromadb's catch-all for other statuses keeps the body's message, or `"<status>: <text>"` when the
 * body has none; an unknown status is treated as 500 (the class is only used for server failures).
 */
function serverStatus(message: string): number {
  const match = /^(\d{3}):/.exec(message);
  return match ? Number(match[1]) : 500;
}
