// The benchmark suite. `npm run bench` at the repository root runs parts 1, 2 (up to 100k) and the
// offline part of 3, prints tables, and writes JSON results, SVG charts and a summary to docs/bench/.
//
//   npm run bench -- [add-cost] [scale] [locomo] [locomo-e2e] [options]     (see --help)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { markdownTable, textTable, type Table } from './lib/format';
import { keepHandWritten } from './lib/kept-sections';
import { DEFAULT_AUDIT_PATH, DEFAULT_LOCOMO_PATH } from './lib/locomo';
import { DEFAULT_LONGMEMEVAL_PATH } from './lib/longmemeval';
import { machineInfo } from './lib/machine';
import { status } from './lib/progress';
import * as report from './report';
import type { Saved } from './report';

// mem0ai reads these when it is loaded (lazily, by parts/systems.ts): no telemetry, and its config
// file in a scratch folder instead of ~/.mem0.
process.env['MEM0_TELEMETRY'] = 'false';
process.env['MEM0_DIR'] ??= join(tmpdir(), 'mem-bench-mem0');

const HELP = `mem benchmark suite

Usage: npm run bench -- [part ...] [options]        (from the repository root)
       npm run pnpm -- --filter @mem/bench run bench -- [part ...] [options]

Parts (default: add-cost scale locomo):
  add-cost     mem vs mem0ai: LLM calls, tokens, embedding calls and pipeline time per add and per search
  scale        SqliteVectorStore at 1k/10k/100k memories (1M with --1m): latency, inserts, disk, memory
  locomo       retrieval quality, offline: LOCOMO (any@k / all@k, k = 5, 10, 30, tuning and held-out halves)
               and LongMemEval pooled turn recall, for lexical, MiniLM and MiniLM + reranker, beside plain BM25
  locomo-e2e   LOCOMO end to end with OPENAI_API_KEY (J, F1, BLEU-1); without a key it says what it would run
  ai-sdk       @mem/ai-sdk's withMemory middleware: tokens it adds to each prompt, milliseconds it adds per call
  report       only rewrite docs/bench/README.md and the README's quoted tables from the saved results

Options:
  --locomo PATH          locomo10.json (default ../shared/data/locomo/locomo10.json)
  --audit PATH           locomo-audit errors.json (default ../shared/data/locomo-audit/errors.json)
  --out DIR              where results go (default docs/bench); --scratch writes to a temporary folder instead
  --latency-ms N         latency the local OpenAI-compatible server adds to each request (default 0)
  --runs N               full ingests per system in add-cost (default 3)
  --esm-adds N           adds for mem0ai's ESM build, one run, compared with its CommonJS build on the same adds
                         (default 120; 428 = the whole conversation, about 6 minutes; 0 skips it)
  --search-questions N   questions searched per run in add-cost, each for both speakers (default 50)
  --mem-sizes LIST       store sizes for mem's add/search overhead (default 1000,10000,100000)
  --mem0-sizes LIST      store sizes for mem0ai (default 1000,10000; it scans every vector per call)
  --sized-calls N        adds and searches per store size (default 20)
  --max-adds N           only the first N adds of the conversation (smoke runs)
  --sizes LIST           scale: store sizes (default 1000,10000,100000)
  --1m                   scale: add 1,000,000 (about 6 GB on disk; slow)
  --queries N            scale: queries per kind and size (default 300)
  --scopes N             scale: scopes the memories are spread over (default 100; 1 puts every memory in one scope)
  --dimensions N         scale: vector dimensions (default 1536)
  --adds N               scale: Memory.add calls measured per size, in one scope (default 50; 0 skips them)
  --scale-stores DIR     scale: keep each filled store in DIR and measure one already there (same size,
                         dimensions, scopes and texts) instead of inserting again; runs with --adds > 0 change
                         the store, so the next run fills it afresh
  --vector-cache on|off  scale: SqliteVectorStore's scope vector cache in the measured stores (default on; off
                         ranks every vector query inside SQLite, as before the cache)
  --keyword-index on|off scale: SqliteVectorStore's scope keyword index in the measured stores (default on; off
                         ranks every keyword query with FTS5 in SQLite, as before the index)
  --approximate on|off   scale: SqliteVectorStore's approximate search of large scopes (default off; on: scopes of
                         at least --approximate-min-scope memories are searched through its HNSW index)
  --approximate-min-scope N  scale: SqliteVectorStore's approximateMinScope (default the store's, 50000)
  --keyword-index-bytes N    scale: SqliteVectorStore's keywordIndexBytes (default the store's, 536870912: 512 MiB)
  --vectors KIND         scale: synthetic vectors, uniform (on the unit sphere; default) or clustered (topics in a
                         low-dimensional latent space, like sentence embeddings; see lib/synthetic.ts)
  --texts KIND           scale: memory texts: longmemeval (the LongMemEval oracle's turns, real lengths; default)
                         or short (one-line synthetic sentences)
  --systems LIST         locomo: lexical,minilm,minilm+reranker (default all three; a system whose model is missing
                         is reported as not run, with the reason)
  --model-path DIR       locomo: where scripts/install-models.sh put all-MiniLM-L6-v2 (default apps/bench/models)
  --reranker-path DIR    locomo: a folder holding a transformers.js cross-encoder, for minilm+reranker
  --reranker-model ID    locomo: the cross-encoder's id under --reranker-path (default Xenova/ms-marco-MiniLM-L-6-v2)
  --stores DIR           locomo: keep each system's LOCOMO store in DIR (<system>.db) and reuse one already
                         there instead of adding the turns again (MiniLM embeds every turn: the slow part)
  --locomo-half HALF     locomo: search only the questions of one half, tuning (conversations 0-4) or held-out
                         (a quick run while tuning; default both)
  --ranking JSON         locomo: ranking weights for every system, as MemoryOptions.ranking, e.g.
                         '{"neighborWeight":0.3}' (default mem's own)
  --longmemeval DIR      locomo: LongMemEval oracle questions (default ../shared/data/longmemeval-oracle/questions)
  --longmemeval-questions N  locomo: pool the first N questions (by id; default all 500; 0 skips LongMemEval)
  --longmemeval-systems LIST locomo: the systems that also run LongMemEval (default all; MiniLM embeds its
                         10,960 long turns in about an hour on 2 cores)
  --model ID             locomo-e2e: the extraction model (default gpt-4o-mini)
  --answer-model ID      locomo-e2e: answer model (default gpt-4o-mini)
  --judge-model ID       locomo-e2e: judge model (default gpt-4o-mini)
  --conversations N      locomo-e2e: how many conversations (default 10)
  --max-questions N      locomo-e2e: questions per conversation (default all of categories 1-4)
  --fake                 locomo-e2e: run against the local server instead of OpenAI (exercises the code path)
  --ai-sdk-calls N       ai-sdk: measured calls per variant (default 300)
  --ai-sdk-memories N    ai-sdk: memories of the measured user, in a store of 10 users (default 1000)
  --quick                small sizes everywhere (a smoke run of every part in about a minute)
  --help`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    locomo: { type: 'string', default: DEFAULT_LOCOMO_PATH },
    audit: { type: 'string', default: DEFAULT_AUDIT_PATH },
    out: { type: 'string', default: resolve(import.meta.dirname, '../../../docs/bench') },
    scratch: { type: 'boolean', default: false },
    'latency-ms': { type: 'string', default: '0' },
    runs: { type: 'string', default: '3' },
    'esm-adds': { type: 'string', default: '120' },
    'search-questions': { type: 'string', default: '50' },
    'mem-sizes': { type: 'string', default: '1000,10000,100000' },
    'mem0-sizes': { type: 'string', default: '1000,10000' },
    'sized-calls': { type: 'string', default: '20' },
    'max-adds': { type: 'string' },
    sizes: { type: 'string', default: '1000,10000,100000' },
    '1m': { type: 'boolean', default: false },
    queries: { type: 'string', default: '300' },
    scopes: { type: 'string', default: '100' },
    dimensions: { type: 'string', default: '1536' },
    adds: { type: 'string', default: '50' },
    texts: { type: 'string', default: 'longmemeval' },
    'scale-stores': { type: 'string' },
    'vector-cache': { type: 'string', default: 'on' },
    'keyword-index': { type: 'string', default: 'on' },
    approximate: { type: 'string', default: 'off' },
    'approximate-min-scope': { type: 'string' },
    'keyword-index-bytes': { type: 'string' },
    vectors: { type: 'string', default: 'uniform' },
    systems: { type: 'string', default: 'lexical,minilm,minilm+reranker' },
    'model-path': { type: 'string' },
    'reranker-path': { type: 'string' },
    'reranker-model': { type: 'string' },
    stores: { type: 'string' },
    'locomo-half': { type: 'string' },
    ranking: { type: 'string' },
    longmemeval: { type: 'string', default: DEFAULT_LONGMEMEVAL_PATH },
    'longmemeval-questions': { type: 'string' },
    'longmemeval-systems': { type: 'string' },
    model: { type: 'string' },
    'answer-model': { type: 'string', default: 'gpt-4o-mini' },
    'judge-model': { type: 'string', default: 'gpt-4o-mini' },
    conversations: { type: 'string' },
    'max-questions': { type: 'string' },
    fake: { type: 'boolean', default: false },
    'ai-sdk-calls': { type: 'string', default: '300' },
    'ai-sdk-memories': { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const PARTS = ['add-cost', 'scale', 'locomo', 'locomo-e2e', 'ai-sdk'] as const;
type Part = (typeof PARTS)[number];
const unknown = positionals.filter((name) => !(PARTS as readonly string[]).includes(name) && name !== 'all' && name !== 'report');
if (unknown.length > 0) {
  process.stderr.write(`Unknown part ${unknown.join(', ')}. Parts: ${PARTS.join(', ')}. See --help.\n`);
  process.exit(2);
}
// `report` alone only rewrites the summary and the README from the results already written.
const parts: Part[] =
  positionals.length === 0 || positionals.includes('all')
    ? ['add-cost', 'scale', 'locomo']
    : (positionals.filter((name) => name !== 'report') as Part[]);

const integer = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} expects a non-negative integer, got ${text}.\n`);
    process.exit(2);
  }
  return value;
};
const list = (name: string, text: string | undefined): number[] =>
  (text ?? '')
    .split(',')
    .filter((item) => item.trim() !== '')
    .map((item) => integer(name, item.trim()));

const quick = values.quick;
const outDirectory = values.scratch ? join(tmpdir(), `mem-bench-${Date.now()}`) : resolve(values.out!);
mkdirSync(outDirectory, { recursive: true });
const machine = machineInfo();
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, '').trim();
const suiteStart = performance.now();

function save<T>(part: string, result: T, seconds: number): Saved<T> {
  const saved: Saved<T> = { part, machine, command, seconds, result };
  writeFileSync(join(outDirectory, `${part}.json`), `${JSON.stringify(saved, null, 2)}\n`);
  return saved;
}

function print(tables: readonly Table[]): void {
  for (const table of tables) process.stdout.write(`${textTable(table)}\n`);
}

function writeCharts(charts: Record<string, string>): void {
  for (const [name, svg] of Object.entries(charts)) writeFileSync(join(outDirectory, name), svg);
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await run();
  return { result, seconds: (performance.now() - start) / 1000 };
}

for (const part of parts) {
  status(`\n== ${part} ==`);
  if (part === 'add-cost') {
    const { runAddCost } = await import('./parts/add-cost');
    const { result, seconds } = await timed(() =>
      runAddCost({
        locomoPath: values.locomo!,
        latencyMs: integer('latency-ms', values['latency-ms']),
        runs: quick ? 1 : Math.max(1, integer('runs', values.runs)),
        esmAdds: quick ? 40 : integer('esm-adds', values['esm-adds']),
        searchQuestions: quick ? 10 : integer('search-questions', values['search-questions']),
        memSizes: quick ? [1000] : list('mem-sizes', values['mem-sizes']),
        mem0Sizes: quick ? [1000] : list('mem0-sizes', values['mem0-sizes']),
        sizedAdds: quick ? 5 : integer('sized-calls', values['sized-calls']),
        sizedSearches: quick ? 5 : integer('sized-calls', values['sized-calls']),
        ...(values['max-adds'] !== undefined ? { maxAdds: integer('max-adds', values['max-adds']) } : quick ? { maxAdds: 40 } : {}),
      }),
    );
    const saved = save('add-cost', result, seconds);
    print([...report.addCostTables(saved), report.addCostTargets(result)]);
  } else if (part === 'scale') {
    const { runScale } = await import('./parts/scale');
    const sizes = quick ? [1000, 10000] : [...list('sizes', values.sizes), ...(values['1m'] ? [1_000_000] : [])];
    if (values['vector-cache'] !== 'on' && values['vector-cache'] !== 'off') {
      process.stderr.write(`--vector-cache takes on or off; got ${values['vector-cache']}.\n`);
      process.exit(2);
    }
    if (values['keyword-index'] !== 'on' && values['keyword-index'] !== 'off') {
      process.stderr.write(`--keyword-index takes on or off; got ${values['keyword-index']}.\n`);
      process.exit(2);
    }
    if (values.approximate !== 'on' && values.approximate !== 'off') {
      process.stderr.write(`--approximate takes on or off; got ${values.approximate}.\n`);
      process.exit(2);
    }
    if (values.vectors !== 'uniform' && values.vectors !== 'clustered') {
      process.stderr.write(`--vectors takes uniform or clustered; got ${values.vectors}.\n`);
      process.exit(2);
    }
    if (values.texts !== 'longmemeval' && values.texts !== 'short') {
      process.stderr.write(`--texts takes longmemeval or short; got ${values.texts}.\n`);
      process.exit(2);
    }
    const { result, seconds } = await timed(() =>
      runScale({
        sizes,
        dimensions: integer('dimensions', values.dimensions),
        scopes: Math.max(1, integer('scopes', values.scopes)),
        queries: quick ? 50 : integer('queries', values.queries),
        adds: quick ? 10 : integer('adds', values.adds),
        ...(values.texts === 'longmemeval' ? { longMemEvalPath: resolve(values.longmemeval!) } : {}),
        ...(values['scale-stores'] ? { storeDirectory: resolve(values['scale-stores']) } : {}),
        ...(values['vector-cache'] === 'off' ? { vectorCache: false } : {}),
        ...(values['keyword-index'] === 'off' ? { keywordIndex: false } : {}),
        ...(values.approximate === 'on' ? { approximate: true } : {}),
        ...(values['approximate-min-scope'] === undefined
          ? {}
          : { approximateMinScope: Math.max(1, integer('approximate-min-scope', values['approximate-min-scope'])) }),
        ...(values['keyword-index-bytes'] === undefined
          ? {}
          : { keywordIndexBytes: Math.max(1, integer('keyword-index-bytes', values['keyword-index-bytes'])) }),
        vectors: values.vectors as 'uniform' | 'clustered',
      }),
    );
    const saved = save('scale', result, seconds);
    print(report.scaleTables(saved));
  } else if (part === 'locomo') {
    const { DEFAULT_MODEL_PATH, runRetrieval } = await import('./parts/locomo-retrieval');
    const known = ['lexical', 'minilm', 'minilm+reranker'] as const;
    const systems = values.systems!.split(',').map((name) => name.trim());
    const wrong = systems.filter((name) => !(known as readonly string[]).includes(name));
    if (wrong.length > 0) {
      process.stderr.write(`--systems takes ${known.join(', ')}; got ${wrong.join(', ')}.\n`);
      process.exit(2);
    }
    const half = values['locomo-half'];
    if (half !== undefined && half !== 'tuning' && half !== 'held-out') {
      process.stderr.write(`--locomo-half takes tuning or held-out; got ${half}.\n`);
      process.exit(2);
    }
    let ranking: import('@mem/core').RankingOptions | undefined;
    if (values.ranking !== undefined) {
      try {
        ranking = JSON.parse(values.ranking) as import('@mem/core').RankingOptions;
      } catch {
        process.stderr.write(`--ranking takes a JSON object, e.g. '{"neighborWeight":0.3}'; got ${values.ranking}.\n`);
        process.exit(2);
      }
      if (typeof ranking !== 'object' || ranking === null || Array.isArray(ranking)) {
        process.stderr.write(`--ranking takes a JSON object, e.g. '{"neighborWeight":0.3}'; got ${values.ranking}.\n`);
        process.exit(2);
      }
    }
    const { result, seconds } = await timed(() =>
      runRetrieval({
        locomoPath: values.locomo!,
        longMemEvalPath: values.longmemeval!,
        ks: [5, 10, 30],
        systems: systems as (typeof known)[number][],
        modelPath: values['model-path'] ?? DEFAULT_MODEL_PATH,
        ...(values['reranker-path'] ? { rerankerPath: values['reranker-path'] } : {}),
        ...(values['reranker-model'] ? { rerankerModel: values['reranker-model'] } : {}),
        ...(values.stores ? { storeDirectory: resolve(values.stores) } : {}),
        ...(half ? { half } : {}),
        ...(ranking ? { ranking } : {}),
        ...(values['longmemeval-systems']
          ? { longMemEvalSystems: values['longmemeval-systems'].split(',').map((name) => name.trim()) as (typeof known)[number][] }
          : {}),
        ...(values['longmemeval-questions'] !== undefined
          ? { longMemEvalQuestions: integer('longmemeval-questions', values['longmemeval-questions']) }
          : quick
            ? { longMemEvalQuestions: 20 }
            : {}),
      }),
    );
    const saved = save('locomo', result, seconds);
    print(report.retrievalTables(saved));
  } else if (part === 'ai-sdk') {
    const { runAISDK, aiSDKTables } = await import('./parts/ai-sdk');
    const { result, seconds } = await timed(() =>
      runAISDK({
        memoriesPerUser: quick ? 200 : integer('ai-sdk-memories', values['ai-sdk-memories']),
        users: 10,
        calls: quick ? 30 : Math.max(1, integer('ai-sdk-calls', values['ai-sdk-calls'])),
        warmup: quick ? 5 : 30,
      }),
    );
    save('ai-sdk', result, seconds);
    print(aiSDKTables(result));
  } else if (part === 'locomo-e2e') {
    const { describeEndToEnd, runEndToEnd } = await import('./parts/locomo-e2e');
    const options = {
      locomoPath: values.locomo!,
      auditPath: values.audit!,
      extractionModel: values.model ?? 'gpt-4o-mini',
      answerModel: values['answer-model']!,
      judgeModel: values['judge-model']!,
      embeddingModel: 'text-embedding-3-small',
      perSpeaker: 30,
      ...(values.conversations !== undefined
        ? { conversations: integer('conversations', values.conversations) }
        : quick
          ? { conversations: 1 }
          : {}),
      ...(values['max-questions'] !== undefined
        ? { maxQuestions: integer('max-questions', values['max-questions']) }
        : quick
          ? { maxQuestions: 10 }
          : {}),
    };
    const apiKey = process.env['OPENAI_API_KEY'];
    if (!values.fake && !apiKey) {
      process.stdout.write(`${describeEndToEnd(options)}\n`);
      continue;
    }
    let server: import('./server/client').BenchServer | undefined;
    if (values.fake) server = await (await import('./server/client')).BenchServer.start();
    try {
      const { result, seconds } = await timed(() =>
        runEndToEnd({ ...options, ...(server ? { baseURL: server.baseURL, apiKey: 'bench' } : { apiKey }) }),
      );
      const saved = save(values.fake ? 'locomo-e2e-fake' : 'locomo-e2e', result, seconds);
      print(report.endToEndTables(saved));
    } finally {
      await server?.stop();
    }
  }
}

// The summary of every result present (parts not run this time keep their last results).
const sections: string[] = [];
const load = <T>(part: string): Saved<T> | undefined => {
  const path = join(outDirectory, `${part}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Saved<T>) : undefined;
};
const addCost = load<import('./parts/add-cost').AddCostResult>('add-cost');
if (addCost) {
  const [headline, ...rest] = report.addCostTables(addCost);
  sections.push(
    '## 1. Cost of add and search: mem vs mem0ai',
    '',
    report.machineLine(addCost),
    '',
    markdownTable(headline!),
    '![cost per add and per search](add-cost.svg)',
    '',
    ...rest.map((table) => markdownTable(table)),
    '![pipeline ms against store size](overhead-vs-store-size.svg)',
    '',
    markdownTable(report.addCostTargets(addCost.result)),
  );
}
const scale = load<import('./parts/scale').ScaleResult>('scale');
if (scale)
  sections.push(
    '## 2. Search at scale (embedded default)',
    '',
    report.machineLine(scale),
    '',
    ...report.scaleTables(scale).map((table) => markdownTable(table)),
    '![search latency at scale](scale-latency.svg)',
    '',
  );
