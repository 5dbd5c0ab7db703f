import path from 'node:path';
import { AbortedError, InvalidInputError, ProviderResponseInvalidError, throwIfAborted } from '@mem/core';
import type { Call, Embedder } from '@mem/core';
import type { FeatureExtractionPipeline, Tensor } from '@huggingface/transformers';
import {
  resolveTransformersEmbedderOptions,
  type ResolvedTransformersEmbedderOptions,
  type TransformersEmbedderOptions,
} from './transformers-embedder-options';
import { TRANSFORMERS_PROVIDER, toInferenceError, toLoadError } from './transformers-errors';

type TransformersModule = typeof import('@huggingface/transformers');

interface LoadedModel {
  readonly pipeline: FeatureExtractionPipeline;
}

/**
 * Embeds texts locally with a sentence-embedding model run by `@huggingface/transformers` on
 * onnxruntime (CPU by default): no API key, no per-token cost, and offline once the model files
 * are on disk.
 *
 * The model loads lazily on the first `embed` (or an explicit {@link TransformersEmbedder.load}),
 * once per instance: concurrent first calls share one load, and a failed load is tried again by
 * the next call. Texts are embedded `batchSize` at a time; each batch is padded to its longest
 * text and padding never changes a text's vector.
 *
 * Nothing here writes transformers' process-global `env`: `localModelPath`, `cacheDir`,
 * `allowRemoteModels` and `revision` are passed per load, so two instances with different folders
 * coexist. Settings you put on `env` yourself (e.g. `env.allowRemoteModels = false`,
 * `env.remoteHost` for a mirror) still apply to every instance.
 *
 * @example
 * import { TransformersEmbedder } from '@mem/embedder-transformers';
 * const embedder = new TransformersEmbedder(); // Xenova/all-MiniLM-L6-v2, 384 dimensions
 * const { vectors } = await embedder.embed({ texts: ['The user likes green tea.'] });
 *
 * @example
 * // Offline: files in ./models/Xenova/all-MiniLM-L6-v2/{config.json,tokenizer.json,tokenizer_config.json,onnx/model.onnx}
 * const offline = new TransformersEmbedder({ localModelPath: './models' });
 *
 * @example
 * // An asymmetric model: e5 expects "query: " and "passage: " prefixes.
 * const e5 = new TransformersEmbedder({ model: 'Xenova/multilingual-e5-small', queryPrefix: 'query: ', documentPrefix: 'passage: ' });
 */
export class TransformersEmbedder implements Embedder {
  readonly provider = TRANSFORMERS_PROVIDER;
  readonly model: string;
  private readonly options: ResolvedTransformersEmbedderOptions;
  private loading: Promise<LoadedModel> | undefined;
  private vectorLength: number | undefined;

  /** @throws {InvalidInputError} when an option is invalid (e.g. `batchSize: 0`). */
  constructor(options: TransformersEmbedderOptions = {}) {
    this.options = resolveTransformersEmbedderOptions(options);
    this.model = this.options.model;
  }

  /** Length of the vectors, known once the first batch was embedded; `undefined` before. */
  get dimensions(): number | undefined {
    return this.vectorLength;
  }

  /**
   * Embeds texts, one vector per text in the same order. `purpose` picks the prefix:
   * `queryPrefix` for `'query'`, `documentPrefix` for `'document'` or no purpose.
   * `tokens` counts the tokens the model read (special tokens included, after truncation).
   * @throws {InvalidInputError} when `texts` is not an array of strings.
   * @throws {AbortedError} when `signal` aborts before a batch starts.
   * @throws {MissingSettingError} when the model files are not on disk and cannot be downloaded.
   * @throws {ProviderRequestError} when the download or the model fails.
   */
  async embed(request: Call<{ readonly texts: readonly string[]; readonly purpose?: 'document' | 'query' }>): Promise<{
    readonly vectors: number[][];
    readonly tokens: number;
  }> {
    const operation = `${this.provider} embed`;
    throwIfAborted(request.signal, operation);
    const { texts } = request;
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
      throw new InvalidInputError('request.texts', 'expected an array of strings', 'Pass e.g. { texts: ["The user likes green tea."] }.');
    }
    if (request.purpose !== undefined && request.purpose !== 'query' && request.purpose !== 'document') {
      throw new InvalidInputError('request.purpose', "expected 'query' or 'document'", 'Leave it unset for documents.');
    }
    if (texts.length === 0) return { vectors: [], tokens: 0 };

