import {
  InvalidInputError,
  ProviderResponseInvalidError,
  type Call,
  type Embedder,
  withRetries,
  integerOption,
  redactSecrets,
} from '@mem/core/adapter';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { openAIErrorHeaders, retryAfterMs, toOpenAIError } from './openai-errors';
import { resolveOpenAISettings, type OpenAIConnectionOptions, type OpenAISettings } from './openai-options';

/** Embedding model ids; any other id the server knows works too. */
export type OpenAIEmbeddingModelId = 'text-embedding-3-small' | 'text-embedding-3-large' | 'text-embedding-ada-002' | (string & {});

/** Options of {@link OpenAIEmbedder}. Connection options come from {@link OpenAIConnectionOptions}. */
export interface OpenAIEmbedderOptions extends OpenAIConnectionOptions {
  /** Model id, or the deployment name on Azure. @default 'text-embedding-3-small' */
  readonly model?: OpenAIEmbeddingModelId;
  /**
   * Length of the vectors. Sent as `dimensions` (text-embedding-3 models shorten their vectors);
   * every returned vector is checked against it. @default the model's native size when known
   * (1536 for text-embedding-3-small and ada-002, 3072 for -large), else whatever the server returns
   */
  readonly dimensions?: number;
  /** Most texts sent in one request; larger inputs are split. OpenAI accepts up to 2048. @default 2048 */
  readonly maxBatchSize?: number;
  /**
   * Estimated tokens sent in one request (UTF-8 bytes / 3, which over-counts English text). OpenAI
   * caps a request at 300000 tokens. @default 250000
   */
  readonly maxBatchTokens?: number;
  /**
   * Wire format of the vectors. The SDK asks for `base64` (float32, little-endian: a quarter of the
   * bytes); pick `float` for a compatible server that ignores `encoding_format`. @default 'base64'
   */
  readonly encodingFormat?: 'base64' | 'float';
  /** Prepended to texts embedded for search, for asymmetric models such as nomic-embed-text (`'search_query: '`). @default '' */
  readonly queryPrefix?: string;
  /** Prepended to texts embedded for storage (`'search_document: '` for nomic-embed-text). @default '' */
  readonly documentPrefix?: string;
}

const NATIVE_DIMENSIONS: { readonly [model: string]: number } = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/**
 * An {@link Embedder} on OpenAI's Embeddings API, or any server that speaks it (Azure OpenAI, Ollama,
 * vLLM, LM Studio, LiteLLM). Splits large inputs into batches, sends them one after another, and
 * returns the vectors in input order with the tokens billed.
 *
 * @example
 * const embedder = new OpenAIEmbedder({ dimensions: 512 }); // text-embedding-3-small, key from OPENAI_API_KEY
 * const { vectors } = await embedder.embed({ texts: ['Likes green tea'] });
 */
export class OpenAIEmbedder implements Embedder {
  readonly provider = 'openai';
  readonly model: string;
  /** Length of every vector, or `undefined` for an unknown model without the `dimensions` option. */
  readonly dimensions: number | undefined;
  private readonly settings: OpenAISettings;
  private readonly sendDimensions: boolean;
  private readonly maxBatchSize: number;
  private readonly maxBatchTokens: number;
  private readonly encodingFormat: 'base64' | 'float';
  private readonly prefixes: { readonly query: string; readonly document: string };

  /**
   * @throws {MissingSettingError} when no API key is given and `OPENAI_API_KEY` is unset.
   * @throws {InvalidInputError} for an invalid option.
   */
  constructor(options: OpenAIEmbedderOptions = {}) {
    this.model = options.model ?? 'text-embedding-3-small';
    if (typeof this.model !== 'string' || this.model.trim() === '') {
      throw new InvalidInputError('options.model', 'is empty', "Pass a model id such as 'text-embedding-3-small'.");
    }
    this.sendDimensions = options.dimensions !== undefined;
    this.dimensions =
      options.dimensions === undefined
        ? NATIVE_DIMENSIONS[this.model]
        : integerOption(options.dimensions, 'options.dimensions', 1536, 1, 65_536);
    this.maxBatchSize = integerOption(options.maxBatchSize, 'options.maxBatchSize', 2048, 1, 2048);
    this.maxBatchTokens = integerOption(options.maxBatchTokens, 'options.maxBatchTokens', 250_000, 1, 10_000_000);
    this.encodingFormat = options.encodingFormat ?? 'base64';
    if (this.encodingFormat !== 'base64' && this.encodingFormat !== 'float') {
      throw new InvalidInputError(
        'options.encodingFormat',
        "is not 'base64' or 'float'",
        "Leave it out, or pass 'float' for a server that ignores it.",
      );
    }
    this.prefixes = { query: options.queryPrefix ?? '', document: options.documentPrefix ?? '' };
    this.settings = resolveOpenAISettings(options, 'OpenAIEmbedder');
  }

