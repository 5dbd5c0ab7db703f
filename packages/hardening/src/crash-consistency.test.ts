import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HistoryStore, LexicalEmbedder, Memory, type MemoryRecord } from '@mem/core';
import { PostgresHistoryStore } from '@mem/history-postgres';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { PostgresVectorStore } from '@mem/vector-postgres';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { recordFigure, scaled } from './support/figures';
import { historyViolations } from './support/invariants';

// Crash consistency of the embedded default: a child process adds, updates, deletes and deleteAlls
// on one SQLite file and is killed with SIGKILL at a random moment; then the file must pass
// PRAGMA integrity_check, and after Memory.recover() every memory in the vector store has its
// history, no event is half-applied (history and store agree on every memory), nothing is pending.
// Each file takes several kills in a row, so recovery also runs on files recovered before.
// The same trials run on PostgreSQL (vector and history stores on one real server, one schema per
// series of kills): there the server survives the client, so only the stores' agreement is checked.

const child = join(dirname(dirname(fileURLToPath(import.meta.url))), 'test', 'crash-child.mjs');
const directory = mkdtempSync(join(tmpdir(), 'mem-hardening-crash-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** mulberry32, seeded per run so a failure names its seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the child on `path` and SIGKILLs it: `delayMs` after it reports it is writing, or, when
 * `afterPending` is set, as soon as it reports its `afterPending`-th pending history append (aimed
 * at the window between the history write and the vector write).
 */
function runUntilKilled(target: readonly string[], seed: number, kill: { delayMs: number } | { afterPending: number }): Promise<void> {
  const worker = fork(child, [target[0]!, String(seed), ...target.slice(1)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  let pending = 0;
  worker.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    worker.on('message', (message: { ready?: boolean; pending?: boolean }) => {
      if ('delayMs' in kill && message.ready) setTimeout(() => worker.kill('SIGKILL'), kill.delayMs);
      if ('afterPending' in kill && message.pending && ++pending === kill.afterPending) worker.kill('SIGKILL');
    });
    worker.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the child exited with code ${code} before it was killed (seed ${seed}): ${stderr.slice(-2_000)}`));
    });
  });
}

/** Half the kills aim at a logged-but-not-written change; the others land at a random moment, mostly early. */
function randomKill(random: () => number): { delayMs: number } | { afterPending: number } {
  const roll = random();
  return roll < 0.5
    ? { afterPending: 1 + Math.floor(random() * 8) }
    : { delayMs: roll < 0.85 ? Math.floor(random() * 40) : 40 + Math.floor(random() * 200) };
}

interface Inspection {
  readonly integrity: string;
  readonly ftsIntegrity: boolean;
  /** How many FTS5 indexes were checked. */
  readonly ftsChecked: number;
  readonly records: Map<string, MemoryRecord>;
  readonly memoryIds: string[];
}

function inspect(path: string): Inspection {
  const database = new Database(path, { readonly: false });
  try {
    const integrity = String(database.pragma('integrity_check', { simple: true }));
    const tables = new Set(
      (database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name),
    );
    // Killed before its first write: no tables yet, nothing to check.
    if (!tables.has('memories') || !tables.has('memory_history'))
      return { integrity, ftsIntegrity: true, ftsChecked: 0, records: new Map(), memoryIds: [] };
    // Every FTS5 index (the keyword index of the vector store, whatever its name) must match its table.
    let ftsIntegrity = true;
    const ftsTables = (
      database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'").all() as {
        name: string;
      }[]
    ).map((row) => row.name);
    for (const name of ftsTables) {
      try {
        database.exec(`INSERT INTO "${name}" ("${name}", rank) VALUES ('integrity-check', 1)`);
      } catch {
        ftsIntegrity = false;
      }
    }
    const rows = database.prepare('SELECT id, text, user_id, agent_id, run_id FROM memories').all() as {
      id: string;
      text: string;
      user_id: string | null;
      agent_id: string | null;
      run_id: string | null;
    }[];
    const records = new Map(
      rows.map((row) => [
        row.id,
        {
          id: row.id,
          text: row.text,
          scope: {
            ...(row.user_id === null ? {} : { userId: row.user_id }),
            ...(row.agent_id === null ? {} : { agentId: row.agent_id }),
            ...(row.run_id === null ? {} : { runId: row.run_id }),
          },
        } as MemoryRecord,
      ]),
    );
    const memoryIds = (database.prepare('SELECT DISTINCT memory_id FROM memory_history').all() as { memory_id: string }[]).map(
      (row) => row.memory_id,
    );
    return { integrity, ftsIntegrity, ftsChecked: ftsTables.length, records, memoryIds };
  } finally {
    database.close();
  }
}

/** One backend of the crash trials: where the child writes, and how the parent reopens and reads it. */
interface CrashBackend {
  /** Shown in the figures table. */
  readonly name: string;
  /** Arguments after the seed's position for trial `trial`: `[path]` or `[url, schema]`. */
  target(trial: number): string[];
  /** Checks of the database as the kill left it, before recovery (e.g. SQLite's integrity check). */
  checkAfterKill?(trial: number, violations: string[]): Promise<void>;
  /** Stores over the killed child's database, for recover() and the history checks. */
  open(trial: number): { memory: Memory; historyStore: HistoryStore };
  /** Every stored memory and every memory id the history names, read straight from the tables. */
  inspect(trial: number): Promise<{ records: Map<string, MemoryRecord>; memoryIds: string[] }>;
  /** After the last kill of a series (e.g. to drop its schema). */
  finishSeries?(trial: number): Promise<void>;
}

/** Runs the trials on one backend: kill, check, recover, compare every memory with its history, recover again. */
async function crashTrials(backend: CrashBackend): Promise<void> {
  const trials = scaled(12, 120);
  const seed = Date.now() % 1_000_000;
  const random = generator(seed);
  const violations: string[] = [];
  let recovered = 0;
  for (let trial = 0; trial < trials; trial++) {
    const [target, ...rest] = backend.target(trial);
    await runUntilKilled([target!, ...rest], seed + trial, randomKill(random));
    await backend.checkAfterKill?.(trial, violations);
    const { memory, historyStore } = backend.open(trial);
    const report = await memory.recover();
    recovered += report.committed + report.discarded + report.completed;
    const after = await backend.inspect(trial);
    violations.push(
      ...(await historyViolations({ historyStore, records: after.records, memoryIds: after.memoryIds })).map(
        (line) => `trial ${trial} (seed ${seed + trial}): ${line}`,
      ),
    );
    const again = await memory.recover();
    if (again.committed + again.discarded + again.completed !== 0)
      violations.push(`trial ${trial}: a second recover() still found work: ${JSON.stringify(again)}`);
    await memory.close();
    if (trial % KILLS_PER_SERIES === KILLS_PER_SERIES - 1 || trial === trials - 1) await backend.finishSeries?.(trial);
  }
  recordFigure({
    category: 'crash consistency (SIGKILL, then recover)',
    backend: backend.name,
    cases: trials,
    violations: violations.length,
  });
  // How much half-done work the kills left for recover(): evidence the kills landed mid-change.
  recordFigure({ category: 'crash consistency: pending events settled', backend: backend.name, cases: recovered, violations: 0 });
  expect(violations.slice(0, 20)).toEqual([]);
  // The kills must really have interrupted writes, or the test proves nothing.
  expect(recovered, 'pending events found by recover() over all trials').toBeGreaterThan(0);
}

/** Kills per database file (or schema): recovery also runs on databases recovered before. */
const KILLS_PER_SERIES = 4;

it(
  'SIGKILL at random points during add, update, delete and deleteAll: after recover() the store and its history agree',
  { timeout: 1_800_000 },
  async () => {
    let ftsChecked = 0;
    const path = (trial: number) => join(directory, `crash-${Math.floor(trial / KILLS_PER_SERIES)}.db`);
    await crashTrials({
      name: 'sqlite (embedded default)',
      target: (trial) => [path(trial)],
      async checkAfterKill(trial, violations) {
        const before = inspect(path(trial));
        if (before.integrity !== 'ok') violations.push(`trial ${trial}: integrity_check says ${before.integrity}`);
        if (!before.ftsIntegrity) violations.push(`trial ${trial}: the keyword index does not match the table`);
        ftsChecked += before.ftsChecked;
      },
      open(trial) {
        const historyStore = new SqliteHistoryStore({ path: path(trial) });
        const vectorStore = new SqliteVectorStore({ path: path(trial) });
        return { historyStore, memory: new Memory({ embedder: new LexicalEmbedder({ dimensions: 32 }), vectorStore, historyStore }) };
      },
      inspect: async (trial) => inspect(path(trial)),
    });
    expect(ftsChecked, 'keyword indexes checked').toBeGreaterThan(0);
  },
);

const postgresUrl = inject('postgresUrl');
const postgresSkip = inject('postgresSkip');

/** Every stored memory and every memory id the history names, read straight from the tables of `schema`. */
async function inspectPostgres(pool: pg.Pool, schema: string): Promise<{ records: Map<string, MemoryRecord>; memoryIds: string[] }> {
  const tables = await pool.query<{ memories: boolean; history: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS memories, to_regclass($2) IS NOT NULL AS history',
    [`"${schema}".memories`, `"${schema}".memory_history`],
  );
  if (!tables.rows[0]?.memories || !tables.rows[0]?.history) return { records: new Map(), memoryIds: [] };
  const rows = await pool.query<{ id: string; text: string; user_id: string | null; agent_id: string | null; run_id: string | null }>(
    `SELECT id, text, user_id, agent_id, run_id FROM "${schema}".memories`,
  );
  const records = new Map(
    rows.rows.map((row) => [
      row.id,
      {
        id: row.id,
        text: row.text,
        scope: {
          ...(row.user_id === null ? {} : { userId: row.user_id }),
          ...(row.agent_id === null ? {} : { agentId: row.agent_id }),
          ...(row.run_id === null ? {} : { runId: row.run_id }),
        },
      } as MemoryRecord,
    ]),
  );
  const ids = await pool.query<{ memory_id: string }>(`SELECT DISTINCT memory_id FROM "${schema}".memory_history`);
  return { records, memoryIds: ids.rows.map((row) => row.memory_id) };
}

it.skipIf(postgresSkip !== '')(
  `PostgreSQL: SIGKILL at random points during add, update, delete and deleteAll: after recover() the store and its history agree${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`,
  { timeout: 1_800_000 },
  async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const run = Date.now() % 1_000_000;
    const schema = (trial: number) => `crash_${run}_${Math.floor(trial / KILLS_PER_SERIES)}`;
    try {
      await crashTrials({
        name: 'postgres + pgvector',
        target: (trial) => [postgresUrl, schema(trial)],
        open(trial) {
          const historyStore = new PostgresHistoryStore({ pool, schema: schema(trial) });
          const vectorStore = new PostgresVectorStore({ pool, schema: schema(trial) });
          return { historyStore, memory: new Memory({ embedder: new LexicalEmbedder({ dimensions: 32 }), vectorStore, historyStore }) };
        },
        inspect: (trial) => inspectPostgres(pool, schema(trial)),
        finishSeries: async (trial) => {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema(trial)}" CASCADE`);
        },
      });
    } finally {
      await pool.end();
    }
  },
);
