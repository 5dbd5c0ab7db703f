import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHistoryStore } from '@mem/conformance';
import { afterAll } from 'vitest';
import { SqliteHistoryStore } from './sqlite-history-store';

// Every test gets its own table (the suite's namespace) in one database file on disk; each opens
// and closes its own connection.
const directory = mkdtempSync(join(tmpdir(), 'mem-history-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeHistoryStore('SqliteHistoryStore', async ({ namespace }) => {
  const subject = new SqliteHistoryStore({ path: join(directory, 'conformance.db'), table: namespace });
  return {
    subject,
    dispose: async () => {
      await subject.dropTable();
      await subject.close();
    },
  };
});
