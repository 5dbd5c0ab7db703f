import { MemError, ProviderRequestError } from '@mem/core/adapter';

/** Provider name used in errors and in every SQLite store's `provider`. */
export const SQLITE_PROVIDER = 'sqlite';

/** What to do about each SQLite primary result code; anything else gets a generic fix. */
const FIXES: Readonly<Record<string, string>> = {
  SQLITE_BUSY: 'Another connection held the write lock past the busy timeout. Retry, or raise busyTimeoutMs.',
  SQLITE_LOCKED: 'The table is locked by another statement on the same connection. Retry once it finishes.',
  SQLITE_FULL: 'The disk is full. Free space, then retry.',
  SQLITE_IOERR: 'The operating system reported an I/O error. Check the disk and file permissions.',
  SQLITE_READONLY: 'The database is read-only. Check the file permissions, or open another path.',
  SQLITE_CANTOPEN: 'The database file could not be opened. Check that the directory exists and is writable.',
  SQLITE_CORRUPT: 'The database file is damaged. Restore it from a backup.',
  SQLITE_NOTADB: 'The file is not an SQLite database. Pass another path.',
  SQLITE_PERM: 'Access was denied. Check the file permissions.',
};

/** Result codes after which the same call may succeed. */
const TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/**
 * Turns a better-sqlite3 failure into a {@link ProviderRequestError}; mem errors pass through.
 * The message names the SQLite result code only: SQL text and bound values stay out of it (the
 * original error is kept as `cause`).
 */
export function toSqliteError(error: unknown, operation: string): MemError {
  if (MemError.is(error)) return error;
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : undefined;
  if (code?.startsWith('SQLITE_')) {
    const primary = code.split('_').slice(0, 2).join('_');
    return new ProviderRequestError({
      provider: SQLITE_PROVIDER,
      operation,
      message: `SQLite returned ${code}. ${FIXES[primary] ?? 'See https://www.sqlite.org/rescode.html for this code.'}`,
      cause: error,
      // No HTTP status exists here: core's rule treats a missing status as a connection failure
      // (retryable), which fits busy/locked; every other result code repeats on retry.
      ...(TRANSIENT.has(primary) ? {} : { retryable: false }),
    });
  }
  return new ProviderRequestError({
    provider: SQLITE_PROVIDER,
    operation,
    message: `the SQLite driver failed (${error instanceof Error ? error.name : typeof error}). Check that the store is open and the database file is usable.`,
    cause: error,
    retryable: false,
  });
}
