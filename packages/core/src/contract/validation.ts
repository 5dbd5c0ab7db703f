import { checkContentParts, type ImageLimits } from './content-parts';
import { denseItems } from './dense-array';
import { InvalidInputError } from './errors';
import { FIELD_NAME_PATTERN } from './filter';
import { DATE_FIELDS, EXPIRES_AT_KEY, SCOPE_FIELDS, type ChatMessage, type Metadata, type MetadataValue } from './types';

/**
 * Limits on what callers may pass; each violation is an {@link InvalidInputError} naming the field.
 * One limit per field, on every path that writes it: a memory's text is at most
 * `maxMemoryTextLength` UTF-16 units once trimmed, whether it comes from `add` without inference,
 * the model's answer, `update` or `importRecords`; metadata keeps its limits after a merge.
 */
export const INPUT_LIMITS = {
  maxMessages: 200,
  maxMessageLength: 100_000,
  /** A memory's text as stored (trimmed), in UTF-16 units. */
  maxMemoryTextLength: 10_000,
  maxQueryLength: 10_000,
  maxMetadataKeys: 64,
  maxMetadataStringLength: 8_192,
  maxMetadataArrayLength: 100,
  /** All metadata of one memory, as UTF-8 JSON: the per-key limits alone would allow 50 MB. */
  maxMetadataBytes: 65_536,
  /** Memory ids, scope ids and cursors. */
  maxIdLength: 256,
  maxLimit: 1_000,
  /** The `idempotencyKey` of `add` (printable characters). */
  maxIdempotencyKeyLength: 255,
  /** Images in one `add` call, over all its messages: the default of `MemoryOptions.images.maxImages`. */
  maxImages: 10,
  /**
   * Bytes of one image given as a data URL (decoded): the default of `MemoryOptions.images.maxBytes`,
   * under every provider's limit once base64-encoded (Anthropic's is 5 MB).
   */
  maxImageBytes: 3_000_000,
} as const;

const RESERVED_METADATA_KEYS = new Set<string>([...SCOPE_FIELDS, ...DATE_FIELDS, EXPIRES_AT_KEY, 'id', 'text', 'hash']);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** Checks a string is well-formed UTF-16 (no lone surrogates), so it survives UTF-8 storage intact. */
export function checkString(value: unknown, field: string, options: { max: number; allowEmpty?: boolean }): string {
  if (typeof value !== 'string') {
    throw new InvalidInputError(field, `expected a string, got ${value === null ? 'null' : typeof value}`, 'Pass text.');
  }
  if (!options.allowEmpty && value.trim().length === 0) throw new InvalidInputError(field, 'the string is empty', 'Pass non-empty text.');
  if (value.length > options.max) {
    throw new InvalidInputError(field, `the string has ${value.length} characters, more than ${options.max}`, 'Split it or shorten it.');
  }
  if (!isWellFormed(value)) {
    throw new InvalidInputError(
      field,
      'the string holds a lone UTF-16 surrogate (invalid Unicode)',
      'Decode the input as UTF-8 before passing it.',
    );
  }
  return value;
}

function isWellFormed(value: string): boolean {
  const native = (value as { isWellFormed?: () => boolean }).isWellFormed;
  if (native) return native.call(value);
  return !/\p{Surrogate}/u.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
}

/**
 * Replaces lone UTF-16 surrogates with U+FFFD. Used on model output, which must not be rejected
 * (that would lose the fact) but must be stored the same way by every store: SQLite, for one,
 * would turn a lone surrogate into U+FFFD while the in-process copy kept it.
 */
