import { describeEmbedder } from '@mem/conformance';
import { TransformersEmbedder } from './embedder-transformers';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeEmbedder('TransformersEmbedder', async ({ namespace }) => {
  const subject = new TransformersEmbedder({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
