// Quick benchmark for the foundation (not a test): LLM calls and prompt tokens per `add` for each
// strategy on the first LOCOMO conversation, mem's own overhead per `add` at several store sizes,
// and search latency at 10k memories, on the embedded default (SQLite).
//
//   pnpm --filter @mem/bench run quick [--locomo PATH] [--turns 60] [--sizes 1000,10000] [--queries 300]
//
// The LLM is scripted (deterministic, zero latency) and the embedder hashes words, so the times are
// mem's own: wall time minus the time spent inside the LLM and the embedder.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hashText, normalize, uuidv7 } from '@mem/core/adapter';
import { Memory, type Embedder, type LLM, type MemoryRecord } from '@mem/core';
import { HashEmbedder, ScriptedLLM, type ScriptedRequest } from '@mem/core/testing';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { encode } from 'gpt-tokenizer';

const { values: args } = parseArgs({
  options: {
    locomo: { type: 'string', default: resolve(import.meta.dirname, '../../../../shared/data/locomo/locomo10.json') },
    turns: { type: 'string', default: '60' },
    sizes: { type: 'string', default: '0,1000,10000' },
    queries: { type: 'string', default: '300' },
    dimensions: { type: 'string', default: '1536' },
  },
});
const dimensions = Number(args.dimensions);

interface Turn {
  speaker: string;
  text: string;
  date: Date;
}

function loadTurns(path: string, limit: number): Turn[] {
  if (!existsSync(path)) {
    console.log(`LOCOMO not found at ${path}; using a built-in synthetic conversation. Pass --locomo PATH.`);
    return Array.from({ length: limit }, (_, i) => ({
      speaker: i % 2 ? 'Bob' : 'Alice',
      text: `On day ${i} I went hiking near the lake with my dog Rex and then cooked pasta for ${i % 5} friends.`,
      date: new Date(Date.UTC(2023, 4, 1 + i)),
    }));
  }
  const conversation = JSON.parse(readFileSync(path, 'utf8'))[0].conversation;
  const turns: Turn[] = [];
  for (let session = 1; conversation[`session_${session}`]; session++) {
    const date = parseLocomoDate(conversation[`session_${session}_date_time`]);
    for (const turn of conversation[`session_${session}`]) turns.push({ speaker: turn.speaker, text: turn.text, date });
  }
  return turns.slice(0, limit);
}

function parseLocomoDate(text: string): Date {
  // "1:56 pm on 8 May, 2023"
  const match = /(\d+):(\d+)\s*(am|pm) on (\d+) (\w+),? (\d{4})/i.exec(text);
  if (!match) return new Date();
  const [, h, m, ampm, day, month, year] = match;
  const hour = (Number(h) % 12) + (ampm!.toLowerCase() === 'pm' ? 12 : 0);
  return new Date(`${day} ${month} ${year} ${hour}:${m} UTC`);
}

/** A deterministic stand-in for a model: one fact per conversation line, ADD or NONE when already shown. */
function scriptedModel(): ScriptedLLM {
  const answer = (request: ScriptedRequest) => {
    const user = request.messages.at(-1)!.content;
    const lines = user.split('\n');
    const existing = new Map<string, string>();
    for (const line of lines) {
      const m = /^(m\d+): (.*)$/.exec(line);
      if (m) existing.set(m[2]!, m[1]!);
    }
    const start = lines.indexOf('Conversation:');
    const facts = lines.slice(start + 1).map((line) =>
      line
        .replace(/^\w+ \((.+?)\): /, '$1: ')
        .split(/(?<=[.!?])\s/)[0]!
        .slice(0, 160),
    );
    const isAdditive = request.responseFormat?.type === 'json' && request.responseFormat.name === 'memory_facts';
    return JSON.stringify(
      isAdditive
        ? { facts }
        : {
            operations: facts.map((text) =>
              existing.has(text) ? { op: 'NONE', id: existing.get(text), text: null } : { op: 'ADD', id: null, text },
            ),
          },
    );
  };
  return new ScriptedLLM([answer], { repeatLast: true });
}

