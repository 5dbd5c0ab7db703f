import { MemError } from '@mem/core/adapter';
import type pg from 'pg';
import { qualifiedName } from './postgres-connection';

/** One step of a table layout: SQL statements run in order, in one transaction, exactly once per component. */
export interface PostgresMigration {
  /** 1 for the first layout, then 2, 3, …; steps run in ascending order. */
  readonly version: number;
  /** What the step changes, kept for people reading `mem_schema_versions`. */
  readonly description: string;
  readonly statements: readonly string[];
}

/** What {@link migrate} found or made. */
export interface MigrationResult {
  /** Layout version after the call (the newest known). */
  readonly version: number;
  /** Settings recorded when the component was created, e.g. `{ dimensions: 1536 }`. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Whether this call applied at least one step (false: another process, or an earlier call, did). */
  readonly applied: boolean;
}

/** Table (per schema) holding the layout version and creation settings of every mem component. */
export const VERSIONS_TABLE = 'mem_schema_versions';

/**
 * Key of the advisory lock every mem migration in a database takes: one key for all of them, so
 * two processes starting at once (or two stores in one process) never race on `CREATE EXTENSION`,
 * `CREATE SCHEMA` or a table; migrations are rare and short, so one key costs nothing.
 * (`0x6d656d` is "mem".)
 */
export const MIGRATION_LOCK_KEY = 0x6d656d_0001;

/**
 * Brings one component (e.g. the `memories` table of a vector store) to the newest layout: under
 * the advisory lock {@link MIGRATION_LOCK_KEY}, in one transaction, creates the schema, the
 * extensions and `mem_schema_versions` if missing, then runs every step newer than the recorded
 * version and records it. Idempotent, and safe when several processes call it at once: the second
 * waits for the first and then finds nothing to do. A failed step rolls everything back.
 *
 * @param options.settings - recorded when the component is created; returned as stored afterwards,
 *   so the caller can compare them (e.g. the vector dimensions of an existing table).
 * @throws {MemError} `CONFLICT` when the database holds a newer layout than `migrations` knows.
 */
export async function migrate(
  pool: pg.Pool,
  options: {
    readonly schema: string;
    readonly component: string;
    readonly migrations: readonly PostgresMigration[];
    readonly extensions?: readonly string[];
    readonly settings?: Readonly<Record<string, unknown>>;
  },
): Promise<MigrationResult> {
  const latest = Math.max(0, ...options.migrations.map((migration) => migration.version));
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await ensureSchemaAndExtensions(client, options.schema, options.extensions ?? []);
    const versions = qualifiedName(options.schema, VERSIONS_TABLE);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${versions} (
        component text PRIMARY KEY,
        version integer NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const found = await client.query<{ version: number; settings: Record<string, unknown> }>(
      `SELECT version, settings FROM ${versions} WHERE component = $1`,
      [options.component],
    );
    const current = found.rows[0]?.version ?? 0;
    if (current > latest) {
      throw new MemError(
        'CONFLICT',
        `PostgreSQL component "${options.schema}.${options.component}" has layout version ${current}, but this package knows versions up to ${latest}. Upgrade the mem package, or use another table.`,
      );
    }
    const settings = found.rows[0]?.settings ?? { ...(options.settings ?? {}) };
    const steps = [...options.migrations].filter((migration) => migration.version > current).sort((a, b) => a.version - b.version);
    for (const step of steps) {
      for (const statement of step.statements) await client.query(statement);
    }
    if (steps.length > 0) {
      await client.query(
        `INSERT INTO ${versions} (component, version, settings) VALUES ($1, $2, $3)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = now()`,
        [options.component, latest, JSON.stringify(settings)],
      );
    }
    return { version: Math.max(current, latest), settings, applied: steps.length > 0 };
  });
}

/**
 * Reads a component's recorded version and settings without migrating; `undefined` when the
 * component (or `mem_schema_versions`) does not exist yet.
 */
export async function readComponent(
  pool: pg.Pool | pg.PoolClient,
  schema: string,
  component: string,
): Promise<{ version: number; settings: Readonly<Record<string, unknown>> } | undefined> {
  const exists = await pool.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    qualifiedName(schema, VERSIONS_TABLE),
  ]);
  if (!exists.rows[0]?.found) return undefined;
  const found = await pool.query<{ version: number; settings: Record<string, unknown> }>(
    `SELECT version, settings FROM ${qualifiedName(schema, VERSIONS_TABLE)} WHERE component = $1`,
    [component],
  );
  return found.rows[0];
}

/**
 * Drops a component: runs `statements` (e.g. `DROP TABLE`) and forgets its version, under the
 * migration lock, in one transaction.
 */
export async function dropComponent(pool: pg.Pool, schema: string, component: string, statements: readonly string[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    for (const statement of statements) await client.query(statement);
    const versions = qualifiedName(schema, VERSIONS_TABLE);
    const exists = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [versions]);
    if (exists.rows[0]?.found) await client.query(`DELETE FROM ${versions} WHERE component = $1`, [component]);
  });
}

async function ensureSchemaAndExtensions(client: pg.PoolClient, schema: string, extensions: readonly string[]): Promise<void> {
  // Checked before creating: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, which
  // hosted users (and least-privilege roles) often lack even when the schema exists.
  const schemaFound = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (schemaFound.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  for (const extension of extensions) {
    const found = await client.query('SELECT 1 FROM pg_extension WHERE extname = $1', [extension]);
    if (found.rowCount === 0) await client.query(`CREATE EXTENSION IF NOT EXISTS "${extension}"`);
  }
}

/**
 * Runs `work` in a transaction on one pooled connection: `COMMIT` when it resolves, `ROLLBACK` when
 * it throws (the error is rethrown). The connection goes back to the pool either way; one broken by
 * a lost connection is discarded instead.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: { readonly readOnly?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Runs one write statement in an explicit transaction: `BEGIN`, the statement, and `COMMIT` only
 * once the statement's reply is back, each its own round trip. A process killed while the statement
 * runs never sends `COMMIT`, so the server rolls the write back when the connection closes. A lone
 * (autocommit) statement would commit after its writer died, possibly after `Memory.recover()` in
 * another process had settled the change as never written: a memory without history.
 */
export async function writeStatement<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  pool: pg.Pool,
  sql: string,
  values: readonly unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  return withTransaction(pool, (client) => client.query<Row>(sql, values as unknown[]));
}
