import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { nonEmptySetting, processEnvironment, type Environment } from '@mem/core/adapter';
import { InvalidInputError } from '@mem/core';
import { parse as parseYaml } from 'yaml';

/**
 * One configuration for every way of running mem as a program: the REST server (`@mem/server`),
 * the `mem` CLI (`@mem/cli`) and the MCP server (`@mem/mcp`). Settings come from, in order of precedence:
 * explicit overrides (CLI flags), then `MEM_*` environment variables, then the file named by
 * `MEM_CONFIG` (JSON or YAML), then defaults. The defaults need nothing: an embedded SQLite file
 * (`./mem.db`), the offline lexical embedder, and no LLM unless a provider key is in the environment.
 *
 * Provider credentials are never `MEM_*` variables: each adapter reads its own (`OPENAI_API_KEY`,
 * `ANTHROPIC_API_KEY`, `QDRANT_URL`, `CHROMA_URL`, `PINECONE_API_KEY`, …).
 */

/** Which LLM extracts facts. `auto`: Anthropic when `ANTHROPIC_API_KEY` is set, else OpenAI when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is, else none. */
export type LlmConfig =
  | { readonly provider: 'none' }
  | { readonly provider: 'openai'; readonly model?: string; readonly options?: Readonly<Record<string, unknown>> }
  | { readonly provider: 'anthropic'; readonly model?: string; readonly options?: Readonly<Record<string, unknown>> };

/** Which embedder turns texts into vectors. `auto`: OpenAI when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, else lexical. */
export type EmbedderConfig =
  | { readonly provider: 'lexical'; readonly dimensions?: number }
  | {
      readonly provider: 'openai';
      readonly model?: string;
      readonly dimensions?: number;
      readonly options?: Readonly<Record<string, unknown>>;
    };

/**
 * Where memories live. `sqlite` is the embedded default (the `db` file; `vectorCache` and
 * `vectorCacheBytes` are `@mem/vector-sqlite`'s scope vector cache options, `keywordIndex` and
 * `keywordIndexBytes` its scope keyword index options, `approximate`, `approximateMinScope`,
 * `approximateExpansion` and `approximateCandidates` its approximate search of large scopes); the others take their
 * adapter's options (`url`, `collection`, `index`, `connectionString`, `table`, …) in `options`, and
 * read their own environment variables for the rest (`postgres`: `DATABASE_URL`).
 */
export type VectorStoreConfig =
  | {
      readonly provider: 'sqlite';
      readonly table?: string;
      readonly vectorCache?: boolean;
      readonly vectorCacheBytes?: number;
      readonly keywordIndex?: boolean;
      readonly keywordIndexBytes?: number;
      readonly approximate?: boolean;
      readonly approximateMinScope?: number;
      readonly approximateExpansion?: number;
      readonly approximateCandidates?: number;
    }
  | { readonly provider: 'chroma' | 'qdrant' | 'pinecone' | 'postgres'; readonly options?: Readonly<Record<string, unknown>> };

/**
 * Where the change log (and write-ahead log) lives: the `db` file (`sqlite`), or PostgreSQL
 * (`postgres`: `@mem/history-postgres` options such as `connectionString`, `schema`, `table` in
 * `options`; the connection from `DATABASE_URL` by default), which every instance of a program shares.
 */
export type HistoryStoreConfig =
  | { readonly provider: 'sqlite'; readonly table?: string }
  | { readonly provider: 'postgres'; readonly options?: Readonly<Record<string, unknown>> };

/**
 * What `search({ rerank: true })` uses: none (the default; such searches are refused), Cohere's
 * Rerank API or a server that speaks it (`cohere`: `@mem/reranker-cohere`, key from `CO_API_KEY`,
 * `baseUrl` and the rest in `options`), or a local cross-encoder (`transformers`:
 * `@mem/reranker-transformers`, `localModelPath` and the rest in `options`).
 */
export type RerankerConfig =
  | { readonly provider: 'none' }
  | { readonly provider: 'cohere' | 'transformers'; readonly model?: string; readonly options?: Readonly<Record<string, unknown>> };

