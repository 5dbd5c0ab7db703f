import path from 'node:path';
import { MemError, MissingSettingError, ProviderRequestError } from '@mem/core/adapter';
import { ModelFileNotFoundError } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { resolveTransformersEmbedderOptions } from './transformers-embedder-options';
import { MissingModelFilesError, toInferenceError, toLoadError, type TransformersLookup } from './transformers-errors';

const lookup: TransformersLookup = {
  defaultCacheDir: '/cache/default',
  globalAllowRemoteModels: true,
  remoteHost: 'https://huggingface.co/',
};
const hubOptions = resolveTransformersEmbedderOptions({ model: 'Xenova/all-MiniLM-L6-v2' });

describe('toLoadError', () => {
  it('maps a Hub 404 to a non-retryable ProviderRequestError that suggests an ONNX export or HF_TOKEN', () => {
    const error = toLoadError(
      new ModelFileNotFoundError('Could not locate file: "https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/main/onnx/model.onnx".', {
        status: 404,
      }),
      hubOptions,
      lookup,
    );
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error).toMatchObject({ provider: 'transformers', operation: 'load model', status: 404, retryable: false });
    expect(error.message).toContain('onnx/model.onnx');
    expect(error.message).toContain('HF_TOKEN');
  });

  it('maps a connection failure to a retryable ProviderRequestError naming the host and the offline fix', () => {
    const error = toLoadError(
      new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND huggingface.co') }),
      hubOptions,
      lookup,
    );
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: undefined, retryable: true });
    expect(error.message).toContain('https://huggingface.co/');
    expect(error.message).toContain('localModelPath');
  });

  it('lists every missing file of a model folder in a MissingSettingError', () => {
    const options = resolveTransformersEmbedderOptions({ localModelPath: '/models', dtype: 'q8' });
    const folder = path.join('/models', 'Xenova', 'all-MiniLM-L6-v2');
    const error = toLoadError(new MissingModelFilesError(folder, ['tokenizer.json', 'onnx/model_quantized.onnx']), options, lookup);
    expect(error).toBeInstanceOf(MissingSettingError);
    expect(error.message).toContain(`${path.join(folder, 'tokenizer.json')}, ${path.join(folder, 'onnx/model_quantized.onnx')}`);
    expect(error.message).toContain('localModelPath is set, so nothing is downloaded');
  });

  it("says when transformers' global env.allowRemoteModels blocked the download", () => {
    const error = toLoadError(
      new ModelFileNotFoundError(
        '`local_files_only=true` or `env.allowRemoteModels=false` and file was not found locally at "/x/config.json".',
      ),
      hubOptions,
      { ...lookup, globalAllowRemoteModels: false },
    );
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect(error.message).toContain('global env.allowRemoteModels is false');
  });

  it('keeps a MemError as it is, and the original error as cause otherwise', () => {
    const original = new MissingSettingError('localModelPath', 'Set it.');
    expect(toLoadError(original, hubOptions, lookup)).toBe(original);
    const cause = new Error('protobuf parsing failed\n    at somewhere (file.js:1:1)');
    const mapped = toLoadError(cause, hubOptions, lookup);
    expect(mapped.cause).toBe(cause);
    expect(mapped.message).toContain('protobuf parsing failed');
    expect(mapped.message).not.toContain('at somewhere');
  });
});

describe('toInferenceError', () => {
  it('maps a failed forward pass to a non-retryable ProviderRequestError for operation embed', () => {
    const error = toInferenceError(new Error('Missing the following inputs: pixel_values'), 'some/model');
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', operation: 'embed', retryable: false });
    expect(error.message).toContain('some/model');
  });
});
