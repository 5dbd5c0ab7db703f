// One store size of part 2, in its own process so its peak memory (maxRSS) is its own.
// Forked by scale.ts with the options as JSON in argv[2]; sends the result back over IPC.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notExpiredFilter, type Filter } from '@mem/core/adapter';
import { InMemoryHistoryStore, Memory, type Embedder, type LLM } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { precomputedEmbedder, twoFactsPerAdd } from '../lib/bench-parts';
import { loadLongMemEval } from '../lib/longmemeval';
import { Progress } from '../lib/progress';
import { seededRandom, summarize, type Summary } from '../lib/stats';
import { CATEGORIES, SyntheticMemories, scanOnce, type VectorDistribution } from '../lib/synthetic';

export interface ScaleWorkerOptions {
  readonly size: number;
  readonly dimensions: number;
  readonly scopes: number;
  readonly queries: number;
  readonly batch: number;
  /** Measured `Memory.add` calls (infer: true, two turns, two facts added) in scope 0 after the searches. */
  readonly adds: number;
  /** LongMemEval oracle folder: memory texts are its turns (real lengths), queries its questions; absent: one-line texts. */
  readonly longMemEvalPath?: string;
  /**
   * Keep the filled store in this folder and, when a store of the same size, dimensions, scopes and
   * texts is already there (its sidecar `.json` is written once the insert is complete), measure it
   * instead of inserting again: a 1M-memory store takes a quarter of an hour to fill.
   */
  readonly storeDirectory?: string;
  /** SqliteVectorStore's vectorCache for the measured stores (default true; the fill only writes, so builds no cache). */
  readonly vectorCache?: boolean;
  /** SqliteVectorStore's keywordIndex for the measured stores (default true). */
  readonly keywordIndex?: boolean;
  /** SqliteVectorStore's approximate search for the measured stores (default false). */
  readonly approximate?: boolean;
  /** SqliteVectorStore's approximateMinScope (default the store's own). */
  readonly approximateMinScope?: number;
  /** SqliteVectorStore's keywordIndexBytes (default the store's own, 512 MiB). */
  readonly keywordIndexBytes?: number;
  /** How the synthetic vectors are drawn (default uniform; see VectorDistribution). */
  readonly vectors?: VectorDistribution;
}

/** What a kept store's sidecar records: what it holds and how fast it was filled. */
interface KeptStore {
  readonly size: number;
  readonly dimensions: number;
  readonly scopes: number;
  readonly texts: string;
  /** Absent in sidecars written before the option: uniform. */
  readonly vectors?: VectorDistribution;
  readonly insertSeconds: number;
  readonly diskBytes: number;
  readonly textLengths: { readonly medianChars: number; readonly p95Chars: number };
}

