import { describeHistoryStore } from '@mem/conformance';
import { SqliteHistoryStore } from './history-sqlite';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeHistoryStore('SqliteHistoryStore', async ({ namespace }) => {
  const subject = new SqliteHistoryStore({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
