import { describeEmbedder } from '@mem/conformance';
import { afterAll } from 'vitest';
import { createTinyModelFolder, TINY_MODEL_ID, type TinyModelFolder } from '../test/tiny-model-folder';
import { TransformersEmbedder } from './transformers-embedder';

// A generated BERT-shaped ONNX model run by the real onnxruntime-node CPU runtime, offline.
let folder: Promise<TinyModelFolder> | undefined;
afterAll(async () => {
  await (await folder)?.remove();
});

describeEmbedder('TransformersEmbedder', async () => {
  const { localModelPath } = await (folder ??= createTinyModelFolder());
  const subject = new TransformersEmbedder({ model: TINY_MODEL_ID, localModelPath, queryPrefix: 'query: ', documentPrefix: 'passage: ' });
  return { subject, dispose: () => subject.close() };
});
