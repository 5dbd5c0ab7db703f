// Child process of src/crash-consistency.test.ts: works on one database until the parent kills it
// with SIGKILL: a SQLite file (the embedded default: vector store and history store on the same
// path), or a PostgreSQL schema (@mem/vector-postgres and @mem/history-postgres on one pool).
// argv: <database path> <seed>, or <postgres URL> <seed> <schema>. Sends { ready: true } once it
// starts writing, { pending: true } after each pending history append.
// Plain JavaScript on the built packages, so a trial costs one Node start-up, not a TypeScript loader.
import { LexicalEmbedder, Memory } from '@mem/core';
import { PostgresHistoryStore } from '@mem/history-postgres';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { PostgresVectorStore } from '@mem/vector-postgres';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import pg from 'pg';

const [path, seedArgument, schema] = process.argv.slice(2);
const pool = path.startsWith('postgres://') ? new pg.Pool({ connectionString: path, max: 4 }) : undefined;
let state = Number(seedArgument) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (items) => items[Math.floor(random() * items.length)];

// A vector store a network hop away: a short, random wait before each write, the window in which a
// kill lands between the history write and the vector write (as it would with Qdrant or Pinecone).
const store = pool ? new PostgresVectorStore({ pool, schema }) : new SqliteVectorStore({ path });
const pause = () => new Promise((resolve) => (random() < 0.5 ? setImmediate(resolve) : setTimeout(resolve, Math.floor(random() * 3))));
const vectorStore = new Proxy(store, {
  get(target, property) {
    const value = Reflect.get(target, property);
    if (property === 'upsert' || property === 'delete') {
      return async (request) => {
        await pause();
        return value.call(target, request);
      };
    }
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
// Tells the parent each time a change is logged as pending (its vector write not done yet), so some
// kills can aim at that window instead of landing at a random moment.
const history = pool ? new PostgresHistoryStore({ pool, schema }) : new SqliteHistoryStore({ path });
const historyStore = new Proxy(history, {
  get(target, property) {
    const value = Reflect.get(target, property);
    if (property === 'append') {
      return async (request) => {
        await value.call(target, request);
        if (request.pending) process.send?.({ pending: true });
      };
    }
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
const memory = new Memory({ embedder: new LexicalEmbedder({ dimensions: 32 }), vectorStore, historyStore });

const scopes = [{ userId: 'u0' }, { userId: 'u1' }, { userId: 'u1', agentId: 'a1' }];
const words = ['tea', 'coffee', 'Lisbon', 'Porto', 'cello', 'dog', 'cat', 'nurse', 'teacher', 'hiking', 'sushi', 'Volvo'];
const fact = () => `Likes ${pick(words)} and ${pick(words)} ${Math.floor(random() * 40)}`;

process.send?.({ ready: true });
for (;;) {
  const scope = pick(scopes);
  const roll = random();
  if (roll < 0.6) {
    const messages = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({ role: 'user', content: fact() }));
    await memory.add(messages, { scope, infer: false, metadata: { batch: Math.floor(random() * 4) } });
  } else if (roll < 0.7) {
    await memory.deleteAll({ scope, ...(random() < 0.5 ? { filter: { batch: Math.floor(random() * 4) } } : {}) });
  } else {
    const { results } = await memory.getAll({ scope, pageSize: 50 });
    const target = results.length > 0 ? pick(results) : undefined;
    if (target && roll < 0.85) await memory.update(target.id, { text: fact(), metadata: { updated: true } }, { scope });
    else if (target) await memory.delete(target.id, { scope });
  }
}