// A locomo.json written before the systems layout (one embedder per file) is left out of the summary.
const savedRetrieval = load<import('./parts/locomo-retrieval').RetrievalResult>('locomo');
const retrieval = Array.isArray(savedRetrieval?.result.systems) ? savedRetrieval : undefined;
if (retrieval)
  sections.push(
    '## 3. LOCOMO retrieval (offline)',
    '',
    report.machineLine(retrieval),
    '',
    ...report.retrievalTables(retrieval).map((table) => markdownTable(table)),
    '![LOCOMO retrieval](locomo-retrieval.svg)',
    '',
  );
const endToEnd = load<import('./parts/locomo-e2e').EndToEndResult>('locomo-e2e');
// Charts are drawn from the saved results, so `report` redraws them too.
if (addCost) writeCharts(report.addCostCharts(addCost.result));
if (scale) writeCharts(report.scaleCharts(scale.result));
if (retrieval) writeCharts(report.retrievalCharts(retrieval.result));
if (endToEnd)
  sections.push(
    '## 3b. LOCOMO end to end (online)',
    '',
    report.machineLine(endToEnd),
    '',
    ...report.endToEndTables(endToEnd).map((table) => markdownTable(table)),
  );
const summary = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (apps/bench) from the saved results, each section naming the date and machine it was measured on. A `###` subsection under a heading the bench does not write (a measurement by another command, written in by hand) is kept when the bench rewrites this file, after the generated part of its section.',
  '',
  'Also in this folder: [postgres.md](postgres.md) (the embedded default against PostgreSQL + pgvector, `pnpm bench postgres`) and [server-load.md](server-load.md) (the REST server under load, `pnpm --filter @mem/server load`).',
  '',
  ...sections,
].join('\n');
const summaryPath = join(outDirectory, 'README.md');
const previousSummary = existsSync(summaryPath) ? readFileSync(summaryPath, 'utf8') : undefined;
writeFileSync(summaryPath, keepHandWritten(`${summary}\n`, previousSummary));

