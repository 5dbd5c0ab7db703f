// Part 1: the cost of `add` and `search`, mem against mem0ai, on the first LOCOMO conversation with
// Mem0's evaluation protocol, both talking to the same local OpenAI-compatible server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocomo, protocolAdds, type LocomoConversation, type ProtocolAdd } from '../lib/locomo';
import { Progress, status } from '../lib/progress';
import { median, ratio, summarize, type Summary } from '../lib/stats';
import { SyntheticMemories } from '../lib/synthetic';
import { BenchServer, statsDelta, type StatsDelta } from '../server/client';
import { type BusyClock, createMem, createMem0, type Mem0Build, type SystemUnderTest } from './systems';

export interface AddCostOptions {
  readonly locomoPath: string;
  readonly latencyMs: number;
  /** Full ingests of the conversation per system (fresh stores each); figures are medians over them. */
  readonly runs: number;
  /** How many adds mem0ai's ESM build gets (one run; 0 skips it), compared with the CommonJS build on the same adds. */
  readonly esmAdds: number;
  /** Questions (categories 1–4) searched after the ingest, each for both speakers. */
  readonly searchQuestions: number;
  /** Store sizes for the add/search overhead of mem (synthetic memories over 100 scopes). */
  readonly memSizes: readonly number[];
  /** Store sizes mem0ai is measured at (its in-process store scans every vector on each call). */
  readonly mem0Sizes: readonly number[];
  /** Adds and searches per store size. */
  readonly sizedAdds: number;
  readonly sizedSearches: number;
  /** Limit the conversation to its first adds (smoke runs). */
  readonly maxAdds?: number;
}

/** One measured call. */
export interface CallSample {
  readonly wallMs: number;
  readonly serverMs: number;
  /** Wall time minus time inside the local server: the pipeline's own work, SDK and HTTP client included. */
  readonly pipelineMs: number;
  readonly llmCalls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly embeddingCalls: number;
  readonly embeddingInputs: number;
}

/** Per-call figures of one system: medians (and means, totals for tokens) over its calls. */
export interface CallFigures {
  readonly calls: number;
  readonly llmCalls: Summary;
  readonly promptTokens: Summary & { readonly total: number };
  readonly completionTokens: Summary & { readonly total: number };
  readonly embeddingCalls: Summary;
  readonly pipelineMs: Summary;
  readonly wallMs: Summary;
  /** Median of the per-run medians of pipelineMs (the headline figure when runs > 1). */
  readonly pipelineMsMedianOfRuns: number;
  readonly runs: number;
  readonly byKind: Record<string, { calls: number; promptTokens: number; completionTokens: number }>;
  /** mem only: where the pipeline time goes, mean ms per call (httpClientMs: the whole HTTP exchange minus the time inside the server). */
  readonly breakdown?: Breakdown;
}

export interface Breakdown {
  readonly httpClientMs: number;
  readonly vectorStoreMs: number;
  readonly historyStoreMs: number;
  readonly coreMs: number;
}

function breakdownOf(
  clock: BusyClock | undefined,
  before: Record<string, number>,
  calls: number,
  wallMs: number,
  serverMs: number,
): Breakdown | undefined {
  if (!clock?.enabled || calls === 0) return undefined;
  const spent = (kind: string) => ((clock.totals[kind] ?? 0) - (before[kind] ?? 0)) / calls;
  const httpClientMs = spent('http') - serverMs / calls;
  const vectorStoreMs = spent('vectorStore');
  const historyStoreMs = spent('historyStore');
  return {
    httpClientMs,
    vectorStoreMs,
    historyStoreMs,
    coreMs: (wallMs - serverMs) / calls - httpClientMs - vectorStoreMs - historyStoreMs,
  };
}

