// pgvector beside the embedded default (SQLite): insert rate, scoped search p50/p95, recall@10
// against exact search, HNSW build time, and write throughput of 1, 2 and 4 processes on one database.
//
//   npm run bench:postgres [-- --sizes 10000,100000 (none: only the write part) --dimensions 384,1536 --queries 200
//     --large-scope-queries 50 --indexed-inserts 1000 --ef-search 100,400,1000 --processes 1,2,4 --adds 200 --output ../../docs/bench/postgres.json]
//
// Starts its own PostgreSQL 15 + pgvector server (@mem/postgres/testing, durable: fsync and
// synchronous_commit on), writes docs/bench/postgres.json and its markdown, postgres.md, after every
// row (an interrupted run keeps what it measured), and prints the markdown at the end;
// `--render <file.json>` writes the markdown of a stored run again. For each size and dimension, one
// table holds every memory: 100 users (the 100-scope layout) and one agent (the one-scope layout).
// PostgreSQL is loaded the way a bulk import should be (without the HNSW index, then the index is
// built and timed), then `--indexed-inserts` more records are upserted with the index in place,
// which is what `Memory.add` pays. Each layout is searched by the store's default path (exact up to
// 10,000 memories per scope, the HNSW index above) and, where that is exact, through the index too.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scope, VectorStore } from '@mem/core';
import { PGVECTOR_VERSION, startPostgresServer } from '@mem/postgres/testing';
import { PostgresVectorStore } from '@mem/vector-postgres';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import pg from 'pg';
import { describeMachine, type MachineInfo, machineInfo } from './lib/machine';
import { type Summary, summarize } from './lib/stats';
import { SyntheticMemories } from './lib/synthetic';

interface Options {
  readonly sizes: number[];
  readonly dimensions: number[];
  readonly queries: number;
  /** Queries of the one-scope layout, whose exact answers scan every memory (slow at 100k on 2 cores). */
  readonly largeScopeQueries: number;
  readonly processes: number[];
  readonly adds: number;
  /** Records inserted into the indexed table to time inserts that maintain the HNSW index. */
  readonly indexedInserts: number;
  /** `efSearch` values of the index-only searches (recall against latency). */
  readonly efSearch: number[];
  readonly output: string;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string, fallback: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 && argv[index + 1] ? argv[index + 1]! : fallback;
  };
  const list = (name: string, fallback: string) =>
    value(name, fallback)
      .split(',')
      .filter((item) => item !== '' && item !== 'none')
      .map(Number);
  return {
    sizes: list('sizes', '10000,100000'),
    dimensions: list('dimensions', '384,1536'),
    queries: Number(value('queries', '200')),
    largeScopeQueries: Number(value('large-scope-queries', '50')),
    processes: list('processes', '1,2,4'),
    adds: Number(value('adds', '200')),
    indexedInserts: Number(value('indexed-inserts', '1000')),
    efSearch: list('ef-search', '100'),
    output: value('output', fileURLToPath(new URL('../../../docs/bench/postgres.json', import.meta.url))),
  };
}

type Layout = '100 scopes' | 'one scope';

interface SearchRow {
  readonly store: 'sqlite' | 'postgres';
  readonly dimensions: number;
  readonly size: number;
  readonly layout: Layout;
  readonly scopeSize: number;
  /** Which search path answered: exact (every vector of the scope compared) or the HNSW index. */
  readonly path: 'exact' | 'hnsw';
  /** `efSearch` of index searches (the store's default is 100). */
  readonly efSearch?: number;
  readonly queries: number;
  readonly query: Summary;
  /** Mean share of the exact top 10 among the 10 returned. */
  readonly recallAt10: number;
  /** 1-minute load average when this row finished. */
  readonly loadAverage: number;
}

interface LoadRow {
  readonly store: 'sqlite' | 'postgres';
  readonly dimensions: number;
  readonly size: number;
  /**
   * Records per second of batched upserts (1,000 per call). PostgreSQL: into the table without its
   * HNSW index (the bulk-load path: load, then build the index).
   */
  readonly bulkInsertPerSecond: number;
  /** PostgreSQL: seconds to build the HNSW index over the loaded table (`CREATE INDEX`). */
  readonly hnswBuildSeconds?: number;
  /** PostgreSQL: records per second of batched upserts into the full table with its HNSW index (what `Memory.add` pays). */
  readonly indexedInsertPerSecond?: number;
  readonly loadAverage: number;
}

