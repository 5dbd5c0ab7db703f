// A/B of SqliteVectorStore's approximate search against its exact one (the vector cache's scan) on
// the same file, queries interleaved so that a shared machine's load falls on both alike (not a
// test). One scope of --size memories, --vectors uniform or clustered; reports store.query p50/p95
// of each, the approximate path's recall@10 against the exact answers, the index build (in the
// store's worker thread, from the 2nd search: how long, how the event loop fared, the searches
// answered meanwhile, the first search after it that switches to the index), reopening with the
// saved index (open → 1st query), peak RSS and the index's disk size.
//
//   pnpm --filter @mem/bench exec tsx src/approximate.ts --size 100000 --dimensions 384 --vectors clustered \
//     --stores /path/to/kept/stores [--queries 300] [--expansion 256] [--candidates 64]
//
// --reopen-only reads a file and index an earlier run left: open → 1st query, then the queries
// through the index alone and the process's peak RSS. With --recall it also ranks each query
// exactly (the vector cache's scan, read once) and sweeps every --expansion × --candidates pair
// (comma lists) over the same saved index, with its recall@10 and latency; --query-seed picks
// another set of queries (fresh draws of the same topics), so that settings are chosen on one set
// and reported on another.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { SqliteVectorStore, type SqliteVectorStoreOptions } from '@mem/vector-sqlite';
import { summarize } from './lib/stats';
import { SyntheticMemories, type VectorDistribution } from './lib/synthetic';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100000' },
    dimensions: { type: 'string', default: '384' },
    vectors: { type: 'string', default: 'clustered' },
    queries: { type: 'string', default: '300' },
    stores: { type: 'string' },
    'min-scope': { type: 'string' },
    // approximateExpansion and approximateCandidates (comma lists with --reopen-only --recall); the store's defaults if left out.
    expansion: { type: 'string' },
    candidates: { type: 'string' },
    // Seconds between the searches asked while the index builds (each ranks exactly in SQLite).
    'search-every': { type: 'string', default: '10' },
    // Only reopen a file an earlier run filled and indexed: open → 1st query with the saved index, then
    // the queries through it alone, and this process's peak RSS (no exact cache beside the index).
    'reopen-only': { type: 'boolean', default: false },
    recall: { type: 'boolean', default: false },
    'query-seed': { type: 'string', default: '1001' },
  },
});
const size = Number(args.size);
const dimensions = Number(args.dimensions);
const queries = Number(args.queries);
const distribution = args.vectors as VectorDistribution;
if (distribution !== 'uniform' && distribution !== 'clustered') throw new Error('--vectors takes uniform or clustered');
if (!args.stores) throw new Error('--stores DIR: where the filled file is kept between runs');
mkdirSync(args.stores, { recursive: true });
const path = join(args.stores, `approximate-${size}x${dimensions}-${distribution}.db`);
const done = `${path}.filled`;
const scope = { userId: 'user-0' };
const list = (value: string | undefined): (number | undefined)[] => (value === undefined ? [undefined] : value.split(',').map(Number));
const expansions = list(args.expansion);
const candidateCounts = list(args.candidates);
const approximateOptions = (expansion: number | undefined, candidates: number | undefined): SqliteVectorStoreOptions => ({
  path,
  approximate: true,
  ...(args['min-scope'] === undefined ? {} : { approximateMinScope: Number(args['min-scope']) }),
  ...(expansion === undefined ? {} : { approximateExpansion: expansion }),
  ...(candidates === undefined ? {} : { approximateCandidates: candidates }),
});
const ms = (value: number) => value.toFixed(2);
const ids = (matches: readonly { record: { id: string } }[]) => matches.map((match) => match.record.id);
/** The share of each query's exact top 10 that its approximate answer holds, averaged. */
const recallOf = (got: readonly string[][], truth: readonly string[][]) =>
  got.reduce((sum, answer, q) => sum + answer.filter((id) => truth[q]!.includes(id)).length / truth[q]!.length, 0) / got.length;

if (args['reopen-only']) {
  if (!existsSync(done) || !existsSync(`${path}.ann`)) throw new Error(`--reopen-only: run once without it first (${path})`);
  // Fresh draws of the same distribution (same topics: the topic centres are fixed by the dimensions), not the fill's draws.
  const synthetic = new SyntheticMemories(dimensions, 1, Number(args['query-seed']), undefined, distribution);
  const asked = Array.from({ length: queries }, () => synthetic.vector());
  let truth: string[][] | undefined;
  if (args.recall) {
    const exact = new SqliteVectorStore({ path });
    await exact.ensureCollection({ dimensions });
    truth = [];
    for (let q = 0; q < queries; q++) truth.push(ids(await exact.query({ scope, vector: asked[q]!, topK: 10 })));
    await exact.close();
  }
  for (const expansion of expansions) {
    for (const candidates of candidateCounts) {
      const rssBefore = process.memoryUsage().rss;
      const opening = performance.now();
      const store = new SqliteVectorStore(approximateOptions(expansion, candidates));
      await store.ensureCollection({ dimensions });
      await store.query({ scope, vector: asked[0]!, topK: 10 });
      const openMs = performance.now() - opening;
      const times: number[] = [];
      const got: string[][] = [];
      for (let q = 0; q < queries; q++) {
        const begin = performance.now();
        got.push(ids(await store.query({ scope, vector: asked[q]!, topK: 10 })));
        times.push(performance.now() - begin);
      }
      await store.close();
      const summary = summarize(times);
      console.log(
        JSON.stringify({
          size,
          dimensions,
          vectors: distribution,
          querySeed: Number(args['query-seed']),
          expansion: expansion ?? 'default',
          candidates: candidates ?? 'default',
          openToFirstQueryMs: Math.round(openMs),
          approximateQuery: `${ms(summary.median)} / ${ms(summary.p95)}`,
          ...(truth === undefined ? {} : { recallAt10: recallOf(got, truth) }),
          rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
          peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
        }),
      );
    }
  }
  process.exit(0);
}

