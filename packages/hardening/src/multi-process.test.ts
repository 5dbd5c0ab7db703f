import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMultiProcessWrites } from '@mem/conformance';
import pg from 'pg';
import { inject } from 'vitest';

// Two Memory instances in separate processes over one database, 50 concurrent writers each
// (@mem/conformance's describeMultiProcessWrites), on the embedded default and on PostgreSQL.

describeMultiProcessWrites('SQLite (vector and history stores in one file)', {
  storesModule: new URL('../test/multi-process-stores-sqlite.mjs', import.meta.url),
  async prepare() {
    const directory = mkdtempSync(join(tmpdir(), 'mem-multi-process-'));
    return { context: { path: join(directory, 'mem.db') }, dispose: async () => rmSync(directory, { recursive: true, force: true }) };
  },
});

const postgresUrl = inject('postgresUrl');
const postgresSkip = inject('postgresSkip');
let series = 0;

describeMultiProcessWrites('PostgreSQL + pgvector (vector and history stores on one database)', {
  storesModule: new URL('../test/multi-process-stores-postgres.mjs', import.meta.url),
  ...(postgresSkip ? { skip: postgresSkip } : {}),
  async prepare() {
    const schema = `multi_process_${process.pid}_${series++}`;
    return {
      context: { url: postgresUrl, schema },
      async dispose() {
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  },
});
