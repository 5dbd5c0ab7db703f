// Child process of src/concurrency.test.ts: one of several processes adding to one SQLite file at
// once. argv: <database path> <writer index> <count>. Adds <count> memories to its own scope and
// <count> distinct ones to a scope every writer shares, concurrently within the process too.
import { LexicalEmbedder, Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';

const [path, index, countArgument] = process.argv.slice(2);
const count = Number(countArgument);
const memory = new Memory({
  embedder: new LexicalEmbedder({ dimensions: 32 }),
  vectorStore: new SqliteVectorStore({ path }),
  historyStore: new SqliteHistoryStore({ path }),
});
const work = [];
for (let n = 0; n < count; n++) {
  work.push(memory.add(`Writer ${index} remembers item ${n}`, { scope: { userId: `writer-${index}` }, infer: false }));
  work.push(memory.add(`Shared item ${n} from writer ${index}`, { scope: { userId: 'shared' }, infer: false }));
}
await Promise.all(work);
await memory.close();
