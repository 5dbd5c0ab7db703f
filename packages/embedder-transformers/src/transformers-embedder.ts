import { access } from 'node:fs/promises';
import path from 'node:path';
import { AbortedError, InvalidInputError, ProviderResponseInvalidError, throwIfAborted } from '@mem/core/adapter';
import type { Call, Embedder } from '@mem/core/adapter';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import {
  resolveTransformersEmbedderOptions,
  type ResolvedTransformersEmbedderOptions,
  type TransformersEmbedderOptions,
  type TransformersLoadProgress,
} from './transformers-embedder-options';
import {
  MissingModelFilesError,
  onnxFileName,
  TRANSFORMERS_PROVIDER,
  toInferenceError,
  toLoadError,
  type TransformersLookup,
} from './transformers-errors';

type TransformersModule = typeof import('@huggingface/transformers');

interface LoadedModel {
  readonly tokenizer: PreTrainedTokenizer;
  readonly model: PreTrainedModel;
}

/** Where one attempt to load the model reads from. */
type ModelSource = { readonly kind: 'folder'; readonly path: string } | { readonly kind: 'hub' };

type ProgressInfo = { status: string; file?: string; progress?: number; loaded?: number; total?: number };

/**
 * The places to load from, in order: `localModelPath` alone when set; otherwise the model's folder
 * in the cache (transformers keeps a download at `<cacheDir>/<model>/`, plus `/<revision>/` when not
 * `main`), then the Hub when `allowRemoteModels` is true. Reading the cached folder directly keeps a
 * downloaded model working with no network at all.
 */
function modelSources(options: ResolvedTransformersEmbedderOptions, defaultCacheDir: string | null): ModelSource[] {
  const modelSegments = options.model.split('/');
  if (options.localModelPath) return [{ kind: 'folder', path: path.join(options.localModelPath, ...modelSegments) }];
  const sources: ModelSource[] = [];
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  if (cacheDir) {
    const revision = options.revision === 'main' ? [] : [options.revision];
    sources.push({ kind: 'folder', path: path.join(cacheDir, ...modelSegments, ...revision) });
  }
  if (options.allowRemoteModels || sources.length === 0) sources.push({ kind: 'hub' });
  return sources;
}

function isFileNotFound(error: unknown): boolean {
  return error instanceof MissingModelFilesError || (error instanceof Error && error.name === 'ModelFileNotFoundError');
}

/**
 * Checks a model folder before transformers reads it: transformers 4.3.1 reports a missing
 * tokenizer_config.json as a TypeError, and names only the first missing file.
 * @throws {MissingModelFilesError} listing every missing file.
 */
