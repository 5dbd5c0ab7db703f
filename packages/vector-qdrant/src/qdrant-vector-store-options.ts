import { InvalidInputError } from '@mem/core/adapter';

/** HNSW index settings of a new collection (Qdrant's `hnsw_config`); unset fields keep Qdrant's defaults. */
export interface QdrantHnswOptions {
  /** Edges per node. Qdrant's default: 16. */
  readonly m?: number;
  /** Neighbours considered while building. Qdrant's default: 100. */
  readonly efConstruct?: number;
  /** Below this many kilobytes of vectors a segment is searched exactly. Qdrant's default: 10000. */
  readonly fullScanThreshold?: number;
  /** Keep the HNSW graph on disk instead of in RAM. */
  readonly onDisk?: boolean;
}

/** Vector quantization of a new collection (Qdrant's `quantization_config`). */
export type QdrantQuantizationOptions =
  | {
      readonly type: 'scalar';
      /** Quantile used to clip outliers, 0.5–1. Qdrant's default: 0.99. */
      readonly quantile?: number;
      /** Keep quantized vectors in RAM. */
      readonly alwaysRam?: boolean;
    }
  | { readonly type: 'binary'; readonly alwaysRam?: boolean };

/** Search-time settings (Qdrant's `params` of a query). */
export interface QdrantSearchOptions {
  /** Size of the HNSW candidate list; higher is more accurate and slower. */
  readonly hnswEf?: number;
  /**
   * Search without the HNSW index, exactly like the in-memory reference store. Qdrant searches
   * small segments exactly anyway; large ones approximately unless this is set.
   * @default false
   */
  readonly exact?: boolean;
}