/** Graph memory: off (`none`, the default) or in the `db` file (`sqlite`). */
export type GraphStoreConfig = { readonly provider: 'none' } | { readonly provider: 'sqlite'; readonly tablePrefix?: string };

/** Token bucket of one API key: `burst` requests at once, refilled at `perSecond`. */
/** How `add` treats images (core's `MemoryOptions.images`). */
export interface ImagesConfig {
  readonly describe: boolean;
  /** Images per add, 0 to 100. @default 10 */
  readonly maxImages?: number;
  /** Bytes of one data-URL image, decoded. @default 3000000 */
  readonly maxBytes?: number;
}

export interface RateLimitConfig {
  readonly burst: number;
  readonly perSecond: number;
}

/** Settings of the REST server (ignored by the CLI's data commands and by the MCP server). */
export interface ServerConfig {
  /** Interface to listen on. @default '127.0.0.1' (`MEM_HOST`) */
  readonly host: string;
  /** Port; 0 picks a free one. @default 8420 (`MEM_PORT`) */
  readonly port: number;
  /** JSON or YAML file holding API keys (hashes only); key management writes to it. (`MEM_KEYS_FILE`) */
  readonly keysFile?: string;
  /** Largest request body, in bytes; larger ones get 413. @default 1048576 (`MEM_BODY_LIMIT`) */
  readonly bodyLimitBytes: number;
  /** Time limit of one request, in milliseconds; over it the call is aborted with 504. @default 120000 (`MEM_REQUEST_TIMEOUT_MS`) */
  readonly requestTimeoutMs: number;
  /** Per-key token bucket. @default { burst: 60, perSecond: 20 } (`MEM_RATE_LIMIT_BURST`, `MEM_RATE_LIMIT_PER_SECOND`) */
  readonly rateLimit: RateLimitConfig;
  /**
   * Worker threads that run `POST /v1/search`, each on its own read-only connection to the SQLite
   * file, beside the main thread's writes; 0 runs searches on the main thread. Used only with the
   * embedded SQLite vector store on a file and no graph store. @default min(4, CPU cores) (`MEM_READ_WORKERS`)
   */
  readonly readWorkers: number;
}

/** A complete, validated configuration. */
export interface MemConfig {
  /** The SQLite file of the embedded stores. @default './mem.db' (`MEM_DB`) */
  readonly db: string;
  readonly llm: LlmConfig;
  readonly embedder: EmbedderConfig;
  readonly vectorStore: VectorStoreConfig;
  readonly historyStore: HistoryStoreConfig;
  readonly graphStore: GraphStoreConfig;
  /** The reranker of `search({ rerank: true })`. @default { provider: 'none' } (`MEM_RERANKER`, `MEM_RERANKER_MODEL`) */
  readonly reranker: RerankerConfig;
  /** How `add` reconciles new facts. @default 'reconcile' (`MEM_STRATEGY`) */
  readonly strategy: 'reconcile' | 'additive';
  /**
   * Custom categories extraction assigns to facts (`Memory`'s `categories`; core checks the limits).
   * Absent: none. (`MEM_CATEGORIES`, a JSON array)
   */
  readonly categories?: readonly CategoryConfig[];
  /**
   * Images in messages: `describe` reads them with the LLM (it must see images), else they are left
   * out with a note; limits per `add`. @default { describe: false } (`MEM_IMAGES=describe`)
   */
  readonly images: ImagesConfig;
  /**
   * How long `add`'s idempotency keys (the server's `Idempotency-Key`) are kept, in milliseconds.
   * Absent: core's default, 24 hours. (`MEM_IDEMPOTENCY_RETENTION_MS`)
   */
  readonly idempotency?: { readonly retentionMs: number };
  readonly server: ServerConfig;
}

/** A custom category, as `Memory`'s `categories` option takes it. */
export interface CategoryConfig {
  readonly name: string;
  readonly description?: string;
}

