import { describeVectorStore } from '@mem/conformance';
import { ChromaVectorStore } from './vector-chroma';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeVectorStore('ChromaVectorStore', async ({ namespace }) => {
  const subject = new ChromaVectorStore({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
