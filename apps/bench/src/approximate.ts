// A/B of SqliteVectorStore's approximate search against its exact one (the vector cache's scan) on
// the same file, queries interleaved so that a shared machine's load falls on both alike (not a
// test). One scope of --size memories, --vectors uniform or clustered; reports store.query p50/p95
// of each, the approximate path's recall@10 against the exact answers, the index build (the 2nd
// search), reopening with the saved index (open → 1st query), peak RSS and the index's disk size.
//
//   pnpm --filter @mem/bench exec tsx src/approximate.ts --size 100000 --dimensions 384 --vectors clustered \
//     --stores /path/to/kept/stores [--queries 300]
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteVectorStore } from '@mem/vector-sqlite';
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
    // Only reopen a file an earlier run filled and indexed: open → 1st query with the saved index, then
    // the queries through it alone, and this process's peak RSS (no exact cache beside the index).
    'reopen-only': { type: 'boolean', default: false },
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
const synthetic = new SyntheticMemories(dimensions, 1, 11, undefined, distribution);
if (args['reopen-only']) {
  if (!existsSync(done) || !existsSync(`${path}.ann`)) throw new Error(`--reopen-only: run once without it first (${path})`);
  // Fresh draws of the same distribution (same topics), without replaying the fill's draws: nothing but the store in memory.
  const asked = Array.from({ length: queries }, () => synthetic.vector());
  const minScope = args['min-scope'] === undefined ? {} : { approximateMinScope: Number(args['min-scope']) };
  const rssBefore = process.memoryUsage().rss;
  const opening = performance.now();
  const store = new SqliteVectorStore({ path, approximate: true, ...minScope });
  await store.ensureCollection({ dimensions });
  await store.query({ scope: { userId: 'user-0' }, vector: asked[0]!, topK: 10 });
  const openMs = performance.now() - opening;
  const times: number[] = [];
  for (let q = 0; q < queries; q++) {
    const begin = performance.now();
    await store.query({ scope: { userId: 'user-0' }, vector: asked[q]!, topK: 10 });
    times.push(performance.now() - begin);
  }
  await store.close();
  const summary = summarize(times);
  console.log(
    JSON.stringify({
      size,
      vectors: distribution,
      openToFirstQueryMs: Math.round(openMs),
      approximateQuery: `${summary.median.toFixed(2)} / ${summary.p95.toFixed(2)}`,
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
  process.exit(0);
}
const scope = { userId: 'user-0' };
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
const minScope = args['min-scope'] === undefined ? {} : { approximateMinScope: Number(args['min-scope']) };
const approximate = new SqliteVectorStore({ path, approximate: true, ...minScope });
await exact.ensureCollection({ dimensions });
await approximate.ensureCollection({ dimensions });
const ask = (store: SqliteVectorStore, q: number) => store.query({ scope, vector: vectors[q]!, topK: 10 });
// First search: SQLite; second: reads the scope (exact: float32 into the cache; approximate: builds the index).
await ask(exact, 0);
let begin = performance.now();
await ask(exact, 1);
const exactBuildMs = performance.now() - begin;
await ask(approximate, 0);
begin = performance.now();
await ask(approximate, 1);
const buildMs = performance.now() - begin;
const exactTimes: number[] = [];
const approximateTimes: number[] = [];
let found = 0;
for (let q = 0; q < queries; q++) {
  begin = performance.now();
  const truth = await ask(exact, q);
  exactTimes.push(performance.now() - begin);
  begin = performance.now();
  const got = await ask(approximate, q);
  approximateTimes.push(performance.now() - begin);
  const truthIds = new Set(truth.map((match) => match.record.id));
  found += got.filter((match) => truthIds.has(match.record.id)).length / truth.length;
}
await exact.close();
await approximate.close();
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
const annBytes = readdirSync(`${path}.ann`).reduce((total, file) => total + statSync(join(`${path}.ann`, file)).size, 0);
const fileBytes = statSync(path).size;
// Reopen: the saved index is read and caught up from the change log on the first search.
begin = performance.now();
const reopened = new SqliteVectorStore({ path, approximate: true, ...minScope });
await reopened.ensureCollection({ dimensions });
await ask(reopened, 0);
const openToFirstQueryMs = performance.now() - begin;
await reopened.close();
const ms = (value: number) => value.toFixed(2);
const exactSummary = summarize(exactTimes);
const approximateSummary = summarize(approximateTimes);
console.log(
  JSON.stringify(
    {
      size,
      dimensions,
      vectors: distribution,
      queries,
      ...(fillSeconds === undefined ? {} : { fillSeconds }),
      exactQuery: `${ms(exactSummary.median)} / ${ms(exactSummary.p95)}`,
      approximateQuery: `${ms(approximateSummary.median)} / ${ms(approximateSummary.p95)}`,
      recallAt10: found / queries,
      exactCacheBuildMs: Math.round(exactBuildMs),
      indexBuildMs: Math.round(buildMs),
      openToFirstQueryMsWithSavedIndex: Math.round(openToFirstQueryMs),
      peakRssMiB: Math.round(peakRssMiB),
      databaseMiB: Math.round(fileBytes / 2 ** 20),
      savedIndexMiB: Math.round(annBytes / 2 ** 20),
    },
    null,
    2,
  ),
);
