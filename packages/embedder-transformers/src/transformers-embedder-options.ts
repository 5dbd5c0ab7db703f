import path from 'node:path';
import { InvalidInputError } from '@mem/core/adapter';

/**
 * Id of a sentence-embedding model on the Hugging Face Hub with ONNX weights in `onnx/`
 * (the `Xenova/*` and `onnx-community/*` exports), or the name of a folder under `localModelPath`.
 * Open union: any id is accepted.
 */
export type TransformersEmbeddingModelId =
  | 'Xenova/all-MiniLM-L6-v2'
  | 'Xenova/all-MiniLM-L12-v2'
  | 'Xenova/all-mpnet-base-v2'
  | 'Xenova/bge-small-en-v1.5'
  | 'Xenova/bge-base-en-v1.5'
  | 'Xenova/multilingual-e5-small'
  | 'Xenova/paraphrase-multilingual-MiniLM-L12-v2'
  | (string & {});

/** Weight precision: picks the ONNX file, e.g. `fp32` → `onnx/model.onnx`, `q8` → `onnx/model_quantized.onnx`. */
export type TransformersEmbedderDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

/** A step of loading the model, as reported by `@huggingface/transformers`. */
export interface TransformersLoadProgress {
  /**
   * `initiate`, `download`, `progress` and `done` are per file; `progress_total` covers every file;
   * `ready` is sent once, when the model is loaded.
   */
  readonly status: 'initiate' | 'download' | 'progress' | 'progress_total' | 'done' | 'ready' | (string & {});
  /** The file, relative to the model folder, e.g. `onnx/model.onnx`. */
  readonly file?: string;
  /** Percent (0–100) of `file`, or of all files for `progress_total`. */
  readonly progress?: number;
  /** Bytes loaded so far. */
  readonly loaded?: number;
  /** Bytes expected in all. */
  readonly total?: number;
}

/** Options of {@link TransformersEmbedder}. Every option is per instance; none changes `@huggingface/transformers`' global `env`. */
export interface TransformersEmbedderOptions {
  /** The model to run. @default 'Xenova/all-MiniLM-L6-v2' (384 dimensions, mean pooling) */
  readonly model?: TransformersEmbeddingModelId;
  /**
   * A folder holding one sub-folder per model, e.g. `./models` holding
   * `Xenova/all-MiniLM-L6-v2/{config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx}`.
   * When set, the model is read from `<localModelPath>/<model>` only and never downloaded.
   * A relative path is resolved against the working directory.
   * @default unset: files come from `cacheDir`, else from the Hub (when `allowRemoteModels` is true)
   */
  readonly localModelPath?: string;
  /**
   * Where files downloaded from the Hub are kept, and looked up first on later runs.
   * @default transformers' `env.cacheDir` (`node_modules/@huggingface/transformers/.cache/`)
   */
  readonly cacheDir?: string;
  /**
   * Whether a model missing from `cacheDir` may be downloaded from the Hugging Face Hub. Set it to
   * `false` for machines that must never reach the network. Ignored when `localModelPath` is set.
   * @default true
   */
  readonly allowRemoteModels?: boolean;
  /** Hub branch, tag or commit to download. @default 'main' */
  readonly revision?: string;
  /** Weight precision, which picks the ONNX file. @default 'fp32' */
  readonly dtype?: TransformersEmbedderDtype;
  /**
   * Where onnxruntime runs the model. Only `'cpu'` is bundled with `onnxruntime-node`; `'cuda'` needs
   * its CUDA provider, which the install step downloads unless it was skipped.
   * @default 'cpu'
   */
  readonly device?: 'cpu' | 'cuda' | 'dml' | 'coreml';
  /**
   * How token vectors become one vector per text: `'mean'` (average of the real tokens, padding
   * left out; all-MiniLM, e5) or `'cls'` (the first token; bge). Use the pooling the model was
   * trained with (its `1_Pooling/config.json` on the Hub).
   * @default 'mean'
   */
  readonly pooling?: 'mean' | 'cls';
  /** Scale every vector to length 1, so a dot product is the cosine similarity. @default true */
  readonly normalize?: boolean;
  /** Prepended to every text embedded with `purpose: 'query'`, e.g. `'query: '` for e5. @default '' */
  readonly queryPrefix?: string;
  /**
   * Prepended to every text embedded with `purpose: 'document'` (or no purpose), e.g. `'passage: '`
   * for e5. @default ''
   */
  readonly documentPrefix?: string;
  /** Texts per forward pass; larger batches are faster per text but pad to the longest text. @default 32 */
  readonly batchSize?: number;
  /** Called while the model loads: per-file download progress, then `ready`. */
  readonly onProgress?: (event: TransformersLoadProgress) => void;
}

