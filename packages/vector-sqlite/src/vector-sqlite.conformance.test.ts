import { describeVectorStore } from '@mem/conformance';
import { SqliteVectorStore } from './vector-sqlite';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeVectorStore('SqliteVectorStore', async ({ namespace }) => {
  const subject = new SqliteVectorStore({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
