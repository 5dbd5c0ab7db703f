// One store size of part 2, in its own process so its peak memory (maxRSS) is its own.
// Forked by scale.ts with the options as JSON in argv[2]; sends the result back over IPC.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Filter } from '@mem/core/adapter';
import { InMemoryHistoryStore, Memory, type Embedder } from '@mem/core';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { Progress } from '../lib/progress';
import { seededRandom, summarize, type Summary } from '../lib/stats';
import { CATEGORIES, SyntheticMemories, scanOnce } from '../lib/synthetic';

export interface ScaleWorkerOptions {
  readonly size: number;
  readonly dimensions: number;
  readonly scopes: number;
  readonly queries: number;
  readonly batch: number;
  readonly directory?: string;
}

export interface ScaleWorkerResult {
  readonly size: number;
  readonly dimensions: number;
  readonly scopes: number;
  readonly scopeSize: number;
  readonly insert: { readonly seconds: number; readonly recordsPerSecond: number };
  readonly diskBytes: number;
  readonly rssBeforeMiB: number;
  readonly peakRssMiB: number;
  /** store.query, topK 10, in one scope. */
  readonly query: Summary;
  /** store.query with a metadata filter (category = one of 12, about 1/12 of the scope). */
  readonly queryFiltered: Summary;
  /** Memory.search (semantic + keyword, fused), limit 10, embedding excluded. */
  readonly search: Summary;
  readonly searchFiltered: Summary;
  /** One pass of cosine similarity over the scope's vectors in a tight JavaScript loop over Float32Arrays. */
  readonly scanLowerBound: Summary;
  /** The same pass over the vectors that pass the filter. */
  readonly scanLowerBoundFiltered: Summary;
}

const QUERY_TEXTS = [
  'what does Alice like to drink',
  'trip to Lisbon',
  'new job',
  'road bike',
  'jazz records',
  'pottery class',
  'history course',
  'garden',
];

async function main(options: ScaleWorkerOptions): Promise<ScaleWorkerResult> {
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'mem-bench-scale-'));
  const path = join(directory, 'scale.db');
  const rssBefore = process.memoryUsage().rss;
  const synthetic = new SyntheticMemories(options.dimensions, options.scopes, 11);
  // Keep scope 0's vectors (and their categories) for the lower bound.
  const scopeVectors: Float32Array[] = [];
  const scopeCategories: string[] = [];
  let store = new SqliteVectorStore({ path });
  await store.ensureCollection({ dimensions: options.dimensions });
  let insertMs = 0;
  const progress = new Progress(`insert ${options.size.toLocaleString('en-US')}`, options.size);
  for (let start = 0; start < options.size; start += options.batch) {
    const records = synthetic.batch(start, Math.min(options.batch, options.size - start));
    for (const record of records) {
      if (record.scope.userId === 'user-0') {
        scopeVectors.push(Float32Array.from(record.vector));
        scopeCategories.push(String(record.metadata['category']));
      }
    }
    const begin = performance.now();
    await store.upsert({ records });
    insertMs += performance.now() - begin;
    if ((start / options.batch) % 10 === 9) progress.tick(start + records.length);
  }
  progress.done();
  await store.close();
  const diskBytes = readdirSync(directory)
    .filter((name) => name.startsWith('scale.db'))
    .reduce((total, name) => total + statSync(join(directory, name)).size, 0);

  store = new SqliteVectorStore({ path });
  await store.ensureCollection({ dimensions: options.dimensions });
  const random = seededRandom(99);
  const queryVectors = Array.from({ length: options.queries }, () => synthetic.vector());
  const scopeOf = (q: number) => ({ userId: `user-${q % options.scopes}` });
  const category = (q: number) => CATEGORIES[q % CATEGORIES.length]!;
  const filterOf = (q: number): Filter => ({ op: 'eq', field: 'category', value: category(q) });
  const time = async (run: (q: number) => Promise<unknown> | unknown, warmup = Math.min(20, options.queries)): Promise<number[]> => {
    for (let q = 0; q < warmup; q++) await run(q);
    const samples: number[] = [];
    for (let q = 0; q < options.queries; q++) {
      const begin = performance.now();
      await run(q);
      samples.push(performance.now() - begin);
    }
    return samples;
  };
  const query = await time((q) => store.query({ scope: scopeOf(q), vector: queryVectors[q]!, topK: 10 }));
  const queryFiltered = await time((q) => store.query({ scope: scopeOf(q), vector: queryVectors[q]!, topK: 10, filter: filterOf(q) }));

  // Memory.search with an embedder that hands back a ready vector: the time is the search's own.
  let pending: number[] = [];
  const embedder: Embedder = {
    provider: 'bench',
    model: 'precomputed',
    async embed() {
      return { vectors: [pending], tokens: 0 };
    },
  };
  const memory = new Memory({ embedder, vectorStore: store, historyStore: new InMemoryHistoryStore() });
  const searchOnce = (q: number, filtered: boolean) => {
    pending = queryVectors[q]!;
    const text = QUERY_TEXTS[Math.floor(random() * QUERY_TEXTS.length)]!;
    return memory.search(text, { scope: scopeOf(q), limit: 10, ...(filtered ? { filter: { category: category(q) } } : {}) });
  };
  const search = await time((q) => searchOnce(q, false));
  const searchFiltered = await time((q) => searchOnce(q, true));
  const scanQuery = Float32Array.from(queryVectors[0]!);
  const filteredVectors = scopeVectors.filter((_, index) => scopeCategories[index] === category(0));
  const scanLowerBound = await time(() => scanOnce(scopeVectors, scanQuery));
  const scanLowerBoundFiltered = await time(() => scanOnce(filteredVectors, scanQuery));
  await memory.close();
  if (!options.directory) rmSync(directory, { recursive: true, force: true });
  const seconds = insertMs / 1000;
  return {
    size: options.size,
    dimensions: options.dimensions,
    scopes: options.scopes,
    scopeSize: scopeVectors.length,
    insert: { seconds, recordsPerSecond: options.size / seconds },
    diskBytes,
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    query: summarize(query),
    queryFiltered: summarize(queryFiltered),
    search: summarize(search),
    searchFiltered: summarize(searchFiltered),
    scanLowerBound: summarize(scanLowerBound),
    scanLowerBoundFiltered: summarize(scanLowerBoundFiltered),
  };
}

const options = JSON.parse(process.argv[2] ?? '{}') as ScaleWorkerOptions;
const result = await main(options);
if (process.send) process.send(result, () => process.exit(0));
else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
