import {
  InvalidInputError,
  integerOption,
  ProviderResponseInvalidError,
  throwIfAborted,
  type Call,
  type Embedder,
} from '@mem/core/adapter';
import { callWithRetries, checkModel, resolveCallSettings, type AISDKCallSettings, type AISDKCallSettingsOptions } from './ai-sdk-call';
import type { AISDKEmbeddingModel, AISDKProviderOptions } from './ai-sdk-model-types';

/** Options of {@link AISDKEmbedder}. */
export interface AISDKEmbedderOptions extends AISDKCallSettingsOptions {
  /** The AI SDK embedding model, e.g. `openai.embedding('text-embedding-3-small')`. */
  readonly model: AISDKEmbeddingModel;
  /**
   * Length of the vectors; every returned vector is checked against it. It is not sent: set the
   * model's size with the provider's options (e.g. `providerOptions: { openai: { dimensions: 512 } }`).
   * @default whatever the model returns (checked to be one length)
   */
  readonly dimensions?: number;
  /**
   * Most texts sent in one call; larger inputs are split and sent one call after another.
   * @default the model's `maxEmbeddingsPerCall`, else 100
   */
  readonly maxBatchSize?: number;
  /** Prepended to texts embedded for search, for asymmetric models (`'search_query: '` for nomic-embed-text). @default '' */
  readonly queryPrefix?: string;
  /** Prepended to texts embedded for storage (`'search_document: '` for nomic-embed-text). @default '' */
  readonly documentPrefix?: string;
  /**
   * Provider options per purpose, e.g. Cohere's input type or Gemini's task type:
   * `{ query: { google: { taskType: 'RETRIEVAL_QUERY' } }, document: { google: { taskType: 'RETRIEVAL_DOCUMENT' } } }`.
   * `all` is sent with every call (merged under the purpose's own). @default none
   */
  readonly providerOptions?: {
    readonly all?: AISDKProviderOptions;
    readonly query?: AISDKProviderOptions;
    readonly document?: AISDKProviderOptions;
  };
}

const DEFAULT_BATCH_SIZE = 100;
const MAX_BATCH_SIZE = 100_000;

/**
 * An {@link Embedder} on any AI SDK embedding model (`ai` 5, 6 or 7 providers). Splits large inputs
 * into batches of the model's `maxEmbeddingsPerCall`, sends them one after another through the
 * model's `doEmbed` with core's retries, and returns the vectors in input order with the tokens the
 * provider billed.
 *
 * @example
 * import { openai } from '@ai-sdk/openai';
 * const embedder = new AISDKEmbedder({ model: openai.embedding('text-embedding-3-small'), dimensions: 1536 });
 * const { vectors } = await embedder.embed({ texts: ['Likes green tea'] });
 */
export class AISDKEmbedder implements Embedder {
  /** The model's provider, e.g. `openai.embedding`. */
  readonly provider: string;
  readonly model: string;
  /** Length of every vector, when the `dimensions` option was given. */
  readonly dimensions: number | undefined;
  private readonly embeddingModel: AISDKEmbeddingModel;
  private readonly settings: AISDKCallSettings;
  private readonly maxBatchSize: number | undefined;
  private readonly prefixes: { readonly query: string; readonly document: string };
  private readonly providerOptions: NonNullable<AISDKEmbedderOptions['providerOptions']>;

  /** @throws {InvalidInputError} for a missing or unknown model, or an invalid option. */
  constructor(options: AISDKEmbedderOptions) {
    checkModel(options?.model, 'doEmbed', "openai.embedding('text-embedding-3-small') from @ai-sdk/openai");
    this.embeddingModel = options.model;
    this.provider = options.model.provider;
    this.model = options.model.modelId;
    this.dimensions =
      options.dimensions === undefined ? undefined : integerOption(options.dimensions, 'options.dimensions', 1536, 1, 65_536);
    this.maxBatchSize =
      options.maxBatchSize === undefined
        ? undefined
        : integerOption(options.maxBatchSize, 'options.maxBatchSize', DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE);
    for (const name of ['queryPrefix', 'documentPrefix'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'string') {
        throw new InvalidInputError(`options.${name}`, 'is not a string', "Pass a string such as 'search_query: ', or leave it out.");
      }
    }
    this.prefixes = { query: options.queryPrefix ?? '', document: options.documentPrefix ?? '' };
    this.providerOptions = options.providerOptions ?? {};
    this.settings = resolveCallSettings(options);
  }