    const { pipeline } = await untilAborted(this.loadOnce(), request.signal, operation);
    const prefix = request.purpose === 'query' ? this.options.queryPrefix : this.options.documentPrefix;
    const vectors: number[][] = [];
    let tokens = 0;
    for (let start = 0; start < texts.length; start += this.options.batchSize) {
      throwIfAborted(request.signal, operation);
      const batch = texts.slice(start, start + this.options.batchSize).map((text) => prefix + text);
      const result = await this.embedBatch(pipeline, batch);
      vectors.push(...result.vectors);
      tokens += result.tokens;
    }
    return { vectors, tokens };
  }

  /**
   * Loads the model now instead of on the first `embed`, e.g. at server start. Safe to call many
   * times and concurrently: one load per instance.
   * @throws {AbortedError} when `signal` aborts first (the load itself goes on for later calls).
   * @throws {MissingSettingError | ProviderRequestError} as `embed` does.
   */
  async load(request: Call<object> = {}): Promise<void> {
    await untilAborted(this.loadOnce(), request.signal, `${this.provider} load`);
  }

  /** Frees the onnxruntime session. A later `embed` loads the model again. */
  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    await loaded?.pipeline.dispose();
  }

  private loadOnce(): Promise<LoadedModel> {
    if (!this.loading) {
      const loading = this.loadModel().catch((error: unknown) => {
        // Forget the failure, so a call after the user fixed the setup (downloaded the files) retries.
        if (this.loading === loading) this.loading = undefined;
        throw error;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async loadModel(): Promise<LoadedModel> {
    // Imported on first use: onnxruntime's native runtime is only loaded when a model is needed.
    const transformers: TransformersModule = await import('@huggingface/transformers');
    const { env } = transformers;
    const options = this.options;
    // An absolute folder is not a Hub id, so transformers reads it as is and never downloads it;
    // that keeps localModelPath per instance instead of writing the global env.localModelPath.
    const modelPathOrId = options.localModelPath ? path.join(options.localModelPath, ...options.model.split('/')) : options.model;
    const onProgress = options.onProgress;
    try {
      const pipeline = await transformers.pipeline('feature-extraction', modelPathOrId, {
        dtype: options.dtype,
        device: options.device,
        revision: options.revision,
        local_files_only: options.localModelPath !== undefined || !options.allowRemoteModels,
        ...(options.cacheDir === undefined ? {} : { cache_dir: options.cacheDir }),
        ...(onProgress
          ? {
              progress_callback: (info: { status: string; file?: string; progress?: number; loaded?: number; total?: number }) =>
                onProgress({
                  status: info.status,
                  ...(info.file === undefined ? {} : { file: info.file }),
                  ...(info.progress === undefined ? {} : { progress: info.progress }),
                  ...(info.loaded === undefined ? {} : { loaded: info.loaded }),
                  ...(info.total === undefined ? {} : { total: info.total }),
                }),
            }
          : {}),
      });
      return { pipeline };
    } catch (error) {
      throw toLoadError(error, options, {
        defaultCacheDir: env.cacheDir,
        defaultLocalModelPath: env.localModelPath,
        globalAllowRemoteModels: env.allowRemoteModels,
        remoteHost: env.remoteHost,
      });
    }
  }

  private async embedBatch(pipeline: FeatureExtractionPipeline, texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    let hidden: Tensor | undefined;
    let attentionMask: Tensor;
    try {
      // One tokenizer pass gives both the model inputs and the token count.
      const inputs = pipeline.tokenizer(texts, { padding: true, truncation: true });
      attentionMask = inputs.attention_mask as Tensor;
      const outputs: Record<string, Tensor | undefined> = await pipeline.model(inputs);
      hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs.logits;
    } catch (error) {
      throw toInferenceError(error, this.model);
    }
    const result = poolBatch(hidden, attentionMask, texts.length, this.options, this.model);
    this.vectorLength = result.vectors[0]?.length ?? this.vectorLength;
    return result;
  }
}

/** Mean (over real tokens only) or first-token pooling of `[batch, tokens, hidden]`, then optional L2 normalisation. */
function poolBatch(
  hidden: Tensor | undefined,
  attentionMask: Tensor,
  batchLength: number,
  options: Pick<ResolvedTransformersEmbedderOptions, 'pooling' | 'normalize'>,
  model: string,
): { vectors: number[][]; tokens: number } {
  const [batch, tokenCount, hiddenSize] = hidden?.dims ?? [];
  if (!hidden || hidden.dims.length !== 3 || batch !== batchLength || !tokenCount || !hiddenSize) {
    throw new ProviderResponseInvalidError(
      TRANSFORMERS_PROVIDER,
      'embed',
      `model "${model}" returned no [batch, tokens, hidden] last_hidden_state (dims ${JSON.stringify(hidden?.dims ?? null)}); it is not a text encoder`,
    );
  }
  const maskDims = attentionMask.dims;
  if (maskDims[0] !== batch || maskDims[1] !== tokenCount) {
    throw new ProviderResponseInvalidError(TRANSFORMERS_PROVIDER, 'embed', `attention mask dims ${JSON.stringify(maskDims)} do not match hidden state dims ${JSON.stringify(hidden.dims)}`);
  }
  // fp16 models return float16 data; pool in float32.
  const values = (hidden.type === 'float32' ? hidden : hidden.to('float32')).data as Float32Array;
  const mask = attentionMask.data as ArrayLike<number | bigint>;
  const vectors: number[][] = [];
  let tokens = 0;
  for (let row = 0; row < batch; row++) {
    const vector = new Array<number>(hiddenSize).fill(0);
    let counted = 0;
    for (let token = 0; token < tokenCount; token++) {
      if (Number(mask[row * tokenCount + token]) === 0) continue;
      counted++;
      if (options.pooling === 'cls' && counted > 1) continue;
      const offset = (row * tokenCount + token) * hiddenSize;
      for (let dimension = 0; dimension < hiddenSize; dimension++) vector[dimension]! += values[offset + dimension]!;
    }
    tokens += counted;
    const divisor = options.pooling === 'mean' ? counted : 1;
    if (divisor > 0) for (let dimension = 0; dimension < hiddenSize; dimension++) vector[dimension]! /= divisor;
    vectors.push(options.normalize ? unitLength(vector) : vector);
  }
  return { vectors, tokens };
}

function unitLength(vector: number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

/** Waits for `promise`, but rejects with an {@link AbortedError} as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, operation: string): Promise<T> {
  if (!signal) return promise;
  throwIfAborted(signal, operation);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(operation, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
