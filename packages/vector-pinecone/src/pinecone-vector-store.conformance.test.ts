import { describeVectorStore } from '@mem/conformance';
import { compareIds, type MemoryRecord, type Scope } from '@mem/core/adapter';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PineconeEmulator } from './testing/pinecone-emulator';
import { PineconeVectorStore } from './pinecone-vector-store';

// One emulator (one index) for the file; the suite gives every test its own namespace.
const INDEX = 'mem-conformance';
let emulator: PineconeEmulator;
beforeAll(async () => {
  emulator = await PineconeEmulator.start();
});
afterAll(async () => {
  await emulator.close();
});

describeVectorStore(
  'PineconeVectorStore (emulator validating every request against the Pinecone 2026-04 spec)',
  async ({ namespace }) => {
    const store = new PineconeVectorStore({
      apiKey: 'test-key',
      index: INDEX,
      namespace,
      controllerHostUrl: emulator.controllerHostUrl,
      createIndex: { cloud: 'aws', region: 'us-east-1' },
      retryDelayMs: 0,
    });
    return {
      subject: store,
      dispose: async () => {
        await store.dropNamespace();
        await store.close();
      },
    };
  },
  {
    timeoutMs: 30_000,
    extraCases: (use) => {
      const scopes: Scope[] = [
        { userId: 'user-a' },
        { userId: 'user-a', agentId: 'agent-1' },
        { userId: 'user-b' },
        { agentId: 'agent-1' },
        { runId: 'run-9' },
      ];

      it('inserts 2,500 records across 5 scopes and lists each scope completely, in id order, with after cursors', async () => {
        const store = use() as PineconeVectorStore;
        const records = bulkRecords(2_500, scopes);
        for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch) {
          await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
        }
        expect(emulator.ids(INDEX, store.namespace)).toHaveLength(2_500);
        for (const scope of [...scopes, { userId: 'user-a' }, { agentId: 'agent-1' }]) {
          const expected = records
            .filter((record) => inScope(scope, record.scope))
            .map((record) => record.id)
            .sort(compareIds);
          const listed = await ids(store.list({ scope }));
          expect(listed).toEqual(expected);
          const cursor = expected[Math.floor(expected.length / 3)]!;
          expect(await ids(store.list({ scope, after: cursor }))).toEqual(expected.filter((id) => compareIds(id, cursor) > 0));
        }
      });

      it("deleting one scope's records removes exactly those records", async () => {
        const store = use() as PineconeVectorStore;
        const records = bulkRecords(600, scopes);
        for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch) {
          await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
        }
        const doomed: Scope = { userId: 'user-a', agentId: 'agent-1' };
        const doomedIds = await ids(store.list({ scope: doomed }));
        expect(doomedIds.length).toBe(records.filter((record) => inScope(doomed, record.scope)).length);
        // Every id of the namespace is named, but only the scope's own records may go.
        await store.delete({ scope: doomed, ids: records.map((record) => record.id) });
        const survivors = records
          .filter((record) => !inScope(doomed, record.scope))
          .map((record) => record.id)
          .sort(compareIds);
        expect(emulator.ids(INDEX, store.namespace).sort(compareIds)).toEqual(survivors);
        expect(await ids(store.list({ scope: doomed }))).toEqual([]);
        expect(await ids(store.list({ scope: { userId: 'user-a' } }))).toEqual(
          records
            .filter((record) => inScope({ userId: 'user-a' }, record.scope) && !inScope(doomed, record.scope))
            .map((record) => record.id)
            .sort(compareIds),
        );
      });
    },
  },
);

function bulkRecords(count: number, scopes: readonly Scope[]): MemoryRecord[] {
  const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
  return Array.from({ length: count }, (_, index) => {
    // Scrambled ids (a multiplier coprime with the count), so write order is not id order.
    const n = (index * 7_919) % count;
    const angle = (n + 1) * 0.37;
    return {
      id: `rec-${n.toString(36).padStart(4, '0')}-${(n * 31) % 97}`,
      vector: [Math.cos(angle), Math.sin(angle), 0.5, 0.25, -0.125, 1, 0.75, (n % 7) - 3],
      text: `bulk memory ${n}`,
      hash: `hash-${n}`,
      scope: scopes[n % scopes.length]!,
      metadata: { n, even: n % 2 === 0 },
      createdAt: at,
      updatedAt: at,
      occurredAt: at,
    };
  });
}

function inScope(call: Scope, record: Scope): boolean {
  return (['userId', 'agentId', 'runId'] as const).every((key) => call[key] === undefined || call[key] === record[key]);
}

async function ids(records: AsyncIterable<MemoryRecord>): Promise<string[]> {
  const found: string[] = [];
  for await (const record of records) found.push(record.id);
  return found;
}
