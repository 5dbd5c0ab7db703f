// pgvector beside the embedded default (SQLite): insert rate, scoped search p50/p95, recall@10
// against exact search, HNSW build time, and write throughput of 1, 2 and 4 processes on one database.
//
//   npm run bench:postgres [-- --sizes 10000,100000 (none: only the write part) --dimensions 384,1536 --queries 200
//     --large-scope-queries 50 --indexed-inserts 1000 --ef-search 100,400,1000 --processes 1,2,4 --adds 200
//     --distributions clustered,uniform --iterative-scan strict_order,relaxed_order --max-scan-tuples 20000,100000
//     --held-out-queries 200 --sqlite false --output ../../docs/bench/postgres.json]
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
import { SyntheticMemories, type VectorDistribution } from './lib/synthetic';

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
  /** Vector distributions to measure: `clustered` (like real embeddings) and `uniform` (HNSW's worst case, a stress row). */
  readonly distributions: VectorDistribution[];
  /** `hnsw.iterative_scan` modes of the index-only searches (the tuning grid with `efSearch` and `maxScanTuples`). */
  readonly iterativeScan: IterativeScan[];
  /** `hnsw.max_scan_tuples` of the index-only searches (the store's default when empty). */
  readonly maxScanTuples: number[];
  /** Held-out queries the setting chosen on the tuning queries is measured on (0: none). */
  readonly heldOutQueries: number;
  /** Whether SQLite (the embedded default) is measured beside PostgreSQL. */
  readonly sqlite: boolean;
  /** Upserts in flight during the bulk load (1: one at a time, timed alone; more: wall-clock with generation). */
  readonly loadStreams: number;
  /** PostgreSQL's `maintenance_work_mem` (the HNSW build's memory). */
  readonly maintenanceWorkMem: string;
  readonly output: string;
}

type IterativeScan = 'strict_order' | 'relaxed_order';

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
    distributions: value('distributions', 'clustered,uniform').split(',') as VectorDistribution[],
    iterativeScan: value('iterative-scan', 'strict_order').split(',') as IterativeScan[],
    maxScanTuples: list('max-scan-tuples', 'none'),
    heldOutQueries: Number(value('held-out-queries', '0')),
    sqlite: value('sqlite', 'true') !== 'false',
    loadStreams: Number(value('load-streams', '1')),
    maintenanceWorkMem: value('maintenance-work-mem', SERVER_SETTINGS.maintenance_work_mem),
    output: value('output', fileURLToPath(new URL('../../../docs/bench/postgres.json', import.meta.url))),
  };
}

type Layout = '100 scopes' | 'one scope';

interface SearchRow {
  readonly store: 'sqlite' | 'postgres';
  /** How the vectors were drawn (rows of older runs: uniform). */
  readonly distribution?: VectorDistribution;
  /** Which queries: the tuning set (every setting) or the held-out set (the chosen setting and the default). */
  readonly querySet?: 'tuning' | 'held-out';
  readonly dimensions: number;
  readonly size: number;
  readonly layout: Layout;
  readonly scopeSize: number;
  /** Which search path answered: exact (every vector of the scope compared) or the HNSW index. */
  readonly path: 'exact' | 'hnsw';
  /** `efSearch` of index searches (the store's default is 100). */
  readonly efSearch?: number;
  /** `hnsw.iterative_scan` of index searches (older runs: strict_order). */
  readonly iterativeScan?: IterativeScan;
  /** `hnsw.max_scan_tuples` of index searches (absent: the store's default). */
  readonly maxScanTuples?: number;
  /** Set on the index setting chosen on the tuning queries (lowest p95 with recall@10 ≥ 0.99, else the best recall). */
  readonly chosen?: boolean;
  readonly queries: number;
  readonly query: Summary;
  /** Mean share of the exact top 10 among the 10 returned. */
  readonly recallAt10: number;
  /** 1-minute load average when this row finished. */
  readonly loadAverage: number;
}

