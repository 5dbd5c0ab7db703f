// Graph memory benchmark (not a test):
//  1. LLM calls and prompt tokens per `add` with graph memory on versus off (LOCOMO turns, Mem0's
//     protocol as in quick.ts), for the reconcile strategy (graph folded into its one call) and the
//     additive strategy (graph in a second call);
//  2. median graph search latency at 1k and 10k entities on the embedded SQLite graph store.
//
//   pnpm --filter @mem/bench run graph [--locomo PATH] [--turns 60] [--sizes 1000,10000] [--queries 300]
//
// The LLM is scripted (deterministic, zero latency): prompt tokens are exact for what mem sends,
// completion tokens depend on the model and are only indicative here.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { normalize } from '@mem/core/adapter';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, type Embedder, type LLM } from '@mem/core';
import { HashEmbedder, ScriptedLLM, type ScriptedRequest } from '@mem/core/testing';
import { SqliteGraphStore } from '@mem/graph-sqlite';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { encode } from 'gpt-tokenizer';

const { values: args } = parseArgs({
  options: {
    locomo: { type: 'string', default: resolve(import.meta.dirname, '../../../../shared/data/locomo/locomo10.json') },
    turns: { type: 'string', default: '60' },
    sizes: { type: 'string', default: '1000,10000' },
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
  const match = /(\d+):(\d+)\s*(am|pm) on (\d+) (\w+),? (\d{4})/i.exec(text);
  if (!match) return new Date();
  const [, h, m, ampm, day, month, year] = match;
  const hour = (Number(h) % 12) + (ampm!.toLowerCase() === 'pm' ? 12 : 0);
  return new Date(`${day} ${month} ${year} ${hour}:${m} UTC`);
}

/**
 * A deterministic stand-in for a model: one fact per conversation line; for the graph, the user and
 * up to two capitalised words per line as entities, with a (user, mentions, word) relation each.
 */
function scriptedModel(): ScriptedLLM {
  const answer = (request: ScriptedRequest) => {
    const user = request.messages.at(-1)!.content;
    const lines = user.split('\n');
    const start = lines.indexOf('Conversation:');
    const conversation = lines.slice(start + 1);
    const facts = conversation.map((line) =>
      line
        .replace(/^\w+ \((.+?)\): /, '$1: ')
        .split(/(?<=[.!?])\s/)[0]!
        .slice(0, 160),
    );
    const names = [
      ...new Set(conversation.flatMap((line) => (line.replace(/^\w+ \(.+?\): /, '').match(/\b[A-Z][a-z]{2,}\b/g) ?? []).slice(0, 2))),
    ];
    const graph = {
      entities: [{ name: 'user', type: 'person' }, ...names.map((name) => ({ name, type: 'thing' }))],
      relations: names.map((name) => ({ source: 'user', relation: 'mentions', target: name })),
      ended: [],
    };
    const name = request.responseFormat?.type === 'json' ? request.responseFormat.name : '';
    if (name === 'memory_graph') return JSON.stringify(graph);
    if (name === 'memory_facts') return JSON.stringify({ facts });
    const operations = facts.map((text) => ({ op: 'ADD', id: null, text }));
    const withGraph = JSON.stringify(request.responseFormat).includes('"relations"');
    return JSON.stringify(withGraph ? { operations, ...graph } : { operations });
  };
  return new ScriptedLLM([answer], { repeatLast: true });
}

/** Counts prompt tokens (messages; the JSON schema separately) and completion tokens with o200k. */
class Counting {
  messageTokens: number[] = [];
  schemaTokens: number[] = [];
  completionTokens = 0;
  constructor(readonly llm: LLM) {}
  wrap(): LLM {
    const self = this;
    return {
      provider: this.llm.provider,
      model: this.llm.model,
      capabilities: this.llm.capabilities,
      async generate(request) {
        self.messageTokens.push(request.messages.reduce((sum, message) => sum + encode(message.content).length + 4, 3));
        self.schemaTokens.push(request.responseFormat?.type === 'json' ? encode(JSON.stringify(request.responseFormat.schema)).length : 0);
        const response = await self.llm.generate(request);
        self.completionTokens += encode(response.text).length;
        return response;
      },
    };
  }
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => quantile(values, 0.5);
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

// ---------------------------------------------------------------------------------------------
const turns = loadTurns(args.locomo!, Number(args.turns));
console.log(
  `\n# 1. LLM calls and tokens per add, graph memory off vs on (${turns.length} LOCOMO turns, two messages per add, both speakers' perspectives)`,
);
console.log(
  'strategy   | graph | adds | LLM calls/add | prompt tokens/add: messages median (mean) | + schema/add (mean) | completion tokens/add (scripted) | embedding calls/add',
);
for (const strategy of ['reconcile', 'additive'] as const) {
  for (const graph of [false, true]) {
    const counting = new Counting(scriptedModel());
    const directory = mkdtempSync(join(tmpdir(), 'mem-bench-graph-'));
    const path = join(directory, 'mem.db');
    const memory = new Memory({
      llm: counting.wrap(),
      embedder: new HashEmbedder({ dimensions: 256 }),
      vectorStore: new SqliteVectorStore({ path }),
      historyStore: new SqliteHistoryStore({ path }),
      ...(graph ? { graphStore: new SqliteGraphStore({ path }) } : {}),
      strategy,
    });
    let llmCalls = 0;
    let embeddingCalls = 0;
    let adds = 0;
    const perAdd: number[] = [];
    for (let i = 0; i + 1 < turns.length; i += 2) {
      const pair = [turns[i]!, turns[i + 1]!];
      for (const self of [pair[0]!.speaker, pair[1]!.speaker]) {
        const before = sum(counting.messageTokens);
        const messages = pair.map((turn) => ({
          role: turn.speaker === self ? ('user' as const) : ('assistant' as const),
          content: turn.text,
          name: turn.speaker,
        }));
        const result = await memory.add(messages, { scope: { userId: self }, occurredAt: pair[0]!.date });
        llmCalls += result.usage.llmCalls;
        embeddingCalls += result.usage.embeddingCalls;
        perAdd.push(sum(counting.messageTokens) - before);
        adds++;
      }
    }
    console.log(
      `${strategy.padEnd(10)} | ${(graph ? 'on' : 'off').padEnd(5)} | ${String(adds).padStart(4)} | ${fmt(llmCalls / adds).padStart(13)} | ${`${fmt(median(perAdd), 0)} (${fmt(sum(perAdd) / adds, 0)})`.padStart(41)} | ${fmt(sum(counting.schemaTokens) / adds, 0).padStart(19)} | ${fmt(counting.completionTokens / adds, 0).padStart(32)} | ${fmt(embeddingCalls / adds).padStart(19)}`,
    );
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
/** Embeds queries to a chosen vector (near one entity), everything else by hashing. */
class BenchEmbedder implements Embedder {
  readonly provider = 'bench';
  readonly model = 'bench';
  queryVector: number[] = [];
  private readonly hash = new HashEmbedder({ dimensions });
  async embed(request: { texts: readonly string[]; purpose?: 'document' | 'query' }) {
    if (request.purpose === 'query') return { vectors: request.texts.map(() => [...this.queryVector]), tokens: 0 };
    return this.hash.embed(request);
  }
}

const randomUnit = () => normalize(Array.from({ length: dimensions }, () => Math.random() - 0.5));
const nudge = (vector: readonly number[]) => normalize(vector.map((value) => value + (Math.random() - 0.5) * 0.01));
const queries = Number(args.queries);
console.log(
  `\n# 2. graph search latency on SqliteGraphStore (${dimensions}-dim entity embeddings, one user's scope; 2 relations per entity, 50 on the user; ${queries} queries)`,
);
console.log('entities | memory.search graph stage p50 ms (p95) | searchEntities p50 ms | neighbors p50 ms | relations returned (median)');
for (const size of args.sizes!.split(',').map(Number)) {
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-graph-search-'));
  const graphStore = new SqliteGraphStore({ path: join(directory, 'mem.db') });
  const embedder = new BenchEmbedder();
  // An empty in-memory vector store: memory.search time is then the graph stage (plus a no-op vector search).
  const memory = new Memory({ embedder, vectorStore: new InMemoryVectorStore(), historyStore: new InMemoryHistoryStore(), graphStore });
  const scope = { userId: 'user-0' };
  await graphStore.ensureSchema({ dimensions });
  const vectors: number[][] = [];
  // Batches of 500 entities (and their 1000 relations), within the store's maxBatchSize.
  for (let start = 0; start < size; start += 500) {
    const entities = Array.from({ length: Math.min(500, size - start) }, (_, i) => {
      const vector = randomUnit();
      vectors.push(vector);
      return { name: `entity ${start + i}`, type: 'thing', embedding: vector };
    });
    await graphStore.upsertEntities({ scope, entities });
    const relations = entities.flatMap((entity, i) => [
      {
        source: entity.name,
        relation: 'related_to',
        target: `entity ${Math.floor(Math.random() * size)}`,
        validFrom: new Date(Date.UTC(2024, 0, 1) + (start + i) * 60_000),
      },
      {
        source: entity.name,
        relation: 'located_in',
        target: `entity ${Math.floor(Math.random() * size)}`,
        validFrom: new Date(Date.UTC(2024, 0, 1) + (start + i) * 60_000),
      },
    ]);
    await graphStore.upsertRelations({ scope, relations });
  }
  await graphStore.upsertRelations({
    scope,
    relations: Array.from({ length: 50 }, (_, i) => ({
      source: 'user',
      relation: 'knows',
      target: `entity ${i}`,
      validFrom: new Date(Date.UTC(2024, 5, 1, 0, i)),
    })),
  });
  // Other users' graphs in the same tables, so scope filtering is exercised too.
  await graphStore.upsertEntities({
    scope: { userId: 'user-1' },
    entities: vectors.slice(0, 1000).map((vector, i) => ({ name: `entity ${i}`, type: 'thing', embedding: vector })),
  });

  const search: number[] = [];
  const entityTimes: number[] = [];
  const neighborTimes: number[] = [];
  const returned: number[] = [];
  for (let q = 0; q < queries; q++) {
    const target = Math.floor(Math.random() * size);
    embedder.queryVector = nudge(vectors[target]!);
    const t0 = performance.now();
    const { relations } = await memory.search(`what do I know about entity ${target}?`, { scope, limit: 10 });
    search.push(performance.now() - t0);
    returned.push(relations!.length);
    const t1 = performance.now();
    const matches = await graphStore.searchEntities({ scope, vector: embedder.queryVector, topK: 5, threshold: 0.3 });
    const t2 = performance.now();
    await graphStore.neighbors({ scope, entities: [...matches.map((match) => match.entity.name), 'user'], limit: 100 });
    const t3 = performance.now();
    entityTimes.push(t2 - t1);
    neighborTimes.push(t3 - t2);
  }
  console.log(
    `${String(size).padStart(8)} | ${`${fmt(median(search), 3)} (${fmt(quantile(search, 0.95), 3)})`.padStart(39)} | ${fmt(median(entityTimes), 3).padStart(21)} | ${fmt(median(neighborTimes), 3).padStart(16)} | ${fmt(median(returned), 0).padStart(26)}`,
  );
  await memory.close();
  rmSync(directory, { recursive: true, force: true });
}
