import { InvalidInputError } from '@mem/core/adapter';

/**
 * What `client` must be: a `ChromaClient` of chromadb 3.x (any object with these methods type-checks,
 * but the store calls them as chromadb's). Declared here rather than as chromadb's own type so that
 * mem's published declarations do not load chromadb's: those of chromadb 3.5.0 import
 * `@hey-api/client-fetch`, which chromadb does not install, so `tsc` without `skipLibCheck` fails in
 * every app that imports them.
 */
export interface ChromaClientLike {
  getMaxBatchSize(): Promise<number>;
  createCollection(...args: never[]): Promise<unknown>;
  getCollection(...args: never[]): Promise<unknown>;
  deleteCollection(...args: never[]): Promise<unknown>;
}

/** Options of {@link ChromaVectorStore}. Every setting falls back to Chroma's own environment variables, then to a default. */
export interface ChromaVectorStoreOptions {
  /**
   * Name of the Chroma collection holding the memories: 3–512 characters from `[a-zA-Z0-9._-]`,
   * starting and ending with a letter or digit, without `..`.
   * @default 'mem'
   */
  readonly collection?: string;
  /**
   * Server address as one URL, e.g. `http://localhost:8000` or `https://api.trychroma.com`. A URL
   * without a port uses the scheme's port (80 or 443). Wins over `host`, `port` and `ssl`.
   * Falls back to `CHROMA_URL`, then `CHROMA_HOST` / `CHROMA_PORT`.
   */
  readonly url?: string;
  /** Server host name, e.g. `localhost`. @default 'localhost' (or `CHROMA_HOST`) */
  readonly host?: string;
  /** Server port. @default 8000 (443 when `ssl` is true; or `CHROMA_PORT`) */
  readonly port?: number;
  /** Connect over HTTPS. @default false */
  readonly ssl?: boolean;
  /** Chroma tenant. @default `CHROMA_TENANT`, else 'default_tenant' */
  readonly tenant?: string;
  /** Chroma database. @default `CHROMA_DATABASE`, else 'default_database' */
  readonly database?: string;
  /** Chroma Cloud API key, sent as the `x-chroma-token` header. @default `CHROMA_API_KEY` */
  readonly apiKey?: string;
  /** Extra HTTP headers sent with every request, e.g. `{ authorization: 'Bearer …' }` for token auth behind a proxy. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A ready `ChromaClient` (chromadb 3.x), for settings this adapter does not expose
   * (`fetchOptions`, a proxy). The connection options above are then ignored.
   */
  readonly client?: ChromaClientLike;
  /**
   * Records per request when reading (`get`, `list`, `reset`) and ids per delete. Chroma Cloud
   * returns at most 300 records per request.
   * @default 300
   */
  readonly pageSize?: number;
  /**
   * Largest upsert sent in one request, reported as `capabilities.maxUpsertBatch`; also capped by
   * the server's own maximum (`max_batch_size`, 5461 on a local server). Chroma Cloud accepts 300.
   * @default 300
   */
  readonly maxUpsertBatch?: number;
  /** Retries of a request that failed with a retryable error (connection failure, 408, 409, 429, 5xx). @default 2 */
  readonly maxRetries?: number;
  /** First pause before a retry, in milliseconds; doubled for each further retry, with jitter. @default 250 */
  readonly retryDelayMs?: number;
}

