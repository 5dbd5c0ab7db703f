import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidInputError } from '@mem/core/adapter';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { toSqliteError } from './sqlite-errors';

/**
 * How a SQLite store gets its connection. Give `path` (the store opens and owns the connection) or
 * `database` (an open better-sqlite3 connection you own, shared by several stores), not both.
 */
export interface SqliteConnectionOptions {
  /**
   * Database file to open (created if missing), or `':memory:'` for a private in-memory database.
   * Several stores may open the same file: WAL mode lets them read while one writes. The stores of
   * one process that open the same file with the same settings share one connection.
   * @default 'mem.db' (in the working directory)
   */
  readonly path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`. The store leaves its pragmas
   * (journal mode, busy timeout, synchronous) as you set them, and its `close()` does not close it.
   */
  readonly database?: Database.Database;
  /** How long a write waits for another connection's lock before failing, in milliseconds (connections the store opens). @default 5000 */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` level for connections the store opens. With WAL, `NORMAL` never loses a
   * committed write when the process dies; `FULL` also survives power loss, at a cost per commit.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /**
   * How many bytes of the file SQLite reads through memory-mapped I/O (`PRAGMA mmap_size`) on
   * connections the store opens; 0 turns it off. A scoped search reads every row of its scope, and
   * mapped pages are read in place instead of being copied in by a system call each. Mapped pages
   * are clean file pages: they count in the process's resident memory while in use, and the kernel
   * reclaims them under pressure. Ignored for `':memory:'`.
   * @default 1073741824 (1 GiB)
   */
  readonly mmapSizeBytes?: number;
  /**
   * Opens the file read-only (it must exist): every write through the connection fails. For a
   * reader beside the process that writes, e.g. the REST server's search workers; WAL lets it read
   * while the writer commits, and each statement sees every transaction committed before it began.
   * Not with `':memory:'` or `database`. @default false
   */
  readonly readOnly?: boolean;
}

/** Default of {@link SqliteConnectionOptions.path}. */
export const DEFAULT_SQLITE_PATH = 'mem.db';
/** Default of {@link SqliteConnectionOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** Default of {@link SqliteConnectionOptions.mmapSizeBytes}: 1 GiB. */
export const DEFAULT_MMAP_SIZE_BYTES = 1_073_741_824;

/** A connection and whether the store opened it (and so must release it when it closes). */
export interface SqliteConnection {
  readonly database: Database.Database;
  /** The store opened the connection, or joined one another store of this process opened on the same file. */
  readonly owned: boolean;
  /**
   * The store is done with the connection: an owned one is closed once every store sharing it has
   * released it; a connection passed as `database` stays open. Call it once.
   */
  release(): void;
}

/**
 * Connections opened by path in this process, by file and settings (see {@link sharingKey}), with
 * how many stores use each: the vector, history and graph stores of one file share one connection.
 */
const sharedConnections = new Map<string, { readonly database: Database.Database; users: number }>();

/**
 * The key under which a connection to `path` with these settings is shared, or `undefined` when it
 * is not shared: `':memory:'` and `''` are private databases of their own, and a read-only
 * connection is the REST server's reader beside its writer. Sharing one connection keeps SQLite's
 * page cache across the stores' calls: with a connection each, every write through one (a history
 * append) makes the others drop their whole page cache on their next statement, and an add then
 * reads its pages again (about a third of the add pipeline's time at 100,000 memories).
 */
function sharingKey(options: SqliteConnectionOptions, path: string): string | undefined {
  if (path === ':memory:' || path === '' || options.readOnly === true) return undefined;
  return [
    resolve(path),
    options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    options.synchronous ?? 'NORMAL',
    options.mmapSizeBytes ?? DEFAULT_MMAP_SIZE_BYTES,
  ].join('\u0000');
}

/**
 * Opens the connection a store works on, loading sqlite-vec when asked. A connection passed by the
 * caller is used as is (only sqlite-vec is loaded into it); one the store opens gets WAL (readers never wait for the writer, and a killed process loses no committed
 * transaction), a busy timeout, the chosen `synchronous` level, memory-mapped reads, and 8 KiB pages when the file is new.
 * Stores of this process that open the same file with the same settings share that connection
 * (see {@link sharingKey}); each calls `release()` when it closes.
 */
