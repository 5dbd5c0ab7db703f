import {
  InvalidInputError,
  MissingSettingError,
  checkHttpUrl,
  integerOption,
  nonEmptySetting,
  processEnvironment,
  retryPolicyFromOptions,
  urlOrigin,
  type Environment,
} from '@mem/core/adapter';
import type { RetryOptions, RetryPolicy } from '@mem/core/adapter';
import { OpenAI } from 'openai';

/** The provider's environment variables, as settings resolution reads them. */
export type OpenAIEnvironment = Environment;

/** Connection and retry options shared by {@link OpenAILLM} and {@link OpenAIEmbedder}. */
export interface OpenAIConnectionOptions extends RetryOptions {
  /**
   * API key. Local servers that need none (Ollama, vLLM, LM Studio) still need a placeholder such as `'ollama'`.
   * @default process.env.OPENAI_API_KEY
   */
  readonly apiKey?: string;
  /**
   * Base URL of an OpenAI-compatible API, including `/v1`, e.g. `http://localhost:11434/v1` for Ollama.
   * @default process.env.OPENAI_BASE_URL, else `https://api.openai.com/v1`
   */
  readonly baseURL?: string;
  /** OpenAI organization id. @default process.env.OPENAI_ORG_ID */
  readonly organization?: string;
  /** OpenAI project id. @default process.env.OPENAI_PROJECT_ID */
  readonly project?: string;
  /** A `fetch` implementation (proxies, tests). @default globalThis.fetch */
  readonly fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /**
   * An existing SDK client, e.g. an `AzureOpenAI`. Its key, URL, headers and timeout are used as they
   * are, so `apiKey`, `baseURL`, `organization`, `project` and `fetch` must not be given with it.
   * Its own retries are bypassed: the adapter retries (see `maxRetries`).
   */
  readonly client?: OpenAI;
  /** Time limit of one attempt, in milliseconds. @default 120000 (or the `client`'s own timeout) */
  readonly timeoutMs?: number;
}

/** Everything an adapter needs after settings resolution. */
export interface OpenAISettings {
  readonly client: OpenAI;
  /** `https://api.openai.com`: named in connection errors (never a path, query or credentials). */
  readonly origin: string;
  /** Where the key came from, for error messages: `options.apiKey` or `OPENAI_API_KEY`. */
  readonly keySource: string;
  /** Per-request timeout to pass to the SDK; `undefined` keeps the client's own. */
  readonly timeoutMs: number | undefined;
  readonly retry: RetryPolicy;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const CLIENT_ONLY_OPTIONS = ['apiKey', 'baseURL', 'organization', 'project', 'fetch'] as const;

/**
 * Resolves options first, then the provider's variables (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
 * `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`), and builds the SDK client. This is the only place the
 * package reads the environment; `environment` is a parameter so tests never touch `process.env`.
 *
 * @throws {MissingSettingError} when no API key is given and `OPENAI_API_KEY` is unset.
 * @throws {InvalidInputError} for an out-of-range number, a malformed URL, or `client` combined with connection options.
 */
export function resolveOpenAISettings(
  options: OpenAIConnectionOptions,
  owner: string,
  environment: OpenAIEnvironment = processEnvironment(),
): OpenAISettings {
  const retry = retryPolicyFromOptions(options);
  const explicitTimeoutMs =
    options.timeoutMs === undefined ? undefined : integerOption(options.timeoutMs, 'options.timeoutMs', DEFAULT_TIMEOUT_MS, 1, 3_600_000);

  if (options.client !== undefined) {
    const conflicting = CLIENT_ONLY_OPTIONS.filter((name) => options[name] !== undefined);
    if (conflicting.length > 0) {
      throw new InvalidInputError(
        'options.client',
        `it was given together with ${conflicting.join(', ')}, which would be ignored`,
        'Configure those on the client you pass, or leave client out.',
      );
    }
    return {
      client: options.client,
      origin: urlOrigin(options.client.baseURL),
      keySource: 'the API key of the client you passed',
      timeoutMs: explicitTimeoutMs,
      retry,
    };
  }

  const fromOption = nonEmptySetting(options.apiKey);
  const apiKey = fromOption ?? nonEmptySetting(environment['OPENAI_API_KEY']);
  if (apiKey === undefined) {
    throw new MissingSettingError(
      'OPENAI_API_KEY',
      `Set the OPENAI_API_KEY environment variable or pass { apiKey } to ${owner}. A local server that needs no key (Ollama, vLLM, LM Studio) still needs a placeholder, e.g. { apiKey: 'ollama' }.`,
    );
  }
  const baseURLSetting = options.baseURL !== undefined ? 'options.baseURL' : 'OPENAI_BASE_URL';
  const baseURL = nonEmptySetting(options.baseURL) ?? nonEmptySetting(environment['OPENAI_BASE_URL']);
  if (baseURL !== undefined) checkHttpUrl(baseURL, baseURLSetting, 'https://api.openai.com/v1');
  const timeoutMs = explicitTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new OpenAI({
    apiKey,
    // `undefined` would make the SDK read OPENAI_BASE_URL itself; we already did.
    baseURL: baseURL ?? 'https://api.openai.com/v1',
    organization: nonEmptySetting(options.organization) ?? nonEmptySetting(environment['OPENAI_ORG_ID']) ?? null,
    project: nonEmptySetting(options.project) ?? nonEmptySetting(environment['OPENAI_PROJECT_ID']) ?? null,
    webhookSecret: null,
    timeout: timeoutMs,
    maxRetries: 0,
    // The SDK logs request details at debug level (OPENAI_LOG); the adapter never logs.
    logLevel: 'off',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    client,
    origin: urlOrigin(client.baseURL),
    keySource: fromOption !== undefined ? 'the apiKey option (it takes precedence over OPENAI_API_KEY)' : 'OPENAI_API_KEY',
    timeoutMs,
    retry,
  };
}
