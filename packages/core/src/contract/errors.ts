const MEM_ERROR = Symbol.for('mem.error');

/** Machine-readable code carried by every {@link MemError}. */
export type MemErrorCode =
  | 'INVALID_INPUT'
  | 'MISSING_SETTING'
  | 'UNSUPPORTED_CAPABILITY'
  | 'DIMENSION_MISMATCH'
  | 'PROVIDER_REQUEST_FAILED'
  | 'PROVIDER_RESPONSE_INVALID'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'ABORTED';

/**
 * Base class of every error mem throws. Recognise it with {@link MemError.is}, which works across
 * two installed copies of `@mem/core` where `instanceof` does not.
 *
 * Messages name the field or setting, the problem and the fix. They never contain API keys,
 * request bodies, prompts or memory text.
 */
export class MemError extends Error {
  readonly [MEM_ERROR] = true;
  readonly code: MemErrorCode;

  constructor(code: MemErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * Tells whether `value` is a mem error, optionally of one code.
   *
   * @example
   * if (MemError.is(error, 'INVALID_INPUT')) console.error(error.message);
   */
  static is(value: unknown, code?: MemErrorCode): value is MemError {
    return typeof value === 'object' && value !== null && MEM_ERROR in value && (code === undefined || (value as MemError).code === code);
  }
}

/** A caller passed a value that cannot be used. Nothing was written. */
export class InvalidInputError extends MemError {
  readonly field: string;

  /**
   * @param field - dotted path of the offending input, e.g. `options.scope` or `filter.age.$gt`
   * @param problem - what is wrong, without quoting user data
   * @param fix - what to do instead
   */
  constructor(field: string, problem: string, fix: string) {
    super('INVALID_INPUT', `Invalid ${field}: ${problem}. ${fix}`);
    this.field = field;
  }
}

/** A required setting (option or environment variable) is missing. */
export class MissingSettingError extends MemError {
  readonly setting: string;

  constructor(setting: string, fix: string) {
    super('MISSING_SETTING', `Missing setting ${setting}. ${fix}`);
    this.setting = setting;
  }
}

/**
 * Input over a limit that spans the whole call rather than one value's shape (e.g. more images in
 * one `add` than `images.maxImages`, counted over all its messages). Code `INVALID_INPUT` like any
 * bad input; `limit` names the setting, so a caller (the REST server answers 413) can tell "send
 * less" from "send something else". Nothing was written.
 */
export class InputLimitError extends InvalidInputError {
  /** The setting that bounds it, e.g. `images.maxImages`. */
  readonly limit: string;

  constructor(field: string, limit: string, problem: string, fix: string) {
    super(field, problem, fix);
    this.limit = limit;
  }
}

/** The operation needs a capability the configured provider does not declare. */
export class UnsupportedCapabilityError extends MemError {
  readonly provider: string;
  readonly capability: string;

  constructor(provider: string, capability: string, fix: string) {
    super('UNSUPPORTED_CAPABILITY', `${provider} does not support ${capability}. ${fix}`);
    this.provider = provider;
    this.capability = capability;
  }
}

/** Vectors of one length were given to a collection that holds vectors of another. */
export class DimensionMismatchError extends MemError {
  readonly expected: number;
  readonly actual: number;

  constructor(where: string, expected: number, actual: number, fix: string) {
    super('DIMENSION_MISMATCH', `${where} holds vectors of ${expected} dimensions but got ${actual}. ${fix}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A record the caller named does not exist in the given scope. */
export class NotFoundError extends MemError {
  readonly id: string;

  constructor(what: string, id: string) {
    super('NOT_FOUND', `No ${what} with id "${id}" exists in this scope. Check the id and the scope.`);
    this.id = id;
  }
}

/**
 * An `idempotencyKey` was given again in the same scope with another request (other messages or
 * options) while the first request's record is kept. Nothing was written; retrying does not help.
 */
export class IdempotencyKeyReusedError extends MemError {
  /** `options.idempotencyKey`. */
  readonly field: string;

  constructor(field: string) {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      `Invalid ${field}: this key was already used in this scope for a different request (other messages or options); nothing was written. Send a retry with exactly the same messages and options, or use a fresh key for a new request.`,
    );
    this.field = field;
  }
}

/**
 * The input is well formed but conflicts with what is stored, e.g. an imported record's id that
 * names a memory of another scope. Nothing was written; the same call fails again until the
 * conflict is gone (code `CONFLICT`, like a write lock that could not be taken).
 */
export class StoredConflictError extends MemError {
  /** The offending input, e.g. `records[3].id`. */
  readonly field: string;

  constructor(field: string, problem: string, fix: string) {
    super('CONFLICT', `Invalid ${field}: ${problem}. ${fix}`);
    this.field = field;
  }
}

/** HTTP statuses after which the same request may succeed. Decided here once, never in adapters. */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** Tells whether a provider failure is worth retrying: 408, 409, 429, 5xx and connection failures. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true; // no response at all: connection refused, reset, DNS
  return RETRYABLE_STATUSES.has(status) || status >= 500;
}

/** A provider call failed. `retryable` is computed by core from `status`. */
export class ProviderRequestError extends MemError {
  readonly provider: string;
  readonly operation: string;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(options: {
    provider: string;
    operation: string;
    status?: number;
    /** What went wrong and what to do, without secrets or request bodies. */
    message: string;
    cause?: unknown;
    /** Overrides the status-based decision, e.g. `false` for an aborted request. */
    retryable?: boolean;
  }) {
    const status = options.status === undefined ? '' : ` (HTTP ${options.status})`;
    super('PROVIDER_REQUEST_FAILED', `${options.provider} ${options.operation} failed${status}: ${options.message}`, {
      cause: options.cause,
    });
    this.provider = options.provider;
    this.operation = options.operation;
    this.status = options.status;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
  }
}

/** A provider answered, but not in a shape mem can use. */
export class ProviderResponseInvalidError extends MemError {
  readonly provider: string;
  readonly operation: string;

  constructor(provider: string, operation: string, problem: string, options?: { cause?: unknown }) {
    super('PROVIDER_RESPONSE_INVALID', `${provider} ${operation} returned an unusable response: ${problem}`, options);
    this.provider = provider;
    this.operation = operation;
  }
}

/** The request was cancelled through its `AbortSignal`. */
export class AbortedError extends MemError {
  constructor(operation: string, options?: { cause?: unknown }) {
    super('ABORTED', `${operation} was aborted by the caller's AbortSignal.`, options);
  }
}

/** Throws an {@link AbortedError} when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortedError(operation, { cause: signal.reason });
}