/** A partial configuration, as a file or the caller gives it. Every section may be left out. */
export interface MemConfigInput {
  readonly db?: string;
  readonly llm?: LlmConfig | { readonly provider: 'auto'; readonly model?: string };
  readonly embedder?: EmbedderConfig | { readonly provider: 'auto'; readonly model?: string; readonly dimensions?: number };
  readonly vectorStore?: VectorStoreConfig;
  readonly historyStore?: HistoryStoreConfig;
  readonly graphStore?: GraphStoreConfig;
  readonly reranker?: RerankerConfig;
  readonly strategy?: 'reconcile' | 'additive';
  readonly categories?: readonly CategoryConfig[];
  readonly images?: Partial<ImagesConfig>;
  readonly idempotency?: { readonly retentionMs?: number };
  readonly server?: Partial<Omit<ServerConfig, 'rateLimit'>> & { readonly rateLimit?: Partial<RateLimitConfig> };
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Environment to read `MEM_*` variables from. @default process.env */
  readonly env?: Environment;
  /** Settings that win over the environment and the file, e.g. from CLI flags (`--db`). */
  readonly overrides?: MemConfigInput;
  /** A config file to read instead of `MEM_CONFIG`. */
  readonly file?: string;
}

/** Default of {@link MemConfig.db}. */
export const DEFAULT_DB_PATH = './mem.db';
/** Default of {@link ServerConfig.port}. */
export const DEFAULT_PORT = 8420;

const LLM_PROVIDERS = ['auto', 'none', 'openai', 'anthropic'] as const;
const EMBEDDER_PROVIDERS = ['auto', 'lexical', 'openai'] as const;
const VECTOR_PROVIDERS = ['sqlite', 'chroma', 'qdrant', 'pinecone', 'postgres'] as const;
const HISTORY_PROVIDERS = ['sqlite', 'postgres'] as const;
const GRAPH_PROVIDERS = ['none', 'sqlite'] as const;
const RERANKER_PROVIDERS = ['none', 'cohere', 'transformers'] as const;
const STRATEGIES = ['reconcile', 'additive'] as const;

/**
 * Resolves the configuration: overrides, then `MEM_*` variables, then the `MEM_CONFIG` file, then defaults.
 *
 * @throws {InvalidInputError} naming the setting (`MEM_PORT`, `MEM_CONFIG: vectorStore.provider`, …) when a value is unusable.
 * @example
 * const config = loadConfig({ env: { MEM_DB: '/var/lib/mem/mem.db' } });
 * const { memory } = await createMemoryFromConfig(config);
 */
export function loadConfig(options: LoadConfigOptions = {}): MemConfig {
  const env = options.env ?? processEnvironment();
  const fileName = options.file ?? nonEmptySetting(env['MEM_CONFIG']);
  const file = fileName === undefined ? {} : readConfigFile(fileName);
  const fromEnv = configFromEnvironment(env);
  const merged = mergeInputs(mergeInputs(file, fromEnv), options.overrides ?? {});
  return resolve(merged, env, fileName === undefined ? 'config' : `MEM_CONFIG (${fileName})`);
}

