import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Memory, type MemoryRecord } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { OpenAIEmbedder, OpenAILLM } from '@mem/llm-openai';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import type { ProtocolAdd } from '../lib/locomo';

/** One memory system under test, driven the same way by the benchmark. */
export interface SystemUnderTest {
  readonly name: string;
  add(add: ProtocolAdd, userId: string): Promise<void>;
  /** Returns the texts found, best first. */
  search(query: string, userId: string, limit: number): Promise<string[]>;
  /** Stores records as they are (no LLM, no embedding): fills the store to a size. */
  prefill(records: readonly MemoryRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Time during which at least one call of a kind was in flight (overlapping calls count once), so
 * the shares of one `add` can be told apart: HTTP requests, vector store, history store.
 */
export class BusyClock {
  readonly totals: Record<string, number> = {};
  /** Off by default: the headline runs are measured without the clock; a separate pass turns it on. */
  enabled = false;
  private readonly active: Record<string, { count: number; since: number }> = {};

  async time<T>(kind: string, run: () => Promise<T>): Promise<T> {
    if (!this.enabled) return run();
    const state = (this.active[kind] ??= { count: 0, since: 0 });
    if (state.count++ === 0) state.since = performance.now();
    try {
      return await run();
    } finally {
      if (--state.count === 0) this.totals[kind] = (this.totals[kind] ?? 0) + performance.now() - state.since;
    }
  }

  /** Wraps every async method of `target` so its calls count as `kind`. */
  wrap<T extends object>(kind: string, target: T): T {
    const clock = this;
    return new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function' || property === 'constructor' || property === 'list')
          return typeof value === 'function' ? value.bind(object) : value;
        return (...args: unknown[]) =>
          clock.enabled ? clock.time(kind, () => Promise.resolve(value.apply(object, args))) : value.apply(object, args);
      },
    });
  }
}

/** The models named in requests (the local server ignores them; a real API would bill them). */
export const CHAT_MODEL = 'gpt-4o-mini';
export const EMBEDDING_MODEL = 'text-embedding-3-small';

/**
 * mem on the embedded default (SqliteVectorStore + SqliteHistoryStore in one file) with the
 * OpenAI adapters pointed at `baseURL`, so the real adapter path (SDK, HTTP, JSON) is measured.
 */
export function createMem(options: {
  baseURL: string;
  directory: string;
  strategy?: 'reconcile' | 'additive';
}): SystemUnderTest & { memory: Memory; clock: BusyClock } {
  mkdirSync(options.directory, { recursive: true });
  const path = join(options.directory, 'mem.db');
  const clock = new BusyClock();
  // Time of the whole HTTP exchange (request sent, response body received): the server's time plus the round trip.
  const timedFetch = (input: string | URL | Request, init?: RequestInit) =>
    !clock.enabled
      ? fetch(input, init)
      : clock.time('http', async () => {
          const response = await fetch(input, init);
          const body = await response.arrayBuffer();
          return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
        });
  const memory = new Memory({
    llm: new OpenAILLM({ apiKey: 'bench', baseURL: options.baseURL, model: CHAT_MODEL, maxRetries: 0, fetch: timedFetch }),
    embedder: new OpenAIEmbedder({ apiKey: 'bench', baseURL: options.baseURL, model: EMBEDDING_MODEL, maxRetries: 0, fetch: timedFetch }),
    vectorStore: clock.wrap('vectorStore', new SqliteVectorStore({ path })),
    historyStore: clock.wrap('historyStore', new SqliteHistoryStore({ path })),
    strategy: options.strategy ?? 'reconcile',
  });
  return {
    name: 'mem',
    memory,
    clock,
    async add(add, userId) {
      await memory.add(
        add.messages.map((message) => ({ role: message.role, content: message.text, name: message.name })),
        { scope: { userId }, occurredAt: add.session.date },
      );
    },
    async search(query, userId, limit) {
      const { results } = await memory.search(query, { scope: { userId }, limit });
      return results.map((result) => result.text);
    },
    async prefill(records) {
      await memory.importRecords(records);
    },
    close: () => memory.close(),
  };
}

/** Which build of mem0ai to load: its CommonJS build (`require`) or its ESM build (`import`). */
export type Mem0Build = 'cjs' | 'esm';

interface Mem0Memory {
  add(messages: { role: string; content: string }[], config: Record<string, unknown>): Promise<unknown>;
  search(query: string, config: Record<string, unknown>): Promise<{ results: { memory: string }[] }>;
  _ensureInitialized(): Promise<void>;
  vectorStore: { insert(vectors: number[][], ids: string[], payloads: Record<string, unknown>[]): Promise<void> };
}

/**
 * mem0ai's open-source `Memory` (mem0ai/oss) with its defaults for a local install: the in-process
 * `memory` vector store (SQLite file) and SQLite history, OpenAI LLM and embedder pointed at
 * `baseURL` through `config.baseURL`. `MEM0_TELEMETRY=false` and `MEM0_DIR` must be set before the
 * package is loaded (the CLI does it at start).
 */
export async function createMem0(options: { baseURL: string; directory: string; build: Mem0Build }): Promise<SystemUnderTest> {
  const module =
    options.build === 'cjs'
      ? (createRequire(import.meta.url)('mem0ai/oss') as { Memory: new (config: unknown) => Mem0Memory })
      : ((await import('mem0ai/oss')) as unknown as { Memory: new (config: unknown) => Mem0Memory });
  mkdirSync(options.directory, { recursive: true });
  const memory = new module.Memory({
    version: 'v1.1',
    embedder: { provider: 'openai', config: { apiKey: 'bench', baseURL: options.baseURL, model: EMBEDDING_MODEL } },
    vectorStore: {
      provider: 'memory',
      config: { collectionName: 'memories', dimension: 1536, dbPath: join(options.directory, 'vector_store.db') },
    },
    llm: { provider: 'openai', config: { apiKey: 'bench', baseURL: options.baseURL, model: CHAT_MODEL } },
    historyStore: { provider: 'sqlite', config: { historyDbPath: join(options.directory, 'history.db') } },
  });
  await memory._ensureInitialized();
  return {
    name: `mem0ai (${options.build === 'cjs' ? 'CommonJS' : 'ESM'})`,
    async add(add, userId) {
      // Mem0's evaluation passes the session timestamp as metadata; the OSS `timestamp` option is a platform feature.
      await memory.add(
        add.messages.map((message) => ({ role: message.role, content: `${message.name}: ${message.text}` })),
        { userId, metadata: { timestamp: add.session.dateText } },
      );
    },
    async search(query, userId, limit) {
      const { results } = await memory.search(query, { filters: { user_id: userId }, topK: limit });
      return results.map((result) => result.memory);
    },
    async prefill(records) {
      for (let start = 0; start < records.length; start += 1000) {
        const batch = records.slice(start, start + 1000);
        await memory.vectorStore.insert(
          batch.map((record) => [...record.vector]),
          batch.map((record) => record.id),
          batch.map((record) => ({
            data: record.text,
            textLemmatized: record.text.toLowerCase(),
            hash: record.hash,
            user_id: record.scope.userId,
            createdAt: record.createdAt.toISOString(),
            updatedAt: record.updatedAt.toISOString(),
            ...record.metadata,
          })),
        );
      }
    },
    async close() {
      // mem0ai's Memory has no close(); its SQLite handles close with the process.
    },
  };
}
