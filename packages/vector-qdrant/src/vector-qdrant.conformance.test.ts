import { describeVectorStore } from '@mem/conformance';
import { QdrantVectorStore } from './vector-qdrant';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeVectorStore('QdrantVectorStore', async ({ namespace }) => {
  const subject = new QdrantVectorStore({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
