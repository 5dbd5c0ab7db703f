import path from 'node:path';
import { InvalidInputError } from '@mem/core/adapter';

/**
 * Id of a cross-encoder on the Hugging Face Hub with ONNX weights in `onnx/` (the `Xenova/*` and
 * `onnx-community/*` exports), or the name of a folder under `localModelPath`. Open union.
 */
export type TransformersRerankerModelId =
  | 'Xenova/ms-marco-MiniLM-L-6-v2'
  | 'Xenova/ms-marco-TinyBERT-L-2-v2'
  | 'Xenova/bge-reranker-base'
  | 'onnx-community/bge-reranker-v2-m3-ONNX'
  | (string & {});

/** Weight precision: picks the ONNX file, e.g. `fp32` → `onnx/model.onnx`, `q8` → `onnx/model_quantized.onnx`. */
export type TransformersRerankerDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

/** Options of {@link TransformersReranker}. Every option is per instance; none changes `@huggingface/transformers`' global `env`. */
export interface TransformersRerankerOptions {
  /** The cross-encoder to run. @default 'Xenova/ms-marco-MiniLM-L-6-v2' */
  readonly model?: TransformersRerankerModelId;
  /**
   * A folder holding one sub-folder per model, e.g. `./models` holding
   * `Xenova/ms-marco-MiniLM-L-6-v2/{config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx}`.
   * When set, the model is read from `<localModelPath>/<model>` only and never downloaded.
   * @default unset: files come from `cacheDir`, else from the Hub (when `allowRemoteModels` is true)
   */
  readonly localModelPath?: string;
  /** Where files downloaded from the Hub are kept. @default transformers' `env.cacheDir` */
  readonly cacheDir?: string;
  /** Whether a model missing from `cacheDir` may be downloaded from the Hub. Ignored when `localModelPath` is set. @default true */
  readonly allowRemoteModels?: boolean;
  /** Hub branch, tag or commit to download. @default 'main' */
  readonly revision?: string;
  /** Weight precision, which picks the ONNX file. @default 'fp32' */
  readonly dtype?: TransformersRerankerDtype;
  /** Where onnxruntime runs the model; only `'cpu'` is bundled with `onnxruntime-node`. @default 'cpu' */
  readonly device?: 'cpu' | 'cuda' | 'dml' | 'coreml';
  /**
   * How a model's output becomes a score: `'sigmoid'` gives a relevance in (0, 1) (for a model with one
   * output; for two outputs, the softmax share of the second, "relevant", label), `'none'` the raw logit
   * (for two outputs, their difference). The order is the same either way.
   * @default 'sigmoid'
   */
  readonly activation?: 'sigmoid' | 'none';
  /** Longest query + document pair in tokens; longer pairs lose the end of the document. @default 512 */
  readonly maxLength?: number;
  /** Pairs per forward pass; each batch is padded to its longest pair. @default 32 */
  readonly batchSize?: number;
}

/** The model used when none is given. */
export const DEFAULT_RERANKER_MODEL = 'Xenova/ms-marco-MiniLM-L-6-v2';

/** Options with every default filled in. */
export interface ResolvedTransformersRerankerOptions {
  readonly model: string;
  /** Absolute. */
  readonly localModelPath: string | undefined;
  readonly cacheDir: string | undefined;
  readonly allowRemoteModels: boolean;
  readonly revision: string;
  readonly dtype: TransformersRerankerDtype;
  readonly device: 'cpu' | 'cuda' | 'dml' | 'coreml';
  readonly activation: 'sigmoid' | 'none';
  readonly maxLength: number;
  readonly batchSize: number;
}

const DTYPES: ReadonlySet<string> = new Set<TransformersRerankerDtype>(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']);
const DEVICES: ReadonlySet<string> = new Set(['cpu', 'cuda', 'dml', 'coreml']);

function integerOption(value: number | undefined, field: string, fallback: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1 || resolved > max) {
    throw new InvalidInputError(`options.${field}`, `expected an integer from 1 to ${max}`, `Pass e.g. { ${field}: ${fallback} }.`);
  }
  return resolved;
}

/**
 * Fills defaults and checks every option.
 * @throws {InvalidInputError} naming the option and the fix.
 */
export function resolveTransformersRerankerOptions(options: TransformersRerankerOptions): ResolvedTransformersRerankerOptions {
  const model = options.model ?? DEFAULT_RERANKER_MODEL;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidInputError('options.model', 'expected a non-empty model id', `Pass e.g. { model: '${DEFAULT_RERANKER_MODEL}' }.`);
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
  if (!DEVICES.has(device))
    throw new InvalidInputError('options.device', `expected one of ${[...DEVICES].join(', ')}`, "Pass { device: 'cpu' }.");
  const activation = options.activation ?? 'sigmoid';
  if (activation !== 'sigmoid' && activation !== 'none') {
    throw new InvalidInputError('options.activation', "expected 'sigmoid' or 'none'", "Pass { activation: 'none' } for raw logits.");
  }
  for (const field of ['localModelPath', 'cacheDir', 'revision'] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new InvalidInputError(`options.${field}`, 'expected a non-empty string', `Pass a string or leave ${field} unset.`);
    }
  }
  return {
    model,
    localModelPath: options.localModelPath === undefined ? undefined : path.resolve(options.localModelPath),
    cacheDir: options.cacheDir === undefined ? undefined : path.resolve(options.cacheDir),
    allowRemoteModels: options.allowRemoteModels ?? true,
    revision: options.revision ?? 'main',
    dtype,
    device,
    activation,
    maxLength: integerOption(options.maxLength, 'maxLength', 512, 8192),
    batchSize: integerOption(options.batchSize, 'batchSize', 32, 4096),
  };
}
