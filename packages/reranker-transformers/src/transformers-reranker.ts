import { access } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, ProviderResponseInvalidError, throwIfAborted } from '@mem/core/adapter';
import type { Call, Reranker } from '@mem/core/adapter';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import {
  resolveTransformersRerankerOptions,
  type ResolvedTransformersRerankerOptions,
  type TransformersRerankerOptions,
} from './transformers-reranker-options';
import {
  MissingRerankerFilesError,
  requiredRerankerFiles,
  TRANSFORMERS_RERANKER_PROVIDER,
  toRerankerInferenceError,
  toRerankerLoadError,
} from './transformers-reranker-errors';

interface LoadedModel {
  readonly tokenizer: PreTrainedTokenizer;
  readonly model: PreTrainedModel;
}

/**
 * Scores how well each memory answers a query with a local cross-encoder (a model that reads the
 * query and the document together), run by `@huggingface/transformers` on onnxruntime (CPU by
 * default). Pass it to `new Memory({ reranker })` and search with `rerank: true`: core fetches the
 * candidates by hybrid search, and this re-orders them.
 *
 * Models: any sequence-classification cross-encoder exported to ONNX with one output (MS MARCO
 * cross-encoders such as `Xenova/ms-marco-MiniLM-L-6-v2`, `Xenova/ms-marco-TinyBERT-L-2-v2`; BGE
 * rerankers such as `Xenova/bge-reranker-base`) or two outputs (not relevant, relevant).
 *
 * The model loads lazily on the first `rerank` (or {@link TransformersReranker.load}), once per
 * instance; a failed load is tried again by the next call. Nothing here writes transformers' global `env`.
 *
 * @example
 * import { TransformersReranker } from '@mem/reranker-transformers';
 * const reranker = new TransformersReranker({ localModelPath: './models' }); // ./models/Xenova/ms-marco-MiniLM-L-6-v2/
 * const memory = new Memory({ embedder, vectorStore, historyStore, reranker });
 * const { results } = await memory.search('where does alice live?', { scope, rerank: true });
 */
export class TransformersReranker implements Reranker {
  readonly provider = TRANSFORMERS_RERANKER_PROVIDER;
  readonly model: string;
  private readonly options: ResolvedTransformersRerankerOptions;
  private loading: Promise<LoadedModel> | undefined;

  /** @throws {InvalidInputError} when an option is invalid (e.g. `batchSize: 0`). */
  constructor(options: TransformersRerankerOptions = {}) {
    this.options = resolveTransformersRerankerOptions(options);
    this.model = this.options.model;
  }

