// Run as a child process by sqlite-vector-ann.test.ts: a script that starts an approximate index
// build and awaits approximateIndexesBuilt() must not exit before the build ends (the build's worker
// keeps the process alive only while someone waits), and must exit once the store is closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteVectorStore } from '../src/sqlite-vector-store';

const directory = mkdtempSync(join(tmpdir(), 'mem-ann-exit-'));
const store = new SqliteVectorStore({ path: join(directory, 'exit.db'), approximate: true, approximateMinScope: 100 });
await store.ensureCollection({ dimensions: 8 });
const scope = { userId: 'u1' };
await store.upsert({
  records: Array.from({ length: 300 }, (_, index) => ({
    id: `m${index}`,
    vector: Array.from({ length: 8 }, (_, dimension) => Math.sin(index * (dimension + 1))),
    text: `memory ${index}`,
    hash: `hash ${index}`,
    scope,
    metadata: {},
    createdAt: new Date(1),
    updatedAt: new Date(2),
    occurredAt: new Date(3),
  })),
});
const vector = Array.from({ length: 8 }, (_, dimension) => Math.sin(7 * (dimension + 1)));
for (let round = 0; round < 2; round++) await store.query({ scope, vector, topK: 1 });
await store.approximateIndexesBuilt();
const [best] = await store.query({ scope, vector, topK: 1 });
await store.close();
rmSync(directory, { recursive: true, force: true });
console.log(`built, best ${best?.record.id}`);