/** Reads a JSON or YAML config file (by extension; `.json` is JSON, anything else is parsed as YAML, a superset). */
export function readConfigFile(path: string): MemConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(
      'MEM_CONFIG',
      `the file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      'Point MEM_CONFIG at a JSON or YAML file.',
    );
  }
  let parsed: unknown;
  try {
    parsed = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new InvalidInputError(
      'MEM_CONFIG',
      `the file ${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}`,
      'Fix the syntax; see packages/config/README.md for an example.',
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidInputError(
      'MEM_CONFIG',
      'the file does not hold an object',
      'Write sections such as `vectorStore: { provider: sqlite }`.',
    );
  }
  return parsed as MemConfigInput;
}

function configFromEnvironment(env: Environment): MemConfigInput {
  const value = (name: string) => nonEmptySetting(env[name]);
  const llm = value('MEM_LLM');
  const llmModel = value('MEM_LLM_MODEL');
  const embedder = value('MEM_EMBEDDER');
  const embeddingModel = value('MEM_EMBEDDING_MODEL');
  const vectorStore = value('MEM_VECTOR_STORE');
  const historyStore = value('MEM_HISTORY_STORE');
  const graphStore = value('MEM_GRAPH_STORE');
  const reranker = value('MEM_RERANKER');
  const rerankerModel = value('MEM_RERANKER_MODEL');
  const server: Record<string, unknown> = {};
  const rateLimit: Record<string, unknown> = {};
  if (value('MEM_HOST')) server.host = value('MEM_HOST');
  if (value('MEM_PORT')) server.port = numberSetting(value('MEM_PORT')!, 'MEM_PORT');
  if (value('MEM_KEYS_FILE')) server.keysFile = value('MEM_KEYS_FILE');
  if (value('MEM_BODY_LIMIT')) server.bodyLimitBytes = numberSetting(value('MEM_BODY_LIMIT')!, 'MEM_BODY_LIMIT');
  if (value('MEM_REQUEST_TIMEOUT_MS')) server.requestTimeoutMs = numberSetting(value('MEM_REQUEST_TIMEOUT_MS')!, 'MEM_REQUEST_TIMEOUT_MS');
  if (value('MEM_READ_WORKERS')) server.readWorkers = numberSetting(value('MEM_READ_WORKERS')!, 'MEM_READ_WORKERS');
  if (value('MEM_RATE_LIMIT_BURST')) rateLimit.burst = numberSetting(value('MEM_RATE_LIMIT_BURST')!, 'MEM_RATE_LIMIT_BURST');
  if (value('MEM_RATE_LIMIT_PER_SECOND'))
    rateLimit.perSecond = numberSetting(value('MEM_RATE_LIMIT_PER_SECOND')!, 'MEM_RATE_LIMIT_PER_SECOND');
  if (Object.keys(rateLimit).length > 0) server.rateLimit = rateLimit;
  return {
    ...(value('MEM_DB') ? { db: value('MEM_DB') } : {}),
    ...(llm || llmModel ? { llm: { provider: llm ?? 'auto', ...(llmModel ? { model: llmModel } : {}) } as MemConfigInput['llm'] } : {}),
    ...(embedder || embeddingModel
      ? { embedder: { provider: embedder ?? 'auto', ...(embeddingModel ? { model: embeddingModel } : {}) } as MemConfigInput['embedder'] }
      : {}),
    ...(vectorStore ? { vectorStore: { provider: vectorStore } as VectorStoreConfig } : {}),
    ...(historyStore ? { historyStore: { provider: historyStore } as HistoryStoreConfig } : {}),
    ...(graphStore ? { graphStore: { provider: graphStore } as GraphStoreConfig } : {}),
    ...(reranker || rerankerModel
      ? { reranker: { provider: reranker ?? 'none', ...(rerankerModel ? { model: rerankerModel } : {}) } as RerankerConfig }
      : {}),
    ...(value('MEM_STRATEGY') ? { strategy: value('MEM_STRATEGY') as MemConfig['strategy'] } : {}),
    ...(value('MEM_CATEGORIES') ? { categories: jsonSetting(value('MEM_CATEGORIES')!, 'MEM_CATEGORIES') as CategoryConfig[] } : {}),
    ...(value('MEM_IMAGES') ? { images: { describe: imagesSetting(value('MEM_IMAGES')!) } } : {}),
    ...(value('MEM_IDEMPOTENCY_RETENTION_MS')
      ? { idempotency: { retentionMs: numberSetting(value('MEM_IDEMPOTENCY_RETENTION_MS')!, 'MEM_IDEMPOTENCY_RETENTION_MS') } }
      : {}),
    ...(Object.keys(server).length > 0 ? { server: server as MemConfigInput['server'] } : {}),
  };
}

function jsonSetting(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError(
      name,
      'is not valid JSON',
      `Set ${name} to a JSON array, e.g. ${name}='[{"name":"food","description":"Diet"}]'.`,
    );
  }
}

function imagesSetting(text: string): boolean {
  if (text !== 'describe' && text !== 'off')
    throw new InvalidInputError('MEM_IMAGES', 'expected describe or off', 'Set MEM_IMAGES=describe to read images with the LLM.');
  return text === 'describe';
}

/** Default of {@link ServerConfig.readWorkers}: one per core, at most 4 (the main thread keeps the HTTP layer and the writes). */
export function defaultReadWorkers(): number {
  return Math.min(4, availableParallelism());
}

function numberSetting(text: string, name: string): number {
  const number = Number(text);
  if (!Number.isFinite(number))
    throw new InvalidInputError(
      name,
      'is not a number',
      `Set ${name} to a number, e.g. ${name}=${name === 'MEM_PORT' ? DEFAULT_PORT : 10}.`,
    );
  return number;
}

/** Later wins, section by section; a section naming another provider replaces the earlier one whole. */
function mergeInputs(base: MemConfigInput, over: MemConfigInput): MemConfigInput {
  const section = <T extends { provider?: string } | undefined>(a: T, b: T): T => {
    if (!b) return a;
    if (!a || (b.provider !== undefined && a.provider !== b.provider)) return b;
    return { ...a, ...b };
  };
  return {
    ...base,
    ...over,
    llm: section(base.llm, over.llm),
    embedder: section(base.embedder, over.embedder),
    vectorStore: section(base.vectorStore, over.vectorStore),
    historyStore: section(base.historyStore, over.historyStore),
    graphStore: section(base.graphStore, over.graphStore),
    reranker: section(base.reranker, over.reranker),
    images: { ...base.images, ...over.images },
    idempotency: { ...base.idempotency, ...over.idempotency },
    server: {
      ...base.server,
      ...over.server,
      rateLimit: { ...base.server?.rateLimit, ...over.server?.rateLimit },
    },
  };
}

function resolve(input: MemConfigInput, env: Environment, source: string): MemConfig {
  const at = (path: string) => `${source}: ${path}`;
  checkObject(input, source);
  const db = input.db ?? DEFAULT_DB_PATH;
  if (typeof db !== 'string' || db.length === 0)
    throw new InvalidInputError(at('db'), 'expected a file path', 'Set MEM_DB or db to a path such as ./mem.db, or ":memory:".');

  const openAIConfigured = Boolean(nonEmptySetting(env['OPENAI_API_KEY']) || nonEmptySetting(env['OPENAI_BASE_URL']));
  const llmInput = input.llm ?? { provider: 'auto' };
  checkSection(llmInput, at('llm'), LLM_PROVIDERS);
  let llm: LlmConfig;
  if (llmInput.provider === 'auto') {
    const model = 'model' in llmInput ? optionalString(llmInput.model, at('llm.model')) : undefined;
    if (nonEmptySetting(env['ANTHROPIC_API_KEY'])) llm = { provider: 'anthropic', ...(model ? { model } : {}) };
    else if (openAIConfigured) llm = { provider: 'openai', ...(model ? { model } : {}) };
    else llm = { provider: 'none' };
  } else if (llmInput.provider === 'none') {
    llm = { provider: 'none' };
  } else {
    const model = optionalString(llmInput.model, at('llm.model'));
    llm = { provider: llmInput.provider, ...(model ? { model } : {}), ...optionsOf(llmInput, at('llm.options')) };
  }

  const embedderInput = input.embedder ?? { provider: 'auto' };
  checkSection(embedderInput, at('embedder'), EMBEDDER_PROVIDERS);
  const dimensions =
    'dimensions' in embedderInput ? optionalInteger(embedderInput.dimensions, at('embedder.dimensions'), 1, 65_536) : undefined;
  const provider = embedderInput.provider === 'auto' ? (openAIConfigured ? 'openai' : 'lexical') : embedderInput.provider;
  const embeddingModel = 'model' in embedderInput ? optionalString(embedderInput.model, at('embedder.model')) : undefined;
  const embedder: EmbedderConfig =
    provider === 'lexical'
      ? { provider, ...(dimensions ? { dimensions } : {}) }
      : {
          provider,
          ...(embeddingModel ? { model: embeddingModel } : {}),
          ...(dimensions ? { dimensions } : {}),
          ...optionsOf(embedderInput, at('embedder.options')),
        };

  const vectorInput = input.vectorStore ?? { provider: 'sqlite' };
  checkSection(vectorInput, at('vectorStore'), VECTOR_PROVIDERS);
  const vectorStore: VectorStoreConfig =
    vectorInput.provider === 'sqlite'
      ? {
          provider: 'sqlite',
          ...tableOf(vectorInput, 'table', at('vectorStore.table')),
          ...vectorCacheOf(vectorInput, at('vectorStore.vectorCache'), at('vectorStore.vectorCacheBytes')),
          ...keywordIndexOf(vectorInput, at('vectorStore.keywordIndex'), at('vectorStore.keywordIndexBytes')),
          ...approximateOf(vectorInput, at),
        }
      : { provider: vectorInput.provider, ...optionsOf(vectorInput, at('vectorStore.options')) };

  const historyInput = input.historyStore ?? { provider: 'sqlite' };
  checkSection(historyInput, at('historyStore'), HISTORY_PROVIDERS);
  const historyStore: HistoryStoreConfig =
    historyInput.provider === 'sqlite'
      ? { provider: 'sqlite', ...tableOf(historyInput, 'table', at('historyStore.table')) }
      : { provider: 'postgres', ...optionsOf(historyInput, at('historyStore.options')) };

  const graphInput = input.graphStore ?? { provider: 'none' };
  checkSection(graphInput, at('graphStore'), GRAPH_PROVIDERS);
  const graphStore: GraphStoreConfig =
    graphInput.provider === 'sqlite'
      ? { provider: 'sqlite', ...tableOf(graphInput, 'tablePrefix', at('graphStore.tablePrefix')) }
      : { provider: 'none' };

  const rerankerInput = input.reranker ?? { provider: 'none' };
  checkSection(rerankerInput, at('reranker'), RERANKER_PROVIDERS);
  let reranker: RerankerConfig;
  if (rerankerInput.provider === 'none') {
    if ('model' in rerankerInput && rerankerInput.model !== undefined) {
      throw new InvalidInputError(
        at('reranker.model'),
        'was given without a reranker',
        'Set MEM_RERANKER (reranker.provider) to cohere or transformers too, or leave the model out.',
      );
    }
    reranker = { provider: 'none' };
  } else {
    const model = 'model' in rerankerInput ? optionalString(rerankerInput.model, at('reranker.model')) : undefined;
    reranker = { provider: rerankerInput.provider, ...(model ? { model } : {}), ...optionsOf(rerankerInput, at('reranker.options')) };
  }

  const strategy = input.strategy ?? 'reconcile';
  if (!(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new InvalidInputError(
      at('strategy'),
      `expected one of ${STRATEGIES.join(', ')}`,
      'Set MEM_STRATEGY=reconcile (default) or additive.',
    );
  }

  const categories = input.categories === undefined ? undefined : categoriesOf(input.categories, at('categories (MEM_CATEGORIES)'));

  const serverInput = input.server ?? {};
  checkObject(serverInput, at('server'));
  const host = serverInput.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0)
    throw new InvalidInputError(at('server.host'), 'expected a host name or address', 'Set MEM_HOST, e.g. 127.0.0.1 or 0.0.0.0.');
  const keysFile = serverInput.keysFile === undefined ? undefined : optionalString(serverInput.keysFile, at('server.keysFile'));
  const rateInput = serverInput.rateLimit ?? {};
  const server: ServerConfig = {
    host,
    port: optionalInteger(serverInput.port, at('server.port (MEM_PORT)'), 0, 65_535) ?? DEFAULT_PORT,
    ...(keysFile ? { keysFile } : {}),
    bodyLimitBytes:
      optionalInteger(serverInput.bodyLimitBytes, at('server.bodyLimitBytes (MEM_BODY_LIMIT)'), 1024, 100 * 1024 * 1024) ?? 1024 * 1024,
    requestTimeoutMs:
      optionalInteger(serverInput.requestTimeoutMs, at('server.requestTimeoutMs (MEM_REQUEST_TIMEOUT_MS)'), 1, 3_600_000) ?? 120_000,
    rateLimit: {
      burst: optionalInteger(rateInput.burst, at('server.rateLimit.burst (MEM_RATE_LIMIT_BURST)'), 1, 1_000_000) ?? 60,
      perSecond: optionalNumber(rateInput.perSecond, at('server.rateLimit.perSecond (MEM_RATE_LIMIT_PER_SECOND)'), 0, 1_000_000) ?? 20,
    },
    readWorkers: optionalInteger(serverInput.readWorkers, at('server.readWorkers (MEM_READ_WORKERS)'), 0, 64) ?? defaultReadWorkers(),
  };
  const imagesInput = input.images ?? {};
  checkObject(imagesInput, at('images'));
  if (imagesInput.describe !== undefined && typeof imagesInput.describe !== 'boolean')
    throw new InvalidInputError(at('images.describe'), 'expected true or false', 'Set MEM_IMAGES=describe, or images.describe: true.');
  const maxImages = optionalInteger(imagesInput.maxImages, at('images.maxImages'), 0, 100);
  const maxBytes = optionalInteger(imagesInput.maxBytes, at('images.maxBytes'), 1, 20_000_000);
  const images: ImagesConfig = {
    describe: imagesInput.describe === true,
    ...(maxImages !== undefined ? { maxImages } : {}),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  };
  const idempotencyInput = input.idempotency ?? {};
  checkObject(idempotencyInput, at('idempotency'));
  // Core checks the same range when Memory is built; checked here to name the setting.
  const retentionMs = optionalInteger(
    idempotencyInput.retentionMs,
    at('idempotency.retentionMs (MEM_IDEMPOTENCY_RETENTION_MS)'),
    1,
    366 * 24 * 60 * 60 * 1000,
  );
  return {
    db,
    llm,
    embedder,
    vectorStore,
    historyStore,
    graphStore,
    reranker,
    strategy,
    ...(categories ? { categories } : {}),
    images,
    ...(retentionMs !== undefined ? { idempotency: { retentionMs } } : {}),
    server,
  };
}

/** The shape of custom categories (`Memory` checks the names and limits when it is built). */
function categoriesOf(value: unknown, field: string): CategoryConfig[] {
  if (!Array.isArray(value))
    throw new InvalidInputError(
      field,
      'expected an array of { name, description? }',
      'Write e.g. categories: [{ name: food, description: Diet }].',
    );
  return value.map((item, index) => {
    const { name, description } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof name !== 'string' || (description !== undefined && typeof description !== 'string'))
      throw new InvalidInputError(`${field}[${index}]`, 'expected { name, description? } with strings', 'Give each category a name.');
    return { name, ...(description === undefined ? {} : { description }) };
  });
}

function checkObject(value: unknown, field: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(field, 'expected an object', 'Write the section as a mapping, e.g. { provider: "sqlite" }.');
  }
}

function checkSection<P extends string>(value: unknown, field: string, providers: readonly P[]): asserts value is { provider: P } {
  checkObject(value, field);
  const provider = (value as { provider?: unknown }).provider;
  if (typeof provider !== 'string' || !(providers as readonly string[]).includes(provider)) {
    throw new InvalidInputError(`${field}.provider`, `expected one of ${providers.join(', ')}`, 'Pick a provider this build knows.');
  }
}

function optionsOf(section: object, field: string): { options?: Readonly<Record<string, unknown>> } {
  const options = (section as { options?: unknown }).options;
  if (options === undefined) return {};
  checkObject(options, field);
  return { options: options as Record<string, unknown> };
}

function tableOf<K extends string>(section: object, key: K, field: string): { [P in K]?: string } {
  const value = (section as Record<string, unknown>)[key];
  if (value === undefined) return {};
  return { [key]: optionalString(value, field) } as { [P in K]?: string };
}

/** The sqlite vector store's cache settings of a section, checked (see SqliteVectorStoreOptions). */
function vectorCacheOf(section: object, cacheField: string, bytesField: string): { vectorCache?: boolean; vectorCacheBytes?: number } {
  const { vectorCache, vectorCacheBytes } = section as { vectorCache?: unknown; vectorCacheBytes?: unknown };
  if (vectorCache !== undefined && typeof vectorCache !== 'boolean') {
    throw new InvalidInputError(cacheField, 'expected true or false', 'Set false to rank every search in SQLite, or leave it out.');
  }
  const bytes = optionalInteger(vectorCacheBytes, bytesField, 1, Number.MAX_SAFE_INTEGER);
  return { ...(vectorCache === undefined ? {} : { vectorCache }), ...(bytes === undefined ? {} : { vectorCacheBytes: bytes }) };
}

/** The sqlite vector store's keyword index settings of a section, checked (see SqliteVectorStoreOptions). */
function keywordIndexOf(section: object, indexField: string, bytesField: string): { keywordIndex?: boolean; keywordIndexBytes?: number } {
  const { keywordIndex, keywordIndexBytes } = section as { keywordIndex?: unknown; keywordIndexBytes?: unknown };
  if (keywordIndex !== undefined && typeof keywordIndex !== 'boolean') {
    throw new InvalidInputError(
      indexField,
      'expected true or false',
      'Set false to rank every keyword search with FTS5 in SQLite, or leave it out.',
    );
  }
  const bytes = optionalInteger(keywordIndexBytes, bytesField, 1, Number.MAX_SAFE_INTEGER);
  return { ...(keywordIndex === undefined ? {} : { keywordIndex }), ...(bytes === undefined ? {} : { keywordIndexBytes: bytes }) };
}

/** The sqlite vector store's approximate search settings of a section, checked (see SqliteVectorStoreOptions). */
function approximateOf(
  section: object,
  at: (field: string) => string,
): { approximate?: boolean; approximateMinScope?: number; approximateExpansion?: number; approximateCandidates?: number } {
  const { approximate, approximateMinScope, approximateExpansion, approximateCandidates } = section as {
    approximate?: unknown;
    approximateMinScope?: unknown;
    approximateExpansion?: unknown;
    approximateCandidates?: unknown;
  };
  if (approximate !== undefined && typeof approximate !== 'boolean') {
    throw new InvalidInputError(
      at('vectorStore.approximate'),
      'expected true or false',
      'Set true to search large scopes through an approximate index, or leave it out for exact search.',
    );
  }
  const minScope = optionalInteger(approximateMinScope, at('vectorStore.approximateMinScope'), 1, Number.MAX_SAFE_INTEGER);
  const expansion = optionalInteger(approximateExpansion, at('vectorStore.approximateExpansion'), 1, 10_000);
  const candidates = optionalInteger(approximateCandidates, at('vectorStore.approximateCandidates'), 1, 10_000);
  return {
    ...(approximate === undefined ? {} : { approximate }),
    ...(minScope === undefined ? {} : { approximateMinScope: minScope }),
    ...(expansion === undefined ? {} : { approximateExpansion: expansion }),
    ...(candidates === undefined ? {} : { approximateCandidates: candidates }),
  };
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidInputError(field, 'expected a non-empty string', 'Set a value or leave it out.');
  return value;
}

function optionalNumber(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidInputError(field, `expected a number from ${min} to ${max}`, 'Leave it out for the default.');
  }
  return value;
}

function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  const number = optionalNumber(value, field, min, max);
  if (number !== undefined && !Number.isInteger(number))
    throw new InvalidInputError(field, 'expected an integer', 'Leave it out for the default.');
  return number;
}
