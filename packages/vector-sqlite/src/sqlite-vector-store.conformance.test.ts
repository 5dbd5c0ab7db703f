import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVectorStore } from '@mem/conformance';
import { afterAll } from 'vitest';
import { SqliteVectorStore } from './sqlite-vector-store';

// Every test gets its own table (the suite's namespace) in one database file on disk, the way
// several collections share a file in production; each opens and closes its own connection.
const directory = mkdtempSync(join(tmpdir(), 'mem-vector-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeVectorStore('SqliteVectorStore', async ({ namespace }) => {
  const subject = new SqliteVectorStore({ path: join(directory, 'conformance.db'), table: namespace });
  return {
    subject,
    dispose: async () => {
      await subject.dropCollection();
      await subject.close();
    },
  };
});
