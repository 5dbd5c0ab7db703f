import {
  type Call,
  type HistoryEvent,
  type HistoryEventKind,
  type HistoryStore,
  type IdempotencyRecord,
  InvalidInputError,
  MemError,
  defineHistoryStoreCapabilities,
  ProviderRequestError,
  type Scope,
  scopeKey,
  throwIfAborted,
  checkHistoryEvent,
  checkIdempotencyRecord,
  scopeFromKey,
} from '@mem/core/adapter';
import {
  DEFAULT_POSTGRES_SCHEMA,
  POSTGRES_PROVIDER,
  type LockLostError,
  PostgresAdvisoryLocks,
  type PostgresMigration,
  checkStorableText,
  dropComponent,
  epochMs,
  isStorableText,
  migrate,
  openPostgresPool,
  qualifiedName,
  sqlState,
  toPostgresError,
  validateConnectionOptions,
  validateIdentifier,
  writeStatement,
} from '@mem/postgres';
import type pg from 'pg';
import { DEFAULT_HISTORY_TABLE, type PostgresHistoryStoreOptions } from './postgres-history-store-options';

const UNIQUE_VIOLATION = '23505';

const EVENT_COLUMNS = 'id, memory_id, kind, previous_text, text, user_id, agent_id, run_id, valid_at, created_at, actor';

interface RecordRow {
  readonly scope_key: string;
  readonly key: string;
  readonly request_hash: string;
  readonly result: string;
  readonly created_at: string | number;
  readonly expires_at: string | number;
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
  readonly valid_at: string | number;
  readonly created_at: string | number;
  readonly actor: string;
}

/**
 * A {@link HistoryStore} in PostgreSQL: the change log of every memory, in append order, shared by
 * every process that uses the database. It can share the database (and the pool) of
 * `@mem/vector-postgres`.
 *
 * Each `append` is one statement, so a batch is stored whole or not at all; order is a
 * `bigint` identity sequence, not a timestamp, so events written in the same millisecond keep
 * their append order. Events appended as `pending` (mem's write-ahead log) carry a flag until
 * `settle` commits or deletes them, in one statement per call. Idempotency records of `add` live
 * in a second table, `<table>_idempotency`, keyed by exact scope and key (layout version 2). The
 * tables are created (and later migrated) on first use, under an advisory lock, so several
 * processes may start at once.
 *
 * @example
 * import { PostgresHistoryStore } from '@mem/history-postgres';
 * const history = new PostgresHistoryStore({ connectionString: process.env.DATABASE_URL });
 * const events = await history.list({ memoryId });
 * await history.close();
 */
export class PostgresHistoryStore implements HistoryStore {
  /** `'postgres'`. */
  readonly provider = POSTGRES_PROVIDER;
  /** Name of the table holding the events. */
  readonly table: string;
  /** Schema holding the table. */
  readonly schema: string;
  /** Locks reach every process using the database (PostgreSQL advisory locks); keeps idempotency records. */
  readonly capabilities = defineHistoryStoreCapabilities({ writeLocks: 'database', idempotencyRecords: true });
  private readonly locks: PostgresAdvisoryLocks;

  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly qualified: string;
  /** The table of idempotency records. */
  private readonly records: string;
  private readonly component: string;
  private ready: Promise<void> | undefined;
  private closed = false;

  /**
   * Opens a pool (or adopts yours). The table is created on first use.
   * @throws {InvalidInputError} for invalid options (both `connectionString` and `pool`, a bad table name, …).
   * @throws {MissingSettingError} when neither `connectionString`, `pool` nor `DATABASE_URL` is given.
   */
  constructor(options: PostgresHistoryStoreOptions = {}) {
    validateConnectionOptions(options);
    this.schema = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
    this.table = validateIdentifier(options.table ?? DEFAULT_HISTORY_TABLE, 'options.table', '"memory_history"');
    this.qualified = qualifiedName(this.schema, this.table);
    this.records = qualifiedName(this.schema, `${this.table}_idempotency`);
    this.component = `history:${this.table}`;
    const connection = openPostgresPool(options);
    this.pool = connection.pool;
    this.ownsPool = connection.owned;
    this.locks = new PostgresAdvisoryLocks(this.pool, `${this.schema}.${this.table}`);
  }