export function openSqliteConnection(
  options: SqliteConnectionOptions,
  extensions: { readonly sqliteVec?: boolean } = {},
): SqliteConnection {
  if (options.database) {
    try {
      if (extensions.sqliteVec) loadSqliteVec(options.database);
    } catch (error) {
      throw toSqliteError(error, 'open');
    }
    return { database: options.database, owned: false, release: () => undefined };
  }
  const path = options.path ?? DEFAULT_SQLITE_PATH;
  const key = sharingKey(options, path);
  const shared = key === undefined ? undefined : sharedConnections.get(key);
  if (key !== undefined && shared !== undefined && shared.database.open) {
    try {
      if (extensions.sqliteVec) loadSqliteVec(shared.database);
    } catch (error) {
      throw toSqliteError(error, 'open');
    }
    shared.users += 1;
    return { database: shared.database, owned: true, release: once(() => releaseShared(key, shared)) };
  }
  const database = openFile(options, path, extensions);
  if (key === undefined) return { database, owned: true, release: once(() => database.close()) };
  const entry = { database, users: 1 };
  sharedConnections.set(key, entry);
  return { database, owned: true, release: once(() => releaseShared(key, entry)) };
}

/** One store is done with a shared connection: the last one closes it. */
function releaseShared(key: string, entry: { readonly database: Database.Database; users: number }): void {
  entry.users -= 1;
  if (entry.users > 0) return;
  if (sharedConnections.get(key) === entry) sharedConnections.delete(key);
  if (entry.database.open) entry.database.close();
}

/** `release` runs at most once per store, so a store closed twice never closes another store's connection. */
function once(release: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    release();
  };
}

/** Opens `path` with the settings of {@link openSqliteConnection}. */
function openFile(options: SqliteConnectionOptions, path: string, extensions: { readonly sqliteVec?: boolean }): Database.Database {
  let database: Database.Database | undefined;
  // SQLite creates the file but not its folder; better-sqlite3 then throws a bare TypeError.
  if (path !== ':memory:' && path !== '' && !existsSync(dirname(resolve(path)))) {
    throw new InvalidInputError(
      'options.path',
      `the folder ${dirname(resolve(path))} does not exist`,
      'Create the folder first (SQLite creates the database file, not its folders), or give a path in an existing folder.',
    );
  }
  try {
    if (options.readOnly === true) {
      database = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, readonly: true, fileMustExist: true });
      // The writer chose the page size and journal mode; only the reads' own settings are ours.
      database.pragma(`mmap_size = ${options.mmapSizeBytes ?? DEFAULT_MMAP_SIZE_BYTES}`);
      if (extensions.sqliteVec) loadSqliteVec(database);
      return database;
    }
    database = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    // 8 KiB pages hold a 1536-dimension float32 vector (6 KiB) and its row in one page instead of
    // a chain of overflow pages. Only a new, empty file takes it; an existing one keeps its size.
    if (database.pragma('page_count', { simple: true }) === 0) database.pragma('page_size = 8192');
    if (!database.memory) database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    if (!database.memory) database.pragma(`mmap_size = ${options.mmapSizeBytes ?? DEFAULT_MMAP_SIZE_BYTES}`);
    if (extensions.sqliteVec) loadSqliteVec(database);
    return database;
  } catch (error) {
    database?.close();
    throw toSqliteError(error, 'open');
  }
}

/** Loads sqlite-vec into a connection unless it is loaded already (e.g. by another store sharing it). */
function loadSqliteVec(database: Database.Database): void {
  try {
    database.prepare('SELECT vec_version()').pluck().get();
  } catch {
    sqliteVec.load(database);
  }
}