interface LoadRow {
  readonly store: 'sqlite' | 'postgres';
  readonly distribution?: VectorDistribution;
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
/** The store's default `hnsw.max_scan_tuples`: max(20,000, 4 × exactSearchLimit). */
const DEFAULT_MAX_SCAN_TUPLES = Math.max(20_000, 4 * EXACT_SEARCH_LIMIT);
/** The store's default `iterativeScan` (strict_order before this bench measured relaxed_order better). */
const DEFAULT_ITERATIVE_SCAN: IterativeScan = 'relaxed_order';
/** The store's default `efSearch`. */
const DEFAULT_EF_SEARCH = 100;
/** Durable (fsync, synchronous_commit on), with room for an HNSW build in memory. */
const SERVER_SETTINGS = { shared_buffers: '1GB', maintenance_work_mem: '2GB', max_parallel_maintenance_workers: '1' };
/** `--maintenance-work-mem`: room for the HNSW build (pgvector builds much slower once the graph outgrows it: 1M × 384 needs about 3 GB). */
const serverSettings = (options: Options) => ({ ...SERVER_SETTINGS, maintenance_work_mem: options.maintenanceWorkMem });
const SCOPES = 100;
const load = () => Math.round(loadavg()[0]! * 100) / 100;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

// Every memory belongs to one of 100 users (`userId`: the 100-scope layout) and to one agent
// (`agentId: 'all'`: the one-scope layout), so one table serves both layouts. The records come from
// the same seed for every store, so both hold the same memories.
async function insert(
  store: VectorStore,
  dimensions: number,
  distribution: VectorDistribution,
  from: number,
  to: number,
  streams = 1,
): Promise<number> {
  const generator = new SyntheticMemories(dimensions, SCOPES, 11, undefined, distribution);
  if (from > 0) generator.batch(0, from);
  const next = (start: number) =>
    generator.batch(start, Math.min(1000, to - start)).map((record) => ({ ...record, scope: { ...record.scope, agentId: 'all' } }));
  if (streams <= 1) {
    // One batch at a time: the rate counts the upserts only, not generating the records.
    let elapsed = 0;
    for (let start = from; start < to; start += 1000) {
      const batch = next(start);
      const begin = performance.now();
      await store.upsert({ records: batch });
      elapsed += performance.now() - begin;
    }
    return (to - from) / (elapsed / 1000);
  }
  // Up to `streams` upserts in flight while the next batch is generated: the rate is wall-clock,
  // generating included (a lower bound on what the database takes).
  const begin = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let start = from; start < to; start += 1000) {
    const write: Promise<void> = store.upsert({ records: next(start) }).then(() => {
      inFlight.delete(write);
    });
    inFlight.add(write);
    if (inFlight.size >= streams) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return (to - from) / ((performance.now() - begin) / 1000);
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

/** An index-only search setting of the tuning grid. */
interface IndexSetting {
  readonly efSearch: number;
  readonly iterativeScan: IterativeScan;
  readonly maxScanTuples?: number;
}

/** The setting to keep: the lowest p95 among those with recall@10 ≥ 0.99, else the best recall (then the lowest p95). */
function choose(rows: readonly SearchRow[]): SearchRow | undefined {
  const good = rows.filter((row) => row.recallAt10 >= 0.99);
  const pool = good.length > 0 ? good : rows;
  return [...pool].sort((a, b) => (good.length > 0 ? 0 : b.recallAt10 - a.recallAt10) || a.query.p95 - b.query.p95)[0];
}

async function sizeRows(
  url: string,
  options: Options,
  distribution: VectorDistribution,
  dimensions: number,
  size: number,
  save: (load?: LoadRow, search?: SearchRow[]) => void,
): Promise<void> {
  const querySource = new SyntheticMemories(dimensions, SCOPES, 12345, undefined, distribution);
  const queryVectors: Record<Layout, number[][]> = {
    '100 scopes': Array.from({ length: options.queries }, () => querySource.vector()),
    'one scope': Array.from({ length: Math.min(options.queries, options.largeScopeQueries) }, () => querySource.vector()),
  };
  // Held-out queries (another seed): the setting chosen on the tuning queries is measured on these.
  const heldOutSource = new SyntheticMemories(dimensions, SCOPES, 54321, undefined, distribution);
  const heldOutVectors: Record<Layout, number[][]> = {
    '100 scopes': Array.from({ length: options.heldOutQueries }, () => heldOutSource.vector()),
    'one scope': Array.from({ length: Math.min(options.heldOutQueries, options.largeScopeQueries) }, () => heldOutSource.vector()),
  };
  const scopeSize = (layout: Layout) => (layout === '100 scopes' ? Math.ceil(size / SCOPES) : size);
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-pg-'));
  const table = `bench_${distribution === 'uniform' ? 'u' : 'c'}_${dimensions}_${size}`;
  const exact = new PostgresVectorStore({ connectionString: url, table, exactSearchLimit: 10_000_000 });
  // The store's defaults (exact up to 10,000 memories per scope, the index above, efSearch 100), and
  // index-only stores at each setting of the grid (--ef-search × --iterative-scan × --max-scan-tuples).
  const automatic = new PostgresVectorStore({
    connectionString: url,
    table,
    exactSearchLimit: EXACT_SEARCH_LIMIT,
    iterativeScan: DEFAULT_ITERATIVE_SCAN,
  });
  const grid: IndexSetting[] = options.efSearch.flatMap((efSearch) =>
    options.iterativeScan.flatMap((iterativeScan) =>
      (options.maxScanTuples.length === 0 ? [undefined] : options.maxScanTuples).map((maxScanTuples) => ({
        efSearch,
        iterativeScan,
        ...(maxScanTuples === undefined ? {} : { maxScanTuples }),
      })),
    ),
  );
  const indexOnly = grid.map(
    (setting) =>
      [
        setting,
        new PostgresVectorStore({
          connectionString: url,
          table,
          exactSearchLimit: 0,
          efSearch: setting.efSearch,
          iterativeScan: setting.iterativeScan,
          ...(setting.maxScanTuples === undefined ? {} : { maxScanTuples: setting.maxScanTuples }),
        }),
      ] as const,
  );
  const sqlite = new SqliteVectorStore({ path: join(directory, 'bench.db') });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const label = `${distribution} ${dimensions}d ${size}`;
  try {
    if (options.sqlite) {
      // SQLite (the embedded default): exact search, so its answers are the truth.
      await sqlite.ensureCollection({ dimensions });
      const sqliteRate = await insert(sqlite, dimensions, distribution, 0, size);
      save({ store: 'sqlite', distribution, dimensions, size, bulkInsertPerSecond: sqliteRate, loadAverage: load() });
      log(`sqlite ${label}: ${Math.round(sqliteRate)} inserts/s`);
      for (const layout of ['100 scopes', 'one scope'] as const) {
        // SQLite searches exactly: its own answers are the truth (recall 1 by definition).
        const measured = await measureQueries(sqlite, layout, queryVectors[layout]);
        const row: SearchRow = {
          store: 'sqlite',
          distribution,
          querySet: 'tuning',
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
    }
    await sqlite.close();

    // PostgreSQL: bulk load without the HNSW index, build it, then time inserts that maintain it.
    await exact.ensureCollection({ dimensions });
    const indexName = `${table}_embedding`;
    const definition = (await admin.query<{ definition: string }>('SELECT pg_get_indexdef($1::regclass) AS definition', [indexName]))
      .rows[0]!.definition;
    await admin.query(`DROP INDEX "${indexName}"`);
    const loaded = Math.max(0, size - options.indexedInserts);
    const bulkInsertPerSecond = await insert(exact, dimensions, distribution, 0, loaded, options.loadStreams);
    await admin.query(`VACUUM ANALYZE "${table}"`);
    log(`postgres ${label}: ${Math.round(bulkInsertPerSecond)} inserts/s without the HNSW index; building it (load ${load()})`);
    const begin = performance.now();
    await admin.query(definition);
    const hnswBuildSeconds = (performance.now() - begin) / 1000;
    // No indexed inserts (--indexed-inserts 0): nothing to time (and no million records to replay).
    const indexedInsertPerSecond = loaded < size ? await insert(exact, dimensions, distribution, loaded, size) : undefined;
    await admin.query(`ANALYZE "${table}"`);
    save({
      store: 'postgres',
      distribution,
      dimensions,
      size,
      bulkInsertPerSecond,
      hnswBuildSeconds,
      ...(indexedInsertPerSecond === undefined ? {} : { indexedInsertPerSecond }),
      loadAverage: load(),
    });
    log(
      `  HNSW build ${hnswBuildSeconds.toFixed(1)} s; ${Math.round(indexedInsertPerSecond ?? Number.NaN)} inserts/s with it (load ${load()})`,
    );
    const truthOf = async (layout: Layout, vectors: readonly number[][]) => {
      const truth: string[][] = [];
      for (const [q, vector] of vectors.entries()) {
        truth.push((await exact.query({ scope: scopeFor(layout, q), vector, topK: 10 })).map((match) => match.record.id));
      }
      return truth;
    };
    for (const layout of ['100 scopes', 'one scope'] as const) {
      const truth = await truthOf(layout, queryVectors[layout]);
      const automaticPath: 'exact' | 'hnsw' = scopeSize(layout) > EXACT_SEARCH_LIMIT ? 'hnsw' : 'exact';
      const measure = async (
        store: VectorStore,
        vectors: readonly number[][],
        answers: readonly (readonly string[])[],
        fields: Pick<SearchRow, 'path' | 'querySet' | 'efSearch' | 'iterativeScan' | 'maxScanTuples' | 'chosen'>,
      ): Promise<SearchRow> => {
        const measured = await measureQueries(store, layout, vectors, answers);
        const row: SearchRow = {
          store: 'postgres',
          distribution,
          dimensions,
          size,
          layout,
          scopeSize: scopeSize(layout),
          ...fields,
          queries: vectors.length,
          ...measured,
          loadAverage: load(),
        };
        save(undefined, [row]);
        const setting =
          row.path === 'hnsw'
            ? ` ef ${row.efSearch ?? DEFAULT_EF_SEARCH} ${row.iterativeScan ?? 'strict_order'}${row.maxScanTuples ? ` max ${row.maxScanTuples}` : ''}`
            : '';
        log(
          `  postgres ${layout} ${row.querySet} ${row.path}${setting}${row.chosen ? ' (chosen)' : ''}: p50 ${row.query.median.toFixed(1)} ms, p95 ${row.query.p95.toFixed(1)} ms, recall@10 ${row.recallAt10.toFixed(3)} (load ${row.loadAverage})`,
        );
        return row;
      };
      const defaults = {
        path: automaticPath,
        ...(automaticPath === 'hnsw' ? { efSearch: DEFAULT_EF_SEARCH, iterativeScan: DEFAULT_ITERATIVE_SCAN } : {}),
      };
      await measure(automatic, queryVectors[layout], truth, { ...defaults, querySet: 'tuning' });
      const tuned: SearchRow[] = [];
      for (const [setting, store] of indexOnly) {
        tuned.push(await measure(store, queryVectors[layout], truth, { path: 'hnsw', querySet: 'tuning', ...setting }));
      }
      const best = choose(tuned);
      if (best && heldOutVectors[layout].length > 0) {
        const heldOutTruth = await truthOf(layout, heldOutVectors[layout]);
        await measure(automatic, heldOutVectors[layout], heldOutTruth, { ...defaults, querySet: 'held-out' });
        const store = indexOnly.find(
          ([setting]) =>
            setting.efSearch === best.efSearch &&
            setting.iterativeScan === best.iterativeScan &&
            setting.maxScanTuples === best.maxScanTuples,
        )![1];
        await measure(store, heldOutVectors[layout], heldOutTruth, {
          path: 'hnsw',
          querySet: 'held-out',
          efSearch: best.efSearch!,
          iterativeScan: best.iterativeScan!,
          ...(best.maxScanTuples === undefined ? {} : { maxScanTuples: best.maxScanTuples }),
          chosen: true,
        });
      }
    }
  } finally {
    await exact.dropCollection().catch(() => undefined);
    await Promise.all([exact.close(), automatic.close(), ...indexOnly.map(([, store]) => store.close()), sqlite.close(), admin.end()]);
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
    ...(options.distributions ? [`--distributions ${options.distributions.join(',')}`] : []),
    ...(options.iterativeScan && options.iterativeScan.join(',') !== 'strict_order'
      ? [`--iterative-scan ${options.iterativeScan.join(',')}`]
      : []),
    ...(options.maxScanTuples?.length ? [`--max-scan-tuples ${options.maxScanTuples.join(',')}`] : []),
    ...(options.heldOutQueries ? [`--held-out-queries ${options.heldOutQueries}`] : []),
    ...(options.sqlite === false ? ['--sqlite false'] : []),
    ...(options.loadStreams > 1 ? [`--load-streams ${options.loadStreams}`] : []),
    ...(options.maintenanceWorkMem && options.maintenanceWorkMem !== SERVER_SETTINGS.maintenance_work_mem
      ? [`--maintenance-work-mem ${options.maintenanceWorkMem}`]
      : []),
    `--processes ${options.processes.length === 0 ? 'none' : options.processes.join(',')}`,
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

Measured ${describeMachine(result.machine)}${result.finishedAt ? `; finished ${result.finishedAt.slice(11, 16)} UTC` : ' (interrupted: the rows below are what it measured)'}. The machine is shared: the \`load\` columns give the 1-minute load average when each row finished, so timings are upper bounds. PostgreSQL 15 + pgvector ${PGVECTOR_VERSION}, durable (fsync and synchronous_commit on); ${settings}. Synthetic memories, the same for both stores, over 100 users (100 scopes) and one agent (one scope), top 10; queries are fresh vectors of the same distribution. Distributions: \`uniform\`, unit vectors uniformly at random (every pair nearly orthogonal: HNSW's worst case and nothing like real embeddings, kept as a stress row); \`clustered\`, like real sentence embeddings (topics, low intrinsic dimension): 64 topic centres μ ~ N(0, I₃₂) in a 32-dimensional latent space, a fixed random projection W ~ N(0, 1)^(d×32), and each vector normalise(normalise(W·(μ_topic + 0.6·N(0, I₃₂))) + ε) with ε isotropic Gaussian noise of norm about 0.1 (apps/bench/src/lib/synthetic.ts, \`ClusteredVectors\`). Rows of runs before the distributions existed are uniform.

${
  result.loads.length === 0
    ? ''
    : `## Loading

${table(
  ['store', 'vectors', 'dims', 'memories', 'bulk insert/s', 'HNSW build s', 'insert/s with HNSW', 'load'],
  result.loads.map((row) => [
    row.store,
    row.distribution ?? 'uniform',
    String(row.dimensions),
    row.size.toLocaleString('en-US'),
    rate(row.bulkInsertPerSecond),
    row.hnswBuildSeconds === undefined ? '–' : row.hnswBuildSeconds.toFixed(1),
    rate(row.indexedInsertPerSecond),
    String(row.loadAverage),
  ]),
)}

Batched upserts of 1,000 records${result.options.loadStreams > 1 ? ` (${result.options.loadStreams} in flight during the bulk load; its rate is wall-clock, generating the records included)` : ''}. PostgreSQL: bulk insert into the table without its HNSW index, then \`CREATE INDEX\` timed, then ${result.options.indexedInserts > 0 ? `${result.options.indexedInserts.toLocaleString('en-US')} more records upserted with the index in place (what \`Memory.add\` pays)` : 'no records upserted with the index in place (`--indexed-inserts 0`)'}.

`
}${
  result.search.length === 0
    ? ''
    : `## Search (ms p50 / p95, recall@10 against exact search)

${table(
  [
    'store',
    'vectors',
    'dims',
    'memories',
    'layout',
    'per scope',
    'queries',
    'path',
    'efSearch',
    'iterative scan',
    'max scan tuples',
    'query ms p50 / p95',
    'recall@10',
    'load',
  ],
  result.search.map((row) => [
    row.store,
    row.distribution ?? 'uniform',
    String(row.dimensions),
    row.size.toLocaleString('en-US'),
    row.layout,
    row.scopeSize.toLocaleString('en-US'),
    `${row.queries}${row.querySet === 'held-out' ? ' held-out' : ''}`,
    `${row.path}${row.chosen ? ' (chosen)' : ''}`,
    ef(row) === undefined ? '–' : String(ef(row)),
    row.path === 'hnsw' ? (row.iterativeScan ?? 'strict_order').replace('_order', '') : '–',
    row.path === 'hnsw' ? (row.maxScanTuples ?? DEFAULT_MAX_SCAN_TUPLES).toLocaleString('en-US') : '–',
    ms(row.query),
    row.recallAt10.toFixed(3),
    String(row.loadAverage),
  ]),
)}

Path \`exact\` compares every vector of the scope; \`hnsw\` goes through the index with pgvector's iterative scan (\`strict\`: rows in distance order; \`relaxed\`: the index may return them slightly out of order and the store re-sorts the top 10) up to \`max scan tuples\` index tuples. The first row of each layout is the store's default (\`exact\` up to ${EXACT_SEARCH_LIMIT.toLocaleString('en-US')} memories per scope, else the index at efSearch ${result.settings.efSearch ?? DEFAULT_EF_SEARCH}, ${String(result.settings.iterativeScan ?? 'strict_order').replace('_order', '')}); the other \`hnsw\` rows force the index (\`exactSearchLimit: 0\`) at each setting of the grid, on the tuning queries. Where held-out queries were run, the setting \`(chosen)\` on the tuning queries (the lowest p95 with recall@10 ≥ 0.99, else the best recall) and the default are measured again on queries of another seed: those rows are the ones to quote.
`
}
${
  result.writes.length === 0
    ? ''
    : `## Write throughput (Memory.add, infer: false; 4 calls in flight per process)

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
`
}`;
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
  settings: {
    ...serverSettings(options),
    exactSearchLimit: EXACT_SEARCH_LIMIT,
    efSearch: DEFAULT_EF_SEARCH,
    iterativeScan: DEFAULT_ITERATIVE_SCAN,
    hnswM: 16,
    hnswEfConstruction: 64,
  },
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
const server = await startPostgresServer({ durable: true, settings: serverSettings(options) });
try {
  log(`PostgreSQL at ${server.url.replace(/\/\/[^@]*@/, '//')}; writing ${options.output}`);
  save(undefined, [], await writeRows(server.url, options));
  for (const size of options.sizes) {
    for (const distribution of options.distributions)
      for (const dimensions of options.dimensions) await sizeRows(server.url, options, distribution, dimensions, size, save);
  }
  result.finishedAt = new Date().toISOString();
  save();
  process.stdout.write(render(result));
} finally {
  await server.stop();
}
