// One writer process of postgres.ts's throughput part: a Memory on PostgreSQL (vector and history
// stores on one pool) adding distinct memories to one user's scope, 4 calls in flight at a time.
// argv[2]: JSON { url, schema, adds, prefix, userId }. Sends 'ready' once its tables exist, waits for 'go',
// then sends { latencies } (milliseconds per add).
import { LexicalEmbedder, Memory } from '@mem/core';
import { PostgresHistoryStore } from '@mem/history-postgres';
import { PostgresVectorStore } from '@mem/vector-postgres';
import pg from 'pg';

const { url, schema, adds, prefix, userId } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  schema: string;
  adds: number;
  prefix: string;
  userId: string;
};
const pool = new pg.Pool({ connectionString: url, max: 8 });
const memory = new Memory({
  embedder: new LexicalEmbedder({ dimensions: 384 }),
  vectorStore: new PostgresVectorStore({ pool, schema }),
  historyStore: new PostgresHistoryStore({ pool, schema }),
});
const scope = { userId };
// Prepare: tables created, connections open.
await memory.add(`warm-up of ${prefix}`, { scope, infer: false });
process.send?.('ready');
await new Promise<void>((resolve) => process.once('message', () => resolve()));
const latencies: number[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next < adds) {
      const n = next++;
      const begin = performance.now();
      await memory.add(`${prefix} remembers fact number ${n}`, { scope, infer: false, metadata: { writer: prefix } });
      latencies.push(performance.now() - begin);
    }
  }),
);
await memory.close();
await pool.end();
process.send?.({ latencies }, () => process.exit(0));