/** Wraps the LLM and embedder to count tokens with a real tokenizer and to time the calls. */
class Instrumented {
  inside = 0;
  promptTokens: number[] = [];
  constructor(
    readonly llm: LLM,
    readonly embedder: Embedder,
  ) {}
  wrapLLM(): LLM {
    const self = this;
    return {
      ...this.llm,
      provider: this.llm.provider,
      model: this.llm.model,
      capabilities: this.llm.capabilities,
      async generate(request) {
        const start = performance.now();
        // o200k tokens of every message plus the chat format's ~4 tokens per message.
        self.promptTokens.push(request.messages.reduce((sum, m) => sum + encode(m.content).length + 4, 3));
        try {
          return await self.llm.generate(request);
        } finally {
          self.inside += performance.now() - start;
        }
      },
    };
  }
  wrapEmbedder(): Embedder {
    const self = this;
    return {
      provider: this.embedder.provider,
      model: this.embedder.model,
      async embed(request) {
        const start = performance.now();
        try {
          return await self.embedder.embed(request);
        } finally {
          self.inside += performance.now() - start;
        }
      },
    };
  }
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => quantile(values, 0.5);
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function freshMemory(strategy: 'reconcile' | 'additive', instrumented: Instrumented) {
  const dir = mkdtempSync(join(tmpdir(), 'mem-bench-'));
  const path = join(dir, 'mem.db');
  const vectorStore = new SqliteVectorStore({ path });
  const memory = new Memory({
    llm: instrumented.wrapLLM(),
    embedder: instrumented.wrapEmbedder(),
    vectorStore,
    historyStore: new SqliteHistoryStore({ path }),
    strategy,
  });
  return {
    memory,
    vectorStore,
    cleanup: async () => {
      await memory.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function randomRecord(scopeIndex: number, now: Date): MemoryRecord {
  const vector = normalize(Array.from({ length: dimensions }, () => Math.random() - 0.5));
  const text = `synthetic memory ${Math.random().toString(36).slice(2)}`;
  return {
    id: uuidv7(),
    vector,
    text,
    hash: hashText(text),
    scope: { userId: `user-${scopeIndex}` },
    metadata: { topic: ['food', 'travel', 'work', 'family'][scopeIndex % 4]!, importance: scopeIndex % 10 },
    createdAt: now,
    updatedAt: now,
    occurredAt: now,
  };
}

// ---------------------------------------------------------------------------------------------
const turns = loadTurns(args.locomo!, Number(args.turns));
console.log(`\n# 1. LLM calls and prompt tokens per add (${turns.length} LOCOMO turns, two messages per add, both speakers' perspectives)`);
console.log('strategy   | adds | LLM calls/add | prompt tokens/add (median) | completion tokens/add | embedding calls/add');
const tokenRows: Record<string, number> = {};
for (const strategy of ['reconcile', 'additive', 'raw'] as const) {
  const instrumented = new Instrumented(scriptedModel(), new HashEmbedder({ dimensions: 256 }));
  const { memory, cleanup } = freshMemory(strategy === 'raw' ? 'reconcile' : strategy, instrumented);
  let llmCalls = 0;
  let embeddingCalls = 0;
  let completion = 0;
  let adds = 0;
  for (let i = 0; i + 1 < turns.length; i += 2) {
    const pair = [turns[i]!, turns[i + 1]!];
    // Mem0's protocol: each speaker's memory gets the pair, with that speaker as "user".
    for (const self of [pair[0]!.speaker, pair[1]!.speaker]) {
      const messages = pair.map((t) => ({
        role: t.speaker === self ? ('user' as const) : ('assistant' as const),
        content: t.text,
        name: t.speaker,
      }));
      const result = await memory.add(messages, { scope: { userId: self }, occurredAt: pair[0]!.date, infer: strategy !== 'raw' });
      llmCalls += result.usage.llmCalls;
      embeddingCalls += result.usage.embeddingCalls;
      completion += result.usage.completionTokens;
      adds++;
    }
  }
  tokenRows[strategy] = median(instrumented.promptTokens);
  console.log(
    `${strategy.padEnd(10)} | ${String(adds).padStart(4)} | ${fmt(llmCalls / adds).padStart(13)} | ${fmt(median(instrumented.promptTokens), 0).padStart(26)} | ${fmt(completion / adds, 0).padStart(21)} | ${fmt(embeddingCalls / adds).padStart(19)}`,
  );
  await cleanup();
}
console.log(`reconcile vs mem0ai's ~8,300 prompt tokens per add: ${fmt(tokenRows.reconcile! / 8300, 3)}x (target <= 0.25)`);

// ---------------------------------------------------------------------------------------------
console.log(`\n# 2. mem's own overhead per add (reconcile, ${dimensions}-dim vectors, 100 scopes, wall time minus LLM/embedder time)`);
console.log('store size | adds | overhead/add median ms | p95 ms');
const sizes = args.sizes!.split(',').map(Number);
for (const size of sizes) {
  const instrumented = new Instrumented(scriptedModel(), new HashEmbedder({ dimensions }));
  const { memory, vectorStore, cleanup } = freshMemory('reconcile', instrumented);
  await vectorStore.ensureCollection({ dimensions });
  const now = new Date();
  for (let start = 0; start < size; start += 1000) {
    await vectorStore.upsert({
      records: Array.from({ length: Math.min(1000, size - start) }, (_, i) => randomRecord((start + i) % 100, now)),
    });
  }
  const overheads: number[] = [];
  for (let i = 0; i + 1 < Math.min(turns.length, 80); i += 2) {
    instrumented.inside = 0;
    const t0 = performance.now();
    await memory.add(
      [
        { role: 'user', content: turns[i]!.text },
        { role: 'assistant', content: turns[i + 1]!.text },
      ],
      { scope: { userId: `user-${i % 100}` }, occurredAt: turns[i]!.date },
    );
    overheads.push(performance.now() - t0 - instrumented.inside);
  }
  console.log(
    `${String(size).padStart(10)} | ${String(overheads.length).padStart(4)} | ${fmt(median(overheads)).padStart(22)} | ${fmt(quantile(overheads, 0.95)).padStart(6)}`,
  );
  await cleanup();
}

// ---------------------------------------------------------------------------------------------
const N = 10_000;
const queries = Number(args.queries);
console.log(`\n# 3. search at ${N} memories (${dimensions} dims, 100 scopes), ${queries} queries; excludes embedding time`);
{
  const instrumented = new Instrumented(scriptedModel(), new HashEmbedder({ dimensions }));
  const { memory, vectorStore, cleanup } = freshMemory('reconcile', instrumented);
  await vectorStore.ensureCollection({ dimensions });
  const now = new Date();
  const all: MemoryRecord[] = [];
  for (let start = 0; start < N; start += 1000) {
    const batch = Array.from({ length: 1000 }, (_, i) => randomRecord((start + i) % 100, now));
    all.push(...batch);
    await vectorStore.upsert({ records: batch });
  }
  const run = async (label: string, options: { filter?: { topic: string }; keyword?: boolean }) => {
    const times: number[] = [];
    for (let q = 0; q < queries; q++) {
      instrumented.inside = 0;
      const t0 = performance.now();
      await memory.search('what did I eat on my trip', { scope: { userId: `user-${q % 100}` }, limit: 10, ...options });
      times.push(performance.now() - t0 - instrumented.inside);
    }
    console.log(`${label.padEnd(40)} p50 ${fmt(median(times), 3)} ms   p95 ${fmt(quantile(times, 0.95), 3)} ms`);
  };
  await run('memory.search, semantic + keyword', {});
  await run('memory.search, semantic only', { keyword: false });
  await run('memory.search, semantic + metadata filter', { keyword: false, filter: { topic: 'food' } });
  // The exact-search lower bound: scanning one scope's vectors once in a tight loop.
  const scopeVectors = all.filter((r) => r.scope.userId === 'user-0').map((r) => Float32Array.from(r.vector));
  const query = Float32Array.from(all[0]!.vector);
  const scans: number[] = [];
  for (let q = 0; q < queries; q++) {
    const t0 = performance.now();
    let best = -2;
    for (const v of scopeVectors) {
      let dot = 0;
      for (let k = 0; k < v.length; k++) dot += v[k]! * query[k]!;
      if (dot > best) best = dot;
    }
    scans.push(performance.now() - t0);
  }
  console.log(`${'lower bound: scan one scope (JS loop)'.padEnd(40)} p50 ${fmt(median(scans), 3)} ms   (${scopeVectors.length} vectors)`);
  await cleanup();
}
