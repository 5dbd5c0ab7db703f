import {
  InvalidInputError,
  integerOption,
  retryPolicyFromOptions,
  withRetries,
  type MemError,
  type RetryOptions,
  type RetryPolicy,
} from '@mem/core/adapter';
import { aiSDKRetryAfterMs, toAISDKError } from './ai-sdk-errors';
import { SUPPORTED_SPECIFICATION_VERSIONS } from './ai-sdk-model-types';

/** Connection options shared by {@link AISDKLLM} and {@link AISDKEmbedder}. */
export interface AISDKCallSettingsOptions extends RetryOptions {
  /**
   * Time limit of one attempt, in milliseconds; past it the attempt is aborted and retried like a
   * connection failure. AI SDK providers have no timeout of their own. @default 120000
   */
  readonly timeoutMs?: number;
  /** Extra HTTP headers sent with every request (HTTP providers only). @default none */
  readonly headers?: { readonly [name: string]: string };
}

/** Resolved call settings. */
export interface AISDKCallSettings {
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly headers: { readonly [name: string]: string } | undefined;
}

/** Validates the shared options and fills the defaults. @throws {InvalidInputError} for a value out of range. */
export function resolveCallSettings(options: AISDKCallSettingsOptions): AISDKCallSettings {
  if (options.headers !== undefined && (typeof options.headers !== 'object' || options.headers === null)) {
    throw new InvalidInputError('options.headers', 'expected an object of header names to values', "Pass e.g. { 'x-team': 'memory' }.");
  }
  return {
    retry: retryPolicyFromOptions(options),
    timeoutMs: integerOption(options.timeoutMs, 'options.timeoutMs', 120_000, 1, 3_600_000),
    headers: options.headers,
  };
}

/**
 * Checks that `model` is an AI SDK model object of a specification version this package reads.
 * @throws {InvalidInputError} for a model id string, a model of another kind, or an unknown version.
 */
export function checkModel(model: unknown, method: 'doGenerate' | 'doEmbed', example: string): void {
  if (typeof model === 'string') {
    throw new InvalidInputError(
      'options.model',
      'is a model id string; mem needs the model object a provider returns',
      `Pass e.g. ${example}; gateway model ids are not resolved here.`,
    );
  }
  const candidate = model as { specificationVersion?: unknown; provider?: unknown; modelId?: unknown } | null;
  if (typeof candidate !== 'object' || candidate === null || typeof (candidate as Record<string, unknown>)[method] !== 'function') {
    throw new InvalidInputError('options.model', `is not an AI SDK model (it has no ${method} method)`, `Pass e.g. ${example}.`);
  }
  if (!(SUPPORTED_SPECIFICATION_VERSIONS as readonly unknown[]).includes(candidate.specificationVersion)) {
    throw new InvalidInputError(
      'options.model',
      `implements specification version ${String(candidate.specificationVersion)}, which this package does not know`,
      `Use a model of ai 5, 6 or 7 (specification ${SUPPORTED_SPECIFICATION_VERSIONS.join(', ')}).`,
    );
  }
}

/**
 * Runs one model call with core's retries: each attempt gets the caller's signal combined with the
 * adapter's timeout, and every failure is mapped by {@link toAISDKError}. The AI SDK's own retries
 * live in `generateText` / `embedMany`, never in a model, so nothing retries twice.
 */
export async function callWithRetries<T>(options: {
  readonly provider: string;
  readonly model: string;
  readonly operation: string;
  readonly settings: AISDKCallSettings;
  readonly signal: AbortSignal | undefined;
  readonly attempt: (signal: AbortSignal) => PromiseLike<T>;
}): Promise<T> {
  const { provider, model, operation, settings, signal } = options;
  let timeout: { signal: AbortSignal; ms: number } | undefined;
  return withRetries({
    provider,
    operation,
    policy: settings.retry,
    signal,
    attempt: async () => {
      timeout = { signal: AbortSignal.timeout(settings.timeoutMs), ms: settings.timeoutMs };
      return options.attempt(signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal);
    },
    toError: (error, retries): MemError => toAISDKError(error, { provider, model, operation, retries, signal, timeout }),
    retryAfterMs: (error) => aiSDKRetryAfterMs(error),
  });
}
