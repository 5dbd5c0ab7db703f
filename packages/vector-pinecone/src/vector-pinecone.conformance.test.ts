import { describeVectorStore } from '@mem/conformance';
import { PineconeVectorStore } from './vector-pinecone';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeVectorStore('PineconeVectorStore', async ({ namespace }) => {
  const subject = new PineconeVectorStore({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