export function toWellFormed(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * A memory's text as it will be stored: a well-formed string, trimmed, not empty, at most
 * {@link INPUT_LIMITS}.maxMemoryTextLength UTF-16 units.
 * @throws {InvalidInputError} naming `field` and the limit.
 */
export function checkMemoryText(value: unknown, field: string): string {
  const text = checkString(value, field, { max: Number.POSITIVE_INFINITY }).trim();
  return checkMemoryTextLength(text, field);
}

/** Throws when a text to store (already trimmed) is over {@link INPUT_LIMITS}.maxMemoryTextLength. */
export function checkMemoryTextLength(text: string, field: string): string {
  const problem = memoryTextProblem(text);
  if (problem) throw new InvalidInputError(field, problem, 'Shorten it, or split it into several memories.');
  return text;
}

/** Why a trimmed text cannot be stored as a memory (too long), or undefined. Model output is checked with it too. */
export function memoryTextProblem(text: string): string | undefined {
  return text.length > INPUT_LIMITS.maxMemoryTextLength
    ? `the text has ${text.length} characters once trimmed, more than ${INPUT_LIMITS.maxMemoryTextLength} (the limit of a memory's text)`
    : undefined;
}

/** Validates the id of a memory. */
export function checkId(value: unknown, field = 'id'): string {
  return checkString(value, field, { max: INPUT_LIMITS.maxIdLength });
}

/**
 * Validates `add` input: a string (one user message) or an array of chat messages, whose content is
 * a string or content parts (text and images, at most `images.maxImages` in all).
 */
export function validateMessages(
  input: unknown,
  field = 'messages',
  images: ImageLimits = { maxImages: INPUT_LIMITS.maxImages, maxBytes: INPUT_LIMITS.maxImageBytes },
): ChatMessage[] {
  if (typeof input === 'string') {
    return [{ role: 'user', content: checkString(input, field, { max: INPUT_LIMITS.maxMessageLength }) }];
  }
  if (!Array.isArray(input) || input.length === 0) {
    throw new InvalidInputError(
      field,
      'expected a string or a non-empty array of { role, content }',
      'Pass e.g. [{ role: "user", content: "I am vegetarian" }].',
    );
  }
  if (input.length > INPUT_LIMITS.maxMessages) {
    throw new InvalidInputError(field, `more than ${INPUT_LIMITS.maxMessages} messages`, 'Add long conversations in several calls.');
  }
  const counter = { images: 0 };
  return denseItems(input as unknown[], field).map((message: unknown, index) => {
    const at = `${field}[${index}]`;
    if (typeof message !== 'object' || message === null)
      throw new InvalidInputError(at, 'expected { role, content }', 'Pass objects with role and content.');
    const { role, content, name } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw new InvalidInputError(`${at}.role`, 'expected "user", "assistant", "system" or "tool"', 'Set the role of each message.');
    }
    const checked: ChatMessage = {
      role: role as ChatMessage['role'],
      content: Array.isArray(content)
        ? checkContentParts(content, `${at}.content`, { limits: images, maxTextLength: INPUT_LIMITS.maxMessageLength, counter })
        : checkString(content, `${at}.content`, { max: INPUT_LIMITS.maxMessageLength, allowEmpty: true }),
      ...(name === undefined ? {} : { name: checkString(name, `${at}.name`, { max: 128 }) }),
    };
    return checked;
  });
}

/** Validates user metadata: plain object, safe keys, no reserved keys, typed values, bounded sizes. */
export function validateMetadata(input: unknown, field = 'metadata'): Metadata {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input) || input instanceof Date) {
    throw new InvalidInputError(field, 'expected a plain object', 'Pass e.g. { category: "food" }.');
  }
  const keys = Object.keys(input);
  checkMetadataKeys(keys.length, field);
  const result: Record<string, MetadataValue> = {};
  for (const key of keys) {
    const at = `${field}.${key}`;
    if (!FIELD_NAME_PATTERN.test(key)) {
      throw new InvalidInputError(
        at,
        'keys must be 1-64 letters, digits, "_", "-" or "." and start with a letter or "_"',
        'Rename the key.',
      );
    }
    if (key === '__proto__') {
      // Assigning it would set the object's prototype: the value would vanish instead of being stored.
      throw new InvalidInputError(at, 'the key "__proto__" cannot be stored', 'Rename the key.');
    }
    if (key === EXPIRES_AT_KEY) {
      throw new InvalidInputError(at, 'the key is reserved', 'Pass the expiry as the expiresAt option of add or update, not as metadata.');
    }
    if (RESERVED_METADATA_KEYS.has(key)) {
      throw new InvalidInputError(
        at,
        'the key is reserved',
        `Scope ids go in the scope option and dates are managed by mem; rename "${key}".`,
      );
    }
    result[key] = metadataValue((input as Record<string, unknown>)[key], at);
  }
  checkMetadataBytes(result, field);
  return result;
}