  /**
   * Scores each document for `query`, one score per document in the same order; higher is more relevant.
   * A document's score does not depend on the other documents of the call.
   * @throws {InvalidInputError} when `query` is not a string or `documents` not an array of strings.
   * @throws {AbortedError} when `signal` aborts before a batch starts.
   * @throws {MissingSettingError} when the model files are not on disk and cannot be downloaded.
   * @throws {ProviderRequestError} when the download or the model fails.
   */
  async rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]> {
    const operation = `${this.provider} rerank`;
    throwIfAborted(request.signal, operation);
    if (typeof request.query !== 'string') throw new InvalidInputError('request.query', 'expected a string', 'Pass the search query.');
    const { documents } = request;
    if (!Array.isArray(documents) || documents.some((document) => typeof document !== 'string')) {
      throw new InvalidInputError(
        'request.documents',
        'expected an array of strings',
        'Pass the texts to score, e.g. { documents: ["…"] }.',
      );
    }
    if (documents.length === 0) return [];
    const loaded = await this.loadOnce();
    const scores: number[] = [];
    for (let start = 0; start < documents.length; start += this.options.batchSize) {
      throwIfAborted(request.signal, operation);
      scores.push(...(await this.scoreBatch(loaded, request.query, documents.slice(start, start + this.options.batchSize))));
    }
    throwIfAborted(request.signal, operation);
    return scores;
  }

  /** Loads the model now instead of on the first `rerank`, e.g. at server start. One load per instance. */
  async load(): Promise<void> {
    await this.loadOnce();
  }

  /** Frees the onnxruntime session. A later `rerank` loads the model again. */
  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    const loaded = await loading?.catch(() => undefined);
    await loaded?.model.dispose();
  }

  private loadOnce(): Promise<LoadedModel> {
    if (!this.loading) {
      const loading = this.loadModel().catch((error: unknown) => {
        if (this.loading === loading) this.loading = undefined;
        throw toRerankerLoadError(error, this.options);
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async loadModel(): Promise<LoadedModel> {
    const transformers = await import('@huggingface/transformers');
    const options = this.options;
    const segments = options.model.split('/');
    const cacheDir = options.cacheDir ?? transformers.env.cacheDir;
    const folders = options.localModelPath
      ? [path.join(options.localModelPath, ...segments)]
      : cacheDir
        ? [path.join(cacheDir, ...segments, ...(options.revision === 'main' ? [] : [options.revision]))]
        : [];
    for (const folder of folders) {
      const missing = await missingFiles(folder, requiredRerankerFiles(options.dtype));
      if (missing.length === 0) return this.loadFrom(transformers, folder, true);
      if (options.localModelPath || !options.allowRemoteModels) throw new MissingRerankerFilesError(folder, missing);
    }
    return this.loadFrom(transformers, options.model, false);
  }

  private async loadFrom(transformers: typeof import('@huggingface/transformers'), location: string, local: boolean): Promise<LoadedModel> {
    const options = this.options;
    const shared = {
      revision: options.revision,
      local_files_only: local,
      ...(options.cacheDir === undefined ? {} : { cache_dir: options.cacheDir }),
    };
    const [tokenizer, model] = await Promise.allSettled([
      transformers.AutoTokenizer.from_pretrained(location, shared),
      transformers.AutoModelForSequenceClassification.from_pretrained(location, {
        ...shared,
        dtype: options.dtype,
        device: options.device,
      }),
    ]);
    if (tokenizer.status === 'rejected' || model.status === 'rejected') {
      if (model.status === 'fulfilled') await model.value.dispose().catch(() => undefined);
      throw model.status === 'rejected' ? model.reason : (tokenizer as PromiseRejectedResult).reason;
    }
    return { tokenizer: tokenizer.value, model: model.value };
  }

  private async scoreBatch(loaded: LoadedModel, query: string, documents: readonly string[]): Promise<number[]> {
    let logits: Tensor | undefined;
    try {
      // Each pair is [CLS] query [SEP] document [SEP], with token_type_ids marking the document.
      const inputs = loaded.tokenizer(
        documents.map(() => query),
        { text_pair: [...documents], padding: true, truncation: true, max_length: this.options.maxLength },
      );
      const outputs: Record<string, Tensor | undefined> = await loaded.model(inputs);
      logits = outputs.logits;
    } catch (error) {
      throw toRerankerInferenceError(error, this.model);
    }
    return toScores(logits, documents.length, this.options.activation, this.model);
  }
}

async function missingFiles(folder: string, files: readonly string[]): Promise<string[]> {
  const present = await Promise.all(
    files.map((file) =>
      access(path.join(folder, ...file.split('/'))).then(
        () => true,
        () => false,
      ),
    ),
  );
  return files.filter((_, index) => !present[index]);
}

/** `[batch, 1]` logits → sigmoid (or raw); `[batch, 2]` → softmax share of label 1 (or the logit difference). */
function toScores(logits: Tensor | undefined, count: number, activation: 'sigmoid' | 'none', model: string): number[] {
  const [batch, labels] = logits?.dims ?? [];
  if (!logits || logits.dims.length !== 2 || batch !== count || (labels !== 1 && labels !== 2)) {
    throw new ProviderResponseInvalidError(
      TRANSFORMERS_RERANKER_PROVIDER,
      'rerank',
      `cross-encoder "${model}" returned logits of dims ${JSON.stringify(logits?.dims ?? null)}, expected [${count}, 1] or [${count}, 2]; it is not a reranking model`,
    );
  }
  const values = (logits.type === 'float32' ? logits : logits.to('float32')).data as Float32Array;
  const scores: number[] = [];
  for (let row = 0; row < count; row++) {
    const logit = labels === 1 ? values[row]! : values[row * 2 + 1]! - values[row * 2]!;
    // softmax([a, b])[1] = sigmoid(b - a), so one formula serves both shapes.
    scores.push(activation === 'sigmoid' ? 1 / (1 + Math.exp(-logit)) : logit);
  }
  return scores;
}
