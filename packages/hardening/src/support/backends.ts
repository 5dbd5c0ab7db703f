import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryHistoryStore, InMemoryVectorStore, type HistoryStore, type VectorStore } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { ChromaVectorStore } from '@mem/vector-chroma';
import { PineconeVectorStore } from '@mem/vector-pinecone';
import { PineconeEmulator } from '@mem/vector-pinecone/testing';
import { QdrantVectorStore } from '@mem/vector-qdrant';
import { QdrantEmulator } from '@mem/vector-qdrant/testing';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { inject } from 'vitest';

/** A vector store and a history store for one test, and how to dispose of them. */
export interface Stores {
  readonly vectorStore: VectorStore;
  readonly historyStore: HistoryStore;
  dispose(): Promise<void>;
}

/** A backend under test: creates fresh stores (own collection / namespace / file) on demand. */
export interface Backend {
  readonly name: string;
  /** Why the backend cannot run here (shown as the skip reason), or undefined. */
  readonly skip?: string;
  create(): Promise<Stores>;
  /** Stops the servers the backend started. */
  close(): Promise<void>;
}

let sequence = 0;
const unique = (prefix: string) => `${prefix}${process.pid}x${Date.now().toString(36)}x${(sequence++).toString(36)}`;

/** The reference stores of core, in process memory. */
export function inMemoryBackend(): Backend {
  return {
    name: 'in-memory',
    async create() {
      return { vectorStore: new InMemoryVectorStore(), historyStore: new InMemoryHistoryStore(), dispose: async () => {} };
    },
    async close() {},
  };
}

/**
 * The embedded default: `@mem/vector-sqlite` and `@mem/history-sqlite` on one database file, each
 * with its own connection (as the README shows: two stores given the same path).
 */
export function sqliteBackend(): Backend {
  const directory = mkdtempSync(join(tmpdir(), 'mem-hardening-sqlite-'));
  return {
    name: 'sqlite (embedded default)',
    async create() {
      const path = join(directory, `${unique('db')}.db`);
      const vectorStore = new SqliteVectorStore({ path });
      const historyStore = new SqliteHistoryStore({ path });
      return {
        vectorStore,
        historyStore,
        dispose: async () => {
          await vectorStore.close();
          await historyStore.close();
        },
      };
    },
    async close() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A real Chroma server (started by the global setup from the chromadb npm CLI, or CHROMA_URL). */
export function chromaBackend(): Backend {
  const url = inject('chromaUrl');
  const skip = inject('chromaSkip') || undefined;
  return {
    name: 'chroma (real server)',
    ...(skip ? { skip } : {}),
    async create() {
      const vectorStore = new ChromaVectorStore({ url, collection: unique('hard'), maxRetries: 2 });
      const historyStore = new InMemoryHistoryStore();
      return {
        vectorStore,
        historyStore,
        dispose: async () => {
          await vectorStore.dropCollection();
          await vectorStore.close();
        },
      };
    },
    async close() {},
  };
}

/** The Qdrant adapter against its OpenAPI-validating emulator (no Qdrant server runs here). */
export async function qdrantBackend(): Promise<Backend & { readonly emulator: QdrantEmulator }> {
  const emulator = await QdrantEmulator.start();
  return {
    name: 'qdrant (emulator)',
    emulator,
    async create() {
      const vectorStore = new QdrantVectorStore({ url: emulator.url, collection: unique('hard'), retryDelayMs: 0, env: {} });
      return {
        vectorStore,
        historyStore: new InMemoryHistoryStore(),
        dispose: async () => {
          await vectorStore.dropCollection();
          await vectorStore.close();
        },
      };
    },
    async close() {
      await emulator.stop();
    },
  };
}

/** The Pinecone adapter against its spec-validating emulator (Pinecone Local needs Docker). */
export async function pineconeBackend(): Promise<Backend & { readonly emulator: PineconeEmulator }> {
  const emulator = await PineconeEmulator.start();
  return {
    name: 'pinecone (emulator)',
    emulator,
    async create() {
      const vectorStore = new PineconeVectorStore({
        apiKey: 'hardening-test-key',
        index: 'mem-hardening',
        namespace: unique('ns'),
        controllerHostUrl: emulator.controllerHostUrl,
        createIndex: { cloud: 'aws', region: 'us-east-1' },
        retryDelayMs: 0,
      });
      return {
        vectorStore,
        historyStore: new InMemoryHistoryStore(),
        dispose: async () => {
          await vectorStore.dropNamespace();
          await vectorStore.close();
        },
      };
    },
    async close() {
      await emulator.close();
    },
  };
}
