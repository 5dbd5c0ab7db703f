// Stores of one process of the multi-process write case (src/multi-process.test.ts): PostgreSQL
// with pgvector, vector and history stores on one pool. Plain JavaScript over the built packages.
import { PostgresHistoryStore } from '@mem/history-postgres';
import { PostgresVectorStore } from '@mem/vector-postgres';
import pg from 'pg';

/** @param {{ url: string, schema: string }} context */
export default async function stores(context) {
  const pool = new pg.Pool({ connectionString: context.url, max: 10 });
  return {
    vectorStore: new PostgresVectorStore({ pool, schema: context.schema }),
    historyStore: new PostgresHistoryStore({ pool, schema: context.schema }),
    close: () => pool.end(),
  };
}