/** The model used when none is given. */
export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';

/** Options with every default filled in. */
export interface ResolvedTransformersEmbedderOptions {
  readonly model: string;
  /** Absolute. */
  readonly localModelPath: string | undefined;
  readonly cacheDir: string | undefined;
  readonly allowRemoteModels: boolean;
  readonly revision: string;
  readonly dtype: TransformersEmbedderDtype;
  readonly device: 'cpu' | 'cuda' | 'dml' | 'coreml';
  readonly pooling: 'mean' | 'cls';
  readonly normalize: boolean;
  readonly queryPrefix: string;
  readonly documentPrefix: string;
  readonly batchSize: number;
  readonly onProgress: ((event: TransformersLoadProgress) => void) | undefined;
}

const DTYPES: ReadonlySet<string> = new Set<TransformersEmbedderDtype>(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']);
const DEVICES: ReadonlySet<string> = new Set(['cpu', 'cuda', 'dml', 'coreml']);

/**
 * Fills defaults and checks every option.
 * @throws {InvalidInputError} naming the option and the fix.
 */
export function resolveTransformersEmbedderOptions(options: TransformersEmbedderOptions): ResolvedTransformersEmbedderOptions {
  const model = options.model ?? DEFAULT_TRANSFORMERS_MODEL;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidInputError('options.model', 'expected a non-empty model id', `Pass e.g. { model: '${DEFAULT_TRANSFORMERS_MODEL}' }.`);
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096) {
    throw new InvalidInputError('options.batchSize', 'expected an integer from 1 to 4096', 'Pass e.g. { batchSize: 32 }.');
  }
  const dtype = options.dtype ?? 'fp32';
  if (!DTYPES.has(dtype)) {
    throw new InvalidInputError(
      'options.dtype',
      `expected one of ${[...DTYPES].join(', ')}`,
      "Pass e.g. { dtype: 'q8' } for onnx/model_quantized.onnx.",
    );
  }
  const device = options.device ?? 'cpu';
  if (!DEVICES.has(device)) {
    throw new InvalidInputError('options.device', `expected one of ${[...DEVICES].join(', ')}`, "Pass { device: 'cpu' }.");
  }
  const pooling = options.pooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'cls') {
    throw new InvalidInputError(
      'options.pooling',
      "expected 'mean' or 'cls'",
      "Use the pooling the model was trained with: 'mean' for all-MiniLM and e5, 'cls' for bge.",
    );
  }
  for (const field of ['queryPrefix', 'documentPrefix', 'localModelPath', 'cacheDir', 'revision'] as const) {
    const value = options[field];
    if (value !== undefined && typeof value !== 'string') {
      throw new InvalidInputError(`options.${field}`, 'expected a string', `Pass a string or leave ${field} unset.`);
    }
  }
  if (options.localModelPath === '') {
    throw new InvalidInputError(
      'options.localModelPath',
      'expected a folder path, got an empty string',
      'Pass e.g. { localModelPath: "./models" } or leave it unset.',
    );
  }
  return {
    model,
    localModelPath: options.localModelPath === undefined ? undefined : path.resolve(options.localModelPath),
    cacheDir: options.cacheDir === undefined ? undefined : path.resolve(options.cacheDir),
    allowRemoteModels: options.allowRemoteModels ?? true,
    revision: options.revision ?? 'main',
    dtype,
    device,
    pooling,
    normalize: options.normalize ?? true,
    queryPrefix: options.queryPrefix ?? '',
    documentPrefix: options.documentPrefix ?? '',
    batchSize,
    onProgress: options.onProgress,
  };
}
