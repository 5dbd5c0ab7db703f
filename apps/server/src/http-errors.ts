import { MemError, type ProviderRequestError, type MemErrorCode } from '@mem/core';
import { parseFilter, validateMessages } from '@mem/core/adapter';
import { headerName } from './openapi';
import type { ErrorCode } from './schemas';

/** An error the server answers with a status and one of the documented codes. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: ErrorCode, message: string, options: { field?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** The status each `MemError` code is answered with. */
const MEM_ERROR_STATUS: Record<MemErrorCode, number> = {
  INVALID_INPUT: 400,
  // A setting the server lacks for this request (e.g. rerank without a reranker): the client can drop the option.
  MISSING_SETTING: 400,
  UNSUPPORTED_CAPABILITY: 400,
  // The configured embedder does not match the stored vectors: the server's configuration is wrong.
  DIMENSION_MISMATCH: 500,
  PROVIDER_REQUEST_FAILED: 502,
  PROVIDER_RESPONSE_INVALID: 502,
  NOT_FOUND: 404,
  CONFLICT: 409,
  // The same Idempotency-Key with another request: the request is understood but cannot be processed.
  IDEMPOTENCY_KEY_REUSED: 422,
  ABORTED: 504,
};

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string };
}

/**
 * One schema violation as Ajv reports it. The server's Ajv runs with `verbose`, so `data` is the
 * rejected value and `parentSchema` the schema it failed (its bounds, its description).
 */
interface ValidationIssue {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
  readonly data?: unknown;
  readonly parentSchema?: Readonly<Record<string, unknown>>;
}

/** Fastify's own errors carry a `code` such as `FST_ERR_CTP_BODY_TOO_LARGE` and a `statusCode`. */
interface FrameworkError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly validation?: readonly ValidationIssue[];
  readonly validationContext?: string;
}

/**
 * Turns anything thrown while handling a request into a status and the documented error body.
 * Messages of `MemError`s are safe to return (core never puts memory text, prompts or keys in them);
 * anything unexpected becomes a generic INTERNAL error whose message names only the request id.
 * A request that fails the schema gets what the library would say: the field, the problem and the
 * fix (a filter is explained by core's own filter parser, which lists the valid operators).
 *
 * @param requestBody - the parsed JSON body, when there is one (for filter problems)
 */
export function toErrorResponse(
  error: unknown,
  requestId: string,
  requestBody?: unknown,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) {
    return { status: error.status, body: body(error.code, error.message, error.field), headers: { ...error.headers } };
  }
  if (MemError.is(error)) {
    const field = 'field' in error && typeof error.field === 'string' ? requestField(error.field) : undefined;
    // Over a limit of the whole request (more images in one add than images.maxImages): the client
    // must send less, as with a body over MEM_BODY_LIMIT. The document cannot state such a count.
    if (MemError.is(error, 'INVALID_INPUT') && 'limit' in error && typeof error.limit === 'string')
      return { status: 413, body: body('PAYLOAD_TOO_LARGE', error.message, field), headers: {} };
    let status = MEM_ERROR_STATUS[error.code] ?? 500;
    // A provider failure worth retrying (429, 5xx, connection) is a 503: the client may try again later.
    if (error.code === 'PROVIDER_REQUEST_FAILED' && (error as ProviderRequestError).retryable) status = 503;
    return { status, body: body(error.code, error.message, field), headers: {} };
  }
  const framework = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  if (framework.validation && framework.validation.length > 0) {
    // Within anyOf/oneOf Ajv reports every branch; the deepest error names the most precise field.
    const first = framework.validation.reduce((best, candidate) =>
      depth(candidate) > depth(best) && candidate.keyword !== 'anyOf' && candidate.keyword !== 'oneOf' ? candidate : best,
    );
    const named = validationField(first);
    // Headers are named as clients write them, and said to be headers: `Idempotency-Key header`.
    const field = framework.validationContext === 'headers' && named ? headerName(named) : named;
    if (framework.validationContext === 'body' && (field === 'filter' || field?.startsWith('filter.') || field?.startsWith('filter['))) {
      const fromCore = filterProblem(requestBody);
      if (fromCore) return { status: 400, body: body('INVALID_INPUT', fromCore.message, fromCore.field), headers: {} };
    }
    if (framework.validationContext === 'body' && field !== undefined && /^messages\[\d+\]/.test(field)) {
      const fromCore = messagesProblem(requestBody);
      if (fromCore) return { status: 400, body: body('INVALID_INPUT', fromCore.message, fromCore.field), headers: {} };
    }
    const { problem, fix } = explain(first, field);
    const what =
      framework.validationContext === 'headers' && field ? `${field} header` : (field ?? framework.validationContext ?? 'request');
    const message = `Invalid ${what}: ${problem}. ${fix}`;
    return { status: 400, body: body('INVALID_INPUT', message, field), headers: {} };
  }
  switch (framework.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: body(
          'PAYLOAD_TOO_LARGE',
          'The request body is larger than this server accepts (MEM_BODY_LIMIT). Send less per request, e.g. split a long conversation.',
        ),
        headers: {},
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: body('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with content-type: application/json.'),
        headers: {},
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        body: body('INVALID_INPUT', 'Invalid body: the JSON body is empty. Send a JSON object, or no content-type header.', 'body'),
        headers: {},
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: body('INVALID_INPUT', 'Invalid body: it is not valid JSON. Send a JSON object.', 'body'), headers: {} };
  }
  if (typeof framework.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500) {
    if (framework.statusCode === 413)
      return { status: 413, body: body('PAYLOAD_TOO_LARGE', 'The request is larger than this server accepts.'), headers: {} };
    if (framework.statusCode === 415)
      return {
        status: 415,
        body: body('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with content-type: application/json.'),
        headers: {},
      };
    // Malformed JSON, bad content-length and the like: fastify's message names the problem, never the body.
    return {
      status: 400,
      body: body('INVALID_INPUT', `Invalid request: ${error instanceof Error ? error.message : 'malformed'}.`, 'body'),
      headers: {},
    };
  }
  return { status: 500, body: body('INTERNAL', `Internal error (request ${requestId}); the server log has the details.`), headers: {} };
}

