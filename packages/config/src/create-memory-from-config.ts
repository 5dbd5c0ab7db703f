import {
  LexicalEmbedder,
  Memory,
  type Embedder,
  type GraphStore,
  type HistoryStore,
  type LLM,
  type Reranker,
  type TelemetryOptions,
  type VectorStore,
} from '@mem/core';
import type { EmbedderConfig, LlmConfig, MemConfig, RerankerConfig } from './load-config';

/** A {@link Memory} built from a {@link MemConfig}, with the parts it was built from. */
export interface ConfiguredMemory {
  readonly memory: Memory;
  readonly config: MemConfig;
  /** The LLM, or `undefined` when none is configured (then `add` must use `infer: false`). */
  readonly llm: LLM | undefined;
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly historyStore: HistoryStore;
  readonly graphStore: GraphStore | undefined;
  /** The reranker of `search({ rerank: true })`, or `undefined` when none is configured. */
  readonly reranker: Reranker | undefined;
  /** One line naming the providers, e.g. `llm none, embedder lexical/hashing-512, vector sqlite, history sqlite (./mem.db)`; never a secret. */
  readonly description: string;
  /** Closes the stores (`memory.close()`) and the reranker's model, if it has one. */
  close(): Promise<void>;
}

/** Parts a caller builds itself instead (tests: a scripted LLM, a slow embedder). */
export interface MemoryOverrides {
  readonly llm?: LLM;
  readonly embedder?: Embedder;
  readonly vectorStore?: VectorStore;
  readonly historyStore?: HistoryStore;
  readonly graphStore?: GraphStore;
  readonly reranker?: Reranker;
  /** The memory's OpenTelemetry settings (e.g. the server's tracer). @default the global tracer, no memory text */
  readonly telemetry?: TelemetryOptions | false;
}

/** How {@link createMemoryFromConfig} opens the embedded SQLite stores. */
export interface OpenOptions {
  /**
   * Opens the embedded SQLite stores read-only (the `db` file must exist): `search`, `get` and the
   * listings work, every write fails. For readers beside the process that writes the file, e.g. the
   * REST server's search workers. Remote stores are not affected. @default false
   */
  readonly readOnly?: boolean;
}

/**
 * Builds a {@link Memory} from a configuration: the embedded SQLite stores share the `db` file;
 * remote adapters are imported only when configured.
 *
 * @throws {InvalidInputError} or {@link MissingSettingError} from the adapters (e.g. a missing `OPENAI_API_KEY`).
 * @example
 * import { createMemoryFromConfig, loadConfig } from '@mem/config';
 * const { memory, description, close } = await createMemoryFromConfig(loadConfig());
 */
export async function createMemoryFromConfig(
  config: MemConfig,
  overrides: MemoryOverrides = {},
  open: OpenOptions = {},
): Promise<ConfiguredMemory> {
  const readOnly: { readOnly?: true } = open.readOnly === true ? { readOnly: true } : {};
  const llm = overrides.llm ?? (await createLlm(config.llm));
  const embedder = overrides.embedder ?? (await createEmbedder(config.embedder));
  const reranker = overrides.reranker ?? (await createReranker(config.reranker));
  const opened: { close(): Promise<void> }[] = [];
  try {
    const vectorStore = overrides.vectorStore ?? (await createVectorStore(config, readOnly));
    opened.push(vectorStore);
    const historyStore = overrides.historyStore ?? (await createHistoryStore(config, readOnly));
    opened.push(historyStore);
    const graphStore = overrides.graphStore ?? (await createGraphStore(config, readOnly));
    if (graphStore) opened.push(graphStore);
    const memory = new Memory({
      embedder,
      vectorStore,
      historyStore,
      strategy: config.strategy,
      ...(config.categories ? { categories: config.categories } : {}),
      images: config.images,
      ...(config.idempotency ? { idempotency: config.idempotency } : {}),
      ...(llm ? { llm } : {}),
      ...(graphStore ? { graphStore } : {}),
      ...(reranker ? { reranker } : {}),
      ...(overrides.telemetry === undefined ? {} : { telemetry: overrides.telemetry }),
    });
    const parts = [
      `llm ${llm ? `${llm.provider}/${llm.model}` : 'none'}`,
      `embedder ${embedder.provider}/${embedder.model}`,
      `vector ${vectorStore.provider}`,
      `history ${historyStore.provider}`,
      ...(graphStore ? [`graph ${graphStore.provider}`] : []),
      ...(reranker ? [`reranker ${reranker.provider}${'model' in reranker ? `/${String(reranker.model)}` : ''}`] : []),
    ];
    const usesFile =
      config.vectorStore.provider === 'sqlite' || config.historyStore.provider === 'sqlite' || config.graphStore.provider === 'sqlite';
    return {
      memory,
      config,
      llm,
      embedder,
      vectorStore,
      historyStore,
      graphStore,
      reranker,
      description: `${parts.join(', ')}${usesFile ? ` (${config.db})` : ''}`,
      close: async () => {
        await memory.close();
        // A local cross-encoder holds an onnxruntime session; a remote reranker has nothing to close.
        await (reranker as { close?: () => Promise<void> } | undefined)?.close?.();
      },
    };
  } catch (error) {
    await Promise.allSettled(opened.map((store) => store.close()));
    throw error;
  }
}

