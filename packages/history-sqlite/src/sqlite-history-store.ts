import {
  InvalidInputError,
  MemError,
  defineHistoryStoreCapabilities,
  ProviderRequestError,
  throwIfAborted,
  type Call,
  type HistoryEvent,
  type HistoryEventKind,
  type HistoryStore,
  type HistoryStoreCapabilities,
  type IdempotencyRecord,
  type Scope,
  scopeKey,
  checkHistoryEvent,
  checkIdempotencyRecord,
  historyEpochMs,
  scopeFromKey,
} from '@mem/core/adapter';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import {
  SQLITE_PROVIDER,
  SqliteFileLock,
  openSqliteConnection,
  toSqliteError,
  validateConnectionOptions,
  validateTableName,
} from '@mem/sqlite';
import { DEFAULT_HISTORY_TABLE, DEFAULT_HISTORY_TABLE_EXAMPLE, type SqliteHistoryStoreOptions } from './sqlite-history-store-options';

interface RecordRow {
  readonly scope_key: string;
  readonly key: string;
  readonly request_hash: string;
  readonly result: string;
  readonly created_at: number;
  readonly expires_at: number;
}

interface EventRow {
  readonly id: string;
  readonly memory_id: string;
  readonly kind: string;
  readonly previous_text: string | null;
  readonly text: string | null;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
  readonly valid_at: number;
  readonly created_at: number;
  readonly actor: string;
}

/**
 * A {@link HistoryStore} in one SQLite file: the change log of every memory, in append order.
 * It can share the file (or the connection) of `@mem/vector-sqlite`.
 *
 * Each `append` is one transaction, so a batch is stored whole or not at all, and WAL keeps every
 * committed batch when the process dies. Order is an autoincrement sequence, not a timestamp, so
 * events written in the same millisecond keep their append order. Events appended as `pending`
 * (mem's write-ahead log) carry a flag until `settle` commits or deletes them; tables created
 * before the flag existed get the column on first use. Idempotency records of `add` live in a second
 * table, `<table>_idempotency`, keyed by exact scope and key, created on first use too.
 *
 * @example
 * import { SqliteHistoryStore } from '@mem/history-sqlite';
 * const history = new SqliteHistoryStore({ path: 'mem.db' });
 * const events = await history.list({ memoryId });
 * await history.close();
 */
export class SqliteHistoryStore implements HistoryStore {
  /** `'sqlite'`. */
  readonly provider = SQLITE_PROVIDER;
  /** Name of the table holding the events. */
  readonly table: string;
  /** `writeLocks: 'database'` for a file (every process on it), `'process'` for `':memory:'`; keeps idempotency records. */
  readonly capabilities: HistoryStoreCapabilities;
  private readonly fileLock: SqliteFileLock | undefined;

  private readonly database: Database.Database;
  /** Closes the connection when this store opened it and no other store of the process shares it (see openSqliteConnection). */
  private readonly releaseConnection: () => void;
  private readonly sql: ReturnType<typeof buildStatements>;
  private statements:
    | {
        insert: Database.Statement;
        list: Database.Statement;
        listPending: Database.Statement;
        commit: Database.Statement;
        discard: Database.Statement;
        reset: Database.Statement;
        getRecord: Database.Statement;
        putRecord: Database.Statement;
        purgeRecords: Database.Statement;
        resetRecords: Database.Statement;
      }
    | undefined;
  private closed = false;

  /**
   * Opens (or adopts) the connection. The table is created on first use.
   * @throws {InvalidInputError} for invalid options (both `path` and `database`, a bad table name, …).
   * @throws {ProviderRequestError} when the file cannot be opened.
   */
  constructor(options: SqliteHistoryStoreOptions = {}) {
    validateConnectionOptions(options);
    this.table = validateTableName(options.table ?? DEFAULT_HISTORY_TABLE, 'options.table', DEFAULT_HISTORY_TABLE_EXAMPLE);
    this.sql = buildStatements(this.table);
    const connection = openSqliteConnection(options);
    this.database = connection.database;
    this.releaseConnection = connection.release;
    // A file on disk can be opened by other processes: their writes are kept apart by a lock on a
    // companion file. A private in-memory database has no other process.
    this.fileLock = this.database.memory ? undefined : SqliteFileLock.for(resolve(this.database.name));
    this.capabilities = defineHistoryStoreCapabilities({ writeLocks: this.fileLock ? 'database' : 'process', idempotencyRecords: true });
  }

