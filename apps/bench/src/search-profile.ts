// Where the time of `Memory.search` goes on a filled store (not a test): a file that
// `npm run bench -- scale --scale-stores DIR` filled is opened with SqliteVectorStore (read only by
// the searches; nothing is written), the scope user-0 is searched --searches times as the scale part's
// Memory.search row does (limit 10, a synthetic query vector handed over by the embedder, a LongMemEval
// question as the text) after warm-up searches and the keyword index's read of the scope, and the time
// spent inside each store method is reported per search beside the p50 / p95.
//
//   pnpm --filter @mem/bench exec tsx src/search-profile.ts --store DIR/scale-1000000x384-1scopes-longmemeval-clustered.db \
//     --dimensions 384 --vectors clustered --searches 40 [--approximate] [--filter] [--mmap-size BYTES] [--longmemeval DIR]
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InMemoryHistoryStore, Memory } from '@mem/core';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { precomputedEmbedder, timedMethods } from './lib/bench-parts';
import { loadLongMemEval } from './lib/longmemeval';
import { summarize } from './lib/stats';
import { CATEGORIES, SyntheticMemories, type VectorDistribution } from './lib/synthetic';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string' },
    dimensions: { type: 'string', default: '384' },
    vectors: { type: 'string', default: 'clustered' },
    searches: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '10' },
    approximate: { type: 'boolean', default: false },
    // Each search with a metadata filter, { category: one of the 12 }, as the scale part's "with filter" rows.
    filter: { type: 'boolean', default: false },
    // SqliteVectorStore's mmapSizeBytes (default the store's, 1 GiB; 0 reads the file without mapping it).
    'mmap-size': { type: 'string' },
    longmemeval: { type: 'string', default: resolve(import.meta.dirname, '../../../../shared/data/longmemeval-oracle/questions') },
  },
});
if (!args.store || !existsSync(args.store)) throw new Error('--store PATH: a file filled by the scale part (--scale-stores)');
const dimensions = Number(args.dimensions);
const searches = Number(args.searches);
const warmup = Number(args.warmup);
const synthetic = new SyntheticMemories(dimensions, 1, 12, undefined, args.vectors as VectorDistribution);
const questions = loadLongMemEval(args.longmemeval).map((question) => question.question);

const store = new SqliteVectorStore({
  path: args.store,
  approximate: args.approximate,
  ...(args['mmap-size'] === undefined ? {} : { mmapSizeBytes: Number(args['mmap-size']) }),
});
await store.ensureCollection({ dimensions });
/** Milliseconds inside each store method over the measured searches. */
const inside = new Map<string, number>();
let measuring = false;
const precomputed = precomputedEmbedder();
const memory = new Memory({
  embedder: precomputed.embedder,
  vectorStore: timedMethods('vector', store, inside, () => measuring),
  historyStore: new InMemoryHistoryStore(),
});
let asked = 0;
const search = async (): Promise<number> => {
  precomputed.next(synthetic.vector());
  const begin = performance.now();
  const filter = args.filter ? { filter: { category: CATEGORIES[asked % CATEGORIES.length]! } } : {};
  await memory.search(questions[asked++ % questions.length]!, { scope: { userId: 'user-0' }, limit: 10, ...filter });
  return performance.now() - begin;
};
for (let index = 0; index < warmup; index++) await search();
await store.approximateIndexesBuilt();
while (store.keywordIndexState()?.reading) await new Promise((resolve) => setImmediate(resolve));
measuring = true;
const samples: number[] = [];
for (let index = 0; index < searches; index++) samples.push(await search());
const summary = summarize(samples);
console.log(
  `Memory.search${args.filter ? ' with a category filter' : ''} over ${searches} searches: p50 ${summary.median.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms`,
);
for (const [name, ms] of [...inside].sort((a, b) => b[1] - a[1]))
  console.log(`  ${name.padEnd(24)} ${(ms / searches).toFixed(3)} ms per search`);
// Resident memory now, split as Linux counts it: anonymous (heaps, the indexes) and file pages (SQLite's
// memory-mapped reads of the file, clean and reclaimable; `mmapSizeBytes`, 1 GiB by default).
const status = existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '';
const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
console.log(
  `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB: anonymous ${(kib('RssAnon') / 1024).toFixed(0)} MiB, file ${(kib('RssFile') / 1024).toFixed(0)} MiB (peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
);
await memory.close();