async function createLlm(config: LlmConfig): Promise<LLM | undefined> {
  switch (config.provider) {
    case 'none':
      return undefined;
    case 'openai': {
      const { OpenAILLM } = await import('@mem/llm-openai');
      return new OpenAILLM({ ...config.options, ...(config.model ? { model: config.model } : {}) });
    }
    case 'anthropic': {
      const { AnthropicLLM } = await import('@mem/llm-anthropic');
      return new AnthropicLLM({ ...config.options, ...(config.model ? { model: config.model } : {}) });
    }
  }
}

async function createEmbedder(config: EmbedderConfig): Promise<Embedder> {
  if (config.provider === 'lexical') return new LexicalEmbedder(config.dimensions ? { dimensions: config.dimensions } : {});
  const { OpenAIEmbedder } = await import('@mem/llm-openai');
  return new OpenAIEmbedder({
    ...config.options,
    ...(config.model ? { model: config.model } : {}),
    ...(config.dimensions ? { dimensions: config.dimensions } : {}),
  });
}

async function createReranker(config: RerankerConfig): Promise<Reranker | undefined> {
  switch (config.provider) {
    case 'none':
      return undefined;
    case 'cohere': {
      const { CohereReranker } = await import('@mem/reranker-cohere');
      return new CohereReranker({ ...config.options, ...(config.model ? { model: config.model } : {}) });
    }
    case 'transformers': {
      const { TransformersReranker } = await import('@mem/reranker-transformers');
      return new TransformersReranker({ ...config.options, ...(config.model ? { model: config.model } : {}) });
    }
  }
}

async function createVectorStore(config: MemConfig, readOnly: { readOnly?: true }): Promise<VectorStore> {
  const store = config.vectorStore;
  switch (store.provider) {
    case 'sqlite': {
      const { SqliteVectorStore } = await import('@mem/vector-sqlite');
      return new SqliteVectorStore({
        path: config.db,
        ...readOnly,
        ...(store.table ? { table: store.table } : {}),
        ...(store.vectorCache === undefined ? {} : { vectorCache: store.vectorCache }),
        ...(store.vectorCacheBytes === undefined ? {} : { vectorCacheBytes: store.vectorCacheBytes }),
        ...(store.keywordIndex === undefined ? {} : { keywordIndex: store.keywordIndex }),
        ...(store.keywordIndexBytes === undefined ? {} : { keywordIndexBytes: store.keywordIndexBytes }),
        ...(store.approximate === undefined ? {} : { approximate: store.approximate }),
        ...(store.approximateMinScope === undefined ? {} : { approximateMinScope: store.approximateMinScope }),
        ...(store.approximateExpansion === undefined ? {} : { approximateExpansion: store.approximateExpansion }),
        ...(store.approximateCandidates === undefined ? {} : { approximateCandidates: store.approximateCandidates }),
      });
    }
    case 'chroma': {
      const { ChromaVectorStore } = await import('@mem/vector-chroma');
      return new ChromaVectorStore({ ...store.options });
    }
    case 'qdrant': {
      const { QdrantVectorStore } = await import('@mem/vector-qdrant');
      return new QdrantVectorStore({ ...store.options });
    }
    case 'pinecone': {
      const { PineconeVectorStore } = await import('@mem/vector-pinecone');
      return new PineconeVectorStore({ ...store.options });
    }
    case 'postgres': {
      const { PostgresVectorStore } = await import('@mem/vector-postgres');
      return new PostgresVectorStore({ ...store.options });
    }
  }
}

async function createHistoryStore(config: MemConfig, readOnly: { readOnly?: true }): Promise<HistoryStore> {
  const store = config.historyStore;
  if (store.provider === 'postgres') {
    const { PostgresHistoryStore } = await import('@mem/history-postgres');
    return new PostgresHistoryStore({ ...store.options });
  }
  const { SqliteHistoryStore } = await import('@mem/history-sqlite');
  return new SqliteHistoryStore({ path: config.db, ...readOnly, ...(store.table ? { table: store.table } : {}) });
}

async function createGraphStore(config: MemConfig, readOnly: { readOnly?: true }): Promise<GraphStore | undefined> {
  if (config.graphStore.provider === 'none') return undefined;
  const { SqliteGraphStore } = await import('@mem/graph-sqlite');
  return new SqliteGraphStore({
    path: config.db,
    ...readOnly,
    ...(config.graphStore.tablePrefix ? { tablePrefix: config.graphStore.tablePrefix } : {}),
  });
}
