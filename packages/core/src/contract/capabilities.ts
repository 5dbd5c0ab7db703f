import { InvalidInputError } from './errors';
import { FILTER_OPERATORS, type FilterOperator } from './filter';

/** What a {@link VectorStore} can do natively. Build it with {@link defineVectorStoreCapabilities}. */
export interface VectorStoreCapabilities {
  /**
   * Operators the backend evaluates natively. Core evaluates the rest itself, exactly; an adapter
   * handed an operator outside this set rejects it with `UnsupportedCapabilityError`.
   * @default eq, in, and
   */
  readonly filterOperators: ReadonlySet<FilterOperator>;
  /** Largest upsert the backend accepts in one call; core splits larger batches. @default 100 */
  readonly maxUpsertBatch: number;
  /** `'eventual'`: the next read may not see a write yet; the suite polls. @default 'immediate' */
  readonly readAfterWrite: 'immediate' | 'eventual';
  /** Whether `keywordQuery` ranks records by keyword relevance (e.g. BM25). @default false */
  readonly keywordSearch: boolean;
}

/**
 * Fills the documented defaults and freezes the result.
 * @throws {InvalidInputError} naming `capabilities.filterOperators` when it holds something that is
 * not an operator of the filter language (e.g. the input syntax `'$eq'` instead of `'eq'`).
 * @example
 * readonly capabilities = defineVectorStoreCapabilities({ filterOperators: ['eq', 'ne', 'in', 'and', 'or'], maxUpsertBatch: 256 });
 */
export function defineVectorStoreCapabilities(
  capabilities: Partial<Omit<VectorStoreCapabilities, 'filterOperators'>> & { filterOperators?: Iterable<FilterOperator> } = {},
): VectorStoreCapabilities {
  const filterOperators = new Set<FilterOperator>(capabilities.filterOperators ?? ['eq', 'in', 'and']);
  for (const operator of filterOperators) {
    if (!(FILTER_OPERATORS as readonly unknown[]).includes(operator)) {
      throw new InvalidInputError(
        'capabilities.filterOperators',
        `${JSON.stringify(operator)} is not a filter operator`,
        `Declare operators of the parsed filter language, without "$": ${FILTER_OPERATORS.join(', ')}.`,
      );
    }
  }
  return Object.freeze({
    filterOperators: Object.freeze(filterOperators),
    maxUpsertBatch: capabilities.maxUpsertBatch ?? 100,
    readAfterWrite: capabilities.readAfterWrite ?? 'immediate',
    keywordSearch: capabilities.keywordSearch ?? false,
  });
}

/** What an {@link LLM} can do. Build it with {@link defineLLMCapabilities}. */
export interface LLMCapabilities {
  /**
   * How the model can be held to a JSON shape: `'json_schema'` (enforces the schema),
   * `'json_object'` (valid JSON, any shape) or `'none'` (core parses free text leniently).
   * @default 'none'
   */
  readonly structuredOutput: 'json_schema' | 'json_object' | 'none';
  /**
   * Largest answer token limit a request may ask for (`maxTokens` of `generate`), or `0` when the
   * adapter does not honour `request.maxTokens`. When an answer is cut off by its limit
   * (`finishReason: 'length'`, `maxTokens` reported), core retries once with twice that limit, up
   * to this; with `0` it retries with the same limit. The provider may accept less for some models.
   * @default 0
   */
  readonly maxOutputTokens: number;
  /**
   * Whether `generate` takes images: user messages whose content is text and image parts
   * (`LLMImagePart`, an `http(s)` URL or base64 PNG, JPEG, GIF or WebP bytes), sent in the
   * provider's own shape. With it, `add` shows a conversation's images to the model (with
   * `MemoryOptions.images.describe`); without it, core never sends an image part. Optional so
   * capabilities written by hand before it existed stay valid: absent is false
   * ({@link defineLLMCapabilities} always sets it).
   * @default false
   */
  readonly imageInput?: boolean;
}

/** Fills the documented defaults and freezes the result. */
export function defineLLMCapabilities(capabilities: Partial<LLMCapabilities> = {}): LLMCapabilities {
  const maxOutputTokens = capabilities.maxOutputTokens ?? 0;
  if (!Number.isInteger(maxOutputTokens) || maxOutputTokens < 0) {
    throw new InvalidInputError(
      'capabilities.maxOutputTokens',
      'expected an integer ≥ 0',
      'Pass the largest maxTokens the adapter sends on, or 0.',
    );
  }
  if (capabilities.imageInput !== undefined && typeof capabilities.imageInput !== 'boolean') {
    throw new InvalidInputError('capabilities.imageInput', 'expected a boolean', 'Pass true when generate sends image parts on.');
  }
  return Object.freeze({
    structuredOutput: capabilities.structuredOutput ?? 'none',
    maxOutputTokens,
    imageInput: capabilities.imageInput ?? false,
  });
}

/** What a {@link GraphStore} can do. Build it with {@link defineGraphStoreCapabilities}. */
export interface GraphStoreCapabilities {
  /**
   * Largest number of entities (or relations) one `upsertEntities` / `upsertRelations` call may
   * hold; core splits larger batches. @default 100
   */
  readonly maxBatchSize: number;
  /** `'eventual'`: the next read may not see a write yet (the suite polls). @default 'immediate' */
  readonly readAfterWrite: 'immediate' | 'eventual';
}

/** Fills the documented defaults and freezes the result. */
export function defineGraphStoreCapabilities(capabilities: Partial<GraphStoreCapabilities> = {}): GraphStoreCapabilities {
  return Object.freeze({
    maxBatchSize: capabilities.maxBatchSize ?? 100,
    readAfterWrite: capabilities.readAfterWrite ?? 'immediate',
  });
}

/** What a {@link HistoryStore} can do. Build it with {@link defineHistoryStoreCapabilities}. */
export interface HistoryStoreCapabilities {
  /**
   * Who `lock` keeps out: `'database'`, every process using the same database (several `Memory`
   * processes may then write one database safely); `'process'`, only callers in this process (core
   * already orders those), so one process per database. @default 'process'
   */
  readonly writeLocks: 'process' | 'database';
  /**
   * Whether the store keeps idempotency records (`getIdempotencyRecord`, `putIdempotencyRecord`,
   * `purgeIdempotencyRecords`). Without it, `Memory.add` refuses an `idempotencyKey` with
   * `UnsupportedCapabilityError` before anything runs. @default false
   */
  readonly idempotencyRecords: boolean;
}

/** Fills the documented defaults and freezes the result. */
export function defineHistoryStoreCapabilities(capabilities: Partial<HistoryStoreCapabilities> = {}): HistoryStoreCapabilities {
  return Object.freeze({ writeLocks: capabilities.writeLocks ?? 'process', idempotencyRecords: capabilities.idempotencyRecords ?? false });
}