/**
 * Metadata merged into a stored memory's (`update`, an UPDATE of `add`): the result keeps the
 * limits on the number of keys and the size, as if it had been passed whole.
 * @throws {InvalidInputError} naming `field`.
 */
export function mergeMetadata(stored: Metadata, added: Metadata, field: string): Metadata {
  const merged = { ...stored, ...added };
  const note = ` once merged with the ${Object.keys(stored).length} keys the memory holds`;
  checkMetadataKeys(Object.keys(merged).length, field, note);
  checkMetadataBytes(merged, field, note);
  return merged;
}

function checkMetadataKeys(count: number, field: string, note = ''): void {
  if (count > INPUT_LIMITS.maxMetadataKeys) {
    throw new InvalidInputError(field, `${count} keys${note}, more than ${INPUT_LIMITS.maxMetadataKeys}`, 'Store fewer metadata keys.');
  }
}

function checkMetadataBytes(metadata: Metadata, field: string, note = ''): void {
  const bytes = new TextEncoder().encode(JSON.stringify(metadata)).length;
  if (bytes > INPUT_LIMITS.maxMetadataBytes) {
    throw new InvalidInputError(
      field,
      `the metadata is ${bytes} bytes of JSON${note}, more than ${INPUT_LIMITS.maxMetadataBytes}`,
      'Store large content elsewhere and keep a short reference in metadata.',
    );
  }
}

function metadataValue(value: unknown, field: string): MetadataValue {
  if (typeof value === 'string') return checkString(value, field, { max: INPUT_LIMITS.maxMetadataStringLength, allowEmpty: true });
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(field, 'the number is not finite', 'Use a finite number.');
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > INPUT_LIMITS.maxMetadataArrayLength) {
      throw new InvalidInputError(
        field,
        `expected 1 to ${INPUT_LIMITS.maxMetadataArrayLength} strings`,
        'Leave the key out instead of an empty array.',
      );
    }
    return denseItems(value, field).map((item, index) => {
      if (typeof item !== 'string')
        throw new InvalidInputError(`${field}[${index}]`, 'arrays hold strings only', 'Convert the items to strings.');
      return checkString(item, `${field}[${index}]`, { max: INPUT_LIMITS.maxMetadataStringLength, allowEmpty: true });
    });
  }
  throw new InvalidInputError(
    field,
    `expected a string, number, boolean or string array, got ${value === null ? 'null' : typeof value}`,
    'Dates go in as ISO strings or epoch milliseconds; leave the key out instead of null.',
  );
}

/** Validates an integer option within bounds. */
export function checkInteger(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(field, `expected an integer from ${min} to ${max}`, `Pass e.g. ${fallback}.`);
  }
  return value;
}

/** Validates a Date option. */
export function checkDate(value: unknown, field: string, fallback: () => Date): Date {
  if (value === undefined) return fallback();
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new InvalidInputError(
      field,
      'expected a Date, an ISO 8601 string or epoch milliseconds',
      'Pass e.g. new Date("2024-05-08T10:00:00Z").',
    );
  }
  return date;
}

/** Latest date every store and the REST API can carry (the last millisecond of year 9999, UTC). */
const MAX_DATE_MS = 253_402_300_799_999;

/**
 * Validates an expiry: a Date, an ISO 8601 string or epoch milliseconds, within years 0000-9999.
 * A date in the past is allowed (the memory is hidden at once). Returns epoch milliseconds.
 */
export function checkExpiresAt(value: unknown, field: string): number {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  const ms = date?.getTime();
  if (ms === undefined || Number.isNaN(ms) || ms < -62_167_219_200_000 || ms > MAX_DATE_MS) {
    throw new InvalidInputError(
      field,
      'expected a Date, an ISO 8601 string or epoch milliseconds in years 0000-9999',
      'Pass e.g. new Date("2025-01-31T23:59:59Z"), or leave it out for a memory that never expires.',
    );
  }
  return ms;
}