  /**
   * Embeds `texts`, one vector per text in the same order.
   * @throws {InvalidInputError} when a text is empty or not a string.
   * @throws {ProviderRequestError} when a call fails after the retries.
   * @throws {ProviderResponseInvalidError} when vectors are missing or of the wrong length.
   * @throws {AbortedError} (code `ABORTED`) when `signal` aborts.
   */
  async embed(
    request: Call<{ readonly texts: readonly string[]; readonly purpose?: 'document' | 'query' }>,
  ): Promise<{ vectors: number[][]; tokens: number }> {
    if (!Array.isArray(request?.texts)) {
      throw new InvalidInputError('request.texts', 'is not a list of strings', 'Pass { texts: ["…"] }.');
    }
    request.texts.forEach((text, index) => {
      if (typeof text !== 'string' || text.length === 0) {
        throw new InvalidInputError(`request.texts[${index}]`, 'is empty or not a string', 'Pass non-empty strings only.');
      }
    });
    throwIfAborted(request.signal, `${this.provider} embed`);
    if (request.texts.length === 0) return { vectors: [], tokens: 0 };
    const prefix = request.purpose === 'query' ? this.prefixes.query : request.purpose === 'document' ? this.prefixes.document : '';
    const providerOptions = this.providerOptionsFor(request.purpose);
    const texts = request.texts.map((text) => prefix + text);
    const batchSize = await this.batchSize();
    const vectors: number[][] = [];
    let tokens = 0;
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      const result = await callWithRetries({
        ...this.callContext(),
        signal: request.signal,
        attempt: (signal) =>
          this.embeddingModel.doEmbed({
            values: batch,
            abortSignal: signal,
            ...(this.settings.headers ? { headers: this.settings.headers } : {}),
            ...(providerOptions ? { providerOptions } : {}),
          }),
      });
      vectors.push(...this.readVectors(result?.embeddings, batch.length, vectors[0]?.length));
      const billed = result?.usage?.tokens;
      tokens += typeof billed === 'number' && Number.isFinite(billed) && billed >= 0 ? billed : 0;
    }
    return { vectors, tokens };
  }

  private callContext() {
    return { provider: this.provider, model: this.model, operation: 'embed', settings: this.settings };
  }

  private providerOptionsFor(purpose: 'document' | 'query' | undefined): AISDKProviderOptions | undefined {
    const own = purpose === undefined ? undefined : this.providerOptions[purpose];
    const all = this.providerOptions.all;
    if (!own) return all;
    if (!all) return own;
    const merged: { [provider: string]: { readonly [key: string]: unknown } } = { ...all };
    for (const [provider, values] of Object.entries(own)) merged[provider] = { ...all[provider], ...values };
    return merged;
  }

  private async batchSize(): Promise<number> {
    if (this.maxBatchSize !== undefined) return this.maxBatchSize;
    const limit = await this.embeddingModel.maxEmbeddingsPerCall;
    // Infinity (no limit) and a missing value both fall back to a moderate batch.
    return typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 ? Math.min(limit, MAX_BATCH_SIZE) : DEFAULT_BATCH_SIZE;
  }

  /** Checks every vector of one call: the count, finite numbers, one length across the whole request. */
  private readVectors(embeddings: unknown, expected: number, firstLength: number | undefined): number[][] {
    const invalid = (problem: string) => new ProviderResponseInvalidError(this.provider, 'embed', problem);
    if (!Array.isArray(embeddings)) throw invalid('the model returned no embeddings list');
    if (embeddings.length !== expected) throw invalid(`${expected} texts were sent but ${embeddings.length} vectors came back`);
    const length = this.dimensions ?? firstLength ?? (embeddings[0] as unknown[] | undefined)?.length;
    return embeddings.map((vector: unknown, index) => {
      if (!Array.isArray(vector) || vector.length === 0 || !vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
        throw invalid(`vector ${index} is not a non-empty list of finite numbers`);
      }
      if (vector.length !== length) {
        throw invalid(
          this.dimensions === undefined
            ? `vector ${index} has ${vector.length} dimensions, the others ${length}`
            : `vector ${index} has ${vector.length} dimensions, expected ${this.dimensions}. Set the dimensions option to the model's size`,
        );
      }
      return [...vector] as number[];
    });
  }
}