  /**
   * Runs `work` holding `keys` in every process on the database: session-level advisory locks (one
   * pooled connection held meanwhile), released when `work` settles or the holder's connection dies.
   * Inside `work`, `append`, `settle` and `putIdempotencyRecord` run on that connection, so they
   * commit only while the keys are held: if the connection ends meanwhile (and another process may
   * take the keys), they fail with {@link LockLostError} instead of racing it. A `lock` inside
   * `work` takes its keys on the same connection.
   * @throws {MemError} with code `CONFLICT` when a key stays taken for more than 30 s (`work` did not run).
   */
  async lock<T>(request: Call<{ readonly keys: readonly string[] }>, work: () => Promise<T>): Promise<T> {
    throwIfAborted(request.signal, 'postgres history lock');
    if (this.closed) {
      throw new ProviderRequestError({
        provider: POSTGRES_PROVIDER,
        operation: 'lock',
        message: 'the store is closed. Create a new PostgresHistoryStore.',
        retryable: false,
      });
    }
    return this.locks.run(request.keys, work, request.signal);
  }

  /**
   * Appends events in one statement: all or none. With `pending: true` they are stored but not
   * listed by {@link list} until {@link settle} commits them (mem's write-ahead log).
   * @throws {MemError} with code `CONFLICT` when an event id is already stored or appears twice in the batch (nothing is stored).
   * @throws {InvalidInputError} when an event is malformed, or holds text PostgreSQL cannot store (U+0000) (nothing is stored).
   */
  async append(request: Call<{ readonly events: readonly HistoryEvent[]; readonly pending?: boolean }>): Promise<void> {
    await this.execute('append', request.signal, async () => {
      if (!Array.isArray(request.events)) {
        throw new InvalidInputError('events', 'expected an array of history events', 'Pass { events: [event] }.');
      }
      if (request.pending !== undefined && typeof request.pending !== 'boolean') {
        throw new InvalidInputError('pending', 'expected a boolean', 'Pass pending: true to append events the caller will settle.');
      }
      const rows = request.events.map((event, index) => toRow(event, index));
      const seen = new Set<string>();
      for (const row of rows) {
        if (seen.has(row.id)) throw conflict(row.id, 'appears twice in the batch');
        seen.add(row.id);
      }
      if (rows.length === 0) return;
      const column = <K extends keyof EventRow>(key: K) => rows.map((row) => row[key]);
      try {
        // WITH ORDINALITY keeps the batch's order in the identity sequence.
        await this.locks.transaction((client) =>
          client.query(
            `INSERT INTO ${this.qualified} (${EVENT_COLUMNS}, pending)
           SELECT id, memory_id, kind, previous_text, text, user_id, agent_id, run_id, valid_at, created_at, actor, $12
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], $11::text[])
             WITH ORDINALITY AS batch (id, memory_id, kind, previous_text, text, user_id, agent_id, run_id, valid_at, created_at, actor, position)
           ORDER BY position`,
            [
              column('id'),
              column('memory_id'),
              column('kind'),
              column('previous_text'),
              column('text'),
              column('user_id'),
              column('agent_id'),
              column('run_id'),
              column('valid_at'),
              column('created_at'),
              column('actor'),
              request.pending === true,
            ],
          ),
        );
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) throw conflict(duplicateId(error, rows), 'is already stored');
        throw error;
      }
    });
  }

  /** The committed events of one memory, oldest first (append order); pending events are left out. */
  async list(request: Call<{ readonly memoryId: string }>): Promise<HistoryEvent[]> {
    return this.execute('list', request.signal, async () => {
      if (typeof request.memoryId !== 'string') {
        throw new InvalidInputError('memoryId', 'expected a string', 'Pass the id of a memory.');
      }
      if (!isStorableText(request.memoryId)) return [];
      const result = await this.pool.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${this.qualified} WHERE memory_id = $1 AND NOT pending ORDER BY seq`,
        [request.memoryId],
      );
      return result.rows.map(toEvent);
    });
  }

  /** Pending events of every memory, oldest first (append order), at most `limit`. */
  async listPending(request: Call<{ readonly limit: number }>): Promise<HistoryEvent[]> {
    return this.execute('listPending', request.signal, async () => {
      if (typeof request.limit !== 'number' || !Number.isInteger(request.limit) || request.limit < 1) {
        throw new InvalidInputError('limit', 'expected a positive integer', 'Pass e.g. limit: 500.');
      }
      const result = await this.pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM ${this.qualified} WHERE pending ORDER BY seq LIMIT $1`, [
        request.limit,
      ]);
      return result.rows.map(toEvent);
    });
  }

  /**
   * Commits (`commit`) or deletes (`discard`) pending events, in one statement, and stores
   * `idempotencyRecord` in the same transaction. Ids that are not pending are ignored, so a
   * committed event is never deleted.
   */
  async settle(
    request: Call<{
      readonly commit?: readonly string[];
      readonly discard?: readonly string[];
      readonly idempotencyRecord?: IdempotencyRecord;
    }>,
  ): Promise<void> {
    await this.execute('settle', request.signal, async () => {
      const ids = (field: 'commit' | 'discard'): string[] => {
        const value = request[field];
        if (value === undefined) return [];
        if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
          throw new InvalidInputError(field, 'expected an array of event ids', `Pass ${field}: [eventId].`);
        }
        return value.filter(isStorableText);
      };
      const commit = ids('commit');
      const discard = ids('discard');
      const record = request.idempotencyRecord === undefined ? undefined : toRecordRow(request.idempotencyRecord);
      if (commit.length === 0 && discard.length === 0 && !record) return;
      // One statement: both changes become visible together, or neither does; the record in the same transaction.
      await this.locks.transaction(async (client) => {
        if (commit.length > 0 || discard.length > 0) {
          await client.query(
            `WITH committed AS (UPDATE ${this.qualified} SET pending = false WHERE pending AND id = ANY($1::text[]) RETURNING 1),
                  discarded AS (DELETE FROM ${this.qualified} WHERE pending AND id = ANY($2::text[]) AND NOT (id = ANY($1::text[])) RETURNING 1)
             SELECT (SELECT count(*) FROM committed) + (SELECT count(*) FROM discarded) AS settled`,
            [commit, discard],
          );
        }
        if (record) await client.query(this.putRecordStatement, recordValues(record));
      });
    });
  }

  /** The idempotency record of exactly this scope and key, or `null` when there is none or it has expired at `now`. */
  async getIdempotencyRecord(
    request: Call<{ readonly scope: Scope; readonly key: string; readonly now: Date }>,
  ): Promise<IdempotencyRecord | null> {
    return this.execute('getIdempotencyRecord', request.signal, async () => {
      if (typeof request.key !== 'string') throw new InvalidInputError('key', 'expected a string', 'Pass the idempotency key.');
      const key = scopeKey(request.scope);
      // Text PostgreSQL cannot store was never stored.
      if (!isStorableText(request.key) || !isStorableText(key)) return null;
      const result = await this.pool.query<RecordRow>(
        `SELECT scope_key, key, request_hash, result, created_at, expires_at FROM ${this.records}
         WHERE scope_key = $1 AND key = $2 AND expires_at > $3`,
        [key, request.key, epochMs(request.now, 'now')],
      );
      const row = result.rows[0];
      return row ? toRecord(row) : null;
    });
  }

  /** Stores an idempotency record, replacing the record of the same exact scope and key, in one statement. */
  async putIdempotencyRecord(request: Call<{ readonly record: IdempotencyRecord }>): Promise<void> {
    await this.execute('putIdempotencyRecord', request.signal, async () => {
      const values = recordValues(toRecordRow(request.record));
      await this.locks.transaction((client) => client.query(this.putRecordStatement, values));
    });
  }

  /** Inserts a record, or replaces the record of the same scope and key. */
  private get putRecordStatement(): string {
    return `INSERT INTO ${this.records} (scope_key, key, request_hash, result, created_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (scope_key, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, result = EXCLUDED.result,
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`;
  }

  /** Deletes the idempotency records of every scope whose `expiresAt` is at or before `before`. */
  async purgeIdempotencyRecords(request: Call<{ readonly before: Date }>): Promise<{ readonly purged: number }> {
    return this.execute('purgeIdempotencyRecords', request.signal, async () => {
      const result = await writeStatement(this.pool, `DELETE FROM ${this.records} WHERE expires_at <= $1`, [
        epochMs(request.before, 'before'),
      ]);
      return { purged: result.rowCount ?? 0 };
    });
  }

  /** Deletes every event and every idempotency record. */
  async reset(request?: Call<object>): Promise<void> {
    await this.execute('reset', request?.signal, async () => {
      await this.pool.query(`TRUNCATE ${this.qualified}, ${this.records}`);
    });
  }

  /** Ends the pool if the store opened it (a pool passed as `pool` stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) {
      try {
        await this.pool.end();
      } catch (error) {
        throw toPostgresError(error, 'close');
      }
    }
  }

  /** Drops the tables and forgets their layout version, e.g. to dispose of a test table; the next call recreates them empty. */
  async dropTable(request?: Call<object>): Promise<void> {
    await this.execute('dropTable', request?.signal, async () => {
      await dropComponent(this.pool, this.schema, this.component, [
        `DROP TABLE IF EXISTS ${this.qualified}`,
        `DROP TABLE IF EXISTS ${this.records}`,
      ]);
      this.ready = undefined;
    });
  }

  private async execute<T>(operation: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    throwIfAborted(signal, `postgres history ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: POSTGRES_PROVIDER,
        operation,
        message: 'the store is closed. Create a new PostgresHistoryStore.',
        retryable: false,
      });
    }
    try {
      await this.prepare();
      return await work();
    } catch (error) {
      throw toPostgresError(error, operation);
    }
  }

  /** Creates or migrates the table once per store (a failed attempt is retried by the next call). */
  private prepare(): Promise<void> {
    this.ready ??= migrate(this.pool, { schema: this.schema, component: this.component, migrations: this.migrations() }).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  private migrations(): PostgresMigration[] {
    const t = this.qualified;
    return [
      {
        version: 1,
        description: 'history table: one row per event, append order as an identity sequence, pending flag of the write-ahead log',
        statements: [
          `CREATE TABLE ${t} (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            memory_id text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('ADD', 'UPDATE', 'DELETE')),
            previous_text text,
            text text,
            user_id text,
            agent_id text,
            run_id text,
            valid_at bigint NOT NULL,
            created_at bigint NOT NULL,
            actor text NOT NULL,
            pending boolean NOT NULL DEFAULT false
          )`,
          `CREATE INDEX "${this.table}_memory_id" ON ${t} (memory_id, seq)`,
          // Pending events are few (changes in flight, or cut by a crash): a partial index finds them.
          `CREATE INDEX "${this.table}_pending" ON ${t} (seq) WHERE pending`,
        ],
      },
      {
        version: 2,
        description:
          "idempotency records of add: one row per exact scope (core's scopeKey) and key, with the request hash, the result and the expiry",
        statements: [
          `CREATE TABLE ${this.records} (
            scope_key text NOT NULL,
            key text NOT NULL,
            request_hash text NOT NULL,
            result text NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            PRIMARY KEY (scope_key, key)
          )`,
          `CREATE INDEX "${this.table}_idempotency_expires_at" ON ${this.records} (expires_at)`,
        ],
      },
    ];
  }
}

function conflict(id: string, problem: string): MemError {
  return new MemError(
    'CONFLICT',
    `History event id "${id}" ${problem}; no event of the batch was stored. Give every event a fresh id (UUID v7).`,
  );
}

/** The id a unique violation names (`Key (id)=(…)`), when it is one of the batch's; else the first id. */
function duplicateId(error: unknown, rows: readonly EventRow[]): string {
  const detail = typeof error === 'object' && error !== null ? String((error as { detail?: unknown }).detail ?? '') : '';
  return rows.find((row) => detail.includes(`=(${row.id})`))?.id ?? rows[0]!.id;
}

function toRow(event: HistoryEvent, index: number): EventRow {
  const checked = checkHistoryEvent(event, `events[${index}]`, checkStorableText);
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

function toRecordRow(record: IdempotencyRecord): RecordRow & { created_at: number; expires_at: number } {
  const { createdAt, expiresAt } = checkIdempotencyRecord(record, checkStorableText);
  return {
    scope_key: scopeKey(record.scope),
    key: record.key,
    request_hash: record.requestHash,
    result: record.result,
    created_at: createdAt,
    expires_at: expiresAt,
  };
}

function recordValues(row: RecordRow): unknown[] {
  return [row.scope_key, row.key, row.request_hash, row.result, row.created_at, row.expires_at];
}

function toRecord(row: RecordRow): IdempotencyRecord {
  return {
    scope: scopeFromKey(row.scope_key),
    key: row.key,
    requestHash: row.request_hash,
    result: row.result,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
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
    validAt: new Date(Number(row.valid_at)),
    createdAt: new Date(Number(row.created_at)),
    actor: row.actor as HistoryEvent['actor'],
  };
}
