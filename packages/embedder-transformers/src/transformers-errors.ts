import path from 'node:path';
import { MemError, MissingSettingError, ProviderRequestError } from '@mem/core/adapter';
import type { ResolvedTransformersEmbedderOptions } from './transformers-embedder-options';

/** Provider name used in errors. */
export const TRANSFORMERS_PROVIDER = 'transformers';

/** A model folder lacks files the model needs; found by checking the folder before loading it. */
export class MissingModelFilesError extends Error {
  readonly folder: string;
  /** Paths relative to `folder`, e.g. `onnx/model.onnx`. */
  readonly missing: readonly string[];
  /** PyTorch weights found in the folder instead of ONNX (e.g. `model.safetensors`): a sentence-transformers folder. */
  readonly pytorchWeights: string | undefined;

  constructor(folder: string, missing: readonly string[], pytorchWeights?: string) {
    super(`missing in "${folder}": ${missing.join(', ')}`);
    this.name = 'MissingModelFilesError';
    this.folder = folder;
    this.missing = missing;
    this.pytorchWeights = pytorchWeights;
  }
}

/** Where transformers looked for files, read from its global `env` when the error happened. */
export interface TransformersLookup {
  /** transformers' `env.cacheDir`, used when `cacheDir` is unset. */
  readonly defaultCacheDir: string | null;
  /** transformers' `env.allowRemoteModels`: `false` there blocks downloads for every instance. */
  readonly globalAllowRemoteModels: boolean;
  /** transformers' `env.remoteHost`, e.g. `https://huggingface.co/`. */
  readonly remoteHost: string;
}

/**
 * Turns a failure to load the model into a typed error that says where transformers looked and
 * how to fix it; the original error is kept as `cause`.
 */
export function toLoadError(error: unknown, options: ResolvedTransformersEmbedderOptions, lookup: TransformersLookup): MemError {
  if (MemError.is(error)) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { status?: unknown } | null)?.status;
  const model = options.model;

  if (name === 'ModelFileNotFoundError' && typeof status === 'number') {
    // 401/403/404 from the Hub: the id is wrong, the repository is private or gated.
    return new ProviderRequestError({
      provider: TRANSFORMERS_PROVIDER,
      operation: 'load model',
      status,
      message:
        `the Hub has no file ${quotedPath(message) ?? ''} for model "${model}" or refused access. ` +
        'Check the model id (it needs ONNX weights in onnx/, e.g. a Xenova/ or onnx-community/ export), ' +
        'set HF_TOKEN for a private or gated model, or download the model and set localModelPath.',
      cause: error,
    });
  }

  if (name === 'ModelFileNotFoundError' || error instanceof MissingModelFilesError) {
    const missing =
      error instanceof MissingModelFilesError ? error.missing.map((file) => path.join(error.folder, file)).join(', ') : quotedPath(message);
    const cacheDir = options.cacheDir ?? lookup.defaultCacheDir ?? '(none)';
    const where = options.localModelPath ? `localModelPath "${options.localModelPath}"` : `cacheDir "${cacheDir}"`;
    const why = options.localModelPath
      ? 'localModelPath is set, so nothing is downloaded'
      : !options.allowRemoteModels
        ? 'allowRemoteModels is false, so nothing is downloaded'
        : !lookup.globalAllowRemoteModels
          ? "transformers' global env.allowRemoteModels is false, so nothing is downloaded"
          : /invalid model id/i.test(message)
            ? `"${model}" is not a Hub model id, so it cannot be downloaded`
            : 'the file could not be downloaded';
    const pytorch =
      error instanceof MissingModelFilesError && error.pytorchWeights
        ? `The folder holds PyTorch weights (${error.pytorchWeights}), as a sentence-transformers download does; transformers.js runs ONNX only, so add an ONNX export of the same model as onnx/${onnxFileName(options.dtype)} beside them. `
        : '';
    return new MissingSettingError(
      'localModelPath',
      `Model "${model}" was not found in ${where}${missing ? `: missing ${missing}` : ''} (${why}). ${pytorch}` +
        `Fix: download the model folder (config.json, tokenizer.json, tokenizer_config.json and onnx/${onnxFileName(options.dtype)}) ` +
        `to <localModelPath>/${model}/ and set localModelPath, or leave localModelPath unset with allowRemoteModels: true ` +
        'to download it once into cacheDir.',
    );
  }

  const reachedHub = message.includes(lookup.remoteHost) || isNetworkFailure(error);
  if (reachedHub) {
    // No status we can trust: a connection failure, or a Hub 5xx that transformers reports as text.
    return new ProviderRequestError({
      provider: TRANSFORMERS_PROVIDER,
      operation: 'load model',
      message:
        `could not download model "${model}" from ${lookup.remoteHost} (${firstLine(message)}). ` +
        'Check the network, or download the model and set localModelPath (or allowRemoteModels: false to use cacheDir only).',
      cause: error,
    });
  }

  return new ProviderRequestError({
    provider: TRANSFORMERS_PROVIDER,
    operation: 'load model',
    message:
      `could not load model "${model}" (${firstLine(message)}). ` +
      'Check that the folder is a complete transformers.js export of a text encoder (config.json with model_type, tokenizer.json, ' +
      `onnx/${onnxFileName(options.dtype)}) and that dtype matches a file it ships.`,
    cause: error,
    retryable: false, // a broken or unsupported model stays broken on retry
  });
}

/** Turns a failure while running the model into a typed error. */
export function toInferenceError(error: unknown, model: string): MemError {
  if (MemError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderRequestError({
    provider: TRANSFORMERS_PROVIDER,
    operation: 'embed',
    message: `model "${model}" failed to run (${firstLine(message)}). The model may not be a text encoder with input_ids and attention_mask inputs.`,
    cause: error,
    retryable: false,
  });
}

/** The ONNX file transformers loads for a dtype. */
export function onnxFileName(dtype: ResolvedTransformersEmbedderOptions['dtype']): string {
  const suffix: Record<ResolvedTransformersEmbedderOptions['dtype'], string> = {
    fp32: '',
    fp16: '_fp16',
    q8: '_quantized',
    int8: '_int8',
    uint8: '_uint8',
    q4: '_q4',
    q4f16: '_q4f16',
    bnb4: '_bnb4',
  };
  return `model${suffix[dtype]}.onnx`;
}

function quotedPath(message: string): string | undefined {
  return /"([^"]+)"/.exec(message)?.[1];
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function isNetworkFailure(error: unknown): boolean {
  // undici reports connection failures as TypeError('fetch failed') with the system error as cause.
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}