function averageBreakdown(list: readonly (Breakdown | undefined)[]): Breakdown | undefined {
  const present = list.filter((entry): entry is Breakdown => entry !== undefined);
  if (present.length === 0) return undefined;
  const average = (key: keyof Breakdown) => present.reduce((total, entry) => total + entry[key], 0) / present.length;
  return {
    httpClientMs: average('httpClientMs'),
    vectorStoreMs: average('vectorStoreMs'),
    historyStoreMs: average('historyStoreMs'),
    coreMs: average('coreMs'),
  };
}

export interface SizedFigures {
  readonly size: number;
  readonly scopeSize: number;
  readonly add: { readonly pipelineMs: Summary; readonly breakdown?: Breakdown } | undefined;
  readonly search: { readonly pipelineMs: Summary; readonly breakdown?: Breakdown } | undefined;
}

export interface AddCostResult {
  readonly conversation: {
    readonly index: number;
    readonly turns: number;
    readonly sessions: number;
    readonly adds: number;
    readonly speakers: readonly string[];
  };
  readonly latencyMs: number;
  readonly add: Record<string, CallFigures>;
  readonly search: Record<string, CallFigures>;
  readonly sized: Record<string, SizedFigures[]>;
  /** Which mem0ai build the ratios use, and why. */
  readonly mem0Baseline: string;
  /** The key in `add` / `search` of that build. */
  readonly baselineKey: string;
  readonly notes: readonly string[];
}

async function measure(server: BenchServer, call: () => Promise<unknown>): Promise<{ sample: CallSample; delta: StatsDelta }> {
  const before = await server.stats();
  const start = performance.now();
  await call();
  const wallMs = performance.now() - start;
  const delta = statsDelta(before, await server.stats());
  return {
    delta,
    sample: {
      wallMs,
      serverMs: delta.serverMs,
      pipelineMs: wallMs - delta.serverMs,
      llmCalls: delta.llmCalls,
      promptTokens: delta.promptTokens,
      completionTokens: delta.completionTokens,
      embeddingCalls: delta.embeddingCalls,
      embeddingInputs: delta.embeddingInputs,
    },
  };
}

function figures(
  runs: readonly (readonly CallSample[])[],
  deltas: readonly StatsDelta[],
  breakdowns: readonly (Breakdown | undefined)[] = [],
): CallFigures {
  const breakdown = averageBreakdown(breakdowns);
  const all = runs.flat();
  const pick = (key: keyof CallSample) => all.map((sample) => sample[key]);
  const total = (key: keyof CallSample) => pick(key).reduce((sum, value) => sum + value, 0) / runs.length;
  const byKind: CallFigures['byKind'] = {};
  for (const delta of deltas) {
    for (const [kind, stats] of Object.entries(delta.byKind)) {
      const entry = (byKind[kind] ??= { calls: 0, promptTokens: 0, completionTokens: 0 });
      entry.calls += stats.calls / runs.length;
      entry.promptTokens += stats.promptTokens / runs.length;
      entry.completionTokens += stats.completionTokens / runs.length;
    }
  }
  return {
    calls: all.length / runs.length,
    llmCalls: summarize(pick('llmCalls')),
    promptTokens: { ...summarize(pick('promptTokens')), total: total('promptTokens') },
    completionTokens: { ...summarize(pick('completionTokens')), total: total('completionTokens') },
    embeddingCalls: summarize(pick('embeddingCalls')),
    pipelineMs: summarize(pick('pipelineMs')),
    wallMs: summarize(pick('wallMs')),
    pipelineMsMedianOfRuns: median(runs.map((run) => median(run.map((sample) => sample.pipelineMs)))),
    runs: runs.length,
    byKind,
    ...(breakdown ? { breakdown } : {}),
  };
}

interface Contender {
  readonly key: string;
  readonly create: (directory: string) => Promise<SystemUnderTest>;
  readonly adds: number;
  readonly runs: number;
}

/** The search questions: categories 1–4 of the conversation, each asked of both speakers' memories. */
function searchCalls(conversation: LocomoConversation, count: number): { query: string; self: string }[] {
  return conversation.questions
    .filter((question) => question.category >= 1 && question.category <= 4)
    .slice(0, count)
    .flatMap((question) => [conversation.speakerA, conversation.speakerB].map((self) => ({ query: question.question, self })));
}