// apps/bench/README.md quotes the headline tables and shows the charts (between its markers), when
// the results went to the repository's docs/bench.
const readmePath = resolve(import.meta.dirname, '../README.md');
const defaultOut = resolve(import.meta.dirname, '../../../docs/bench');
if (outDirectory === defaultOut && existsSync(readmePath)) {
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const readme = readFileSync(readmePath, 'utf8');
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from >= 0 && to > from) {
    const quoted: string[] = ['_Generated by `npm run bench` from the results in [docs/bench](../../docs/bench/README.md)._', ''];
    if (addCost) {
      const [headline, , breakdown, sized] = report.addCostTables(addCost);
      quoted.push(report.machineLine(addCost), '', markdownTable(headline!, 4), markdownTable(report.addCostTargets(addCost.result), 4));
      if (breakdown) quoted.push(markdownTable(breakdown, 4));
      if (sized) quoted.push(markdownTable(sized, 4));
      quoted.push(
        '![cost per add and per search](../../docs/bench/add-cost.svg)',
        '',
        '![pipeline ms against store size](../../docs/bench/overhead-vs-store-size.svg)',
        '',
      );
    }
    if (scale)
      quoted.push(
        report.machineLine(scale),
        '',
        ...report.scaleTables(scale).map((table) => markdownTable(table, 4)),
        '![search latency at scale](../../docs/bench/scale-latency.svg)',
        '',
      );
    if (retrieval)
      quoted.push(
        report.machineLine(retrieval),
        '',
        ...report.retrievalTables(retrieval).map((table) => markdownTable(table, 4)),
        '![LOCOMO retrieval](../../docs/bench/locomo-retrieval.svg)',
        '',
      );
    if (endToEnd) quoted.push(report.machineLine(endToEnd), '', ...report.endToEndTables(endToEnd).map((table) => markdownTable(table, 4)));
    writeFileSync(readmePath, `${readme.slice(0, from + start.length)}\n${quoted.join('\n')}\n${readme.slice(to)}`);
  }
}
status(`\nResults, charts and summary in ${outDirectory} (${Math.round((performance.now() - suiteStart) / 1000)} s).`);
