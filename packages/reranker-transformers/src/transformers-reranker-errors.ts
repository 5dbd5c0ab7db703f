import path from 'node:path';
import { MemError, MissingSettingError, ProviderRequestError } from '@mem/core/adapter';
import type { ResolvedTransformersRerankerOptions } from './transformers-reranker-options';

/** Provider name used in errors. */
export const TRANSFORMERS_RERANKER_PROVIDER = 'transformers';

/** A model folder lacks files the model needs; found by checking the folder before loading it. */
export class MissingRerankerFilesError extends Error {
  readonly folder: string;
  /** Paths relative to `folder`, e.g. `onnx/model.onnx`. */
  readonly missing: readonly string[];

  constructor(folder: string, missing: readonly string[]) {
    super(`missing in "${folder}": ${missing.join(', ')}`);
    this.name = 'MissingRerankerFilesError';
    this.folder = folder;
    this.missing = missing;
  }
}

/** The files a cross-encoder folder must hold for `dtype`. */
export function requiredRerankerFiles(dtype: ResolvedTransformersRerankerOptions['dtype']): string[] {
  const suffix = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4' }[
    dtype
  ];
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/model${suffix}.onnx`];
}

/**
 * Turns a failure to load the model into a typed error that says where the files were looked for
 * and how to fix it; the original error is kept as `cause`.
 */
export function toRerankerLoadError(error: unknown, options: ResolvedTransformersRerankerOptions): MemError {
  if (MemError.is(error)) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { status?: unknown } | null)?.status;
  const files = requiredRerankerFiles(options.dtype).join(', ');
  if (error instanceof MissingRerankerFilesError || (name === 'ModelFileNotFoundError' && typeof status !== 'number')) {
    const missing =
      error instanceof MissingRerankerFilesError
        ? error.missing.map((file) => path.join(error.folder, file)).join(', ')
        : (/"([^"]+)"/.exec(message)?.[1] ?? 'a model file');
    return new MissingSettingError(
      'localModelPath',
      `Cross-encoder "${options.model}" was not found: missing ${missing}. ` +
        `Fix: put ${files} in <localModelPath>/${options.model}/ and set localModelPath, ` +
        'or leave localModelPath unset with allowRemoteModels: true to download it once into cacheDir.',
    );
  }
  return new ProviderRequestError({
    provider: TRANSFORMERS_RERANKER_PROVIDER,
    operation: 'load model',
    ...(typeof status === 'number' ? { status } : {}),
    message:
      `could not load cross-encoder "${options.model}" (${firstLine(message)}). ` +
      `Check the model id or folder: it needs a sequence-classification model (one or two outputs) with ${files}.`,
    cause: error,
    // A download that failed on the network may work later; a broken or unsupported model does not.
    retryable: error instanceof TypeError && /fetch failed/i.test(message),
  });
}

/** Turns a failure while running the model into a typed error. */
export function toRerankerInferenceError(error: unknown, model: string): MemError {
  if (MemError.is(error)) return error;
  return new ProviderRequestError({
    provider: TRANSFORMERS_RERANKER_PROVIDER,
    operation: 'rerank',
    message: `cross-encoder "${model}" failed to run (${firstLine(error instanceof Error ? error.message : String(error))}).`,
    cause: error,
    retryable: false,
  });
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