export interface ScaleWorkerResult {
  readonly size: number;
  /** Queries per kind (absent in results saved before it was recorded). */
  readonly queries?: number;
  readonly dimensions: number;
  readonly scopes: number;
  readonly scopeSize: number;
  readonly insert: { readonly seconds: number; readonly recordsPerSecond: number };
  /** The store was filled by an earlier run (kept with --scale-stores); insert and disk figures are that run's. */
  readonly reused?: boolean;
  /**
   * Milliseconds from opening the filled file (a new SqliteVectorStore and ensureCollection) to the
   * first store.query answer in scope 0, with the file in the OS page cache (absent in older results).
   */
  readonly openToFirstQueryMs?: number;
  /**
   * Milliseconds of the second store.query in scope 0 right after the first: with the vector cache on,
   * the search that reads the scope into the cache (absent in older results).
   */
  readonly secondQueryMs?: number;
  /**
   * With approximate on: milliseconds from the second store.query's answer until every approximate
   * index it started has been built (approximateIndexesBuilt), so that the measured searches use them.
   * The build runs in a worker thread; searches meanwhile rank exactly. Absent when off or in older results.
   */
  readonly approximateBuildMs?: number;
  /** Whether the measured stores kept the scope vector cache (absent in results saved before the option). */
  readonly vectorCache?: boolean;
  /** Whether the measured stores kept the scope keyword index (absent in results saved before the option). */
  readonly keywordIndex?: boolean;
  /** Whether the measured stores searched large scopes approximately (absent in older results: no). */
  readonly approximate?: boolean;
  /** How the synthetic vectors were drawn (absent in older results: uniform). */
  readonly vectors?: VectorDistribution;
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
  /**
   * The keyword leg of Memory.search alone: store.keywordQuery as the search asks it (topK 40, the
   * not-expired filter) with the query texts. Absent in results saved before it was measured.
   */
  readonly keyword?: Summary;
  /**
   * The scope keyword index of the scopes the searches reach (scope 0 alone in results saved before
   * 2026-12-08 morning, which lack `scopesRead`), read before the searches are measured, one scope
   * after another: from the search that starts a read to the scope held, reading between searches
   * (setImmediate turns, nothing else running); the scopes then held (fewer when the budget holds
   * fewer), their estimated bytes, postings and the postings' compressed bytes. Absent when the
   * index is off, the store cannot tell (older versions) or no scope was held (past the budget).
   */
  readonly keywordIndexRead?: {
    readonly ms: number;
    readonly scopesRead?: number;
    readonly scopesHeld?: number;
    readonly bytes: number;
    readonly postings: number;
    readonly postingBytes: number;
    readonly rssMiB: number;
  };
  /** One pass of cosine similarity over the scope's vectors in a tight JavaScript loop over Float32Arrays. */
  readonly scanLowerBound: Summary;
  /** The same pass over the vectors that pass the filter. */
  readonly scanLowerBoundFiltered: Summary;
  /**
   * recall@10 of store.query against an exact ranking (JavaScript, float64 dot products of the stored
   * float32 vectors) of scope 0, averaged over `recallQueries` queries: 1 for an exact search. Absent
   * in results saved before it was measured.
   */
  readonly recall?: { readonly at10: number; readonly queries: number };
  /** Where the memory texts came from, and their length in characters. */
  readonly texts: { readonly source: string; readonly medianChars: number; readonly p95Chars: number };
  /**
   * `Memory.add` (reconcile strategy, SqliteVectorStore + SqliteHistoryStore in the store's file)
   * of two turns whose extraction adds two facts: wall time minus the time inside the in-process
   * LLM and embedder (a script and ready vectors), so the pipeline and the stores' own time.
   */
  readonly add?: Summary;
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

/** The turns (distinct texts, in file order) and questions of the LongMemEval oracle. */
function longMemEvalTexts(path: string): { turns: string[]; questions: string[] } {
  const questions = loadLongMemEval(path);
  const turns = new Set<string>();
  for (const question of questions)
    for (const session of question.sessions) for (const turn of session.turns) if (turn.content.trim() !== '') turns.add(turn.content);
  return { turns: [...turns], questions: questions.map((question) => question.question) };
}

function lengths(texts: readonly string[]): { medianChars: number; p95Chars: number } {
  const summary = summarize(texts.map((text) => text.length));
  return { medianChars: summary.median, p95Chars: summary.p95 };
}

async function main(options: ScaleWorkerOptions): Promise<ScaleWorkerResult> {
  const textsKind = options.longMemEvalPath ? 'longmemeval' : 'short';
  const directory = options.storeDirectory ?? mkdtempSync(join(tmpdir(), 'mem-bench-scale-'));
  mkdirSync(directory, { recursive: true });
  const distribution = options.vectors ?? 'uniform';
  const vectorsPart = distribution === 'uniform' ? '' : `-${distribution}`;
  const name = options.storeDirectory
    ? `scale-${options.size}x${options.dimensions}-${options.scopes}scopes-${textsKind}${vectorsPart}.db`
    : 'scale.db';
  const path = join(directory, name);
  const sidecar = `${path}.json`;
  const real = options.longMemEvalPath ? longMemEvalTexts(options.longMemEvalPath) : undefined;
  const queryTexts = real?.questions ?? QUERY_TEXTS;
  const rssBefore = process.memoryUsage().rss;
  const synthetic = new SyntheticMemories(options.dimensions, options.scopes, 11, real?.turns, distribution);
  const kept = options.storeDirectory && existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as KeptStore) : undefined;
  const reused =
    kept !== undefined &&
    kept.size === options.size &&
    kept.dimensions === options.dimensions &&
    kept.scopes === options.scopes &&
    kept.texts === textsKind &&
    (kept.vectors ?? 'uniform') === distribution;
  const storedTexts: string[] = [];
  let insertMs = 0;
  let diskBytes = 0;
  if (reused) {
    insertMs = kept.insertSeconds * 1000;
    diskBytes = kept.diskBytes;
    // The queries draw from the same seeded generator as a fresh run: skip the memories' draws.
    for (let start = 0; start < options.size; start += options.batch) synthetic.batch(start, Math.min(options.batch, options.size - start));
  } else {
    // A kept store's files: the database, its WAL and lock, the .json record and the saved approximate index (a folder).
    for (const file of readdirSync(directory)) if (file.startsWith(name)) rmSync(join(directory, file), { force: true, recursive: true });
    const filling = new SqliteVectorStore({ path });
    await filling.ensureCollection({ dimensions: options.dimensions });
    const progress = new Progress(`insert ${options.size.toLocaleString('en-US')}`, options.size);
    for (let start = 0; start < options.size; start += options.batch) {
      const records = synthetic.batch(start, Math.min(options.batch, options.size - start));
      for (const record of records) if (storedTexts.length < 20_000) storedTexts.push(record.text);
      const begin = performance.now();
      await filling.upsert({ records });
      insertMs += performance.now() - begin;
      if ((start / options.batch) % 10 === 9) progress.tick(start + records.length);
    }
    progress.done();
    await filling.close();
    diskBytes = readdirSync(directory)
      .filter((file) => file.startsWith(name) && !file.endsWith('.json'))
      .reduce((total, file) => total + statSync(join(directory, file)).size, 0);
    if (options.storeDirectory) {
      const record: KeptStore = {
        size: options.size,
        dimensions: options.dimensions,
        scopes: options.scopes,
        texts: textsKind,
        vectors: distribution,
        insertSeconds: insertMs / 1000,
        diskBytes,
        textLengths: lengths(storedTexts),
      };
      writeFileSync(sidecar, JSON.stringify(record));
    }
  }