function depth(error: { instancePath: string; keyword: string; params: Record<string, unknown> }): number {
  const extra = error.keyword === 'required' || error.keyword === 'additionalProperties' || error.keyword === 'propertyNames' ? 1 : 0;
  return error.instancePath.split('/').length + extra;
}

function body(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: { code, message, ...(field ? { field } : {}) } };
}

/** Maps a core field path (`options.scope`, `change.text`) to the request field (`scope`, `text`). */
export function requestField(field: string): string {
  return field.replace(/^options\./, '').replace(/^change\./, '');
}

function validationField(error: { instancePath: string; keyword: string; params: Record<string, unknown> }): string | undefined {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required' && typeof error.params.missingProperty === 'string') segments.push(error.params.missingProperty);
  if (error.keyword === 'additionalProperties' && typeof error.params.additionalProperty === 'string')
    segments.push(error.params.additionalProperty);
  if (error.keyword === 'propertyNames' && typeof error.params.propertyName === 'string') segments.push(error.params.propertyName);
  let field = '';
  for (const segment of segments) field += /^\d+$/.test(segment) ? `[${segment}]` : field === '' ? segment : `.${segment}`;
  return field === '' ? undefined : field;
}

/**
 * Core's own account of a filter the schema rejected: the same parser the library runs names the
 * offending part and lists the valid operators. Undefined when core would accept the filter (the
 * document is stricter in places, e.g. string lengths), so the schema's reason is given instead.
 */
function filterProblem(requestBody: unknown): { message: string; field: string } | undefined {
  if (typeof requestBody !== 'object' || requestBody === null || !('filter' in requestBody)) return undefined;
  try {
    parseFilter((requestBody as { filter: unknown }).filter, 'filter');
  } catch (error) {
    if (MemError.is(error, 'INVALID_INPUT') && 'field' in error && typeof error.field === 'string')
      return { message: error.message, field: error.field };
  }
  return undefined;
}

/**
 * Core's own account of messages the schema rejected: within the unions of message shapes (one per
 * role) and part shapes Ajv's deepest error may name the wrong branch, while core names the field and
 * says what is wrong with it (toolCallId on a user message, an unknown part type, a URL that is
 * neither http(s) nor data). Undefined when core would accept the messages.
 */
