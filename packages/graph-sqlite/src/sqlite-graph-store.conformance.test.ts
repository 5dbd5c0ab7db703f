import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeGraphStore } from '@mem/conformance';
import { afterAll } from 'vitest';
import { SqliteGraphStore } from './sqlite-graph-store';

// Every test gets its own tables (the suite's namespace as prefix) in one database file on disk,
// the way several graphs share a file in production; each opens and closes its own connection.
const directory = mkdtempSync(join(tmpdir(), 'mem-graph-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeGraphStore('SqliteGraphStore', async ({ namespace }) => {
  const subject = new SqliteGraphStore({ path: join(directory, 'conformance.db'), tablePrefix: namespace });
  return {
    subject,
    dispose: async () => {
      await subject.dropTables();
      await subject.close();
    },
  };
});

// The same suite on a private in-memory database.
describeGraphStore('SqliteGraphStore (:memory:)', async ({ namespace }) => {
  const subject = new SqliteGraphStore({ path: ':memory:', tablePrefix: namespace });
  return { subject, dispose: () => subject.close() };
});