  const queryVectors = Array.from({ length: options.queries }, () => synthetic.vector());
  const opening = performance.now();
  const vectorCache = options.vectorCache !== false;
  const keywordIndex = options.keywordIndex !== false;
  const approximate = options.approximate === true;
  const storeOptions = {
    vectorCache,
    keywordIndex,
    approximate,
    ...(options.approximateMinScope === undefined ? {} : { approximateMinScope: options.approximateMinScope }),
    ...(options.keywordIndexBytes === undefined ? {} : { keywordIndexBytes: options.keywordIndexBytes }),
  };
  const store = new SqliteVectorStore({ path, ...storeOptions });
  await store.ensureCollection({ dimensions: options.dimensions });
  await store.query({ scope: { userId: 'user-0' }, vector: queryVectors[0]!, topK: 10 });
  const openToFirstQueryMs = performance.now() - opening;
  const second = performance.now();
  await store.query({ scope: { userId: 'user-0' }, vector: queryVectors[1 % queryVectors.length]!, topK: 10 });
  const secondQueryMs = performance.now() - second;
  // The measured searches are those of a built index (a build's own searches rank exactly meanwhile).
  const building = performance.now();
  if (approximate) await store.approximateIndexesBuilt();
  const approximateBuildMs = approximate ? performance.now() - building : undefined;
  const random = seededRandom(99);
  const scopeOf = (q: number) => ({ userId: `user-${q % options.scopes}` });
  const category = (q: number) => CATEGORIES[q % CATEGORIES.length]!;
  const filterOf = (q: number): Filter => ({ op: 'eq', field: 'category', value: category(q) });
  // Warm-up: 20 calls, and at least two per scope the calls reach (a scope's vector cache is read on
  // its 2nd search, its dates on its first neighbour read), so the samples are the steady state; the
  // cost of reading a scope is the 2nd query column.
  const warmupCalls = Math.min(options.queries, Math.max(20, 2 * options.scopes));
  const time = async (run: (q: number) => Promise<unknown> | unknown, warmup = warmupCalls): Promise<number[]> => {
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
  const precomputed = precomputedEmbedder();
  const memory = new Memory({ embedder: precomputed.embedder, vectorStore: store, historyStore: new InMemoryHistoryStore() });
  const searchOnce = (q: number, filtered: boolean) => {
    precomputed.next(queryVectors[q]!);
    const text = queryTexts[Math.floor(random() * queryTexts.length)]!;
    return memory.search(text, { scope: scopeOf(q), limit: 10, ...(filtered ? { filter: { category: category(q) } } : {}) });
  };
  const keywordIndexRead = keywordIndex
    ? await readKeywordIndex(store, queryTexts[0]!, Math.min(options.scopes, options.queries))
    : undefined;
  const search = await time((q) => searchOnce(q, false));
  const searchFiltered = await time((q) => searchOnce(q, true));
  const keywordTexts = queryVectors.map(() => queryTexts[Math.floor(random() * queryTexts.length)]!);
  const keyword = await time((q) =>
    store.keywordQuery({ scope: scopeOf(q), text: keywordTexts[q]!, topK: 40, filter: notExpiredFilter(new Date()) }),
  );
  // Peak memory of filling and searching, before this process reads scope 0 back for the bounds.
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const { vectors: scopeVectors, ids: scopeIds, categories: scopeCategories } = await readScope(store, 'user-0');
  const scanQuery = Float32Array.from(queryVectors[0]!);
  const filteredVectors = scopeVectors.filter((_, index) => scopeCategories[index] === category(0));
  const scanLowerBound = await time(() => scanOnce(scopeVectors, scanQuery));
  const scanLowerBoundFiltered = await time(() => scanOnce(filteredVectors, scanQuery));
  // More queries when the search may be approximate: recall is then a measurement, not a check.
  const recall = await recallAt10(store, scopeVectors, scopeIds, queryVectors.slice(0, approximate ? 100 : 20));
  await memory.close();
  const add = options.adds > 0 ? await measureAdds(path, options, storeOptions, synthetic, real?.turns ?? QUERY_TEXTS) : undefined;
  // The adds changed the store: a kept one is filled afresh by the next run.
  if (add && options.storeDirectory) rmSync(sidecar, { force: true });
  if (!options.storeDirectory) rmSync(directory, { recursive: true, force: true });
  const seconds = insertMs / 1000;
  return {
    size: options.size,
    queries: options.queries,
    dimensions: options.dimensions,
    scopes: options.scopes,
    scopeSize: scopeVectors.length,
    insert: { seconds, recordsPerSecond: options.size / seconds },
    ...(reused ? { reused: true } : {}),
    openToFirstQueryMs,
    secondQueryMs,
    ...(approximateBuildMs === undefined ? {} : { approximateBuildMs }),
    vectorCache,
    keywordIndex,
    approximate,
    vectors: distribution,
    diskBytes,
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB,
    query: summarize(query),
    queryFiltered: summarize(queryFiltered),
    search: summarize(search),
    searchFiltered: summarize(searchFiltered),
    keyword: summarize(keyword),
    ...(keywordIndexRead ? { keywordIndexRead } : {}),
    scanLowerBound: summarize(scanLowerBound),
    scanLowerBoundFiltered: summarize(scanLowerBoundFiltered),
    recall,
    texts: {
      source: real ? 'LongMemEval oracle turns' : 'one-line synthetic sentences',
      ...(reused ? kept.textLengths : lengths(storedTexts)),
    },
    ...(add ? { add } : {}),
  };
}

/**
 * Reads the `scopes` scopes the measured searches reach (user-0, user-1, …) into the store's keyword
 * index, one after another: for each, two keyword searches (the second starts the read), then turns
 * of the event loop until it is held (see ScaleResult.keywordIndexRead). So the searches measure the
 * steady state a scope reaches after about 40 searches of it (256 memories are read per search) or
 * a few seconds of idle turns, not the reads on the way.
 */
async function readKeywordIndex(store: SqliteVectorStore, text: string, scopes: number): Promise<ScaleWorkerResult['keywordIndexRead']> {
  // Stores of versions before keywordIndexState cannot tell: no figure.
  const state = () => (store as { keywordIndexState?: () => ReturnType<SqliteVectorStore['keywordIndexState']> }).keywordIndexState?.();
  if (state() === undefined) return undefined;
  const begin = performance.now();
  for (let scope = 0; scope < scopes; scope++) {
    const request = { scope: { userId: `user-${scope}` }, text, topK: 40, filter: notExpiredFilter(new Date()) };
    await store.keywordQuery(request);
    await store.keywordQuery(request);
    while (state()?.reading) await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = performance.now() - begin;
  const held = state();
  if (held === undefined || held.scopes === 0) return undefined;
  return {
    ms,
    scopesRead: scopes,
    scopesHeld: held.scopes,
    bytes: held.bytes,
    postings: held.postings,
    postingBytes: held.postingBytes,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  };
}

/** A scope's vectors (as float32, as stored), ids and categories, read back from the store in id order. */
async function readScope(
  store: SqliteVectorStore,
  userId: string,
): Promise<{ vectors: Float32Array[]; ids: string[]; categories: string[] }> {
  const vectors: Float32Array[] = [];
  const ids: string[] = [];
  const categories: string[] = [];
  for await (const record of store.list({ scope: { userId } })) {
    vectors.push(Float32Array.from(record.vector));
    ids.push(record.id);
    categories.push(String(record.metadata['category']));
  }
  return { vectors, ids, categories };
}

/** recall@10 of store.query in scope 0 (user-0) against an exact ranking of its vectors, over `queries`. */
async function recallAt10(
  store: SqliteVectorStore,
  vectors: readonly Float32Array[],
  ids: readonly string[],
  queries: readonly number[][],
): Promise<{ at10: number; queries: number }> {
  let found = 0;
  for (const asked of queries) {
    // The store computes with the float32 query it stores; rank with the same values.
    const query = Float32Array.from(asked);
    const cosine = (vector: Float32Array) => {
      let dot = 0;
      let norm = 0;
      let queryNorm = 0;
      for (let k = 0; k < vector.length; k++) {
        dot += vector[k]! * query[k]!;
        norm += vector[k]! * vector[k]!;
        queryNorm += query[k]! * query[k]!;
      }
      return dot / Math.sqrt(norm * queryNorm);
    };
    const exact = vectors
      .map((vector, index) => ({ id: ids[index]!, score: cosine(vector) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10)
      .map((entry) => entry.id);
    const matches = await store.query({ scope: { userId: 'user-0' }, vector: asked, topK: 10 });
    const got = new Set(matches.map((match) => match.record.id));
    found += exact.filter((id) => got.has(id)).length / exact.length;
  }
  return { at10: found / queries.length, queries: queries.length };
}

/**
 * `options.adds` calls of `Memory.add` in scope 0 (plus a few unmeasured warm-up calls) on the store
 * just filled, as the embedded default runs them: the reconcile strategy, vector and history stores
 * in one file. Each call adds two turns; the scripted extraction adds two new facts. The LLM and
 * embedder are in process and answer at once; their time is subtracted all the same.
 */
async function measureAdds(
  path: string,
  options: ScaleWorkerOptions,
  storeOptions: {
    readonly vectorCache: boolean;
    readonly keywordIndex: boolean;
    readonly approximate: boolean;
    readonly approximateMinScope?: number;
    readonly keywordIndexBytes?: number;
  },
  synthetic: SyntheticMemories,
  turns: readonly string[],
): Promise<Summary> {
  let inside = 0;
  const script = twoFactsPerAdd(turns);
  const llm: LLM = {
    provider: script.provider,
    model: script.model,
    capabilities: script.capabilities,
    async generate(request) {
      const begin = performance.now();
      try {
        return await script.generate(request);
      } finally {
        inside += performance.now() - begin;
      }
    },
  };
  const embedder: Embedder = {
    provider: 'bench',
    model: 'synthetic',
    async embed(request) {
      const begin = performance.now();
      const vectors = request.texts.map(() => synthetic.vector());
      inside += performance.now() - begin;
      return { vectors, tokens: 0 };
    },
  };
  const memory = new Memory({
    llm,
    embedder,
    vectorStore: new SqliteVectorStore({ path, ...storeOptions }),
    historyStore: new SqliteHistoryStore({ path }),
    strategy: 'reconcile',
  });
  const samples: number[] = [];
  const warmup = 5;
  for (let index = 0; index < warmup + options.adds; index++) {
    const messages = [
      { role: 'user' as const, content: turns[(2 * index) % turns.length]! },
      { role: 'assistant' as const, content: turns[(2 * index + 1) % turns.length]! },
    ];
    inside = 0;
    const begin = performance.now();
    await memory.add(messages, { scope: { userId: 'user-0' } });
    if (index >= warmup) samples.push(performance.now() - begin - inside);
  }
  await memory.close();
  return summarize(samples);
}

const options = JSON.parse(process.argv[2] ?? '{}') as ScaleWorkerOptions;
const result = await main(options);
if (process.send) process.send(result, () => process.exit(0));
else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