function messagesProblem(requestBody: unknown): { message: string; field: string } | undefined {
  if (typeof requestBody !== 'object' || requestBody === null || !('messages' in requestBody)) return undefined;
  try {
    validateMessages((requestBody as { messages: unknown }).messages, 'messages', {
      maxImages: Number.MAX_SAFE_INTEGER,
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
  } catch (error) {
    if (MemError.is(error, 'INVALID_INPUT') && 'field' in error && typeof error.field === 'string')
      return { message: error.message, field: error.field };
  }
  return undefined;
}

const SCHEMA_FIX = 'See /openapi.json for the request schema.';

/** The problem and the fix of one schema violation, in the words the library uses. */
function explain(issue: ValidationIssue, field: string | undefined): { problem: string; fix: string } {
  const schema = issue.parentSchema ?? {};
  const params = issue.params;
  switch (issue.keyword) {
    case 'required':
      return { problem: 'is required', fix: `Add it. ${SCHEMA_FIX}` };
    case 'additionalProperties':
      return { problem: 'unknown property', fix: `Remove it (names are case-sensitive). ${SCHEMA_FIX}` };
    case 'propertyNames':
      return {
        problem: 'the key is not allowed (1-64 letters, digits, "_", "-", "."; not a reserved name)',
        fix: 'Rename it; userId, agentId, runId, id, text, hash and the dates are reserved.',
      };
    case 'const':
      // The two constants of the API: `infer` on a server without an LLM, `rerank` on one without a reranker.
      if (field === 'infer' && params.allowedValue === false) {
        return {
          problem: 'this server has no LLM, so it stores messages as given and accepts only false',
          fix: 'Leave infer out, or configure an LLM on the server (OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL).',
        };
      }
      if (field === 'rerank' && params.allowedValue === false) {
        return {
          problem: 'this server has no reranker, so it accepts only false',
          fix: 'Leave rerank out, or configure a reranker on the server (MEM_RERANKER=cohere with CO_API_KEY, or MEM_RERANKER=transformers).',
        };
      }
      return { problem: `expected ${JSON.stringify(params.allowedValue)}`, fix: `Send ${JSON.stringify(params.allowedValue)}.` };
    case 'enum': {
      // The document of a server without an LLM allows only memoryType semantic.
      if (field === 'memoryType' && Array.isArray(params.allowedValues) && params.allowedValues.length === 1) {
        return {
          problem: 'this server has no LLM, and a procedural memory is a summary of the run written by one, so it accepts only semantic',
          fix: 'Leave memoryType out, or configure an LLM on the server (OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL).',
        };
      }
      const values = Array.isArray(params.allowedValues) ? params.allowedValues.map((value) => JSON.stringify(value)) : [];
      return { problem: `expected one of ${values.join(', ')}`, fix: `Use one of them, e.g. ${values[0] ?? 'the first'}.` };
    }
    case 'type':
      return { problem: `expected ${describeType(params.type)}, got ${describeValue(issue.data)}`, fix: typeFix(params.type) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        problem: `expected ${describeRange(schema)}, got ${describeValue(issue.data)}`,
        fix: 'Pass a value in that range, or leave it out.',
      };
    case 'minLength':
      return params.limit === 1
        ? { problem: 'is empty', fix: 'Send a non-empty value, or leave it out if it is optional.' }
        : { problem: `is shorter than ${String(params.limit)} characters`, fix: 'Send a longer value.' };
    case 'maxLength':
      return { problem: `is longer than ${String(params.limit)} characters`, fix: 'Send a shorter value.' };
    case 'pattern':
      if (typeof issue.data === 'string' && issue.data.trim() === '')
        return { problem: 'is blank', fix: 'Send some text, not only spaces.' };
      if (typeof issue.data === 'string' && /[\u0000-\u001f\u007f]/.test(issue.data))
        return { problem: 'contains control characters (newlines, tabs, …)', fix: 'Remove them.' };
      return { problem: `does not match the pattern ${String(params.pattern)}`, fix: SCHEMA_FIX };
    case 'format':
      return params.format === 'date-time'
        ? {
            problem: 'expected an RFC 3339 date-time with a time zone, up to year 9999',
            fix: 'Send e.g. "2024-06-10T12:00:00Z" (or, for dates, epoch milliseconds).',
          }
        : { problem: `expected the ${String(params.format)} format`, fix: SCHEMA_FIX };
    case 'minItems':
      return params.limit === 1
        ? { problem: 'is empty', fix: 'Send at least one item.' }
        : { problem: `has fewer than ${String(params.limit)} items`, fix: 'Send more items.' };
    case 'maxItems':
      // The document of a server without an LLM allows only an empty category list.
      if (field === 'categories' && params.limit === 0) {
        return {
          problem: 'this server has no LLM, and categories are assigned by the extraction call, so it accepts only an empty list',
          fix: 'Leave categories out, or configure an LLM on the server (OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL).',
        };
      }
      return { problem: `has more than ${String(params.limit)} items`, fix: 'Send fewer, or split the request.' };
    case 'minProperties':
      return { problem: 'is empty', fix: `Set at least one of its properties. ${SCHEMA_FIX}` };
    case 'maxProperties':
      return { problem: `has more than ${String(params.limit)} properties`, fix: 'Send fewer.' };
    default:
      return { problem: issue.message ?? 'does not match the schema', fix: SCHEMA_FIX };
  }
}

function describeType(type: unknown): string {
  const names: Record<string, string> = {
    integer: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a JSON object',
    array: 'a JSON array',
    null: 'null',
  };
  return String(type)
    .split(',')
    .map((name) => names[name] ?? name)
    .join(' or ');
}

function typeFix(type: unknown): string {
  if (type === 'integer' || type === 'number' || type === 'boolean') return 'Write it without quotes.';
  return `Send ${describeType(type)}.`;
}

/** `a string`, `the number 3`, `an array`: what was sent, never its content. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** `an integer from 1 to 1000`, `a number from -1 to 1`, `a number above 0`. */
function describeRange(schema: Readonly<Record<string, unknown>>): string {
  const kind = schema.type === 'integer' ? 'an integer' : 'a number';
  const low = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const high = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  if (low !== undefined && high !== undefined) return `${kind} from ${low} to ${high}`;
  if (low !== undefined) return `${kind} of at least ${low}`;
  if (high !== undefined) return `${kind} of at most ${high}`;
  if (typeof schema.exclusiveMinimum === 'number') return `${kind} above ${schema.exclusiveMinimum}`;
  if (typeof schema.exclusiveMaximum === 'number') return `${kind} below ${schema.exclusiveMaximum}`;
  return kind;
}
