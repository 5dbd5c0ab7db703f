// Stores of one process of the multi-process write case (src/multi-process.test.ts): the embedded
// default, vector and history stores on one SQLite file. Plain JavaScript over the built packages.
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';

/** @param {{ path: string }} context */
export default async function stores(context) {
  return { vectorStore: new SqliteVectorStore({ path: context.path }), historyStore: new SqliteHistoryStore({ path: context.path }) };
}
