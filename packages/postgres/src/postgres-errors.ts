import { MemError, ProviderRequestError } from '@mem/core/adapter';

/** Provider name used in errors and in every PostgreSQL store's `provider`. */
export const POSTGRES_PROVIDER = 'postgres';

/** SQLSTATE classes and codes after which the same call may succeed. */
const TRANSIENT_CLASSES = new Set(['08', '53', '57']); // connection exception, insufficient resources, operator intervention
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '57014']); // serialization failure, deadlock, lock not available, query cancelled

/** What to do about a SQLSTATE (by code, then by class); anything else gets a generic fix. */
const FIXES: Readonly<Record<string, string>> = {
  '28P01': 'The password was rejected. Check the user and password of the connection string.',
  '28000': 'The server refused this user. Check the user of the connection string and pg_hba.conf.',
  '3D000': 'The database does not exist. Create it, or fix the database name of the connection string.',
  '42501':
    'The user lacks a privilege the store needs (CREATE on the schema, or on the database for the vector extension). Grant it, or create the schema and extension as an administrator first.',
  '0A000': 'The server does not support a feature the store uses. mem needs PostgreSQL 13 or newer with pgvector 0.8.',
  '40001': 'Another transaction changed the same rows at the same time. Retry.',
  '40P01': 'The transaction was chosen as a deadlock victim. Retry.',
  '55P03': 'A lock was not available. Retry.',
  '57014': 'The statement was cancelled (statement_timeout, or by an administrator). Retry, or raise statement_timeout.',
  '23505': 'A row with the same key exists already.',
  '54000': 'A value is larger than PostgreSQL allows (e.g. a text over 1 GB or a vector over 16,000 dimensions).',
  '22021': 'A string is not valid in the database encoding. mem needs a UTF8 database.',
  '08': 'The connection to PostgreSQL failed or was lost. Check that the server is up and reachable; the call may be retried.',
  '53': 'The server is out of resources (connections, memory or disk). Lower maxConnections, or free resources on the server.',
  '57': 'The server is shutting down or restarting. Retry once it is back.',
  '42': 'The server rejected a statement of the store (a table changed by hand, or an older schema). Let the store migrate it, or use another table.',
};

/** Node socket errors: no answer at all, worth retrying. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** SQLSTATE of a node-postgres error, when it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Turns a node-postgres failure into a {@link ProviderRequestError}; mem errors pass through.
 * The message names the SQLSTATE and a fix, never the server's own message, SQL text or bound
 * values (a server message can quote a value, e.g. the text of a row); the original error stays
 * as `cause`. Connection failures, deadlocks, serialization failures and server restarts are retryable.
 */
export function toPostgresError(error: unknown, operation: string): MemError {
  if (MemError.is(error)) return error;
  const state = sqlState(error);
  if (state !== undefined) {
    const fix =
      FIXES[state] ?? FIXES[state.slice(0, 2)] ?? 'See https://www.postgresql.org/docs/current/errcodes-appendix.html for this code.';
    return new ProviderRequestError({
      provider: POSTGRES_PROVIDER,
      operation,
      message: `PostgreSQL returned SQLSTATE ${state}. ${fix}`,
      cause: error,
      // No HTTP status exists here: a missing status counts as a connection failure (retryable).
      ...(TRANSIENT_CLASSES.has(state.slice(0, 2)) || TRANSIENT_CODES.has(state) ? {} : { retryable: false }),
    });
  }
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new ProviderRequestError({
      provider: POSTGRES_PROVIDER,
      operation,
      message: `could not reach PostgreSQL (${code}). Check that the server is up and the host and port of the connection string.`,
      cause: error,
    });
  }
  const text = error instanceof Error ? error.message : '';
  // node-postgres reports a dropped or ended connection without a code.
  if (/Connection terminated|connection timeout|Client has encountered a connection error/i.test(text)) {
    return new ProviderRequestError({
      provider: POSTGRES_PROVIDER,
      operation,
      message: 'the connection to PostgreSQL was lost. The call may be retried.',
      cause: error,
    });
  }
  return new ProviderRequestError({
    provider: POSTGRES_PROVIDER,
    operation,
    message: `the PostgreSQL driver failed (${error instanceof Error ? error.name : typeof error}). Check that the store is open and the server is usable.`,
    cause: error,
    retryable: false,
  });
}
