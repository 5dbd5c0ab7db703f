// pgvector beside the embedded default: insert rate, scoped search p50/p95, recall@10 against exact
// search, HNSW build time, and write throughput of 1, 2 and 4 processes on one database.
//
//   pnpm --filter @mem/bench run postgres [-- --sizes 10000,100000 --dimensions 384,1536 --queries 200 --processes 1,2,4 --adds 200]
//
// Starts its own PostgreSQL 15 + pgvector server (@mem/postgres/testing, durable settings: fsync and
// synchronous_commit on), prints markdown tables, and writes docs/bench/postgres.json.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemoryRecord, Scope, VectorStore } from '@mem/core';
import { startPostgresServer } from '@mem/postgres/testing';
import { PostgresVectorStore } from '@mem/vector-postgres';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import pg from 'pg';
import { describeMachine, machineInfo } from './lib/machine';
import { type Summary, summarize } from './lib/stats';
import { SyntheticMemories } from './lib/synthetic';

interface Options {
  readonly sizes: number[];
  readonly dimensions: number[];
  readonly queries: number;
  readonly processes: number[];
  readonly adds: number;
  readonly output: string;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string, fallback: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 && argv[index + 1] ? argv[index + 1]! : fallback;
  };
  const list = (name: string, fallback: string) => value(name, fallback).split(',').map(Number);
  return {
    sizes: list('sizes', '10000,100000'),
    dimensions: list('dimensions', '384,1536'),
    queries: Number(value('queries', '200')),
    processes: list('processes', '1,2,4'),
    adds: Number(value('adds', '200')),
    output: value('output', fileURLToPath(new URL('../../../docs/bench/postgres.json', import.meta.url))),
  };
}

interface SearchRow {
  readonly store: 'sqlite' | 'postgres';
  readonly dimensions: number;
  readonly size: number;
  readonly layout: '100 scopes' | 'one scope';
  readonly scopeSize: number;
  readonly insertPerSecond: number;
  /** Seconds to build the HNSW index over the whole table (`REINDEX`); postgres only. */
  readonly hnswBuildSeconds?: number;
  readonly query: Summary;
  /** Mean share of the exact top 10 among the 10 returned. */
  readonly recallAt10: number;
  /** Which search path answered: exact (scope scan) or the HNSW index. */
  readonly path: 'exact' | 'hnsw';
}

interface WriteRow {
  readonly processes: number;
  readonly adds: number;
  readonly seconds: number;
  readonly addsPerSecond: number;
  readonly add: Summary;
}

const EXACT_SEARCH_LIMIT = 10_000;

