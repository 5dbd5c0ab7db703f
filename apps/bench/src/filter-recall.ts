// Recall of category-filtered vector queries through an approximate index (not a test): a file that
// `npm run bench -- scale --scale-stores DIR --approximate on` filled is opened twice, with
// `approximate: true` (its saved index, or one built first) and with `vectorCache: false` (exact, in
// SQLite), and --queries synthetic query vectors with a filter on one of the 12 categories (about 1 in
// 12 of the scope) are asked of both in scope user-0, topK 10; the share of the exact answer the
// approximate one holds, and the approximate query's p50 / p95, are printed.
//
//   pnpm --filter @mem/bench exec tsx src/filter-recall.ts --store DIR/scale-1000000x384-1scopes-longmemeval-clustered.db \
//     --dimensions 384 --vectors clustered --queries 100
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Filter } from '@mem/core/adapter';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { summarize } from './lib/stats';
import { CATEGORIES, SyntheticMemories, type VectorDistribution } from './lib/synthetic';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string' },
    dimensions: { type: 'string', default: '384' },
    vectors: { type: 'string', default: 'clustered' },
    queries: { type: 'string', default: '100' },
  },
});
if (!args.store || !existsSync(args.store)) throw new Error('--store PATH: a file filled by the scale part (--scale-stores)');
const dimensions = Number(args.dimensions);
const queries = Number(args.queries);
const synthetic = new SyntheticMemories(dimensions, 1, 99, undefined, args.vectors as VectorDistribution);
const scope = { userId: 'user-0' };

const approximate = new SqliteVectorStore({ path: args.store, approximate: true });
await approximate.ensureCollection({ dimensions });
// The first search ranks exactly, the second takes the saved index or starts a build.
for (let round = 0; round < 2; round++) await approximate.query({ scope, vector: synthetic.vector(), topK: 10 });
await approximate.approximateIndexesBuilt();
await approximate.query({ scope, vector: synthetic.vector(), topK: 10 });
const exact = new SqliteVectorStore({ path: args.store, vectorCache: false });
await exact.ensureCollection({ dimensions });

const samples: number[] = [];
let found = 0;
for (let query = 0; query < queries; query++) {
  const vector = synthetic.vector();
  const filter: Filter = { op: 'eq', field: 'category', value: CATEGORIES[query % CATEGORIES.length]! };
  const begin = performance.now();
  const got = await approximate.query({ scope, vector, topK: 10, filter });
  samples.push(performance.now() - begin);
  const truth = new Set((await exact.query({ scope, vector, topK: 10, filter })).map((match) => match.record.id));
  found += got.filter((match) => truth.has(match.record.id)).length / Math.max(truth.size, 1);
}
const summary = summarize(samples);
console.log(
  `store.query with a category filter over ${queries} queries: recall@10 against exact ${(found / queries).toFixed(4)}, p50 ${summary.median.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms`,
);
await approximate.close();
await exact.close();