async function assertModelFolder(folder: string, dtype: ResolvedTransformersEmbedderOptions['dtype']): Promise<void> {
  const required = ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/${onnxFileName(dtype)}`];
  const present = await Promise.all(
    required.map((file) =>
      access(path.join(folder, ...file.split('/'))).then(
        () => true,
        () => false,
      ),
    ),
  );
  const missing = required.filter((_, index) => !present[index]);
  if (missing.length === 0) return;
  const pytorchWeights = (
    await Promise.all(
      ['model.safetensors', 'pytorch_model.bin'].map((file) =>
        access(path.join(folder, file)).then(
          () => file,
          () => undefined,
        ),
      ),
    )
  ).find((file) => file !== undefined);
  throw new MissingModelFilesError(folder, missing, pytorchWeights);
}

function toLoadProgress(info: ProgressInfo): TransformersLoadProgress {
  return {
    status: info.status,
    ...(info.file === undefined ? {} : { file: info.file }),
    ...(info.progress === undefined ? {} : { progress: info.progress }),
    ...(info.loaded === undefined ? {} : { loaded: info.loaded }),
    ...(info.total === undefined ? {} : { total: info.total }),
  };
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
   * @throws {AbortedError} when `signal` aborts before a batch starts or while one runs.
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

    const loaded = await untilAborted(this.loadOnce(), request.signal, operation);
    const prefix = request.purpose === 'query' ? this.options.queryPrefix : this.options.documentPrefix;
    const vectors: number[][] = [];
    let tokens = 0;
    for (let start = 0; start < texts.length; start += this.options.batchSize) {
      throwIfAborted(request.signal, operation);
      const batch = texts.slice(start, start + this.options.batchSize).map((text) => prefix + text);
      const result = await this.embedBatch(loaded, batch);
      vectors.push(...result.vectors);
      tokens += result.tokens;
    }
    // A caller that aborted during the last batch gets the AbortedError, not a late result.
    throwIfAborted(request.signal, operation);
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
    await loaded?.model.dispose();
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
    const lookup: TransformersLookup = {
      defaultCacheDir: env.cacheDir,
      globalAllowRemoteModels: env.allowRemoteModels,
      remoteHost: env.remoteHost,
    };
    const sources = modelSources(options, env.cacheDir);
    for (const [index, source] of sources.entries()) {
      try {
        const loaded = await this.loadFrom(transformers, source);
        options.onProgress?.({ status: 'ready' });
        return loaded;
      } catch (error) {
        // A folder that is missing or incomplete falls through to the next source (the Hub).
        const next = sources[index + 1];
        if (next && isFileNotFound(error)) continue;
        throw toLoadError(error, options, lookup);
      }
    }
    throw new Error('unreachable: modelSources returns at least one source');
  }

  private async loadFrom(transformers: TransformersModule, source: ModelSource): Promise<LoadedModel> {
    const options = this.options;
    const onProgress = options.onProgress;
    const shared = {
      revision: options.revision,
      // A folder is read as is; local_files_only also keeps transformers from asking the Hub.
      local_files_only: source.kind === 'folder',
      ...(options.cacheDir === undefined ? {} : { cache_dir: options.cacheDir }),
      ...(onProgress ? { progress_callback: (info: ProgressInfo) => onProgress(toLoadProgress(info)) } : {}),
    };
    if (source.kind === 'folder') await assertModelFolder(source.path, options.dtype);
    const location = source.kind === 'folder' ? source.path : options.model;
    // Not transformers' pipeline(): in 4.3.1 it resolves the file list without cache_dir and
    // local_files_only, so it could reach the Hub for a model that is already on disk.
    const [tokenizer, model] = await Promise.allSettled([
      transformers.AutoTokenizer.from_pretrained(location, shared),
      transformers.AutoModel.from_pretrained(location, { ...shared, dtype: options.dtype, device: options.device }),
    ]);
    if (tokenizer.status === 'rejected' || model.status === 'rejected') {
      if (model.status === 'fulfilled') await model.value.dispose().catch(() => undefined);
      // The model's error names config.json or the ONNX file, the tokenizer's may be a bare TypeError.
      throw model.status === 'rejected' ? model.reason : (tokenizer as PromiseRejectedResult).reason;
    }
    return { tokenizer: tokenizer.value, model: model.value };
  }

  private async embedBatch(loaded: LoadedModel, texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    let hidden: Tensor | undefined;
    let attentionMask: Tensor;
    try {
      // One tokenizer pass gives both the model inputs and the token count.
      const inputs = loaded.tokenizer(texts, { padding: true, truncation: true });
      attentionMask = inputs.attention_mask as Tensor;
      const outputs: Record<string, Tensor | undefined> = await loaded.model(inputs);
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
    throw new ProviderResponseInvalidError(
      TRANSFORMERS_PROVIDER,
      'embed',
      `attention mask dims ${JSON.stringify(maskDims)} do not match hidden state dims ${JSON.stringify(hidden.dims)}`,
    );
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
      for (let dimension = 0; dimension < hiddenSize; dimension++) vector[dimension] = vector[dimension]! + values[offset + dimension]!;
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
