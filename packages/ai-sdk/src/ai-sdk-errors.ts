import {
  AbortedError,
  MemError,
  MissingSettingError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  retryAfterFromHeaders,
  UnsupportedCapabilityError,
  urlOrigin,
} from '@mem/core/adapter';

/** What {@link toAISDKError} needs to know about the failed call. */
export interface AISDKErrorContext {
  /** The model's provider, e.g. `openai.chat`: names the provider in the error. */
  readonly provider: string;
  /** The model id, named in 404 errors. */
  readonly model: string;
  /** `generate` or `embed`. */
  readonly operation: string;
  /** How many times the call was already retried when it failed this time. */
  readonly retries: number;
  /** The caller's signal: once aborted, every failure is reported as `ABORTED`. */
  readonly signal: AbortSignal | undefined;
  /** The adapter's own per-attempt timeout signal and its length, to tell a timeout from a caller's abort. */
  readonly timeout?: { readonly signal: AbortSignal; readonly ms: number } | undefined;
}

/**
 * What is kept of an AI SDK error as the `cause` of a mem error: its name, HTTP status, the origin
 * and path it was sent to, and the provider's machine-readable error code, type and parameter.
 *
 * The AI SDK's `APICallError` carries the whole request body (`requestBodyValues`: the prompt, with
 * the user's messages and memories), the response body and the provider's message, which a server or
 * proxy may fill with the request or the credential. This package cannot know the credential (the
 * provider holds it), so none of that free text is kept: a logged error can never print it.
 */
export class AISDKErrorSummary extends Error {
  /** `AI_APICallError`, `AI_LoadAPIKeyError`, … (or the thrown value's own name). */
  readonly errorName: string;
  readonly statusCode: number | undefined;
  /** Origin and path of the request, without query string (which may carry a key). */
  readonly url: string | undefined;
  /** The provider's error `code`, `type` and `param`, when its error body has them. */
  readonly providerCode: string | undefined;
  readonly providerType: string | undefined;
  readonly providerParam: string | undefined;

  constructor(fields: {
    errorName: string;
    statusCode?: number | undefined;
    url?: string | undefined;
    providerCode?: string | undefined;
    providerType?: string | undefined;
    providerParam?: string | undefined;
  }) {
    const status = fields.statusCode === undefined ? '' : ` HTTP ${fields.statusCode}`;
    super(
      `${fields.errorName}${status}${fields.url ? ` from ${fields.url}` : ''} (the provider's message is left out: it may echo the request)`,
    );
    this.name = 'AISDKErrorSummary';
    this.errorName = fields.errorName;
    this.statusCode = fields.statusCode;
    this.url = fields.url;
    this.providerCode = fields.providerCode;
    this.providerType = fields.providerType;
    this.providerParam = fields.providerParam;
  }
}

/** The fields of an AI SDK error this module reads; every one may be missing on a foreign error. */
interface AISDKErrorFields {
  readonly name?: unknown;
  readonly statusCode?: unknown;
  readonly url?: unknown;
  readonly responseHeaders?: unknown;
  readonly responseBody?: unknown;
  readonly data?: unknown;
  readonly functionality?: unknown;
}

/**
 * Maps anything an AI SDK model throws to a typed mem error: `AbortedError` for a cancelled call,
 * `ProviderRequestError` for HTTP and connection failures (`retryable` decided by core from the
 * status), `MissingSettingError` for a missing API key, `UnsupportedCapabilityError` for a feature
 * the provider lacks, `ProviderResponseInvalidError` for a response that could not be read.
 *
 * AI SDK errors are recognised by their `name` (`AI_APICallError`, …), which every copy and version
 * of the AI SDK sets, so no AI SDK package is needed at run time. Messages name the status, the
 * provider's error code and the fix, never the provider's free text; see {@link AISDKErrorSummary}.
 */
