import { checkContentParts, type ImageLimits } from './content-parts';
import { denseItems } from './dense-array';
import { InvalidInputError } from './errors';
import { FIELD_NAME_PATTERN } from './filter';
import {
  CATEGORIES_KEY,
  DATE_FIELDS,
  EXPIRES_AT_KEY,
  MEMORY_TYPE_KEY,
  SCOPE_FIELDS,
  type ChatMessage,
  type Metadata,
  type MetadataValue,
  type ToolCall,
} from './types';

/**
 * Limits on what callers may pass; each violation is an {@link InvalidInputError} naming the field.
 * One limit per field, on every path that writes it: a memory's text is at most
 * `maxMemoryTextLength` UTF-16 units once trimmed, whether it comes from `add` without inference,
 * the model's answer, `update` or `importRecords`; metadata keeps its limits after a merge.
 */
export const INPUT_LIMITS = {
  maxMessages: 200,
  maxMessageLength: 100_000,
  /** Tool calls of one assistant message (`messages[i].toolCalls`). */
  maxToolCalls: 64,
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
  /** Custom categories of a `Memory` or of one `add` (`categories`). */
  maxCategories: 50,
  /** A custom category's name, in UTF-16 units once trimmed. */
  maxCategoryNameLength: 64,
  /** A custom category's description, in UTF-16 units. */
  maxCategoryDescriptionLength: 500,
  /** Images in one `add` call, over all its messages: the default of `MemoryOptions.images.maxImages`. */
  maxImages: 10,
  /**
   * Bytes of one image given as a data URL (decoded): the default of `MemoryOptions.images.maxBytes`,
   * under every provider's limit once base64-encoded (Anthropic's is 5 MB).
   */
  maxImageBytes: 3_000_000,
} as const;

const RESERVED_METADATA_KEYS = new Set<string>([
  ...SCOPE_FIELDS,
  ...DATE_FIELDS,
  EXPIRES_AT_KEY,
  MEMORY_TYPE_KEY,
  CATEGORIES_KEY,
  'id',
  'text',
  'hash',
]);
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
    const { role, content, name, toolCalls, toolCallId } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw new InvalidInputError(`${at}.role`, 'expected "user", "assistant", "system" or "tool"', 'Set the role of each message.');
    }
    // OpenAI's wire names: say which names mem takes instead of dropping the calls unseen.
    for (const [wire, ours] of [
      ['tool_calls', 'toolCalls: [{ id, name, arguments }]'],
      ['tool_call_id', 'toolCallId'],
    ] as const) {
      if (Object.hasOwn(message, wire))
        throw new InvalidInputError(
          `${at}.${wire}`,
          'is not a field mem reads',
          `Pass ${ours} (camelCase, the function's name and arguments flattened).`,
        );
    }
    const calls = toolCalls === undefined ? undefined : checkToolCalls(toolCalls, role, `${at}.toolCalls`);
    if (toolCallId !== undefined && role !== 'tool')
      throw new InvalidInputError(
        `${at}.toolCallId`,
        `is set on a "${role}" message`,
        'Only a "tool" message (a tool\'s result) names a toolCallId.',
      );
    // An assistant message that only calls tools may have no text (OpenAI sends content: null).
    const checkedContent =
      calls && calls.length > 0 && (content === null || content === undefined)
        ? ''
        : Array.isArray(content)
          ? checkContentParts(content, `${at}.content`, { limits: images, maxTextLength: INPUT_LIMITS.maxMessageLength, counter })
          : checkString(content, `${at}.content`, { max: INPUT_LIMITS.maxMessageLength, allowEmpty: true });
    const checked: ChatMessage = {
      role: role as ChatMessage['role'],
      content: checkedContent,
      ...(name === undefined ? {} : { name: checkString(name, `${at}.name`, { max: 128 }) }),
      ...(calls && calls.length > 0 ? { toolCalls: calls } : {}),
      ...(toolCallId === undefined ? {} : { toolCallId: checkId(toolCallId, `${at}.toolCallId`) }),
    };
    return checked;
  });
}