interface WriteRow {
  readonly processes: number;
  /** Where the adds go: all to one user, or each process to its own user. */
  readonly scopes: 'one scope' | 'a scope per process';
  readonly adds: number;
  readonly seconds: number;
  readonly addsPerSecond: number;
  readonly add: Summary;
  readonly loadAverage: number;
}

/** The store's default: scopes of at most this many memories are searched exactly. */
const EXACT_SEARCH_LIMIT = 10_000;
/** The store's default `efSearch`. */
const DEFAULT_EF_SEARCH = 100;
/** Durable (fsync, synchronous_commit on), with room for an HNSW build in memory. */
const SERVER_SETTINGS = { shared_buffers: '1GB', maintenance_work_mem: '2GB', max_parallel_maintenance_workers: '1' };
const SCOPES = 100;
const load = () => Math.round(loadavg()[0]! * 100) / 100;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

// Every memory belongs to one of 100 users (`userId`: the 100-scope layout) and to one agent
// (`agentId: 'all'`: the one-scope layout), so one table serves both layouts. The records come from
// the same seed for every store, so both hold the same memories.
async function insert(store: VectorStore, dimensions: number, from: number, to: number): Promise<number> {
  const generator = new SyntheticMemories(dimensions, SCOPES, 11);
  if (from > 0) generator.batch(0, from);
  let elapsed = 0;
  for (let start = from; start < to; start += 1000) {
    const batch = generator
      .batch(start, Math.min(1000, to - start))
      .map((record) => ({ ...record, scope: { ...record.scope, agentId: 'all' } }));
    const begin = performance.now();
    await store.upsert({ records: batch });
    elapsed += performance.now() - begin;
  }
  return (to - from) / (elapsed / 1000);
}

const scopeFor = (layout: Layout, q: number): Scope => (layout === '100 scopes' ? { userId: `user-${q % SCOPES}` } : { agentId: 'all' });

/** Times `store.query` over the layout's queries and measures recall@10 against `truth` (the store's own answers when none is given). */
async function measureQueries(
  store: VectorStore,
  layout: Layout,
  queryVectors: readonly number[][],
  truth?: readonly (readonly string[])[],
): Promise<{ query: Summary; recallAt10: number }> {
  for (let q = 0; q < Math.min(10, queryVectors.length); q++)
    await store.query({ scope: scopeFor(layout, q), vector: queryVectors[q]!, topK: 10 });
  const samples: number[] = [];
  let found = 0;
  for (const [q, vector] of queryVectors.entries()) {
    const begin = performance.now();
    const matches = await store.query({ scope: scopeFor(layout, q), vector, topK: 10 });
    samples.push(performance.now() - begin);
    const ids = new Set(truth ? truth[q] : matches.map((match) => match.record.id));
    found += matches.filter((match) => ids.has(match.record.id)).length / Math.max(1, ids.size);
  }
  return { query: summarize(samples), recallAt10: found / queryVectors.length };
}

