import { describeVectorStore, liveEnv } from '@mem/conformance';
import { QdrantVectorStore } from './qdrant-vector-store';

// The conformance suite against a real Qdrant (a local server or Qdrant Cloud). Runs only when
// QDRANT_URL is set; QDRANT_API_KEY, when set, is picked up by the store's own env fallback.
// Every test uses a random collection (mem_<12 hex>) and drops it afterwards.
const qdrant = liveEnv('QDRANT_URL');

describeVectorStore(
  'QdrantVectorStore (live)',
  async ({ namespace }) => {
    const store = new QdrantVectorStore({ url: qdrant.values.QDRANT_URL, collection: namespace });
    return {
      subject: store,
      dispose: async () => {
        await store.dropCollection();
        await store.close();
      },
    };
  },
  { skip: qdrant.skip, timeoutMs: 60_000 },
);
