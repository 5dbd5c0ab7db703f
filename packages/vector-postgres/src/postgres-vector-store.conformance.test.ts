import { describeVectorStore } from '@mem/conformance';
import { inject } from 'vitest';
import { PostgresVectorStore } from './postgres-vector-store';

// test/global-setup.ts started a real PostgreSQL 15 with pgvector 0.8.6 (under CI=true it fails the
// run instead of providing a skip reason). Every test gets its own table (the suite's namespace).
const url = inject('postgresUrl');
const skip = inject('postgresSkip') || undefined;

function harness(options: { exactSearchLimit?: number }) {
  return async ({ namespace }: { namespace: string }) => {
    const subject = new PostgresVectorStore({ connectionString: url, table: namespace, maxConnections: 4, ...options });
    return {
      subject,
      dispose: async () => {
        try {
          await subject.dropCollection();
        } finally {
          await subject.close();
        }
      },
    };
  };
}

describeVectorStore('PostgresVectorStore (real PostgreSQL 15 + pgvector 0.8.6)', harness({}), { skip, timeoutMs: 30_000 });

// The same suite with every search going through the HNSW index (iterative scan), not the exact path.
describeVectorStore('PostgresVectorStore (HNSW index for every search)', harness({ exactSearchLimit: 0 }), { skip, timeoutMs: 30_000 });
