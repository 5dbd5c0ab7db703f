// Child process of src/server-transport.test.ts: the REST server (apps/server) in its own process,
// as clients meet it, so a client writing a large body and the server answering early really race.
// argv: <JSON array of key definitions>. Sends { url } once listening; stops on the message 'stop'.
// Plain JavaScript on the built packages: one Node start-up, no TypeScript loader.
import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder, Memory } from '@mem/core';
import { ApiKeyStore, createServer } from '@mem/server';

const keys = ApiKeyStore.load({ keys: JSON.parse(process.argv[2]) });
const memory = new Memory({
  embedder: new LexicalEmbedder(),
  vectorStore: new InMemoryVectorStore(),
  historyStore: new InMemoryHistoryStore(),
});
const server = await createServer({
  memory,
  keys,
  hasLlm: false,
  embedder: new LexicalEmbedder(),
  log: 'silent',
  browserAssets: false,
  limits: { rateLimit: { burst: 1_000_000, perSecond: 1_000_000 } },
});
const url = await server.listen({ host: '127.0.0.1', port: 0 });
process.on('message', async (message) => {
  if (message !== 'stop') return;
  await server.shutdown();
  process.exit(0);
});
process.send({ url });