async function searchRows(url: string, options: Options, dimensions: number, size: number): Promise<SearchRow[]> {
  const rows: SearchRow[] = [];
  for (const layout of ['100 scopes', 'one scope'] as const) {
    const scopes = layout === '100 scopes' ? 100 : 1;
    const synthetic = new SyntheticMemories(dimensions, scopes, 11);
    const queryVectors = Array.from({ length: options.queries }, () => synthetic.vector());
    const scopeOf = (q: number): Scope => ({ userId: `user-${q % scopes}` });
    const directory = mkdtempSync(join(tmpdir(), 'mem-bench-pg-'));
    const table = `bench_${dimensions}_${size}_${scopes}`;
    const postgres = new PostgresVectorStore({ connectionString: url, table, exactSearchLimit: EXACT_SEARCH_LIMIT });
    const exact = new PostgresVectorStore({ connectionString: url, table, exactSearchLimit: 10_000_000 });
    const sqlite = new SqliteVectorStore({ path: join(directory, 'bench.db') });
    try {
      for (const [name, store] of [
        ['sqlite', sqlite],
        ['postgres', postgres],
      ] as const) {
        await store.ensureCollection({ dimensions });
        const insertMs = await insert(store, synthetic, size);
        process.stderr.write(`  ${name} ${dimensions}d ${size} ${layout}: ${Math.round(size / (insertMs / 1000))} inserts/s\n`);
        let hnswBuildSeconds: number | undefined;
        if (name === 'postgres') {
          const admin = new pg.Client({ connectionString: url });
          await admin.connect();
          await admin.query(`ANALYZE "${table}"`);
          const begin = performance.now();
          await admin.query(`REINDEX INDEX "${table}_embedding"`);
          hnswBuildSeconds = (performance.now() - begin) / 1000;
          await admin.end();
        }
        const samples: number[] = [];
        let found = 0;
        for (let q = -Math.min(20, options.queries); q < options.queries; q++) {
          const vector = queryVectors[Math.abs(q)]!;
          const begin = performance.now();
          const matches = await store.query({ scope: scopeOf(Math.abs(q)), vector, topK: 10 });
          if (q < 0) continue; // warm-up
          samples.push(performance.now() - begin);
          const truth = name === 'sqlite' ? matches : await exact.query({ scope: scopeOf(q), vector, topK: 10 });
          const ids = new Set(truth.map((match) => match.record.id));
          found += matches.filter((match) => ids.has(match.record.id)).length / Math.max(1, truth.length);
        }
        const scopeSize = Math.ceil(size / scopes);
        rows.push({
          store: name,
          dimensions,
          size,
          layout,
          scopeSize,
          insertPerSecond: size / (insertMs / 1000),
          ...(hnswBuildSeconds === undefined ? {} : { hnswBuildSeconds }),
          query: summarize(samples),
          recallAt10: found / options.queries,
          path: name === 'postgres' && scopeSize > EXACT_SEARCH_LIMIT ? 'hnsw' : 'exact',
        });
        process.stderr.write(
          `    query p50 ${rows.at(-1)!.query.median.toFixed(2)} ms p95 ${rows.at(-1)!.query.p95.toFixed(2)} ms, recall@10 ${rows.at(-1)!.recallAt10.toFixed(3)}\n`,
        );
      }
    } finally {
      await postgres.dropCollection().catch(() => undefined);
      await Promise.all([postgres.close(), exact.close(), sqlite.close()]);
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return rows;
}

async function insert(store: VectorStore, synthetic: SyntheticMemories, size: number): Promise<number> {
  // The same records for both stores: regenerate from the same seed.
  const generator = new SyntheticMemories(synthetic.dimensions, synthetic.scopes, 11);
  let elapsed = 0;
  for (let start = 0; start < size; start += 1000) {
    const records: MemoryRecord[] = generator.batch(start, Math.min(1000, size - start));
    const begin = performance.now();
    await store.upsert({ records });
    elapsed += performance.now() - begin;
  }
  return elapsed;
}

/** N processes adding distinct memories to one user's scope at once (Memory.add, infer: false). */
async function writeRows(url: string, options: Options): Promise<WriteRow[]> {
  const rows: WriteRow[] = [];
  const worker = fileURLToPath(new URL('./postgres-writer.ts', import.meta.url));
  for (const processes of options.processes) {
    const schema = `writers_${processes}_${Date.now()}`;
    const perProcess = Math.ceil(options.adds / processes);
    const children = Array.from({ length: processes }, (_, index) =>
      fork(worker, [JSON.stringify({ url, schema, adds: perProcess, prefix: `p${index}` })], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    // Every child prepares (connects, creates the tables) and reports ready; then all start at once.
    await Promise.all(children.map((child) => new Promise<void>((resolve) => child.once('message', () => resolve()))));
    const begin = performance.now();
    const results = await Promise.all(
      children.map(
        (child) =>
          new Promise<number[]>((resolve, reject) => {
            child.once('message', (message) => resolve((message as { latencies: number[] }).latencies));
            child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`a writer exited with code ${code}`))));
            child.send('go');
          }),
      ),
    );
    const seconds = (performance.now() - begin) / 1000;
    const latencies = results.flat();
    rows.push({ processes, adds: latencies.length, seconds, addsPerSecond: latencies.length / seconds, add: summarize(latencies) });
    process.stderr.write(
      `  ${processes} process(es): ${Math.round(latencies.length / seconds)} adds/s, p95 ${rows.at(-1)!.add.p95.toFixed(1)} ms\n`,
    );
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
  return rows;
}

function table(header: string[], lines: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    ...lines.map((line) => `| ${line.join(' | ')} |`),
  ].join('\n');
}

const options = parseOptions(process.argv.slice(2));
const startedAt = new Date();
const about = machineInfo();
const server = await startPostgresServer({
  durable: true,
  settings: { shared_buffers: '1GB', maintenance_work_mem: '1GB', max_parallel_maintenance_workers: '1' },
});
try {
  const search: SearchRow[] = [];
  for (const dimensions of options.dimensions) {
    for (const size of options.sizes) search.push(...(await searchRows(server.url, options, dimensions, size)));
  }
  const writes = await writeRows(server.url, options);
  const result = { measuredAt: startedAt.toISOString(), machine: about, options, search, writes };
  mkdirSync(join(options.output, '..'), { recursive: true });
  writeFileSync(options.output, `${JSON.stringify(result, null, 2)}\n`);
  const ms = (summary: Summary) => `${summary.median.toFixed(2)} / ${summary.p95.toFixed(2)}`;
  process.stdout.write(
    `${table(
      ['store', 'dims', 'memories', 'layout', 'per scope', 'insert/s', 'HNSW build s', 'query ms p50 / p95', 'recall@10', 'path'],
      search.map((row) => [
        row.store,
        String(row.dimensions),
        row.size.toLocaleString('en-US'),
        row.layout,
        row.scopeSize.toLocaleString('en-US'),
        Math.round(row.insertPerSecond).toLocaleString('en-US'),
        row.hnswBuildSeconds === undefined ? '–' : row.hnswBuildSeconds.toFixed(1),
        ms(row.query),
        row.recallAt10.toFixed(3),
        row.path,
      ]),
    )}\n\n${table(
      ['writer processes', 'adds', 'adds/s', 'add ms p50 / p95'],
      writes.map((row) => [String(row.processes), String(row.adds), row.addsPerSecond.toFixed(1), ms(row.add)]),
    )}\n\nMeasured ${describeMachine(about)}, load average at the end ${machineInfo().loadAverage}.\n`,
  );
} finally {
  await server.stop();
}
