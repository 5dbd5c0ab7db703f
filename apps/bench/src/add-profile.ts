// Where the time of `Memory.add` goes on a filled store (not a test): a copy of a file that
// `npm run bench -- scale --scale-stores DIR` filled is opened with SqliteVectorStore and
// SqliteHistoryStore (as the scale part's adds run them: reconcile strategy, an in-process LLM and
// embedder whose time is subtracted), --adds calls are measured, and the time spent inside each
// store method is reported per add beside the pipeline's p50 / p95 and its CPU time; `--cpu-prof FILE`
// writes a CPU profile of the measured calls.
//
//   pnpm --filter @mem/bench exec tsx src/add-profile.ts --store DIR/scale-100000x384-1scopes-longmemeval-clustered.db \
//     --dimensions 384 --vectors clustered --adds 100 [--approximate] [--longmemeval DIR] [--cpu-prof FILE]
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Memory, type Embedder, type LLM } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { timedMethods, twoFactsPerAdd } from './lib/bench-parts';
import { loadLongMemEval } from './lib/longmemeval';
import { summarize } from './lib/stats';
import { SyntheticMemories, type VectorDistribution } from './lib/synthetic';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string' },
    dimensions: { type: 'string', default: '384' },
    vectors: { type: 'string', default: 'clustered' },
    adds: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '5' },
    approximate: { type: 'boolean', default: false },
    longmemeval: { type: 'string', default: resolve(import.meta.dirname, '../../../../shared/data/longmemeval-oracle/questions') },
    'cpu-prof': { type: 'string' },
    'in-place': { type: 'boolean', default: false },
  },
});
if (!args.store || !existsSync(args.store)) throw new Error('--store PATH: a file filled by the scale part (--scale-stores)');
const dimensions = Number(args.dimensions);
const adds = Number(args.adds);
const warmup = Number(args.warmup);
const distribution = args.vectors as VectorDistribution;

// A copy, so every run starts from the same file (the adds change it).
let path = args.store;
let scratch: string | undefined;
if (!args['in-place']) {
  scratch = mkdtempSync(join(dirname(args.store), 'profile-'));
  path = join(scratch, basename(args.store));
  for (const suffix of ['', '-wal']) if (existsSync(args.store + suffix)) copyFileSync(args.store + suffix, path + suffix);
  if (existsSync(`${args.store}.ann`)) cpSync(`${args.store}.ann`, `${path}.ann`, { recursive: true });
}

const turns: string[] = [];
for (const question of loadLongMemEval(args.longmemeval))
  for (const session of question.sessions) for (const turn of session.turns) if (turn.content.trim() !== '') turns.push(turn.content);
const synthetic = new SyntheticMemories(dimensions, 1, 12, undefined, distribution);

let inside = 0;
/** CPU milliseconds inside the LLM and embedder. */
let insideCpu = 0;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const script = twoFactsPerAdd(turns);
const llm: LLM = {
  provider: script.provider,
  model: script.model,
  capabilities: script.capabilities,
  async generate(request) {
    const begin = performance.now();
    const cpu = cpuMs();
    try {
      return await script.generate(request);
    } finally {
      inside += performance.now() - begin;
      insideCpu += cpuMs() - cpu;
    }
  },
};
const embedder: Embedder = {
  provider: 'bench',
  model: 'synthetic',
  async embed(request) {
    const begin = performance.now();
    const cpu = cpuMs();
    const vectors = request.texts.map(() => synthetic.vector());
    inside += performance.now() - begin;
    insideCpu += cpuMs() - cpu;
    return { vectors, tokens: 0 };
  },
};

/** Milliseconds spent in each store method (own wall time of its call), summed over the measured adds. */
const spent = new Map<string, number>();
let measuring = false;
const timed = <T extends object>(name: string, target: T): T => timedMethods(name, target, spent, () => measuring);

const vectorStore = new SqliteVectorStore({ path, approximate: args.approximate });
const historyStore = new SqliteHistoryStore({ path });
const memory = new Memory({
  llm,
  embedder,
  vectorStore: timed('vector', vectorStore),
  historyStore: timed('history', historyStore),
  strategy: 'reconcile',
});
const samples: number[] = [];
/** CPU time of each add (user + system, minus the LLM's and embedder's time): less bent by other processes than wall time. */
const cpuSamples: number[] = [];
let session: Session | undefined;
for (let index = 0; index < warmup + adds; index++) {
  if (index === warmup) {
    measuring = true;
    if (args['cpu-prof']) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
  }
  const messages = [
    { role: 'user' as const, content: turns[(2 * index) % turns.length]! },
    { role: 'assistant' as const, content: turns[(2 * index + 1) % turns.length]! },
  ];
  inside = 0;
  insideCpu = 0;
  const cpu = cpuMs();
  const begin = performance.now();
  await memory.add(messages, { scope: { userId: 'user-0' } });
  if (index >= warmup) {
    samples.push(performance.now() - begin - inside);
    cpuSamples.push(cpuMs() - cpu - insideCpu);
  }
}
if (session) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(args['cpu-prof']!, JSON.stringify(profile));
}
await memory.close();
if (scratch) rmSync(scratch, { recursive: true, force: true });
const summary = summarize(samples);
const cpuSummary = summarize(cpuSamples);
console.log(
  `add pipeline over ${adds} adds: p50 ${summary.median.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms, mean ${summary.mean.toFixed(2)} ms; CPU p50 ${cpuSummary.median.toFixed(2)} ms, mean ${cpuSummary.mean.toFixed(2)} ms`,
);
for (const [key, ms] of [...spent].sort((a, b) => b[1] - a[1])) console.log(`  ${key.padEnd(32)} ${(ms / adds).toFixed(3)} ms per add`);