/** An assistant message's tool calls: at most {@link INPUT_LIMITS}.maxToolCalls of `{ id?, name, arguments? }`. */
function checkToolCalls(value: unknown, role: string, field: string): ToolCall[] {
  if (role !== 'assistant')
    throw new InvalidInputError(
      field,
      `is set on a "${role}" message`,
      'Tool calls belong to "assistant" messages; results go in "tool" messages.',
    );
  if (!Array.isArray(value))
    throw new InvalidInputError(
      field,
      'expected an array of { id?, name, arguments? }',
      'Pass e.g. [{ id: "call_1", name: "search", arguments: "{}" }].',
    );
  if (value.length > INPUT_LIMITS.maxToolCalls)
    throw new InvalidInputError(
      field,
      `${value.length} tool calls, more than ${INPUT_LIMITS.maxToolCalls}`,
      'Split the run into several messages.',
    );
  return denseItems(value as unknown[], field).map((call, index) => {
    const at = `${field}[${index}]`;
    if (typeof call !== 'object' || call === null || Array.isArray(call))
      throw new InvalidInputError(at, 'expected { id?, name, arguments? }', 'Pass e.g. { id: "call_1", name: "search", arguments: "{}" }.');
    const { id, name, arguments: args } = call as Record<string, unknown>;
    let argumentsText: string | undefined;
    if (typeof args === 'string') argumentsText = args;
    else if (typeof args === 'object' && args !== null) {
      try {
        argumentsText = JSON.stringify(args);
      } catch {
        throw new InvalidInputError(`${at}.arguments`, 'cannot be serialised as JSON', 'Pass the arguments as JSON text.');
      }
    } else if (args !== undefined)
      throw new InvalidInputError(
        `${at}.arguments`,
        `expected JSON text or an object, got ${args === null ? 'null' : typeof args}`,
        'Pass the arguments as JSON text.',
      );
    return {
      ...(id === undefined ? {} : { id: checkId(id, `${at}.id`) }),
      name: checkString(name, `${at}.name`, { max: 128 }),
      ...(argumentsText === undefined
        ? {}
        : { arguments: checkString(argumentsText, `${at}.arguments`, { max: INPUT_LIMITS.maxMessageLength, allowEmpty: true }) }),
    };
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
    if (key === MEMORY_TYPE_KEY) {
      throw new InvalidInputError(at, 'the key is reserved', 'Pass memoryType as an option of add, not as metadata.');
    }
    if (key === CATEGORIES_KEY) {
      throw new InvalidInputError(
        at,
        'the key is reserved',
        'Categories are assigned at extraction from the categories option of Memory or add; name your own key otherwise (e.g. "tags").',
      );
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
  // The keys mem keeps in metadata itself (expiresAt, memoryType, categories) are not the caller's:
  // only the caller's own keys count, as they did when the memory was written.
  const own = (metadata: Metadata) => Object.fromEntries(Object.entries(metadata).filter(([key]) => !MANAGED_METADATA_KEYS.has(key)));
  const ownMerged = own(merged);
  const note = ` once merged with the ${Object.keys(own(stored)).length} keys the memory holds`;
  checkMetadataKeys(Object.keys(ownMerged).length, field, note);
  checkMetadataBytes(ownMerged, field, note);
  return merged;
}

/** Keys mem itself writes into a memory's metadata, refused as the caller's keys. */
const MANAGED_METADATA_KEYS = new Set<string>([EXPIRES_AT_KEY, MEMORY_TYPE_KEY, CATEGORIES_KEY]);

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

/** A custom category: extraction may assign it to a fact. */
export interface CategoryDefinition {
  /** What is stored and filtered on, e.g. "food". 1-64 characters, unique within the list. */
  readonly name: string;
  /** What belongs in it, shown to the model. */
  readonly description?: string;
}

/**
 * Validates custom categories: an array of at most {@link INPUT_LIMITS}.maxCategories
 * `{ name, description? }`, names trimmed, non-empty, at most maxCategoryNameLength, unique (ignoring
 * case), descriptions trimmed, at most maxCategoryDescriptionLength.
 * @throws {InvalidInputError} naming `field[i].name` (or the list).
 */
export function checkCategories(value: unknown, field: string): CategoryDefinition[] {
  const items = categoryList(
    value,
    field,
    'an array of { name, description? }',
    'Pass e.g. [{ name: "food", description: "Diet, dishes" }].',
  );
  const names = uniqueNames();
  return items.map((category, index) => {
    const at = `${field}[${index}]`;
    if (typeof category !== 'object' || category === null || Array.isArray(category))
      throw new InvalidInputError(at, 'expected { name, description? }', 'Pass e.g. { name: "food", description: "Diet, dishes" }.');
    const { name, description } = category as Record<string, unknown>;
    const checked = names.check(name, `${at}.name`, at);
    if (description === undefined) return { name: checked };
    const text = checkString(description, `${at}.description`, { max: Number.POSITIVE_INFINITY, allowEmpty: true }).trim();
    if (text.length > INPUT_LIMITS.maxCategoryDescriptionLength)
      throw new InvalidInputError(
        `${at}.description`,
        `the description has ${text.length} characters once trimmed, more than ${INPUT_LIMITS.maxCategoryDescriptionLength}`,
        'Describe the category in a sentence or two.',
      );
    return { name: checked, ...(text === '' ? {} : { description: text }) };
  });
}

/**
 * Validates the category names a stored memory carries (an import): 1 to maxCategories names, each
 * checked like a category's name.
 * @throws {InvalidInputError} naming `field[i]` (or the list).
 */
export function checkCategoryNames(value: unknown, field: string): string[] {
  const items = categoryList(value, field, 'a non-empty array of category names', 'Leave the key out for a memory without categories.');
  if (items.length === 0) throw new InvalidInputError(field, 'the array is empty', 'Leave the key out for a memory without categories.');
  const names = uniqueNames();
  return items.map((name, index) => names.check(name, `${field}[${index}]`, `${field}[${index}]`));
}

function categoryList(value: unknown, field: string, expected: string, fix: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidInputError(field, `expected ${expected}`, fix);
  if (value.length > INPUT_LIMITS.maxCategories)
    throw new InvalidInputError(field, `${value.length} categories, more than ${INPUT_LIMITS.maxCategories}`, 'Merge related categories.');
  return denseItems(value as unknown[], field);
}

/** Checks category names one by one: trimmed, 1 to maxCategoryNameLength, each once (ignoring case). */
function uniqueNames() {
  const seen = new Map<string, string>();
  return {
    /** `at`: the field of the name; `item`: how a later duplicate refers to this one. */
    check(value: unknown, at: string, item: string): string {
      const name = checkString(value, at, { max: Number.POSITIVE_INFINITY }).trim();
      if (name.length > INPUT_LIMITS.maxCategoryNameLength)
        throw new InvalidInputError(
          at,
          `the name has ${name.length} characters once trimmed, more than ${INPUT_LIMITS.maxCategoryNameLength}`,
          'Use a short name and put the detail in the description.',
        );
      const key = name.toLowerCase();
      const earlier = seen.get(key);
      if (earlier !== undefined) throw new InvalidInputError(at, `repeats the name of ${earlier}`, 'Give each category its own name.');
      seen.set(key, item);
      return name;
    },
  };
}