const synthetic = new SyntheticMemories(dimensions, 1, 11, undefined, distribution);
let fillSeconds: number | undefined;
if (!existsSync(done)) {
  for (const file of readdirSync(args.stores))
    if (file.startsWith(`approximate-${size}x${dimensions}-${distribution}.db`))
      rmSync(join(args.stores, file), { recursive: true, force: true });
  const filling = new SqliteVectorStore({ path, vectorCache: false });
  await filling.ensureCollection({ dimensions });
  const begin = performance.now();
  for (let start = 0; start < size; start += 1000) await filling.upsert({ records: synthetic.batch(start, Math.min(1000, size - start)) });
  fillSeconds = (performance.now() - begin) / 1000;
  await filling.close();
  writeFileSync(done, String(fillSeconds));
} else {
  for (let start = 0; start < size; start += 1000) synthetic.batch(start, Math.min(1000, size - start));
}
rmSync(`${path}.ann`, { recursive: true, force: true });
const vectors = Array.from({ length: queries }, () => synthetic.vector());

const exact = new SqliteVectorStore({ path });
const approximate = new SqliteVectorStore(approximateOptions(expansions[0], candidateCounts[0]));
await exact.ensureCollection({ dimensions });
await approximate.ensureCollection({ dimensions });
const ask = (store: SqliteVectorStore, q: number) => store.query({ scope, vector: vectors[q]!, topK: 10 });
// First search: SQLite; second: reads the scope (exact: float32 into the cache, blocking; approximate:
// starts the index build in a worker thread and answers in SQLite).
await ask(exact, 0);
let begin = performance.now();
await ask(exact, 1);
const exactBuildMs = performance.now() - begin;
await ask(approximate, 0);
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
begin = performance.now();
await ask(approximate, 1);
const secondSearchMs = performance.now() - begin;
// While the worker builds: a search every --search-every seconds (each ranks exactly in SQLite and
// must equal the exact store's answer), and the event loop's delays (a timer every 10 ms).
let building = true;
const built = approximate.approximateIndexesBuilt().then(() => {
  building = false;
});
const duringTimes: number[] = [];
let duringExact = 0;
for (let q = 2; building; q++) {
  await Promise.race([sleep(Number(args['search-every']) * 1000), built]);
  if (!building) break;
  const started = performance.now();
  const answer = await ask(approximate, q % queries);
  duringTimes.push(performance.now() - started);
  if (ids(answer).join() === ids(await ask(exact, q % queries)).join()) duringExact++;
}
await built;
const buildMs = performance.now() - begin;
delay.disable();
// The first search after the build takes the index (reads the worker's file, catches up from the log).
begin = performance.now();
await ask(approximate, 0);
const switchMs = performance.now() - begin;
const exactTimes: number[] = [];
const approximateTimes: number[] = [];
const got: string[][] = [];
const truth: string[][] = [];
for (let q = 0; q < queries; q++) {
  begin = performance.now();
  truth.push(ids(await ask(exact, q)));
  exactTimes.push(performance.now() - begin);
  begin = performance.now();
  got.push(ids(await ask(approximate, q)));
  approximateTimes.push(performance.now() - begin);
}
await exact.close();
await approximate.close();
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
const annBytes = readdirSync(`${path}.ann`).reduce((total, file) => total + statSync(join(`${path}.ann`, file)).size, 0);
const fileBytes = statSync(path).size;
// Reopen: the saved index is read and caught up from the change log on the first search.
begin = performance.now();
const reopened = new SqliteVectorStore(approximateOptions(expansions[0], candidateCounts[0]));
await reopened.ensureCollection({ dimensions });
await ask(reopened, 0);
const openToFirstQueryMs = performance.now() - begin;
await reopened.close();
const exactSummary = summarize(exactTimes);
const approximateSummary = summarize(approximateTimes);
const duringSummary = summarize(duringTimes);
console.log(
  JSON.stringify(
    {
      size,
      dimensions,
      vectors: distribution,
      queries,
      expansion: expansions[0] ?? 'default',
      candidates: candidateCounts[0] ?? 'default',
      ...(fillSeconds === undefined ? {} : { fillSeconds }),
      exactQuery: `${ms(exactSummary.median)} / ${ms(exactSummary.p95)}`,
      approximateQuery: `${ms(approximateSummary.median)} / ${ms(approximateSummary.p95)}`,
      recallAt10: recallOf(got, truth),
      exactCacheBuildMs: Math.round(exactBuildMs),
      secondSearchMs: Math.round(secondSearchMs),
      indexBuildMs: Math.round(buildMs),
      searchesDuringBuild: duringTimes.length,
      searchesDuringBuildExact: duringExact,
      searchDuringBuild: duringTimes.length === 0 ? 'none' : `${ms(duringSummary.median)} / ${ms(Math.max(...duringTimes))} (max)`,
      eventLoopDelayDuringBuildMs: `p50 ${ms(delay.percentile(50) / 1e6)}, p99 ${ms(delay.percentile(99) / 1e6)}, max ${ms(delay.max / 1e6)}`,
      switchToIndexMs: Math.round(switchMs),
      openToFirstQueryMsWithSavedIndex: Math.round(openToFirstQueryMs),
      peakRssMiB: Math.round(peakRssMiB),
      databaseMiB: Math.round(fileBytes / 2 ** 20),
      savedIndexMiB: Math.round(annBytes / 2 ** 20),
    },
    null,
    2,
  ),
);
