import { describeHistoryStore, liveEnv } from '@mem/conformance';
import { PostgresHistoryStore } from './postgres-history-store';

// The shared suite against your own PostgreSQL (Neon, Supabase, RDS, self-hosted); skipped, with the
// reason shown, unless DATABASE_URL is set. Every test creates its own table and drops it afterwards.
const live = liveEnv('DATABASE_URL');

describeHistoryStore(
  'PostgresHistoryStore (live, DATABASE_URL)',
  async ({ namespace }) => {
    const subject = new PostgresHistoryStore({ connectionString: live.values.DATABASE_URL, table: namespace, maxConnections: 4 });
    return {
      subject,
      dispose: async () => {
        try {
          await subject.dropTable();
        } finally {
          await subject.close();
        }
      },
    };
  },
  { skip: live.skip, timeoutMs: 120_000 },
);