const userIdOf = (conversation: LocomoConversation, self: string) => `${self}_${conversation.index}`;

export async function runAddCost(options: AddCostOptions): Promise<AddCostResult> {
  const conversation = loadLocomo(options.locomoPath)[0]!;
  const allAdds = protocolAdds(conversation);
  const adds = options.maxAdds === undefined ? allAdds : allAdds.slice(0, options.maxAdds);
  const turns = conversation.sessions.reduce((count, session) => count + session.turns.length, 0);
  const server = await BenchServer.start({ latencyMs: options.latencyMs });
  const root = mkdtempSync(join(tmpdir(), 'mem-bench-add-'));
  const notes: string[] = [];
  try {
    const contenders: Contender[] = [
      { key: 'mem', create: async (directory) => createMem({ baseURL: server.baseURL, directory }), adds: adds.length, runs: options.runs },
      // One more run of mem with the clock on, only for the breakdown (the clock's own cost stays out of the headline).
      {
        key: 'mem-breakdown',
        create: async (directory) => {
          const system = createMem({ baseURL: server.baseURL, directory });
          system.clock.enabled = true;
          return system;
        },
        adds: adds.length,
        runs: 1,
      },
      {
        key: 'mem0ai-cjs',
        create: (directory) => createMem0({ baseURL: server.baseURL, directory, build: 'cjs' }),
        adds: adds.length,
        runs: options.runs,
      },
      ...(options.esmAdds > 0
        ? [
            {
              key: 'mem0ai-esm',
              create: (directory: string) => createMem0({ baseURL: server.baseURL, directory, build: 'esm' as Mem0Build }),
              adds: Math.min(options.esmAdds, adds.length),
              runs: 1,
            },
          ]
        : []),
    ];
    const addFigures: Record<string, CallFigures> = {};
    const searchFigures: Record<string, CallFigures> = {};
    const questions = searchCalls(conversation, options.searchQuestions);
    const firstRunSamples: Record<string, CallSample[]> = {};
    let run = 0;
    for (const contender of contenders) {
      const addRuns: CallSample[][] = [];
      const addDeltas: StatsDelta[] = [];
      const searchRuns: CallSample[][] = [];
      const searchDeltas: StatsDelta[] = [];
      const addBreakdowns: (Breakdown | undefined)[] = [];
      const searchBreakdowns: (Breakdown | undefined)[] = [];
      for (let repeat = 0; repeat < contender.runs; repeat++) {
        const directory = join(root, `run-${run++}`);
        const system = await contender.create(directory);
        const progress = new Progress(`${system.name} add, run ${repeat + 1}/${contender.runs}`, contender.adds);
        const samples: CallSample[] = [];
        const clock = (system as { clock?: BusyClock }).clock;
        let clockBefore = { ...clock?.totals };
        const before = await server.stats();
        for (const [index, add] of adds.slice(0, contender.adds).entries()) {
          const { sample } = await measure(server, () => system.add(add, userIdOf(conversation, add.self)));
          samples.push(sample);
          if (index % 10 === 9) progress.tick(index + 1, `pipeline median ${median(samples.map((s) => s.pipelineMs)).toFixed(1)} ms`);
        }
        progress.done(`pipeline median ${median(samples.map((s) => s.pipelineMs)).toFixed(1)} ms`);
        addRuns.push(samples);
        firstRunSamples[contender.key] ??= samples;
        addDeltas.push(statsDelta(before, await server.stats()));
        const sumOf = (list: CallSample[], key: keyof CallSample) => list.reduce((total, sample) => total + sample[key], 0);
        addBreakdowns.push(breakdownOf(clock, clockBefore, samples.length, sumOf(samples, 'wallMs'), sumOf(samples, 'serverMs')));
        clockBefore = { ...clock?.totals };
        // Search what this run stored (the ESM build only stored its first adds: searched as it is).
        const searchSamples: CallSample[] = [];
        const searchBefore = await server.stats();
        const searchProgress = new Progress(`${system.name} search`, questions.length);
        for (const [index, question] of questions.entries()) {
          const { sample } = await measure(server, () => system.search(question.query, userIdOf(conversation, question.self), 30));
          searchSamples.push(sample);
          if (index % 10 === 9) searchProgress.tick(index + 1);
        }
        searchProgress.done(`pipeline median ${median(searchSamples.map((s) => s.pipelineMs)).toFixed(1)} ms`);
        searchRuns.push(searchSamples);
        searchDeltas.push(statsDelta(searchBefore, await server.stats()));
        searchBreakdowns.push(
          breakdownOf(clock, clockBefore, searchSamples.length, sumOf(searchSamples, 'wallMs'), sumOf(searchSamples, 'serverMs')),
        );
        await system.close();
        rmSync(directory, { recursive: true, force: true });
      }
      if (contender.key === 'mem-breakdown') {
        const addBreakdown = averageBreakdown(addBreakdowns);
        const searchBreakdown = averageBreakdown(searchBreakdowns);
        addFigures['mem'] = { ...addFigures['mem']!, ...(addBreakdown ? { breakdown: addBreakdown } : {}) };
        searchFigures['mem'] = { ...searchFigures['mem']!, ...(searchBreakdown ? { breakdown: searchBreakdown } : {}) };
        continue;
      }
      addFigures[contender.key] = figures(addRuns, addDeltas);
      searchFigures[contender.key] = figures(searchRuns, searchDeltas);
    }

    // The baseline is mem0ai's faster build, judged on the adds both builds ran (the first run's first adds).
    const cjsFigures = addFigures['mem0ai-cjs']!;
    const esmFigures = addFigures['mem0ai-esm'];
    const esmCalls = esmFigures?.calls ?? 0;
    const cjsSameAdds = median((firstRunSamples['mem0ai-cjs'] ?? []).slice(0, esmCalls).map((sample) => sample.pipelineMs));
    const esmRatio = esmFigures
      ? ratio(median((firstRunSamples['mem0ai-esm'] ?? []).map((sample) => sample.pipelineMs)), cjsSameAdds)
      : Number.NaN;
    const esmWhole = esmFigures !== undefined && esmCalls === cjsFigures.calls;
    const baselineKey = esmWhole && esmRatio < 1 ? 'mem0ai-esm' : 'mem0ai-cjs';
    const baselineBuild: Mem0Build = baselineKey === 'mem0ai-esm' ? 'esm' : 'cjs';

    // Overhead against store size: synthetic memories over 100 scopes, then adds and searches in one scope.
    const sized: Record<string, SizedFigures[]> = { mem: [], mem0ai: [] };
    const sizedPlan: { key: string; sizes: readonly number[]; create: (directory: string) => Promise<SystemUnderTest> }[] = [
      { key: 'mem', sizes: options.memSizes, create: async (directory) => createMem({ baseURL: server.baseURL, directory }) },
      {
        key: 'mem0ai',
        sizes: options.mem0Sizes,
        create: (directory) => createMem0({ baseURL: server.baseURL, directory, build: baselineBuild }),
      },
    ];
    for (const plan of sizedPlan) {
      for (const size of plan.sizes) {
        const directory = join(root, `sized-${plan.key}-${size}`);
        const system = await plan.create(directory);
        const synthetic = new SyntheticMemories(1536, 100);
        const fill = new Progress(`${system.name} prefill ${size.toLocaleString('en-US')}`, size);
        for (let start = 0; start < size; start += 5000) {
          await system.prefill(synthetic.batch(start, Math.min(5000, size - start)));
          fill.tick(Math.min(size, start + 5000));
        }
        const clock = (system as { clock?: BusyClock }).clock;
        const total = (list: CallSample[], key: keyof CallSample) => list.reduce((sum, sample) => sum + sample[key], 0);
        const addSamples: CallSample[] = [];
        for (const add of adds.slice(0, options.sizedAdds))
          addSamples.push((await measure(server, () => system.add(add, 'user-0'))).sample);
        const searchSamples: CallSample[] = [];
        for (const question of questions.slice(0, options.sizedSearches)) {
          searchSamples.push((await measure(server, () => system.search(question.query, 'user-0', 30))).sample);
        }
        // Then the same number of calls again with the clock on (mem only), for the breakdown.
        let addBreakdown: Breakdown | undefined;
        let searchBreakdown: Breakdown | undefined;
        if (clock) {
          clock.enabled = true;
          let clockBefore = { ...clock.totals };
          const timedAdds: CallSample[] = [];
          for (const add of adds.slice(options.sizedAdds, 2 * options.sizedAdds))
            timedAdds.push((await measure(server, () => system.add(add, 'user-0'))).sample);
          addBreakdown = breakdownOf(clock, clockBefore, timedAdds.length, total(timedAdds, 'wallMs'), total(timedAdds, 'serverMs'));
          clockBefore = { ...clock.totals };
          const timedSearches: CallSample[] = [];
          for (const question of questions.slice(0, options.sizedSearches))
            timedSearches.push((await measure(server, () => system.search(question.query, 'user-0', 30))).sample);
          searchBreakdown = breakdownOf(
            clock,
            clockBefore,
            timedSearches.length,
            total(timedSearches, 'wallMs'),
            total(timedSearches, 'serverMs'),
          );
          clock.enabled = false;
        }
        const entry: SizedFigures = {
          size,
          scopeSize: Math.ceil(size / 100),
          add:
            addSamples.length > 0
              ? {
                  pipelineMs: summarize(addSamples.map((sample) => sample.pipelineMs)),
                  ...(addBreakdown ? { breakdown: addBreakdown } : {}),
                }
              : undefined,
          search:
            searchSamples.length > 0
              ? {
                  pipelineMs: summarize(searchSamples.map((sample) => sample.pipelineMs)),
                  ...(searchBreakdown ? { breakdown: searchBreakdown } : {}),
                }
              : undefined,
        };
        sized[plan.key]!.push(entry);
        status(
          `  ${system.name} at ${size.toLocaleString('en-US')}: add pipeline median ${entry.add?.pipelineMs.median.toFixed(1)} ms, search ${entry.search?.pipelineMs.median.toFixed(1)} ms`,
        );
        await system.close();
        rmSync(directory, { recursive: true, force: true });
      }
    }

    const same = `median pipeline time over the same first ${esmCalls} adds`;
    const mem0Baseline = !esmFigures
      ? "mem0ai's CommonJS build (loaded with require); its ESM build was not measured (--esm-adds 0)."
      : baselineKey === 'mem0ai-esm'
        ? `mem0ai's ESM build (import), the faster of its two builds on this run: ${esmRatio.toFixed(2)}× the time of its CommonJS build per add (${same}).`
        : esmRatio >= 1
          ? `mem0ai's CommonJS build (loaded with require), the faster of its two builds: its ESM build, which cannot load compromise and falls back to regex entity extraction, took ${esmRatio.toFixed(2)}× as long per add (${same}).`
          : `mem0ai's CommonJS build (loaded with require). Its ESM build was ${esmRatio.toFixed(2)}× its time on the first ${esmCalls} adds only (${same}); pass --esm-adds ${cjsFigures.calls} to compare them over the whole conversation.`;
    if (options.maxAdds !== undefined) notes.push(`Smoke run: only the first ${adds.length} of ${allAdds.length} adds.`);
    return {
      conversation: {
        index: 0,
        turns,
        sessions: conversation.sessions.length,
        adds: adds.length,
        speakers: [conversation.speakerA, conversation.speakerB],
      },
      latencyMs: options.latencyMs,
      add: addFigures,
      search: searchFigures,
      sized,
      mem0Baseline,
      baselineKey,
      notes,
    };
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

export type { ProtocolAdd };