/**
 * Prepared statements of one connection, keyed by SQL text, least recently used evicted first:
 * stores build some SQL per filter, so the cache is bounded.
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly database: Database.Database,
    private readonly size = 128,
  ) {}

  /** The prepared statement for `sql`, prepared on first use. */
  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql);
    } else {
      statement = this.database.prepare(sql);
      if (this.statements.size >= this.size) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  /** Forgets every statement, e.g. after the tables were dropped. */
  clear(): void {
    this.statements.clear();
  }
}

/** Table names and prefixes: a letter, then letters, digits or `_`; short enough to take suffixes. */
const TABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/**
 * Validates a table name (or prefix) so it can be spliced into SQL as a quoted identifier; values never are.
 * @param example - a valid name for the fix, e.g. `"memories"`
 * @throws {InvalidInputError} when the name does not match the pattern or is reserved by SQLite.
 */
export function validateTableName(table: unknown, field: string, example: string): string {
  if (typeof table !== 'string' || !TABLE_NAME_PATTERN.test(table) || table.toLowerCase().startsWith('sqlite_')) {
    throw new InvalidInputError(
      field,
      'a table name must be 1-40 characters: a letter, then letters, digits or "_", and must not start with "sqlite_"',
      `Pass a name such as ${example}.`,
    );
  }
  return table;
}

/** Checks the connection options every SQLite store takes. @throws {InvalidInputError} naming the option. */
export function validateConnectionOptions(options: {
  readonly path?: unknown;
  readonly database?: unknown;
  readonly busyTimeoutMs?: unknown;
  readonly synchronous?: unknown;
  readonly mmapSizeBytes?: unknown;
  readonly readOnly?: unknown;
}): void {
  if (options.path !== undefined && options.database !== undefined) {
    throw new InvalidInputError(
      'options',
      'both path and database are set',
      'Pass path to let the store open the file, or database to share your connection, not both.',
    );
  }
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path.length === 0)) {
    throw new InvalidInputError('options.path', 'expected a non-empty string', 'Pass a file path such as "mem.db", or ":memory:".');
  }
  if (options.database !== undefined) {
    const database = options.database as { open?: unknown; prepare?: unknown } | null;
    if (typeof database !== 'object' || database === null || typeof database.prepare !== 'function') {
      throw new InvalidInputError('options.database', 'expected a better-sqlite3 Database', 'Pass new Database(path) from better-sqlite3.');
    }
    if (database.open !== true) {
      throw new InvalidInputError('options.database', 'the connection is closed', 'Pass an open connection.');
    }
  }
  if (
    options.busyTimeoutMs !== undefined &&
    (typeof options.busyTimeoutMs !== 'number' || !Number.isInteger(options.busyTimeoutMs) || options.busyTimeoutMs < 0)
  ) {
    throw new InvalidInputError('options.busyTimeoutMs', 'expected a non-negative integer number of milliseconds', 'Pass e.g. 5000.');
  }
  if (
    options.mmapSizeBytes !== undefined &&
    (typeof options.mmapSizeBytes !== 'number' || !Number.isSafeInteger(options.mmapSizeBytes) || options.mmapSizeBytes < 0)
  ) {
    throw new InvalidInputError(
      'options.mmapSizeBytes',
      'expected a non-negative integer number of bytes',
      'Pass e.g. 1073741824 (1 GiB), or 0 to turn it off.',
    );
  }
  if (options.synchronous !== undefined && options.synchronous !== 'NORMAL' && options.synchronous !== 'FULL') {
    throw new InvalidInputError('options.synchronous', 'expected "NORMAL" or "FULL"', 'Leave it out for NORMAL.');
  }
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') {
    throw new InvalidInputError(
      'options.readOnly',
      'expected true or false',
      'Pass readOnly: true to open the file for reading only, or leave it out.',
    );
  }
  if (options.readOnly === true && (options.database !== undefined || options.path === ':memory:')) {
    throw new InvalidInputError(
      'options.readOnly',
      options.database !== undefined
        ? 'a connection passed as database is opened by you'
        : 'a private in-memory database has nothing to read',
      options.database !== undefined
        ? 'Open your connection with { readonly: true } instead, or pass path.'
        : 'Pass the path of an existing database file.',
    );
  }
}
