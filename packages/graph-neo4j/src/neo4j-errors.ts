import { MemError, ProviderRequestError } from '@mem/core/adapter';
import { describeBoltServer, type CypherErrorContext } from '@mem/cypher';

/** Provider name used in errors and in `GraphStore.provider`. */
export const NEO4J_PROVIDER = 'neo4j';

/** The parts of a neo4j-driver `Neo4jError` this module reads. */
interface DriverError {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly gqlStatus?: unknown;
}

/**
 * Turns a neo4j-driver failure into a {@link ProviderRequestError}; mem errors pass through.
 *
 * - `ServiceUnavailable` / `SessionExpired` (no connection) and `Neo.TransientError.*` (deadlock,
 *   lock timeout, leader switch) carry no status, which core treats as retryable.
 * - Authentication failures get status 401 and say to check `NEO4J_USERNAME` / `NEO4J_PASSWORD`.
 * - Everything else is not retryable.
 *
 * Messages name the Neo4j status code only: the server's own message can quote property values
 * (user data) and is kept only on `cause`; the password never appears anywhere.
 */
export function toNeo4jError(error: unknown, operation: string, context: CypherErrorContext): MemError {
  if (MemError.is(error)) return error;
  const { code, gqlStatus } = readDriverError(error);
  const status = gqlStatus === undefined ? code : `${code}, GQL status ${gqlStatus}`;
  const fail = (message: string, extra: { status?: number; retryable?: boolean } = {}) =>
    new ProviderRequestError({ provider: NEO4J_PROVIDER, operation, message, cause: error, ...extra });

  if (code === 'ServiceUnavailable' || code === 'SessionExpired') {
    return fail(
      `could not reach Neo4j at ${context.server} (${code}). Check NEO4J_URI (or options.uri) and that the server is running and reachable.`,
    );
  }
  if (
    code === 'Neo.ClientError.Security.Unauthorized' ||
    code === 'Neo.ClientError.Security.AuthenticationRateLimit' ||
    code === 'Neo.ClientError.Security.TokenExpired'
  ) {
    const wait = code.endsWith('AuthenticationRateLimit') ? ' Too many failed attempts: wait before retrying.' : '';
    return fail(
      `Neo4j at ${context.server} rejected the credentials (${code}). Check NEO4J_USERNAME and NEO4J_PASSWORD (or options.username and options.password).${wait}`,
      { status: 401 },
    );
  }
  if (code === 'Neo.ClientError.Security.Forbidden') {
    return fail(
      `the Neo4j user may not run this operation (${code}). Grant it read and write access to the database, and the right to create indexes and constraints for ensureSchema.`,
      { status: 403 },
    );
  }
  if (code === 'Neo.ClientError.Database.DatabaseNotFound') {
    return fail(
      `database ${JSON.stringify(context.database ?? '(default)')} does not exist on ${context.server} (${code}). Check NEO4J_DATABASE (or options.database), or create the database.`,
      { retryable: false },
    );
  }
  if (code === 'Neo.ClientError.Procedure.ProcedureNotFound') {
    return fail(
      `the server lacks a vector procedure or function (${status}). @mem/graph-neo4j needs Neo4j 5.18 or later (db.index.vector.queryNodes, vector.similarity.cosine).`,
      { retryable: false },
    );
  }
  if (code.includes('TransientError') || code === 'Neo.ClientError.Security.AuthorizationExpired') {
    return fail(
      `Neo4j reported a transient failure (${status}) and the driver's retries ran out. Retry, or raise maxTransactionRetryTimeMs.`,
    );
  }
  if (
    code === 'Neo.ClientError.Transaction.TransactionTimedOut' ||
    code === 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration'
  ) {
    return fail(
      `the transaction ran past the server's time limit (${status}). Raise db.transaction.timeout on the server, or write smaller batches.`,
      { retryable: false },
    );
  }
  if (code === 'unknown') {
    return fail(
      `the Neo4j driver failed (${error instanceof Error ? error.name : typeof error}). Check that the store is not closed and the server is reachable.`,
      { retryable: false },
    );
  }
  return fail(`Neo4j returned ${status}. See the Neo4j status codes reference for this code.`, { retryable: false });
}

function readDriverError(error: unknown): { code: string; gqlStatus: string | undefined } {
  if (typeof error !== 'object' || error === null) return { code: 'unknown', gqlStatus: undefined };
  const { code, gqlStatus } = error as DriverError;
  return {
    code: typeof code === 'string' && code.length > 0 ? code : 'unknown',
    gqlStatus: typeof gqlStatus === 'string' && gqlStatus.length > 0 ? gqlStatus : undefined,
  };
}

/** Scheme, host and port of a Bolt URI, safe to name in errors (user info and query dropped). */
export function describeServer(uri: string): string {
  return describeBoltServer(uri, 'the configured NEO4J_URI');
}
