import { MemError, type ProviderRequestError, type MemErrorCode } from '@mem/core';
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
  ABORTED: 504,
};

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string };
}

/** Fastify's own errors carry a `code` such as `FST_ERR_CTP_BODY_TOO_LARGE` and a `statusCode`. */
interface FrameworkError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly validation?: readonly { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[];
  readonly validationContext?: string;
}

/**
 * Turns anything thrown while handling a request into a status and the documented error body.
 * Messages of `MemError`s are safe to return (core never puts memory text, prompts or keys in them);
 * anything unexpected becomes a generic INTERNAL error whose message names only the request id.
 */
export function toErrorResponse(error: unknown, requestId: string): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) {
    return { status: error.status, body: body(error.code, error.message, error.field), headers: { ...error.headers } };
  }
  if (MemError.is(error)) {
    const field = 'field' in error && typeof error.field === 'string' ? requestField(error.field) : undefined;
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
    const field = validationField(first);
    const message = `Invalid ${field ?? framework.validationContext ?? 'request'}: ${validationProblem(first)}. See /openapi.json for the request schema.`;
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

function validationProblem(error: { keyword: string; message?: string; params: Record<string, unknown> }): string {
  if (error.keyword === 'additionalProperties') return 'unknown property';
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'propertyNames') return 'the key is not allowed (1-64 letters, digits, "_", "-", "."; not a reserved name)';
  return error.message ?? 'does not match the schema';
}
