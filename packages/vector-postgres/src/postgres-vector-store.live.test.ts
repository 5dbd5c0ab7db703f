import { describeVectorStore, liveEnv } from '@mem/conformance';
import { PostgresVectorStore } from './postgres-vector-store';

// The shared suite against your own PostgreSQL with pgvector (Neon, Supabase, RDS, self-hosted);
// skipped, with the reason shown, unless DATABASE_URL is set. Every test creates its own table,
// named after the suite's random namespace, and drops it afterwards.
const live = liveEnv('DATABASE_URL');

describeVectorStore(
  'PostgresVectorStore (live, DATABASE_URL)',
  async ({ namespace }) => {
    const subject = new PostgresVectorStore({ connectionString: live.values.DATABASE_URL, table: namespace, maxConnections: 4 });
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
  },
  { skip: live.skip, timeoutMs: 120_000 },
);