  /**
   * Runs `work` holding the write lock of the database file (`<file>.lock`, an open `BEGIN
   * IMMEDIATE`), so `Memory` processes sharing the file never interleave their writes; the operating
   * system releases it when a process dies. A private in-memory database just runs `work`.
   * @throws {MemError} with code `CONFLICT` when another process held the lock for more than 30 s (`work` did not run).
   */
  async lock<T>(request: Call<{ readonly keys: readonly string[] }>, work: () => Promise<T>): Promise<T> {
    throwIfAborted(request.signal, 'sqlite history lock');
    return this.fileLock ? this.fileLock.run(work, request.signal) : work();
  }

  /**
   * Appends events in one transaction: all or none. With `pending: true` they are stored but not
   * listed by {@link list} until {@link settle} commits them (mem's write-ahead log).
   * @throws {MemError} with code `CONFLICT` when an event id is already stored or appears twice in the batch (nothing is stored).
   * @throws {InvalidInputError} when an event is malformed (nothing is stored).
   */
  async append(request: Call<{ readonly events: readonly HistoryEvent[]; readonly pending?: boolean }>): Promise<void> {
    this.execute('append', request.signal, (statements) => {
      if (!Array.isArray(request.events)) {
        throw new InvalidInputError('events', 'expected an array of history events', 'Pass { events: [event] }.');
      }
      if (request.pending !== undefined && typeof request.pending !== 'boolean') {
        throw new InvalidInputError('pending', 'expected a boolean', 'Pass pending: true to append events the caller will settle.');
      }
      const pending = request.pending === true ? 1 : 0;
      const rows = request.events.map((event, index) => ({ ...toRow(event, index), pending }));
      const seen = new Set<string>();
      for (const row of rows) {
        if (seen.has(row.id)) throw conflict(row.id, 'appears twice in the batch');
        seen.add(row.id);
      }
      if (rows.length === 0) return;
      this.database
        .transaction(() => {
          for (const row of rows) {
            try {
              statements.insert.run(row);
            } catch (error) {
              // Thrown inside the transaction, so the rows inserted before it roll back.
              if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict(row.id, 'is already stored');
              throw error;
            }
          }
        })
        .immediate();
    });
  }

  /** The committed events of one memory, oldest first (append order); pending events are left out. */
  async list(request: Call<{ readonly memoryId: string }>): Promise<HistoryEvent[]> {
    return this.execute('list', request.signal, (statements) => {
      if (typeof request.memoryId !== 'string') {
        throw new InvalidInputError('memoryId', 'expected a string', 'Pass the id of a memory.');
      }
      return (statements.list.all(request.memoryId) as EventRow[]).map(toEvent);
    });
  }

  /** Pending events of every memory, oldest first (append order), at most `limit`. */
  async listPending(request: Call<{ readonly limit: number }>): Promise<HistoryEvent[]> {
    return this.execute('listPending', request.signal, (statements) => {
      if (typeof request.limit !== 'number' || !Number.isInteger(request.limit) || request.limit < 1) {
        throw new InvalidInputError('limit', 'expected a positive integer', 'Pass e.g. limit: 500.');
      }
      return (statements.listPending.all(request.limit) as EventRow[]).map(toEvent);
    });
  }