async function sizeRows(
  url: string,
  options: Options,
  dimensions: number,
  size: number,
  save: (load?: LoadRow, search?: SearchRow[]) => void,
): Promise<void> {
  const querySource = new SyntheticMemories(dimensions, SCOPES, 12345);
  const queryVectors: Record<Layout, number[][]> = {
    '100 scopes': Array.from({ length: options.queries }, () => querySource.vector()),
    'one scope': Array.from({ length: Math.min(options.queries, options.largeScopeQueries) }, () => querySource.vector()),
  };
  const scopeSize = (layout: Layout) => (layout === '100 scopes' ? Math.ceil(size / SCOPES) : size);
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-pg-'));
  const table = `bench_${dimensions}_${size}`;
  const exact = new PostgresVectorStore({ connectionString: url, table, exactSearchLimit: 10_000_000 });
  // The store's defaults (exact up to 10,000 memories per scope, the index above, efSearch 100), and
  // index-only stores at each --ef-search.
  const automatic = new PostgresVectorStore({ connectionString: url, table, exactSearchLimit: EXACT_SEARCH_LIMIT });
  const indexOnly = new Map(
    options.efSearch.map((efSearch) => [
      efSearch,
      new PostgresVectorStore({ connectionString: url, table, exactSearchLimit: 0, efSearch }),
    ]),
  );
  const sqlite = new SqliteVectorStore({ path: join(directory, 'bench.db') });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    // SQLite (the embedded default): exact search, so its answers are the truth.
    await sqlite.ensureCollection({ dimensions });
    const sqliteRate = await insert(sqlite, dimensions, 0, size);
    save({ store: 'sqlite', dimensions, size, bulkInsertPerSecond: sqliteRate, loadAverage: load() });
    log(`sqlite ${dimensions}d ${size}: ${Math.round(sqliteRate)} inserts/s`);
    for (const layout of ['100 scopes', 'one scope'] as const) {
      // SQLite searches exactly: its own answers are the truth (recall 1 by definition).
      const measured = await measureQueries(sqlite, layout, queryVectors[layout]);
      const row: SearchRow = {
        store: 'sqlite',
        dimensions,
        size,
        layout,
        scopeSize: scopeSize(layout),
        path: 'exact',
        queries: queryVectors[layout].length,
        ...measured,
        loadAverage: load(),
      };
      save(undefined, [row]);
      log(
        `  sqlite ${layout}: p50 ${row.query.median.toFixed(1)} ms, p95 ${row.query.p95.toFixed(1)} ms, recall@10 ${row.recallAt10.toFixed(3)}`,
      );
    }
    await sqlite.close();

    // PostgreSQL: bulk load without the HNSW index, build it, then time inserts that maintain it.
    await exact.ensureCollection({ dimensions });
    const indexName = `${table}_embedding`;
    const definition = (await admin.query<{ definition: string }>('SELECT pg_get_indexdef($1::regclass) AS definition', [indexName]))
      .rows[0]!.definition;
    await admin.query(`DROP INDEX "${indexName}"`);
    const loaded = Math.max(0, size - options.indexedInserts);
    const bulkInsertPerSecond = await insert(exact, dimensions, 0, loaded);
    await admin.query(`VACUUM ANALYZE "${table}"`);
    log(`postgres ${dimensions}d ${size}: ${Math.round(bulkInsertPerSecond)} inserts/s without the HNSW index; building it`);
    const begin = performance.now();
    await admin.query(definition);
    const hnswBuildSeconds = (performance.now() - begin) / 1000;
    const indexedInsertPerSecond = await insert(exact, dimensions, loaded, size);
    await admin.query(`ANALYZE "${table}"`);
    save({ store: 'postgres', dimensions, size, bulkInsertPerSecond, hnswBuildSeconds, indexedInsertPerSecond, loadAverage: load() });
    log(`  HNSW build ${hnswBuildSeconds.toFixed(1)} s; ${Math.round(indexedInsertPerSecond)} inserts/s with it`);
    for (const layout of ['100 scopes', 'one scope'] as const) {
      const truth: string[][] = [];
      for (const [q, vector] of queryVectors[layout].entries()) {
        truth.push((await exact.query({ scope: scopeFor(layout, q), vector, topK: 10 })).map((match) => match.record.id));
      }
      const automaticPath = scopeSize(layout) > EXACT_SEARCH_LIMIT ? 'hnsw' : 'exact';
      const paths: [VectorStore, 'exact' | 'hnsw', number | undefined][] = [
        [automatic, automaticPath, automaticPath === 'hnsw' ? DEFAULT_EF_SEARCH : undefined],
      ];
      for (const [efSearch, store] of indexOnly) {
        if (automaticPath === 'exact' || efSearch !== DEFAULT_EF_SEARCH) paths.push([store, 'hnsw', efSearch]);
      }
      for (const [store, path, efSearch] of paths) {
        const measured = await measureQueries(store, layout, queryVectors[layout], truth);
        const row: SearchRow = {
          store: 'postgres',
          dimensions,
          size,
          layout,
          scopeSize: scopeSize(layout),
          path,
          ...(efSearch === undefined ? {} : { efSearch }),
          queries: queryVectors[layout].length,
          ...measured,
          loadAverage: load(),
        };
        save(undefined, [row]);
        log(
          `  postgres ${layout} ${path}${efSearch === undefined ? '' : ` ef ${efSearch}`}: p50 ${row.query.median.toFixed(1)} ms, p95 ${row.query.p95.toFixed(1)} ms, recall@10 ${row.recallAt10.toFixed(3)}`,
        );
      }
    }
  } finally {
    await exact.dropCollection().catch(() => undefined);
    await Promise.all([
      exact.close(),
      automatic.close(),
      ...[...indexOnly.values()].map((store) => store.close()),
      sqlite.close(),
      admin.end(),
    ]);
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * N processes adding distinct memories at once (Memory.add, infer: false), all to one user's scope
 * (every add waits for the scope's lock, whichever process holds it) or each process to its own.
 */
async function writeRows(url: string, options: Options): Promise<WriteRow[]> {
  const rows: WriteRow[] = [];
  const worker = fileURLToPath(new URL('./postgres-writer.ts', import.meta.url));
  for (const scopes of ['one scope', 'a scope per process'] as const)
    for (const processes of options.processes) {
      const schema = `writers_${processes}_${Date.now()}`;
      const perProcess = Math.ceil(options.adds / processes);
      const children = Array.from({ length: processes }, (_, index) =>
        fork(
          worker,
          [
            JSON.stringify({
              url,
              schema,
              adds: perProcess,
              prefix: `p${index}`,
              userId: scopes === 'one scope' ? 'tenant' : `tenant-${index}`,
            }),
          ],
          {
            execArgv: ['--import', 'tsx'],
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          },
        ),
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
      rows.push({
        processes,
        scopes,
        adds: latencies.length,
        seconds,
        addsPerSecond: latencies.length / seconds,
        add: summarize(latencies),
        loadAverage: load(),
      });
      process.stderr.write(
        `  ${processes} process(es), ${scopes}: ${Math.round(latencies.length / seconds)} adds/s, p95 ${rows.at(-1)!.add.p95.toFixed(1)} ms\n`,
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

type Result = {
  readonly measuredAt: string;
  readonly machine: MachineInfo;
  readonly settings: Readonly<Record<string, string | number>>;
  readonly options: Options;
  readonly loads: LoadRow[];
  readonly search: SearchRow[];
  readonly writes: WriteRow[];
  finishedAt?: string;
};

/** The command that reproduces a run. */
function command(options: Options): string {
  const flags = [
    `--sizes ${options.sizes.length === 0 ? 'none' : options.sizes.join(',')}`,
    `--dimensions ${options.dimensions.join(',')}`,
    `--queries ${options.queries}`,
    `--large-scope-queries ${options.largeScopeQueries}`,
    `--indexed-inserts ${options.indexedInserts}`,
    ...(options.efSearch ? [`--ef-search ${options.efSearch.join(',')}`] : []),
    `--processes ${options.processes.join(',')}`,
    `--adds ${options.adds}`,
  ];
  // pnpm runs the script in apps/bench; the default output is docs/bench/postgres.json.
  const name = basename(options.output);
  return `npm run bench:postgres -- ${flags.join(' ')}${name === 'postgres.json' ? '' : ` --output ../../docs/bench/${name}`}`;
}

/** The run as markdown: what was measured, how, on what, and the three tables. */
function render(result: Result): string {
  const ms = (summary: Summary) => `${summary.median.toFixed(1)} / ${summary.p95.toFixed(1)}`;
  const rate = (value: number | undefined) => (value === undefined ? '–' : Math.round(value).toLocaleString('en-US'));
  const ef = (row: SearchRow) => row.efSearch ?? (row.path === 'hnsw' ? DEFAULT_EF_SEARCH : undefined);
  const settings = Object.entries(result.settings)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  return `# PostgreSQL + pgvector beside the embedded default (SQLite)

Written, with ${basename(result.options.output)}, by \`${command(result.options)}\` (apps/bench/src/postgres.ts); do not edit by hand.

Measured ${describeMachine(result.machine)}${result.finishedAt ? `; finished ${result.finishedAt.slice(11, 16)} UTC` : ' (interrupted: the rows below are what it measured)'}. The machine is shared: the \`load\` columns give the 1-minute load average when each row finished, so timings are upper bounds. PostgreSQL 15 + pgvector ${PGVECTOR_VERSION}, durable (fsync and synchronous_commit on); ${settings}. Synthetic memories: unit vectors drawn uniformly at random, the same for both stores, over 100 users (100 scopes) and one agent (one scope); queries are fresh random unit vectors, top 10.

## Loading

${table(
  ['store', 'dims', 'memories', 'bulk insert/s', 'HNSW build s', 'insert/s with HNSW', 'load'],
  result.loads.map((row) => [
    row.store,
    String(row.dimensions),
    row.size.toLocaleString('en-US'),
    rate(row.bulkInsertPerSecond),
    row.hnswBuildSeconds === undefined ? '–' : row.hnswBuildSeconds.toFixed(1),
    rate(row.indexedInsertPerSecond),
    String(row.loadAverage),
  ]),
)}

Batched upserts of 1,000 records. PostgreSQL: bulk insert into the table without its HNSW index, then \`CREATE INDEX\` timed, then ${result.options.indexedInserts.toLocaleString('en-US')} more records upserted with the index in place (what \`Memory.add\` pays).

## Search (ms p50 / p95, recall@10 against exact search)

${table(
  ['store', 'dims', 'memories', 'layout', 'per scope', 'path', 'efSearch', 'queries', 'query ms p50 / p95', 'recall@10', 'load'],
  result.search.map((row) => [
    row.store,
    String(row.dimensions),
    row.size.toLocaleString('en-US'),
    row.layout,
    row.scopeSize.toLocaleString('en-US'),
    row.path,
    ef(row) === undefined ? '–' : String(ef(row)),
    String(row.queries),
    ms(row.query),
    row.recallAt10.toFixed(3),
    String(row.loadAverage),
  ]),
)}

Path \`exact\` compares every vector of the scope; \`hnsw\` goes through the index with iterative scan (strict order). The store's default takes \`exact\` up to ${EXACT_SEARCH_LIMIT.toLocaleString('en-US')} memories per scope; the other \`hnsw\` rows force the index (\`exactSearchLimit: 0\`) at that \`efSearch\`.

## Write throughput (Memory.add, infer: false; 4 calls in flight per process)

${table(
  ['writer processes', 'scopes', 'adds', 'adds/s', 'add ms p50 / p95', 'load'],
  result.writes.map((row) => [
    String(row.processes),
    row.scopes ?? 'one scope',
    String(row.adds),
    row.addsPerSecond.toFixed(1),
    ms(row.add),
    String(row.loadAverage ?? '–'),
  ]),
)}

Each process: one \`Memory\` with \`PostgresVectorStore\` and \`PostgresHistoryStore\` on one pool of 8; every add takes its scope's lock through the history store's advisory locks, writes a pending history event, the vector row and the commit.
`;
}

const options = parseOptions(process.argv.slice(2));
const renderIndex = process.argv.indexOf('--render');
if (renderIndex >= 0) {
  // Re-renders the markdown of a finished (or interrupted) run from its JSON.
  const file = process.argv[renderIndex + 1]!;
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Result;
  writeFileSync(file.replace(/\.json$/, '.md'), render({ ...stored, options: { ...stored.options, output: file } }));
  process.exit(0);
}
const about = machineInfo();
const result: Result = {
  measuredAt: about.date,
  machine: about,
  settings: { ...SERVER_SETTINGS, exactSearchLimit: EXACT_SEARCH_LIMIT, efSearch: DEFAULT_EF_SEARCH, hnswM: 16, hnswEfConstruction: 64 },
  options,
  loads: [],
  search: [],
  writes: [],
};
// Written after every row, so an interrupted run keeps what it measured.
const save = (loadRow?: LoadRow, searchRows: readonly SearchRow[] = [], writeRows: readonly WriteRow[] = []) => {
  if (loadRow) result.loads.push(loadRow);
  result.search.push(...searchRows);
  result.writes.push(...writeRows);
  mkdirSync(dirname(options.output), { recursive: true });
  writeFileSync(options.output, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(options.output.replace(/\.json$/, '.md'), render(result));
};
const server = await startPostgresServer({ durable: true, settings: SERVER_SETTINGS });
try {
  log(`PostgreSQL at ${server.url.replace(/\/\/[^@]*@/, '//')}; writing ${options.output}`);
  save(undefined, [], await writeRows(server.url, options));
  for (const size of options.sizes) {
    for (const dimensions of options.dimensions) await sizeRows(server.url, options, dimensions, size, save);
  }
  result.finishedAt = new Date().toISOString();
  save();
  process.stdout.write(render(result));
} finally {
  await server.stop();
}
