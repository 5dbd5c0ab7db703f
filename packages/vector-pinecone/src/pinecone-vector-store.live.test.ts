import { describeVectorStore, liveEnv } from '@mem/conformance';
import { PineconeVectorStore } from './pinecone-vector-store';

// The same suite against real Pinecone. PINECONE_INDEX names a serverless index with dimension 8
// and metric cosine; it is created (aws, us-east-1, available on the free plan) when missing. Each
// test writes to a fresh namespace and deletes it afterwards. Pinecone is eventually consistent,
// so the suite polls reads (capabilities.readAfterWrite is 'eventual').
const pinecone = liveEnv('PINECONE_API_KEY', 'PINECONE_INDEX');

describeVectorStore(
  'PineconeVectorStore (live Pinecone)',
  async ({ namespace }) => {
    const store = new PineconeVectorStore({
      apiKey: pinecone.values.PINECONE_API_KEY,
      index: pinecone.values.PINECONE_INDEX,
      namespace,
      createIndex: { cloud: 'aws', region: 'us-east-1' },
    });
    return {
      subject: store,
      dispose: async () => {
        await store.dropNamespace();
        await store.close();
      },
    };
  },
  { skip: pinecone.skip, timeoutMs: 120_000 },
);
