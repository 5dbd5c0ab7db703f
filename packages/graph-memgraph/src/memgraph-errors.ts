import { MemError, ProviderRequestError } from '@mem/core/adapter';
import { describeBoltServer, type CypherErrorContext } from '@mem/cypher';

/** Provider name used in errors and in `GraphStore.provider`. */
export const MEMGRAPH_PROVIDER = 'memgraph';

function codeOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.length > 0 ? code : 'unknown';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

/**
 * Tells whether a write failed because a concurrent transaction committed the same unique entity
 * key first. Memgraph (snapshot isolation) reports this at commit as a client error, so the
 * driver does not retry it; the store does, and then finds the entity.
 */
export function isUniqueConflict(error: unknown): boolean {
  return /unique constraint/i.test(messageOf(error));
}

/**
 * Turns a neo4j-driver failure from Memgraph into a {@link ProviderRequestError}; mem errors pass through.
 *
 * - `ServiceUnavailable` / `SessionExpired` (no connection) and `*.TransientError.*` (Memgraph's
 *   "cannot resolve conflicting transactions") carry no status, which core treats as retryable.
 * - Authentication failures get status 401 and say to check `MEMGRAPH_USERNAME` / `MEMGRAPH_PASSWORD`.
 * - Everything else is not retryable.
 *
 * Memgraph's codes are coarse (`Memgraph.ClientError.MemgraphError.MemgraphError`), and its
 * messages can quote property values, so a message names the code only; the original error is
 * kept as `cause`. The password never appears anywhere.
 */
export function toMemgraphError(error: unknown, operation: string, context: CypherErrorContext): MemError {
  if (MemError.is(error)) return error;
  const code = codeOf(error);
  const fail = (message: string, extra: { status?: number; retryable?: boolean } = {}) =>
    new ProviderRequestError({ provider: MEMGRAPH_PROVIDER, operation, message, cause: error, ...extra });

  if (code === 'ServiceUnavailable' || code === 'SessionExpired') {
    return fail(
      `could not reach Memgraph at ${context.server} (${code}). Check MEMGRAPH_URI (or options.uri) and that the server is running and reachable.`,
    );
  }
  if (code.includes('.Security.') || /authentication failure/i.test(messageOf(error))) {
    return fail(
      `Memgraph at ${context.server} rejected the credentials (${code}). Check MEMGRAPH_USERNAME and MEMGRAPH_PASSWORD (or options.username and options.password).`,
      { status: 401 },
    );
  }
  if (code.includes('TransientError')) {
    return fail(
      `Memgraph reported a conflicting concurrent transaction (${code}) and the driver's retries ran out. Retry, or raise maxTransactionRetryTimeMs.`,
    );
  }
  if (/vector_search|There is no procedure named/i.test(messageOf(error))) {
    return fail(
      `the server lacks vector search (${code}). @mem/graph-memgraph needs Memgraph 3.x with vector indexes (CREATE VECTOR INDEX, vector_search.search).`,
      { retryable: false },
    );
  }
  if (code === 'unknown') {
    return fail(
      `the driver failed (${error instanceof Error ? error.name : typeof error}). Check that the store is not closed and the server is reachable.`,
      { retryable: false },
    );
  }
  return fail(`Memgraph returned ${code}. Check the server log for the query that failed.`, { retryable: false });
}

/** Scheme, host and port of a Bolt URI, safe to name in errors (user info and query dropped). */
export function describeServer(uri: string): string {
  return describeBoltServer(uri, 'the configured MEMGRAPH_URI');
}
