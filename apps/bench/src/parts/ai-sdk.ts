// What @mem/ai-sdk's withMemory middleware costs per model call on the embedded default (SQLite
// vector + history stores in one file, the offline lexical embedder): the tokens its memory block
// adds to the prompt, and the time it adds to generateText. The model is the AI SDK's own
// MockLanguageModelV3 answering at once, so the figures are the middleware's cost alone (a real
// model call adds its own hundreds of milliseconds on top, the same with or without memory).
//
// Variants run interleaved, call by call, in one process: the plain model (baseline), withMemory
// with add 'off' (search + injection only), 'background' (the default: the add starts after the
// answer and is not waited for) and 'await' (the add finishes before generateText returns).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withMemory } from '@mem/ai-sdk';
import { LexicalEmbedder, Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { generateText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { countTokens } from 'gpt-tokenizer';
import type { Table } from '../lib/format';
import { fmt } from '../lib/format';
import { Progress } from '../lib/progress';
import { summarize, type Summary } from '../lib/stats';
import { SyntheticMemories } from '../lib/synthetic';

export interface AISDKBenchOptions {
  /** Memories of the user whose calls are measured. */
  readonly memoriesPerUser: number;
  /** Users in the store (the others' memories are there to be filtered out). */
  readonly users: number;
  /** Measured calls per variant (after `warmup`). */
  readonly calls: number;
  readonly warmup: number;
}

const VARIANTS = ['baseline', 'off', 'background', 'await'] as const;
type Variant = (typeof VARIANTS)[number];

export interface AISDKBenchResult {
  readonly options: AISDKBenchOptions;
  /** Milliseconds per generateText call, per variant. */
  readonly latencyMs: Record<Variant, Summary>;
  /** The memory block per call: o200k tokens (gpt-tokenizer), the middleware's own estimate, memories in it. */
  readonly injected: { readonly tokens: Summary; readonly estimate: Summary; readonly memories: Summary };
  /** o200k tokens of the user message alone, for scale. */
  readonly userMessageTokens: Summary;
  /** Milliseconds from generateText's return to the end of the background add. */
  readonly backgroundAddMs: Summary;
}

const QUESTIONS = [
  'What does Alice think about green tea?',
  'Has Bob been to Lisbon?',
  'Remind me what Priya is learning these days.',
  'Which pottery class did Marco want to try?',
  'Did I talk about index funds with Chen?',
  'What was that jazz record Fatima recommended?',
  'Is Jonas still riding his road bike?',
  'What did the user say about vegan recipes?',
  'Any plans for the garden this spring?',
  'Who bought a golden retriever?',
];

export async function runAISDK(options: AISDKBenchOptions): Promise<AISDKBenchResult> {
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-ai-sdk-'));
  const path = join(directory, 'mem.db');
  const embedder = new LexicalEmbedder();
  const memory = new Memory({ embedder, vectorStore: new SqliteVectorStore({ path }), historyStore: new SqliteHistoryStore({ path }) });
  try {
    // The store: `users` users with `memoriesPerUser` each; user-0 is measured.
    const synthetic = new SyntheticMemories(embedder.dimensions, options.users);
    const total = options.memoriesPerUser * options.users;
    const progress = new Progress('ai-sdk: filling the store', total);
    let filled = 0;
    for (let start = 0; start < total; start += 500) {
      const records = synthetic.batch(start, Math.min(500, total - start));
      const { vectors } = await embedder.embed({ texts: records.map((record) => record.text), purpose: 'document' });
      await memory.importRecords(records.map((record, index) => ({ ...record, vector: vectors[index]! })));
      filled += records.length;
      progress.tick(filled);
    }
    progress.done();
    const scope = { userId: 'user-0' };

    const model = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'text', text: 'Here is what I remember.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 0, text: 0, reasoning: 0 },
        },
        warnings: [],
      }),
    });
    // The end time of each background add, handed over through waitUntil.
    const pendingAdds: Promise<number>[] = [];
    const models: Record<Variant, Parameters<typeof generateText>[0]['model']> = {
      baseline: model,
      off: withMemory(model, { memory, scope, add: 'off' }),
      background: withMemory(model, {
        memory,
        scope,
        addOptions: { infer: false },
        waitUntil: (promise) => pendingAdds.push(promise.then(() => performance.now())),
      }),
      await: withMemory(model, { memory, scope, add: 'await', addOptions: { infer: false } }),
    };

    const latency: Record<Variant, number[]> = { baseline: [], off: [], background: [], await: [] };
    const backgroundAdd: number[] = [];
    const tokens: number[] = [];
    const estimate: number[] = [];
    const memories: number[] = [];
    const userTokens: number[] = [];
    const rounds = options.warmup + options.calls;
    const measuring = new Progress('ai-sdk: calls', rounds);
    for (let round = 0; round < rounds; round++) {
      const prompt = `${QUESTIONS[round % QUESTIONS.length]} (${round})`;
      const measured = round >= options.warmup;
      // Rotate the order so no variant always runs first (warm caches, GC).
      const order = VARIANTS.map((_, index) => VARIANTS[(index + round) % VARIANTS.length]!);
      for (const variant of order) {
        const before = model.doGenerateCalls.length;
        const start = performance.now();
        const result = await generateText({ model: models[variant], prompt, maxRetries: 0 });
        const ms = performance.now() - start;
        if (variant === 'background') {
          // Waited for here, outside the timed call, so no add is still running during the next call.
          const returnedAt = performance.now();
          const pending = pendingAdds.pop();
          if (pending) {
            const endedAt = await pending;
            if (measured) backgroundAdd.push(Math.max(0, endedAt - returnedAt));
          }
        }
        if (!measured) continue;
        latency[variant].push(ms);
        if (variant === 'off') {
          const call = model.doGenerateCalls[before]!;
          const block = call.prompt.find((message) => message.role === 'system');
          tokens.push(block?.role === 'system' ? countTokens(block.content) : 0);
          const mem = result.providerMetadata?.['mem'] as { injectedTokens: number; memories: number } | undefined;
          estimate.push(mem?.injectedTokens ?? 0);
          memories.push(mem?.memories ?? 0);
          userTokens.push(countTokens(prompt));
        }
      }
      measuring.tick(round + 1);
    }
    measuring.done();
    return {
      options,
      latencyMs: {
        baseline: summarize(latency.baseline),
        off: summarize(latency.off),
        background: summarize(latency.background),
        await: summarize(latency.await),
      },
      injected: { tokens: summarize(tokens), estimate: summarize(estimate), memories: summarize(memories) },
      userMessageTokens: summarize(userTokens),
      backgroundAddMs: summarize(backgroundAdd),
    };
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

