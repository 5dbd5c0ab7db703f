import { describeHistoryStore } from '@mem/conformance';
import { inject } from 'vitest';
import { PostgresHistoryStore } from './postgres-history-store';

// test/global-setup.ts started a real PostgreSQL 15 (under CI=true it fails the run instead of
// providing a skip reason). Every test gets its own table (the suite's namespace), dropped afterwards.
const url = inject('postgresUrl');
const skip = inject('postgresSkip') || undefined;

describeHistoryStore(
  'PostgresHistoryStore (real PostgreSQL 15)',
  async ({ namespace }) => {
    const subject = new PostgresHistoryStore({ connectionString: url, table: namespace, maxConnections: 4 });
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
  { skip, timeoutMs: 30_000 },
);
