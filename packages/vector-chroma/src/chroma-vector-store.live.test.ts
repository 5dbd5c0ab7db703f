import { describeVectorStore, liveEnv } from '@mem/conformance';
import { ChromaVectorStore } from './chroma-vector-store';

// The shared suite against Chroma Cloud; skipped (with the reason shown) unless all three are set.
const cloud = liveEnv('CHROMA_API_KEY', 'CHROMA_TENANT', 'CHROMA_DATABASE');

describeVectorStore(
  'ChromaVectorStore (live, Chroma Cloud)',
  async ({ namespace }) => {
    const store = new ChromaVectorStore({
      url: 'https://api.trychroma.com',
      apiKey: cloud.values.CHROMA_API_KEY,
      tenant: cloud.values.CHROMA_TENANT,
      database: cloud.values.CHROMA_DATABASE,
      collection: namespace,
    });
    return {
      subject: store,
      dispose: async () => {
        await store.dropCollection();
        await store.close();
      },
    };
  },
  { skip: cloud.skip, timeoutMs: 120_000 },
);