  /**
   * Embeds `texts`, one vector per text in the same order, in as few requests as the batch limits allow.
   * @throws {InvalidInputError} when a text is empty (the API rejects empty input).
   * @throws {ProviderRequestError} when a request fails after the retries.
   * @throws {ProviderResponseInvalidError} when vectors are missing, duplicated or of the wrong length.
   * @throws {AbortedError} (code `ABORTED`) when `signal` aborts.
   */
  async embed(
    request: Call<{ readonly texts: readonly string[]; readonly purpose?: 'document' | 'query' }>,
  ): Promise<{ vectors: number[][]; tokens: number }> {
    const prefix = request.purpose === 'query' ? this.prefixes.query : request.purpose === 'document' ? this.prefixes.document : '';
    request.texts.forEach((text, index) => {
      if (typeof text !== 'string' || text.length === 0) {
        throw new InvalidInputError(`request.texts[${index}]`, 'is empty or not a string', 'Pass non-empty strings only.');
      }
    });
    const vectors: number[][] = [];
    let tokens = 0;
    for (const batch of this.batches(request.texts.map((text) => prefix + text))) {
      const result = await this.embedBatch(batch, request.signal);
      vectors.push(...result.vectors);
      tokens += result.tokens;
    }
    return { vectors, tokens };
  }

  /** Splits texts into consecutive batches within `maxBatchSize` and `maxBatchTokens`. */
  private *batches(texts: readonly string[]): Generator<string[]> {
    const encoder = new TextEncoder();
    let batch: string[] = [];
    let batchTokens = 0;
    for (const text of texts) {
      const tokens = Math.ceil(encoder.encode(text).length / 3);
      if (batch.length > 0 && (batch.length >= this.maxBatchSize || batchTokens + tokens > this.maxBatchTokens)) {
        yield batch;
        batch = [];
        batchTokens = 0;
      }
      batch.push(text);
      batchTokens += tokens;
    }
    if (batch.length > 0) yield batch;
  }

  private async embedBatch(texts: string[], signal: AbortSignal | undefined): Promise<{ vectors: number[][]; tokens: number }> {
    const body: EmbeddingCreateParams = {
      model: this.model,
      input: texts,
      ...(this.sendDimensions && this.dimensions !== undefined ? { dimensions: this.dimensions } : {}),
      // Left out, the SDK asks for base64 and decodes it; given, it returns the response untouched.
      ...(this.encodingFormat === 'float' ? { encoding_format: 'float' as const } : {}),
    };
    const { client, retry, timeoutMs, origin, keySource } = this.settings;
    const response = await withRetries({
      provider: 'openai',
      operation: 'embed',
      policy: retry,
      signal,
      attempt: () =>
        client.embeddings.create(body, {
          maxRetries: 0,
          ...(signal ? { signal } : {}),
          ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
        }),
      // A server or proxy may echo the key in its error message: scrub it before the SDK error is kept as `cause`.
      toError: (error, retries) =>
        toOpenAIError(redactSecrets(error, [client.apiKey]), {
          operation: 'embed',
          retries,
          signal,
          origin,
          model: this.model,
          keySource,
          timeoutMs,
        }),
      retryAfterMs: (error) => retryAfterMs(openAIErrorHeaders(error)),
    });
    return { vectors: this.readVectors(response, texts.length), tokens: tokensOf(response) };
  }

  /** Puts the vectors in input order (the API tags each with `index`) and checks every one. */
  private readVectors(response: CreateEmbeddingResponse, expected: number): number[][] {
    const invalid = (problem: string) => new ProviderResponseInvalidError(this.provider, 'embed', problem);
    if (!Array.isArray(response?.data)) throw invalid('the response holds no data array. Check that baseURL points at an Embeddings API.');
    if (response.data.length !== expected) throw invalid(`${expected} texts were sent but ${response.data.length} vectors came back`);
    const vectors = new Array<number[] | undefined>(expected).fill(undefined);
    for (const item of response.data) {
      const index = item?.index;
      if (!Number.isInteger(index) || index < 0 || index >= expected || vectors[index] !== undefined) {
        throw invalid(`a vector has a missing, repeated or out-of-range index (${String(index)})`);
      }
      const embedding: unknown = item.embedding;
      if (
        !Array.isArray(embedding) ||
        embedding.length === 0 ||
        !embedding.every((value) => typeof value === 'number' && Number.isFinite(value))
      ) {
        throw invalid(
          `vector ${index} is not a non-empty list of finite numbers${this.encodingFormat === 'base64' ? "; if the server ignores encoding_format, pass encodingFormat: 'float'" : ''}`,
        );
      }
      if (this.dimensions !== undefined && embedding.length !== this.dimensions) {
        throw invalid(
          `vector ${index} has ${embedding.length} dimensions, expected ${this.dimensions}. Set the dimensions option to the model's size, or use a server that supports the dimensions parameter`,
        );
      }
      vectors[index] = embedding as number[];
    }
    const first = vectors[0]!.length;
    if (vectors.some((vector) => vector!.length !== first)) throw invalid('the vectors have different lengths');
    return vectors as number[][];
  }
}

function tokensOf(response: CreateEmbeddingResponse): number {
  const usage = response.usage as { total_tokens?: unknown; prompt_tokens?: unknown } | undefined;
  const value = usage?.total_tokens ?? usage?.prompt_tokens;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
