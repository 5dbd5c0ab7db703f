import { InvalidInputError, MissingSettingError, integerOption, nonEmptySetting } from '@mem/core/adapter';

/** Cloud of a serverless index. */
export type PineconeCloud = 'aws' | 'gcp' | 'azure' | (string & {});

/** How `ensureCollection` creates a missing index: serverless, dense, metric cosine. */
export interface PineconeCreateIndexOptions {
  /** e.g. `'aws'`. */
  readonly cloud: PineconeCloud;
  /** e.g. `'us-east-1'` (aws), `'us-central1'` (gcp), `'eastus2'` (azure). */
  readonly region: string;
  /** @default 'disabled' */
  readonly deletionProtection?: 'enabled' | 'disabled';
  /** Index tags, e.g. `{ app: 'my-assistant' }`. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Options of {@link PineconeVectorStore}. */
export interface PineconeVectorStoreOptions {
  /** API key. Falls back to `PINECONE_API_KEY`. */
  readonly apiKey?: string;
  /**
   * Name of the index. Falls back to `PINECONE_INDEX`. With a name, `ensureCollection` describes
   * the index through the control plane (checking dimension and metric) and can create it.
   * Either `index` or `host` is required.
   */
  readonly index?: string;
  /**
   * Data-plane host of the index as shown in the console, e.g. `my-index-abc123.svc.aped-4627-b74a.pinecone.io`
   * (`https://` is added when no scheme is given). Falls back to `PINECONE_HOST`. When set, data calls
   * go straight to it; without `index`, `ensureCollection` checks dimension and metric with
   * `describe_index_stats` and cannot create the index.
   */
  readonly host?: string;
  /**
   * Namespace inside the index that holds this store's records; `reset()` empties only it.
   * @default '' (Pinecone's default namespace, `__default__`)
   */
  readonly namespace?: string;
  /**
   * Control-plane URL. Falls back to `PINECONE_CONTROLLER_HOST`, then `https://api.pinecone.io`.
   * Point it at Pinecone Local or a test emulator.
   */
  readonly controllerHostUrl?: string;
  /**
   * When set, `ensureCollection` creates a missing index (serverless, dense, metric cosine, the
   * requested dimension) and waits until it is ready. Without it a missing index is a
   * {@link PineconeIndexNotFoundError}. Needs `index`.
   */
  readonly createIndex?: PineconeCreateIndexOptions;
  /** Retries after the first attempt of a retryable failure (408, 409, 429, 5xx, no connection). @default 3 */
  readonly maxRetries?: number;
  /** Delay before the first retry in milliseconds; doubled each retry, with ±25 % jitter, at most 20 s. @default 500 */
  readonly retryDelayMs?: number;
  /** How long `ensureCollection` waits for a new index to become ready, in milliseconds. @default 300_000 */
  readonly indexReadyTimeoutMs?: number;
  /** The `fetch` the SDK uses. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
}

/** Options after defaults and environment variables are applied. */
export interface PineconeSettings {
  readonly apiKey: string;
  readonly index: string | undefined;
  readonly host: string | undefined;
  readonly namespace: string;
  readonly controllerHostUrl: string | undefined;
  readonly createIndex: PineconeCreateIndexOptions | undefined;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly indexReadyTimeoutMs: number;
  readonly fetch: typeof globalThis.fetch;
}

/** Pinecone's rule for index names: 1-45 lowercase letters, digits or `-`, starting and ending with a letter or digit. */
const INDEX_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$/;

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Applies defaults and the Pinecone environment variables (`PINECONE_API_KEY`, `PINECONE_INDEX`,
 * `PINECONE_HOST`, `PINECONE_CONTROLLER_HOST`); an option always wins over its variable.
 *
 * @throws {MissingSettingError} when no API key, or neither an index name nor a host, is given.
 * @throws {InvalidInputError} for an option Pinecone would reject.
 */
export function resolvePineconeSettings(options: PineconeVectorStoreOptions, env: Environment = process.env): PineconeSettings {
  const setting = (value: string | undefined, variable: string) =>
    value !== undefined && value !== '' ? value : nonEmptySetting(env[variable]);
  const apiKey = setting(options.apiKey, 'PINECONE_API_KEY');
  if (apiKey === undefined) {
    throw new MissingSettingError(
      'PINECONE_API_KEY',
      'Pass apiKey or set PINECONE_API_KEY (create a key in the Pinecone console under API Keys).',
    );
  }
  const index = setting(options.index, 'PINECONE_INDEX');
  const host = setting(options.host, 'PINECONE_HOST');
  if (index === undefined && host === undefined) {
    throw new MissingSettingError(
      'PINECONE_INDEX',
      'Pass index: "<index name>" (or host: "<index host>"), or set PINECONE_INDEX or PINECONE_HOST.',
    );
  }
  if (index !== undefined && !INDEX_NAME_PATTERN.test(index)) {
    throw new InvalidInputError(
      'index',
      'Pinecone index names are 1-45 lowercase letters, digits or "-", starting and ending with a letter or digit',
      'Pass the name exactly as the Pinecone console shows it.',
    );
  }
  if (options.createIndex !== undefined) {
    if (index === undefined) {
      throw new InvalidInputError(
        'createIndex',
        'creating an index needs its name',
        'Pass index: "<new index name>" along with createIndex.',
      );
    }
    const { cloud, region } = options.createIndex;
    if (typeof cloud !== 'string' || cloud === '' || typeof region !== 'string' || region === '') {
      throw new InvalidInputError(
        'createIndex',
        'cloud and region are required',
        'Pass e.g. createIndex: { cloud: "aws", region: "us-east-1" }.',
      );
    }
  }
  const namespace = options.namespace ?? '';
  if (typeof namespace !== 'string')
    throw new InvalidInputError('namespace', 'expected a string', 'Pass a namespace name, or leave it out for the default namespace.');
  return {
    apiKey,
    index,
    host: host === undefined ? undefined : withScheme(host),
    namespace,
    controllerHostUrl: setting(options.controllerHostUrl, 'PINECONE_CONTROLLER_HOST'),
    createIndex: options.createIndex,
    maxRetries: integerOption(options.maxRetries, 'maxRetries', 3, 0, 10),
    retryDelayMs: integerOption(options.retryDelayMs, 'retryDelayMs', 500, 0, 60_000),
    indexReadyTimeoutMs: integerOption(options.indexReadyTimeoutMs, 'indexReadyTimeoutMs', 300_000, 0, 3_600_000),
    fetch: options.fetch ?? globalThis.fetch,
  };
}

/** Pinecone hosts are shown without a scheme; the SDK would add `https://` too. */
function withScheme(host: string): string {
  return /^https?:\/\//i.test(host) ? host.replace(/\/+$/, '') : `https://${host.replace(/\/+$/, '')}`;
}
