// An app's CommonJS entry: the same as esm.mts through `require` (tsc compiles these imports to
// require calls), so the packages' CommonJS builds and .d.cts types are what is used.
// Run as `node cjs.cjs <db file>`; prints one JSON line for the consumer test to check.
import { Memory, MemError, type MemoryEvent } from '@mem/core';
import { MemError as AdapterMemError, InvalidInputError } from '@mem/core/adapter';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const scope = { userId: 'alice' };
  const memory = new Memory({
    llm: new ScriptedLLM([
      {
        json: {
          operations: [
            { op: 'ADD', id: null, text: 'Is vegetarian' },
            { op: 'ADD', id: null, text: 'Lives in Lisbon' },
          ],
        },
      },
    ]),
    embedder: new HashEmbedder({ dimensions: 64 }),
    vectorStore: new SqliteVectorStore({ path }),
    historyStore: new SqliteHistoryStore({ path }),
  });
  const added = await memory.add([{ role: 'user', content: 'I am vegetarian and I live in Lisbon.' }], { scope });
  const { results } = await memory.search('Is vegetarian', { scope, limit: 2 });
  const history = await memory.history(results[0]!.id, { scope });
  let rejected: unknown;
  try {
    await memory.search('anything', { scope: {} });
  } catch (error) {
    rejected = error;
  }
  // The ESM build of the same package, as an ESM dependency of this app would load it.
  const esm = await import('@mem/core');
  await memory.close();
  console.log(
    JSON.stringify({
      format: 'cjs',
      events: added.events.map((event: MemoryEvent) => `${event.kind} ${event.text}`),
      top: results[0]!.text,
      history: history.map((event) => event.kind),
      sameMemErrorClass: MemError === AdapterMemError,
      rejectedIsMemError: rejected instanceof MemError && rejected instanceof InvalidInputError && MemError.is(rejected, 'INVALID_INPUT'),
      recognisedByTheOtherBuild: esm.MemError.is(rejected, 'INVALID_INPUT'),
    }),
  );
}

void main();