/** Options of {@link QdrantVectorStore}. */
export interface QdrantVectorStoreOptions {
  /**
   * Server URL with protocol and port, e.g. `http://localhost:6333` or a Qdrant Cloud URL.
   * Falls back to `QDRANT_URL`, then to `host`/`port`, then to `http://localhost:6333`.
   */
  readonly url?: string;
  /** Server host name without protocol or port; only when `url` and `QDRANT_URL` are unset. */
  readonly host?: string;
  /** Port used with `host`. @default 6333 */
  readonly port?: number;
  /** Use HTTPS with `host`. @default true when an API key is set, else false */
  readonly https?: boolean;
  /** API key sent as the `api-key` header. Falls back to `QDRANT_API_KEY`. */
  readonly apiKey?: string;
  /**
   * Collection holding the memories; created by `ensureCollection`. Letters, digits, `_`, `-`, `.`.
   * @default 'mem'
   */
  readonly collection?: string;
  /** Store the scope payload indexes (userId, agentId, runId) on disk instead of in RAM. @default false */
  readonly onDiskPayloadIndexes?: boolean;
  /** Store payloads on disk (Qdrant's `on_disk_payload`) in a new collection. Qdrant's default: true. */
  readonly onDiskPayload?: boolean;
  /** Store original vectors on disk (memmap) in a new collection. @default false */
  readonly onDiskVectors?: boolean;
  /** HNSW settings of a new collection. */
  readonly hnsw?: QdrantHnswOptions;
  /** Quantization of a new collection. @default none */
  readonly quantization?: QdrantQuantizationOptions;
  /** Search-time settings. */
  readonly search?: QdrantSearchOptions;
  /** Points per upsert request; also `capabilities.maxUpsertBatch`. 1–1000. @default 256 */
  readonly upsertBatchSize?: number;
  /** Abandon a request after this many milliseconds (then it may be retried). @default 30000 */
  readonly timeoutMs?: number;
  /** Retries of a retryable failure (connection failure, timeout, 408, 409, 429, 5xx). @default 2 */
  readonly maxRetries?: number;
  /** Pause before the first retry in milliseconds; doubles each retry, with jitter. @default 250 */
  readonly retryDelayMs?: number;
  /**
   * Ask the server for its version on connect and warn (on the console, by the SDK) when it is not
   * compatible with the client. Off by default: a library should not print.
   * @default false
   */
  readonly checkCompatibility?: boolean;
  /**
   * Environment the `QDRANT_URL` and `QDRANT_API_KEY` fallbacks are read from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Options after defaults and environment fallbacks. */
export interface ResolvedQdrantOptions {
  readonly connection: { readonly url: string } | { readonly host: string; readonly port: number; readonly https?: boolean };
  readonly apiKey: string | undefined;
  readonly collection: string;
  readonly onDiskPayloadIndexes: boolean;
  readonly onDiskPayload: boolean | undefined;
  readonly onDiskVectors: boolean | undefined;
  readonly hnsw: QdrantHnswOptions | undefined;
  readonly quantization: QdrantQuantizationOptions | undefined;
  readonly search: QdrantSearchOptions;
  readonly upsertBatchSize: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly checkCompatibility: boolean;
}

/** Documented defaults. */
export const QDRANT_DEFAULTS = {
  collection: 'mem',
  port: 6333,
  upsertBatchSize: 256,
  timeoutMs: 30_000,
  maxRetries: 2,
  retryDelayMs: 250,
} as const;

/**
 * Applies defaults and the `QDRANT_URL` / `QDRANT_API_KEY` fallbacks, and validates every option.
 *
 * @throws {InvalidInputError} naming the offending option.
 */
export function resolveQdrantOptions(options: QdrantVectorStoreOptions = {}): ResolvedQdrantOptions {
  const env = options.env ?? process.env;
  const apiKey = nonEmpty(options.apiKey, 'options.apiKey') ?? nonEmpty(env['QDRANT_API_KEY'], 'QDRANT_API_KEY');
  const url = nonEmpty(options.url, 'options.url') ?? (options.host === undefined ? nonEmpty(env['QDRANT_URL'], 'QDRANT_URL') : undefined);
  let connection: ResolvedQdrantOptions['connection'];
  if (url !== undefined) {
    if (options.host !== undefined) {
      throw new InvalidInputError('options.host', 'both url and host are set', 'Pass one of them.');
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidInputError(
        options.url === undefined ? 'QDRANT_URL' : 'options.url',
        'not a valid URL',
        'Pass e.g. "http://localhost:6333".',
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidInputError(
        options.url === undefined ? 'QDRANT_URL' : 'options.url',
        'the protocol must be http or https',
        'Pass e.g. "http://localhost:6333".',
      );
    }
    if (parsed.username || parsed.password) {
      throw new InvalidInputError(
        options.url === undefined ? 'QDRANT_URL' : 'options.url',
        'credentials in the URL are not sent by the Qdrant client',
        'Pass the key as apiKey (or QDRANT_API_KEY).',
      );
    }
    connection = { url: url.replace(/\/+$/, '') };
  } else {
    const host = options.host ?? 'localhost';
    if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
      throw new InvalidInputError('options.host', 'expected a host name without protocol or port', 'Pass e.g. "localhost", or use url.');
    }
    connection = {
      host,
      port: integerIn(options.port ?? QDRANT_DEFAULTS.port, 1, 65_535, 'options.port'),
      ...(options.https === undefined ? {} : { https: options.https }),
    };
  }
  const collection = options.collection ?? QDRANT_DEFAULTS.collection;
  if (typeof collection !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(collection) || collection === '.' || collection === '..') {
    throw new InvalidInputError('options.collection', 'expected 1-255 letters, digits, "_", "-" or "."', 'Pass e.g. "mem_memories".');
  }
  if (options.quantization !== undefined && options.quantization.type !== 'scalar' && options.quantization.type !== 'binary') {
    throw new InvalidInputError('options.quantization.type', 'expected "scalar" or "binary"', 'Pass { type: "scalar" } or leave it out.');
  }
  if (options.quantization?.type === 'scalar' && options.quantization.quantile !== undefined) {
    const quantile = options.quantization.quantile;
    if (!(quantile >= 0.5 && quantile <= 1))
      throw new InvalidInputError('options.quantization.quantile', 'expected a number from 0.5 to 1', 'Pass e.g. 0.99.');
  }
  const hnsw = options.hnsw;
  if (hnsw?.m !== undefined) integerIn(hnsw.m, 0, 1_000, 'options.hnsw.m');
  if (hnsw?.efConstruct !== undefined) integerIn(hnsw.efConstruct, 4, 100_000, 'options.hnsw.efConstruct');
  if (hnsw?.fullScanThreshold !== undefined)
    integerIn(hnsw.fullScanThreshold, 10, Number.MAX_SAFE_INTEGER, 'options.hnsw.fullScanThreshold');
  if (options.search?.hnswEf !== undefined) integerIn(options.search.hnswEf, 1, 1_000_000, 'options.search.hnswEf');
  return {
    connection,
    apiKey,
    collection,
    onDiskPayloadIndexes: options.onDiskPayloadIndexes ?? false,
    onDiskPayload: options.onDiskPayload,
    onDiskVectors: options.onDiskVectors,
    hnsw,
    quantization: options.quantization,
    search: options.search ?? {},
    upsertBatchSize: integerIn(options.upsertBatchSize ?? QDRANT_DEFAULTS.upsertBatchSize, 1, 1_000, 'options.upsertBatchSize'),
    timeoutMs: integerIn(options.timeoutMs ?? QDRANT_DEFAULTS.timeoutMs, 1, 3_600_000, 'options.timeoutMs'),
    maxRetries: integerIn(options.maxRetries ?? QDRANT_DEFAULTS.maxRetries, 0, 10, 'options.maxRetries'),
    retryDelayMs: integerIn(options.retryDelayMs ?? QDRANT_DEFAULTS.retryDelayMs, 0, 60_000, 'options.retryDelayMs'),
    checkCompatibility: options.checkCompatibility ?? false,
  };
}

function nonEmpty(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(field, 'expected a string', 'Pass text or leave it out.');
  const trimmed = value.trim();
  if (trimmed.length === 0) {
    if (field.startsWith('options.')) throw new InvalidInputError(field, 'the string is empty', 'Pass a value or leave it out.');
    return undefined; // an empty environment variable counts as unset
  }
  return trimmed;
}

function integerIn(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(field, `expected an integer from ${min} to ${max}`, 'Pass a whole number in that range.');
  }
  return value;
}