/** Settings after options, environment variables and defaults were merged. */
export interface ChromaSettings {
  readonly collection: string;
  readonly host: string;
  readonly port: number;
  readonly ssl: boolean;
  readonly tenant: string;
  readonly database: string;
  /** Headers for the client, including `x-chroma-token` when an API key is set. Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly pageSize: number;
  readonly maxUpsertBatch: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
}

/** Defaults of the settings that have one. */
export const CHROMA_DEFAULTS = {
  collection: 'mem',
  host: 'localhost',
  port: 8000,
  tenant: 'default_tenant',
  database: 'default_database',
  pageSize: 300,
  maxUpsertBatch: 300,
  maxRetries: 2,
  retryDelayMs: 250,
} as const;

type Environment = Readonly<Record<string, string | undefined>>;

// Chroma's own rule for collection names (server validation message, chroma 1.0).
const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$/;

/**
 * Merges options, Chroma's environment variables (`CHROMA_URL`, `CHROMA_HOST`, `CHROMA_PORT`,
 * `CHROMA_TENANT`, `CHROMA_DATABASE`, `CHROMA_API_KEY`) and defaults. The only place that reads the environment.
 *
 * @throws {InvalidInputError} naming the option or variable that cannot be used.
 */
export function resolveChromaSettings(options: ChromaVectorStoreOptions = {}, env: Environment = process.env): ChromaSettings {
  const collection = options.collection ?? CHROMA_DEFAULTS.collection;
  if (typeof collection !== 'string' || !COLLECTION_NAME.test(collection) || collection.includes('..')) {
    throw new InvalidInputError(
      'options.collection',
      'Chroma collection names have 3-512 characters from [a-zA-Z0-9._-], start and end with a letter or digit, and contain no ".."',
      'Pass e.g. { collection: "mem" }.',
    );
  }
  const endpoint = resolveEndpoint(options, env);
  const apiKey = options.apiKey ?? nonEmpty(env.CHROMA_API_KEY);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (apiKey !== undefined) {
    if (typeof apiKey !== 'string' || apiKey.length === 0) {
      throw new InvalidInputError(
        'options.apiKey',
        'expected a non-empty string',
        'Pass the Chroma Cloud API key, or leave it out for a local server.',
      );
    }
    headers['x-chroma-token'] = apiKey;
  }
  return {
    collection,
    ...endpoint,
    tenant: checkName(
      options.tenant ?? nonEmpty(env.CHROMA_TENANT) ?? CHROMA_DEFAULTS.tenant,
      options.tenant === undefined ? 'CHROMA_TENANT' : 'options.tenant',
    ),
    database: checkName(
      options.database ?? nonEmpty(env.CHROMA_DATABASE) ?? CHROMA_DEFAULTS.database,
      options.database === undefined ? 'CHROMA_DATABASE' : 'options.database',
    ),
    headers,
    pageSize: checkInteger(options.pageSize, 'options.pageSize', 1, 100_000, CHROMA_DEFAULTS.pageSize),
    maxUpsertBatch: checkInteger(options.maxUpsertBatch, 'options.maxUpsertBatch', 1, 100_000, CHROMA_DEFAULTS.maxUpsertBatch),
    maxRetries: checkInteger(options.maxRetries, 'options.maxRetries', 0, 10, CHROMA_DEFAULTS.maxRetries),
    retryDelayMs: checkInteger(options.retryDelayMs, 'options.retryDelayMs', 0, 60_000, CHROMA_DEFAULTS.retryDelayMs),
  };
}

/** The base URL the settings point at, e.g. `http://localhost:8000`; safe to show (no credentials). */
export function chromaEndpoint(settings: Pick<ChromaSettings, 'host' | 'port' | 'ssl'>): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return `${settings.ssl ? 'https' : 'http'}://${host}:${settings.port}`;
}

function resolveEndpoint(options: ChromaVectorStoreOptions, env: Environment): { host: string; port: number; ssl: boolean } {
  if (options.url !== undefined) return parseUrl(options.url, 'options.url');
  if (options.host !== undefined || options.port !== undefined || options.ssl !== undefined) {
    const ssl = options.ssl ?? false;
    return {
      host: checkHost(options.host ?? CHROMA_DEFAULTS.host, 'options.host'),
      port: checkPort(options.port ?? (ssl ? 443 : CHROMA_DEFAULTS.port), 'options.port'),
      ssl,
    };
  }
  const url = nonEmpty(env.CHROMA_URL);
  if (url !== undefined) return parseUrl(url, 'CHROMA_URL');
  const host = nonEmpty(env.CHROMA_HOST);
  const port = nonEmpty(env.CHROMA_PORT);
  // Some tools put a whole URL in CHROMA_HOST; accept it rather than build "http://http://…".
  if (host?.includes('://')) return parseUrl(host, 'CHROMA_HOST');
  return {
    host: checkHost(host ?? CHROMA_DEFAULTS.host, 'CHROMA_HOST'),
    port: port === undefined ? CHROMA_DEFAULTS.port : checkPort(Number(port), 'CHROMA_PORT'),
    ssl: false,
  };
}

function parseUrl(value: string, field: string): { host: string; port: number; ssl: boolean } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError(field, 'not a valid URL', 'Write e.g. http://localhost:8000.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(
      field,
      `the scheme must be http or https, got ${url.protocol.replace(':', '')}`,
      'Write e.g. http://localhost:8000.',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidInputError(
      field,
      'the URL holds credentials',
      'Pass them as apiKey or headers instead, so they never appear in errors.',
    );
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new InvalidInputError(
      field,
      'the chromadb client cannot use a path after the host',
      'Serve Chroma at the root of its host, e.g. http://localhost:8000.',
    );
  }
  const ssl = url.protocol === 'https:';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host: hostname, port: url.port === '' ? (ssl ? 443 : 80) : Number(url.port), ssl };
}

function checkHost(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || /[/\s]/.test(value)) {
    throw new InvalidInputError(field, 'expected a host name such as localhost', 'Put a whole address in url instead.');
  }
  return value;
}

function checkPort(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new InvalidInputError(field, 'expected a port from 1 to 65535', 'Pass e.g. 8000.');
  }
  return value;
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidInputError(field, 'expected a non-empty string', 'Pass the name, or leave it out for the default.');
  return value;
}

function checkInteger(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(field, `expected an integer from ${min} to ${max}`, `Pass e.g. ${fallback}.`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
