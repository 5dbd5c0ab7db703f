import { AbortedError, MemError, ProviderRequestError, ProviderResponseInvalidError } from '@mem/core/adapter';
import { PINECONE_PROVIDER } from './pinecone-record';

/**
 * The Pinecone index the store points at does not exist, and the store was not told to create it.
 * Code `NOT_FOUND`; the message says how to create it.
 */
export class PineconeIndexNotFoundError extends MemError {
  /** Name of the missing index. */
  readonly index: string;

  constructor(index: string, dimensions: number | undefined) {
    const shape = dimensions === undefined ? 'dense, metric cosine' : `dense, dimension ${dimensions}, metric cosine`;
    super(
      'NOT_FOUND',
      `The Pinecone index "${index}" does not exist in this project. Create it in the Pinecone console or with the SDK (serverless, ${shape}), ` +
        'or pass createIndex: { cloud: "aws", region: "us-east-1" } so ensureCollection creates it.',
    );
    this.index = index;
  }
}

/** What {@link toMemError} knows about the failed call. */
export interface PineconeFailureContext {
  /** The adapter operation, e.g. `upsert`; used in messages and `ProviderRequestError.operation`. */
  readonly operation: string;
  /** The caller's signal: when it fired, the failure is an {@link AbortedError}. */
  readonly signal?: AbortSignal;
  /**
   * HTTP status of the last response the call received, as seen by the adapter's `fetch` wrapper.
   * The SDK's errors do not carry it (a 5xx even surfaces as `PineconeMaxRetriesExceededError`).
   */
  readonly status?: number;
  /** Whether any response arrived; `false` means the request never reached Pinecone. */
  readonly responded: boolean;
}

/** The status each SDK HTTP error stands for, when no response status was observed. */
const STATUS_BY_ERROR_NAME: Readonly<Record<string, number>> = {
  PineconeBadRequestError: 400,
  PineconeAuthorizationError: 401,
  PineconeNotFoundError: 404,
  PineconeMethodNotAllowedError: 405,
  PineconeConflictError: 409,
  PineconeUnprocessableEntityError: 422,
  PineconeInternalServerError: 500,
  PineconeNotImplementedError: 501,
  PineconeUnavailableError: 503,
};

/**
 * Maps anything the Pinecone SDK (or `fetch` under it) throws to a mem error, so no raw SDK error
 * escapes the adapter. `retryable` is left to core's `isRetryableStatus`. Messages never quote the
 * server's text or the request (they may echo memory text or metadata); the SDK error is the `cause`.
 *
 * - the caller's `AbortSignal` fired → {@link AbortedError}
 * - an HTTP error answer (`PineconeBadRequestError`, …, `PineconeUnmappedHttpError`,
 *   `PineconeMaxRetriesExceededError` for a 5xx) → `ProviderRequestError` with the observed status
 * - no answer (`PineconeConnectionError`, a failed `fetch`) → `ProviderRequestError` without status (retryable)
 * - a client-side rejection before sending (`PineconeArgumentError`, `PineconeConfigurationError`)
 *   → `ProviderRequestError`, not retryable
 * - an answer the SDK could not use (`PineconeUnexpectedResponseError`,
 *   `PineconeUnableToResolveHostError`, a parse failure after a 2xx) → {@link ProviderResponseInvalidError}
 * - index readiness failures (`PineconeTimeoutError`, `PineconeIndexInitializationFailedError`,
 *   `PineconeIndexTerminatedError`) → `ProviderRequestError`, not retryable
 */
export function toMemError(error: unknown, context: PineconeFailureContext): MemError {
  const { operation } = context;
  if (MemError.is(error)) return error;
  if (context.signal?.aborted) return new AbortedError(`${PINECONE_PROVIDER} ${operation}`, { cause: context.signal.reason });
  const name = error instanceof Error ? error.name : '';
  const failed = (options: { status?: number; message: string; retryable?: boolean }) =>
    new ProviderRequestError({ provider: PINECONE_PROVIDER, operation, cause: error, ...options });

  switch (name) {
    case 'PineconeArgumentError':
    case 'PineconeConfigurationError':
    case 'PineconeEnvironmentVarsNotSupportedError':
      return failed({
        message: 'the Pinecone client rejected the request before sending it; this is a bug in @mem/vector-pinecone, please report it',
        retryable: false,
      });
    case 'PineconeUnexpectedResponseError':
    case 'PineconeUnableToResolveHostError':
      return new ProviderResponseInvalidError(
        PINECONE_PROVIDER,
        operation,
        'the answer lacked fields the Pinecone client needs (for example the index host)',
        { cause: error },
      );
    case 'PineconeTimeoutError':
    case 'PineconeIndexInitializationFailedError':
    case 'PineconeIndexTerminatedError':
      return failed({ message: 'the index did not become ready. Check its state in the Pinecone console', retryable: false });
    case 'PineconeConnectionError':
    case 'PineconeRequestError':
      if (!context.responded) {
        return failed({
          message:
            'could not reach Pinecone. Check the network, the host option (PINECONE_HOST) or controllerHostUrl, and https://status.pinecone.io',
        });
      }
      break;
    default:
      break;
  }
  const status = context.status ?? STATUS_BY_ERROR_NAME[name];
  if (status !== undefined && (status < 200 || status >= 300)) return failed({ status, message: describeStatus(status) });
  if (!context.responded && (name === '' || error instanceof TypeError)) {
    return failed({ message: 'could not reach Pinecone. Check the network and the host option (PINECONE_HOST)' });
  }
  if (context.responded) {
    return new ProviderResponseInvalidError(
      PINECONE_PROVIDER,
      operation,
      `the Pinecone client could not read the answer (${name || typeof error})`,
      { cause: error },
    );
  }
  return failed({ message: `the Pinecone client failed unexpectedly (${name || typeof error})`, retryable: false });
}

function describeStatus(status: number): string {
  switch (status) {
    case 400:
      return 'Pinecone rejected the request as invalid (see the cause for its message)';
    case 401:
      return 'Pinecone rejected the API key. Check the apiKey option or PINECONE_API_KEY';
    case 402:
      return 'the Pinecone project needs a paid plan or a payment method for this operation';
    case 403:
      return "the API key may not do this (or a project quota is reached). Check the key's permissions and the project limits in the Pinecone console";
    case 404:
      return 'Pinecone found no such index or namespace. Check the index option (PINECONE_INDEX) or host (PINECONE_HOST)';
    case 409:
      return 'Pinecone reported a conflict with a concurrent change';
    case 412:
      return 'the index has deletion protection enabled';
    case 422:
      return 'Pinecone could not process the request (see the cause for its message)';
    case 429:
      return "Pinecone is rate limiting this project. Slow down, or raise the project's limits";
    default:
      return status >= 500 ? 'Pinecone had a server error. See https://status.pinecone.io' : `Pinecone answered with HTTP ${status}`;
  }
}
