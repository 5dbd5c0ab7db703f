import assert from 'node:assert/strict';
import { describeVectorStore } from '@mem/conformance';
import { compareIds, type MemoryRecord, type Scope } from '@mem/core/adapter';
import { afterAll, it } from 'vitest';
import { QdrantVectorStore } from './qdrant-vector-store';
import { QdrantEmulator } from './testing/qdrant-emulator';

// Qdrant cannot run on this project's machines (no package, no Docker), so the suite runs against
// the in-process emulator, which validates every request against Qdrant's published OpenAPI spec.
// The same suite runs against a real server in qdrant-vector-store.live.test.ts.
const emulator = await QdrantEmulator.start();

afterAll(async () => {
  const rejected = emulator.requests.filter((request) => request.status === 400 || request.status === 501);
  await emulator.stop();
  // A request the spec (or the emulator) rejected fails the run even where the adapter swallowed it.
  assert.deepEqual(
    rejected.map((request) => `${request.method} ${request.path} → ${request.status}`),
    [],
    'requests the Qdrant OpenAPI spec rejects',
  );
});

describeVectorStore(
  'QdrantVectorStore (emulator)',
  async ({ namespace }) => {
    const store = new QdrantVectorStore({ url: emulator.url, collection: namespace, retryDelayMs: 0, env: {} });
    return {
      subject: store,
      dispose: async () => {
        await store.dropCollection();
        await store.close();
      },
    };
  },
  {
    timeoutMs: 30_000,
    extraCases: (use) => {
      const record = (id: string, scope: Scope, n: number): MemoryRecord => {
        const date = new Date(Date.UTC(2024, 4, 17, 9, 30, 15, n % 1000));
        const angle = (n % 360) * (Math.PI / 180);
        return {
          id,
          vector: [Math.cos(angle), Math.sin(angle), 0, 0, 0, 0, 0, 0],
          text: `memory ${n}`,
          hash: `hash-${n}`,
          scope,
          metadata: { n, parity: n % 2 === 0 ? 'even' : 'odd' },
          createdAt: date,
          updatedAt: date,
          occurredAt: date,
        };
      };
      const listIds = async (store: QdrantVectorStore, scope: Scope, after?: string) => {
        const ids: string[] = [];
        for await (const item of store.list({ scope, ...(after === undefined ? {} : { after }) })) ids.push(item.id);
        return ids;
      };
      const uuid = (n: number) => `018f${n.toString(16).padStart(4, '0')}-0000-7000-8000-${(n * 7919).toString(16).padStart(12, '0')}`;

      it('lists 2,500 records across 4 scopes completely, in id order, and deleting one scope removes exactly its records', async () => {
        const store = use() as QdrantVectorStore;
        const scopes: Scope[] = [{ userId: 'u1' }, { userId: 'u2' }, { userId: 'u1', agentId: 'a1' }, { runId: 'r1' }];
        const records = Array.from({ length: 2_500 }, (_, index) => {
          const n = (index * 1_009) % 2_500; // scrambled write order
          return record(uuid(n), scopes[n % scopes.length]!, n);
        });
        for (let start = 0; start < records.length; start += 500) await store.upsert({ records: records.slice(start, start + 500) });
        const expectedIn = (scope: Scope) =>
          records
            .filter((item) => Object.entries(scope).every(([key, value]) => item.scope[key as keyof Scope] === value))
            .map((item) => item.id)
            .sort(compareIds);
        for (const scope of scopes) assert.deepEqual(await listIds(store, scope), expectedIn(scope), `list in ${JSON.stringify(scope)}`);

        // Delete every record of { userId: 'u2' }, then nothing else may be missing.
        const doomed = expectedIn({ userId: 'u2' });
        await store.delete({ scope: { userId: 'u2' }, ids: doomed });
        assert.deepEqual(await listIds(store, { userId: 'u2' }), [], 'u2 after deleting its records');
        for (const scope of [scopes[0]!, scopes[2]!, scopes[3]!]) {
          assert.deepEqual(await listIds(store, scope), expectedIn(scope), `list in ${JSON.stringify(scope)} after deleting u2`);
        }
        assert.equal(emulator.points(store.collection).length, records.length - doomed.length, 'points left in the collection');
        // Deleting u1's ids in the scope of u2 touches nothing.
        await store.delete({ scope: { userId: 'u2' }, ids: expectedIn({ userId: 'u1' }) });
        assert.deepEqual(await listIds(store, { userId: 'u1' }), expectedIn({ userId: 'u1' }), 'u1 after a delete in another scope');
      });

      it('ids that are not canonical UUIDs round-trip and list in JavaScript string order among UUID ids', async () => {
        const store = use() as QdrantVectorStore;
        const scope: Scope = { userId: 'mixed' };
        const ids = [
          'note-1',
          'Note-2',
          '0000',
          'zzz',
          '018F0001-0000-7000-8000-000000000001', // uppercase: Qdrant would answer it lowercased
          '018f0001-0000-7000-8000-000000000002',
          '018f0001-0000-7000-8000-00000000000', // one digit short
          '018f0001-0000-7000-8000-000000000003',
          'ffffffff-ffff-ffff-ffff-ffffffffffff',
          '😀 emoji id',
          '',
        ].filter((id) => id.length > 0);
        const records = ids.map((id, index) => record(id, scope, index));
        await store.upsert({ records });
        const sorted = [...ids].sort(compareIds);
        assert.deepEqual(await listIds(store, scope), sorted, 'list order');
        for (const after of [...sorted, '', '0', '018f', '018f0001-0000-7000-8000-000000000002x', 'note', '~']) {
          assert.deepEqual(
            await listIds(store, scope, after),
            sorted.filter((id) => compareIds(id, after) > 0),
            `list after "${after}"`,
          );
        }
        const found = await store.get({ scope, ids: [...ids].reverse() });
        assert.deepEqual(
          found.map((item) => item.id),
          [...ids].reverse(),
          'get returns every id as given, in the order asked',
        );
        const [best] = await store.query({ scope, vector: records[4]!.vector, topK: 1 });
        assert.equal(best?.record.id, ids[4], 'query returns the original id');
        await store.delete({ scope, ids: ['note-1', '018F0001-0000-7000-8000-000000000001'] });
        assert.deepEqual(
          await listIds(store, scope),
          sorted.filter((id) => id !== 'note-1' && id !== '018F0001-0000-7000-8000-000000000001'),
          'after deleting two mapped ids',
        );
      });

      it('a filtered list merges mapped and UUID ids and keeps to the filter', async () => {
        const store = use() as QdrantVectorStore;
        const scope: Scope = { agentId: 'filtered' };
        const records = Array.from({ length: 600 }, (_, n) => record(n % 3 === 0 ? `m-${String(n).padStart(4, '0')}` : uuid(n), scope, n));
        await store.upsert({ records });
        const expected = records
          .filter((item) => item.metadata['parity'] === 'even')
          .map((item) => item.id)
          .sort(compareIds);
        const listed: string[] = [];
        for await (const item of store.list({ scope, filter: { op: 'eq', field: 'parity', value: 'even' } })) listed.push(item.id);
        assert.deepEqual(listed, expected);
      });
    },
  },
);