  /**
   * Commits (`commit`) or deletes (`discard`) pending events, and stores `idempotencyRecord`, in one
   * transaction. Ids that are not pending are ignored, so a committed event is never deleted.
   */
  async settle(
    request: Call<{
      readonly commit?: readonly string[];
      readonly discard?: readonly string[];
      readonly idempotencyRecord?: IdempotencyRecord;
    }>,
  ): Promise<void> {
    this.execute('settle', request.signal, (statements) => {
      const ids = (field: 'commit' | 'discard'): readonly string[] => {
        const value = request[field];
        if (value === undefined) return [];
        if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
          throw new InvalidInputError(field, 'expected an array of event ids', `Pass ${field}: [eventId].`);
        }
        return value;
      };
      const commit = ids('commit');
      const discard = ids('discard');
      const record = request.idempotencyRecord === undefined ? undefined : toRecordRow(request.idempotencyRecord);
      if (commit.length === 0 && discard.length === 0 && !record) return;
      this.database
        .transaction(() => {
          for (const id of commit) statements.commit.run(id);
          for (const id of discard) statements.discard.run(id);
          if (record) statements.putRecord.run(record);
        })
        .immediate();
    });
  }

  /** The idempotency record of exactly this scope and key, or `null` when there is none or it has expired at `now`. */
  async getIdempotencyRecord(
    request: Call<{ readonly scope: Scope; readonly key: string; readonly now: Date }>,
  ): Promise<IdempotencyRecord | null> {
    return this.execute('getIdempotencyRecord', request.signal, (statements) => {
      if (typeof request.key !== 'string') throw new InvalidInputError('key', 'expected a string', 'Pass the idempotency key.');
      const row = statements.getRecord.get(scopeKey(request.scope), request.key, historyEpochMs(request.now, 'now')) as
        | RecordRow
        | undefined;
      return row ? toRecord(row) : null;
    });
  }

  /** Stores an idempotency record, replacing the record of the same exact scope and key, in one transaction. */
  async putIdempotencyRecord(request: Call<{ readonly record: IdempotencyRecord }>): Promise<void> {
    this.execute('putIdempotencyRecord', request.signal, (statements) => {
      statements.putRecord.run(toRecordRow(request.record));
    });
  }

  /** Deletes the idempotency records of every scope whose `expiresAt` is at or before `before`. */
  async purgeIdempotencyRecords(request: Call<{ readonly before: Date }>): Promise<{ readonly purged: number }> {
    return this.execute('purgeIdempotencyRecords', request.signal, (statements) => ({
      purged: statements.purgeRecords.run(historyEpochMs(request.before, 'before')).changes,
    }));
  }

  /** Deletes every event and every idempotency record. */
  async reset(request?: Call<object>): Promise<void> {
    this.execute('reset', request?.signal, (statements) => {
      this.database
        .transaction(() => {
          statements.reset.run();
          statements.resetRecords.run();
        })
        .immediate();
    });
  }

  /**
   * Closes the connection if the store opened it and no other store of this process still shares it
   * (a connection passed as `database` stays open). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements = undefined;
    try {
      this.releaseConnection();
    } catch (error) {
      throw toSqliteError(error, 'close');
    }
  }

  /** Drops the table (and its idempotency records' table), e.g. to dispose of a test collection; the next call recreates them empty. */
  async dropTable(request?: Call<object>): Promise<void> {
    this.execute('dropTable', request?.signal, () => {
      this.database.exec(this.sql.drop);
      this.statements = undefined;
    });
  }

  private execute<T>(
    operation: string,
    signal: AbortSignal | undefined,
    work: (statements: NonNullable<SqliteHistoryStore['statements']>) => T,
  ): T {
    throwIfAborted(signal, `sqlite history ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: SQLITE_PROVIDER,
        operation,
        message: 'the store is closed. Create a new SqliteHistoryStore.',
        retryable: false,
      });
    }
    try {
      return work(this.prepare());
    } catch (error) {
      throw toSqliteError(error, operation);
    }
  }

  private prepare(): NonNullable<SqliteHistoryStore['statements']> {
    if (!this.statements) {
      this.database.exec(this.sql.schema);
      // Tables made before the write-ahead log lack the pending column: add it (once, under the write lock).
      this.database
        .transaction(() => {
          const columns = this.database.prepare(this.sql.columns).all() as { name: string }[];
          if (!columns.some((column) => column.name === 'pending')) this.database.exec(this.sql.addPending);
        })
        .immediate();
      this.database.exec(this.sql.pendingIndex);
      this.statements = {
        insert: this.database.prepare(this.sql.insert),
        list: this.database.prepare(this.sql.list),
        listPending: this.database.prepare(this.sql.listPending),
        commit: this.database.prepare(this.sql.commit),
        discard: this.database.prepare(this.sql.discard),
        reset: this.database.prepare(this.sql.reset),
        getRecord: this.database.prepare(this.sql.getRecord),
        putRecord: this.database.prepare(this.sql.putRecord),
        purgeRecords: this.database.prepare(this.sql.purgeRecords),
        resetRecords: this.database.prepare(this.sql.resetRecords),
      };
    }
    return this.statements;
  }
}

function buildStatements(table: string) {
  const t = `"${table}"`;
  // The idempotency records of add: scope_key is core's scopeKey (the exact scope, unset ids as null).
  const r = `"${table}_idempotency"`;
  return {
    // AUTOINCREMENT: seq never goes backwards, even after the newest events are deleted.
    schema: `
      CREATE TABLE IF NOT EXISTS ${t} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        memory_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        previous_text TEXT,
        text TEXT,
        user_id TEXT,
        agent_id TEXT,
        run_id TEXT,
        valid_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        pending INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS "${table}_memory_id" ON ${t} (memory_id, seq);
      CREATE TABLE IF NOT EXISTS ${r} (
        scope_key TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope_key, key)
      );
      CREATE INDEX IF NOT EXISTS "${table}_idempotency_expires_at" ON ${r} (expires_at);
    `,
    columns: `SELECT name FROM pragma_table_info('${table}')`,
    addPending: `ALTER TABLE ${t} ADD COLUMN pending INTEGER NOT NULL DEFAULT 0`,
    // Pending events are few (only changes in flight or cut by a crash): a partial index finds them.
    pendingIndex: `CREATE INDEX IF NOT EXISTS "${table}_pending" ON ${t} (seq) WHERE pending = 1`,
    drop: `DROP TABLE IF EXISTS ${t}; DROP TABLE IF EXISTS ${r}`,
    getRecord: `SELECT scope_key, key, request_hash, result, created_at, expires_at FROM ${r} WHERE scope_key = ? AND key = ? AND expires_at > ?`,
    putRecord: `
      INSERT OR REPLACE INTO ${r} (scope_key, key, request_hash, result, created_at, expires_at)
      VALUES (@scope_key, @key, @request_hash, @result, @created_at, @expires_at)`,
    purgeRecords: `DELETE FROM ${r} WHERE expires_at <= ?`,
    resetRecords: `DELETE FROM ${r}`,
    insert: `
      INSERT INTO ${t} (id, memory_id, kind, previous_text, text, user_id, agent_id, run_id, valid_at, created_at, actor, pending)
      VALUES (@id, @memory_id, @kind, @previous_text, @text, @user_id, @agent_id, @run_id, @valid_at, @created_at, @actor, @pending)`,
    list: `SELECT id, memory_id, kind, previous_text, text, user_id, agent_id, run_id, valid_at, created_at, actor FROM ${t} WHERE memory_id = ? AND pending = 0 ORDER BY seq`,
    listPending: `SELECT id, memory_id, kind, previous_text, text, user_id, agent_id, run_id, valid_at, created_at, actor FROM ${t} WHERE pending = 1 ORDER BY seq LIMIT ?`,
    commit: `UPDATE ${t} SET pending = 0 WHERE id = ? AND pending = 1`,
    discard: `DELETE FROM ${t} WHERE id = ? AND pending = 1`,
    reset: `DELETE FROM ${t}`,
  };
}

function conflict(id: string, problem: string): MemError {
  return new MemError(
    'CONFLICT',
    `History event id "${id}" ${problem}; no event of the batch was stored. Give every event a fresh id (UUID v7).`,
  );
}

function toRow(event: HistoryEvent, index: number): EventRow {
  const checked = checkHistoryEvent(event, `events[${index}]`);
  return {
    id: event.id,
    memory_id: event.memoryId,
    kind: event.kind,
    previous_text: event.previousText,
    text: event.text,
    user_id: checked.userId,
    agent_id: checked.agentId,
    run_id: checked.runId,
    valid_at: checked.validAt,
    created_at: checked.createdAt,
    actor: event.actor,
  };
}

function toRecordRow(record: IdempotencyRecord): RecordRow {
  const { createdAt, expiresAt } = checkIdempotencyRecord(record);
  return {
    scope_key: scopeKey(record.scope),
    key: record.key,
    request_hash: record.requestHash,
    result: record.result,
    created_at: createdAt,
    expires_at: expiresAt,
  };
}

function toRecord(row: RecordRow): IdempotencyRecord {
  return {
    scope: scopeFromKey(row.scope_key),
    key: row.key,
    requestHash: row.request_hash,
    result: row.result,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
}

function toEvent(row: EventRow): HistoryEvent {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  return {
    id: row.id,
    memoryId: row.memory_id,
    kind: row.kind as HistoryEventKind,
    previousText: row.previous_text,
    text: row.text,
    scope,
    validAt: new Date(row.valid_at),
    createdAt: new Date(row.created_at),
    actor: row.actor as HistoryEvent['actor'],
  };
}