export function aiSDKTables(result: AISDKBenchResult): Table[] {
  const base = result.latencyMs.baseline;
  const row = (label: string, summary: Summary, added: boolean): string[] => [
    label,
    fmt(summary.median, 3),
    fmt(summary.p95, 3),
    added ? fmt(summary.median - base.median, 3) : '–',
  ];
  const { options } = result;
  return [
    {
      title: `withMemory: ms per generateText call (${options.calls} calls per variant, interleaved; ${options.memoriesPerUser.toLocaleString('en-US')} memories of the user in a store of ${(options.memoriesPerUser * options.users).toLocaleString('en-US')}; SQLite + lexical embedder)`,
      headers: ['variant', 'median ms', 'p95 ms', 'added ms (median − baseline median)'],
      rows: [
        row('plain model (baseline)', base, false),
        row("withMemory, add 'off' (search + injection)", result.latencyMs.off, true),
        row("withMemory, add 'background' (default)", result.latencyMs.background, true),
        row("withMemory, add 'await'", result.latencyMs.await, true),
      ],
      notes: [
        `background add, from generateText's return to the memory written: median ${fmt(result.backgroundAddMs.median, 3)} ms, p95 ${fmt(result.backgroundAddMs.p95, 3)} ms (not on the response path)`,
        'the model is MockLanguageModelV3 answering at once: these are the middleware\u2019s own milliseconds',
      ],
    },
    {
      title: 'withMemory: tokens the memory block adds to each prompt (defaults: limit 5, maxMemoryTokens 400)',
      headers: ['per call', 'median', 'p95'],
      rows: [
        ['memory block, o200k tokens (gpt-tokenizer)', fmt(result.injected.tokens.median, 0), fmt(result.injected.tokens.p95, 0)],
        [
          "memory block, the middleware's estimate (UTF-8 bytes / 3)",
          fmt(result.injected.estimate.median, 0),
          fmt(result.injected.estimate.p95, 0),
        ],
        ['memories in the block', fmt(result.injected.memories.median, 0), fmt(result.injected.memories.p95, 0)],
        ['the user message itself, o200k tokens', fmt(result.userMessageTokens.median, 0), fmt(result.userMessageTokens.p95, 0)],
      ],
    },
  ];
}
