import { describeReranker } from '@mem/conformance';
import { afterAll } from 'vitest';
import { createTinyCrossEncoderFolder, TINY_CROSS_ENCODER_ID, type TinyCrossEncoderFolder } from '../test/tiny-cross-encoder';
import { TransformersReranker } from './transformers-reranker';

// A generated BERT-shaped cross-encoder run by the real onnxruntime-node CPU runtime, offline.
let folder: Promise<TinyCrossEncoderFolder> | undefined;
afterAll(async () => {
  await (await folder)?.remove();
});

describeReranker('TransformersReranker', async () => {
  const { localModelPath } = await (folder ??= createTinyCrossEncoderFolder());
  const subject = new TransformersReranker({ model: TINY_CROSS_ENCODER_ID, localModelPath });
  return { subject, dispose: () => subject.close() };
});
