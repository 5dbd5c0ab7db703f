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
import { Anthropic } from '@anthropic-ai/sdk';

/** The provider's environment variables, as settings resolution reads them. */
export type AnthropicEnvironment = Environment;

/** Connection and retry options of {@link AnthropicLLM}. */
export interface AnthropicConnectionOptions extends RetryOptions {
  /** API key. @default process.env.ANTHROPIC_API_KEY */
  readonly apiKey?: string;
  /**
   * Base URL of the Messages API, without `/v1`, e.g. a proxy or gateway.
   * @default process.env.ANTHROPIC_BASE_URL, else `https://api.anthropic.com`
   */
  readonly baseURL?: string;
  /** A `fetch` implementation (proxies, tests). @default globalThis.fetch */
  readonly fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /**
   * An existing SDK client, e.g. one built with other credentials. Its key, URL, headers and timeout
   * are used as they are, so `apiKey`, `baseURL` and `fetch` must not be given with it. Its own retries
   * are bypassed: the adapter retries (see `maxRetries`).
   */
  readonly client?: Anthropic;
  /** Time limit of one attempt, in milliseconds. @default 120000 (or the `client`'s own timeout) */
  readonly timeoutMs?: number;
}

/** Everything an adapter needs after settings resolution. */
export interface AnthropicSettings {
  readonly client: Anthropic;
  /** `https://api.anthropic.com`: named in connection errors (never a path, query or credentials). */
  readonly origin: string;
  /** Where the key came from, for error messages: `options.apiKey` or `ANTHROPIC_API_KEY`. */
  readonly keySource: string;
  /** Per-request timeout to pass to the SDK; `undefined` keeps the client's own. */
  readonly timeoutMs: number | undefined;
  readonly retry: RetryPolicy;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const CLIENT_ONLY_OPTIONS = ['apiKey', 'baseURL', 'fetch'] as const;

/**
 * Resolves options first, then the provider's variables (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`),
 * and builds the SDK client. This is the only place the
 * package reads the environment; `environment` is a parameter so tests never touch `process.env`.
 *
 * @throws {MissingSettingError} when no API key is given and `ANTHROPIC_API_KEY` is unset.
 * @throws {InvalidInputError} for an out-of-range number, a malformed URL, or `client` combined with connection options.
 */
export function resolveAnthropicSettings(
  options: AnthropicConnectionOptions,
  owner: string,
  environment: AnthropicEnvironment = processEnvironment(),
): AnthropicSettings {
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
  const apiKey = fromOption ?? nonEmptySetting(environment['ANTHROPIC_API_KEY']);
  if (apiKey === undefined) {
    throw new MissingSettingError(
      'ANTHROPIC_API_KEY',
      `Set the ANTHROPIC_API_KEY environment variable or pass { apiKey } to ${owner}. Keys are created in the Claude Console under API keys.`,
    );
  }
  const baseURLSetting = options.baseURL !== undefined ? 'options.baseURL' : 'ANTHROPIC_BASE_URL';
  const baseURL = nonEmptySetting(options.baseURL) ?? nonEmptySetting(environment['ANTHROPIC_BASE_URL']);
  if (baseURL !== undefined) checkHttpUrl(baseURL, baseURLSetting, 'https://api.anthropic.com');
  const timeoutMs = explicitTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Anthropic({
    // Passing the key keeps the SDK from reading ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or a profile itself.
    apiKey,
    // `undefined` would make the SDK read ANTHROPIC_BASE_URL itself; we already did.
    baseURL: baseURL ?? 'https://api.anthropic.com',
    webhookKey: null,
    timeout: timeoutMs,
    maxRetries: 0,
    // The SDK logs request details at debug level (ANTHROPIC_LOG); the adapter never logs.
    logLevel: 'off',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    client,
    origin: urlOrigin(client.baseURL),
    keySource: fromOption !== undefined ? 'the apiKey option (it takes precedence over ANTHROPIC_API_KEY)' : 'ANTHROPIC_API_KEY',
    timeoutMs,
    retry,
  };
}