export function toAISDKError(error: unknown, context: AISDKErrorContext): MemError {
  if (MemError.is(error)) return error;
  const name = `${context.provider} ${context.operation}`;
  if (context.signal?.aborted) return new AbortedError(name, { cause: summarize(error) });
  const fields: AISDKErrorFields = typeof error === 'object' && error !== null ? (error as AISDKErrorFields) : {};
  const errorName = typeof fields.name === 'string' ? fields.name : typeof error;
  const cause = summarize(error);
  const retried = context.retries === 0 ? 'not retried' : `retried ${context.retries} ${context.retries === 1 ? 'time' : 'times'}`;
  const request = (message: string, extra: { status?: number; retryable?: boolean } = {}) =>
    new ProviderRequestError({ provider: context.provider, operation: context.operation, message, cause, ...extra });

  if (context.timeout?.signal.aborted) {
    return request(`no answer within the timeout of ${context.timeout.ms} ms; ${retried}. Raise timeoutMs, or check the provider's load.`);
  }
  switch (errorName) {
    case 'AI_APICallError': {
      const status = typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
      const where = cause.url ? urlOrigin(cause.url) : 'the provider';
      if (status === undefined) {
        return request(`could not reach ${where}; ${retried}. Check the network and the provider's baseURL.`);
      }
      const details = providerDetails(cause);
      return request(describeStatus(status, details, retried, context.model), {
        status,
        // A 429 for an exhausted quota does not clear by waiting: the account needs credit.
        ...(status === 429 && cause.providerCode === 'insufficient_quota' ? { retryable: false } : {}),
      });
    }
    case 'AI_LoadAPIKeyError':
    case 'AI_LoadSettingError':
      // The SDK's own message names the option and the environment variable, and holds no value.
      return new MissingSettingError(
        `the API key or setting of the ${context.provider} provider`,
        `${error instanceof Error ? error.message : 'The provider could not load a setting.'} Pass it to the provider (e.g. createOpenAI({ apiKey })).`,
      );
    case 'AI_UnsupportedFunctionalityError':
      return new UnsupportedCapabilityError(
        context.provider,
        typeof fields.functionality === 'string' ? fields.functionality : 'a feature this call needs',
        "Pick another structuredOutput mode ('tool' or 'text') for this model, or another model.",
      );
    case 'AI_InvalidResponseDataError':
    case 'AI_JSONParseError':
    case 'AI_TypeValidationError':
    case 'AI_EmptyResponseBodyError':
    case 'AI_NoContentGeneratedError':
      return new ProviderResponseInvalidError(
        context.provider,
        context.operation,
        `the provider's response could not be read (${errorName}). Check that the provider points at a server speaking its API.`,
        { cause },
      );
    case 'AI_NoSuchModelError':
      return request(`the provider has no model "${context.model}". Check the model id.`, { retryable: false });
    case 'AI_InvalidPromptError':
    case 'AI_InvalidArgumentError':
      return request(`the provider rejected the call before sending it (${errorName}). Check the adapter and provider options.`, {
        retryable: false,
      });
    case 'AbortError':
    case 'TimeoutError':
      // Aborted by something other than the caller's signal (a provider's or a fetch's own timeout).
      return request(`the request was cut off (${errorName}); ${retried}. Check the provider's timeout settings.`);
    default:
      return request(`the model threw ${errorName}; ${retried}. See error.cause.`, { retryable: false });
  }
}

function describeStatus(status: number, details: string, retried: string, model: string): string {
  switch (status) {
    case 401:
      return `the API key was rejected${details}. Check the key the provider was created with (or its environment variable).`;
    case 403:
      return `the API key has no access to this resource${details}. Check the key's project and its permissions for model "${model}".`;
    case 404:
      return `not found${details}. Check the model id ("${model}") and the provider's baseURL.`;
    case 429:
      return `rate limited${details}; ${retried}. Lower the request rate, raise maxRetries, or ask for a higher rate limit.`;
    default:
      if (status === 400 || status === 422) {
        return `the request was rejected${details}. Check the model's support for the structuredOutput mode and the options.`;
      }
      if (status >= 500) return `the server failed${details}; ${retried}. Try again later.`;
      return `the request failed${details}; ${retried}.`;
  }
}

function providerDetails(summary: AISDKErrorSummary): string {
  const parts = [
    summary.providerCode === undefined ? undefined : `code ${summary.providerCode}`,
    summary.providerType === undefined ? undefined : `type ${summary.providerType}`,
    summary.providerParam === undefined ? undefined : `param ${summary.providerParam}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** Keeps the harmless, machine-readable fields of a thrown value; see {@link AISDKErrorSummary}. */
function summarize(error: unknown): AISDKErrorSummary {
  const fields: AISDKErrorFields = typeof error === 'object' && error !== null ? (error as AISDKErrorFields) : {};
  const provider = providerError(fields);
  return new AISDKErrorSummary({
    errorName: typeof fields.name === 'string' ? fields.name : typeof error,
    statusCode: typeof fields.statusCode === 'number' ? fields.statusCode : undefined,
    url: typeof fields.url === 'string' ? withoutQuery(fields.url) : undefined,
    providerCode: provider.code,
    providerType: provider.type,
    providerParam: provider.param,
  });
}

/**
 * The provider's error `code` / `type` / `param` from the parsed error (`data`) or the JSON body, in
 * the shapes providers use (`{ error: { code, type, param } }`, `{ type: 'error', error: { type } }`).
 * Only short identifiers are kept; anything longer may be free text.
 */
function providerError(fields: AISDKErrorFields): { code?: string; type?: string; param?: string } {
  let body: unknown = fields.data;
  if (body === undefined && typeof fields.responseBody === 'string') {
    try {
      body = JSON.parse(fields.responseBody);
    } catch {
      body = undefined;
    }
  }
  const inner = typeof body === 'object' && body !== null ? ((body as { error?: unknown }).error ?? body) : undefined;
  if (typeof inner !== 'object' || inner === null) return {};
  const identifier = (value: unknown) => (typeof value === 'string' && /^[\w.-]{1,64}$/.test(value) ? value : undefined);
  const record = inner as { code?: unknown; type?: unknown; param?: unknown };
  const result: { code?: string; type?: string; param?: string } = {};
  const code = identifier(record.code);
  const type = identifier(record.type);
  const param = identifier(record.param);
  if (code !== undefined) result.code = code;
  if (type !== undefined) result.type = type;
  if (param !== undefined) result.param = param;
  return result;
}

function withoutQuery(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** The delay a failed call asks for (`retry-after-ms`, `retry-after`), from an `APICallError`'s headers. */
export function aiSDKRetryAfterMs(error: unknown): number | undefined {
  const headers = typeof error === 'object' && error !== null ? (error as AISDKErrorFields).responseHeaders : undefined;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const byName = new Map(Object.entries(headers as Record<string, unknown>).map(([key, value]) => [key.toLowerCase(), value]));
  return retryAfterFromHeaders((name) => {
    const value = byName.get(name);
    return typeof value === 'string' ? value : undefined;
  });
}
