import assert from 'node:assert/strict';
import { describeVectorStore } from '@mem/conformance';
import { hashText, type MemoryRecord, type Scope } from '@mem/core/adapter';
import { inject, it } from 'vitest';
import { ChromaVectorStore } from './chroma-vector-store';

const url = inject('chromaUrl');
const skip = inject('chromaSkip') || undefined;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

function bulkRecord(n: number, scope: Scope): MemoryRecord {
  const vector = Array.from({ length: 8 }, (_, index) => Math.sin(n * 7 + index * 13));
  const text = `bulk memory ${n}`;
  return {
    id: `bulk-${String(n).padStart(5, '0')}`,
    vector,
    text,
    hash: hashText(text),
    scope,
    metadata: { n, parity: n % 2 === 0 ? 'even' : 'odd' },
    createdAt: new Date(Date.UTC(2024, 0, 1) + n),
    updatedAt: new Date(Date.UTC(2024, 0, 2) + n),
    occurredAt: new Date(Date.UTC(2023, 11, 31) + n),
  };
}

// A fresh collection per test, named after the suite's namespace, dropped afterwards.
describeVectorStore(
  'ChromaVectorStore (real Chroma server from the chromadb npm CLI)',
  async ({ namespace }) => {
    const store = new ChromaVectorStore({ url, collection: namespace, maxRetries: 0 });
    return {
      subject: store,
      dispose: async () => {
        await store.dropCollection();
        await store.close();
      },
    };
  },
  {
    skip,
    timeoutMs: 60_000,
    extraCases(use) {
      const scopes: Scope[] = [{ userId: 'u1' }, { userId: 'u2' }, { userId: 'u1', agentId: 'a1' }, { agentId: 'a2' }, { runId: 'r1' }];

      it('inserts and lists 2,500 records across 5 scopes: each scope lists exactly its own, in ascending id order', async () => {
        const store = use();
        // Scrambled write order: 2,500 records, scope chosen by n.
        const records = Array.from({ length: 2_500 }, (_, index) => {
          const n = (index * 1_597) % 2_500;
          return bulkRecord(n, scopes[n % scopes.length]!);
        });
        for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch) {
          await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
        }
        for (const scope of scopes) {
          const expected = records
            .filter((record) => Object.entries(scope).every(([key, value]) => record.scope[key as keyof Scope] === value))
            .map((record) => record.id)
            .sort();
          const listed = await collect(store.list({ scope }));
          assert.deepEqual(
            listed.map((record) => record.id),
            expected,
            `ids listed in scope ${JSON.stringify(scope)}`,
          );
        }
        // { userId: 'u1' } also sees the records of u1 with agent a1.
        assert.equal((await collect(store.list({ scope: { userId: 'u1' } }))).length, 1_000);
      });

      it("deletes one scope's records (list, then delete by ids) and leaves every other record", async () => {
        const store = use();
        const records = Array.from({ length: 2_500 }, (_, n) => bulkRecord(n, scopes[n % scopes.length]!));
        for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch) {
          await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
        }
        const victim = scopes[1]!; // { userId: 'u2' }
        const ids = (await collect(store.list({ scope: victim }))).map((record) => record.id);
        assert.equal(ids.length, 500);
        await store.delete({ scope: victim, ids });
        assert.deepEqual(await collect(store.list({ scope: victim })), [], 'records left in the deleted scope');
        const everyId = records.map((record) => record.id);
        for (const scope of scopes.filter((candidate) => candidate !== victim)) {
          const expected = records
            .filter((record) => Object.entries(scope).every(([key, value]) => record.scope[key as keyof Scope] === value))
            .map((record) => record.id)
            .sort();
          assert.deepEqual(
            (await collect(store.list({ scope }))).map((record) => record.id),
            expected,
            `records left in scope ${JSON.stringify(scope)}`,
          );
          assert.equal((await store.get({ scope, ids: everyId })).length, expected.length, `get in scope ${JSON.stringify(scope)}`);
        }
      });

      // The suite's versions of the next two cases need `eq`; these use the native range operators.
      it('query: topK counts only records matching a native range filter and the scope', async () => {
        const store = use();
        const query = [1, 0, 0, 0, 0, 0, 0, 0];
        // 30 records very close to the query fail the filter; 5 farther ones pass it; 5 more pass it in another scope.
        const close = Array.from({ length: 30 }, (_, n) => ({
          ...bulkRecord(n, { userId: 'u1' }),
          vector: [1, 0.001 * (n + 1), 0, 0, 0, 0, 0, 0],
          metadata: { rank: 1 },
        }));
        const passing = Array.from({ length: 5 }, (_, n) => ({
          ...bulkRecord(100 + n, { userId: 'u1' }),
          vector: [0.5, 0.5 + 0.01 * n, 0, 0, 0, 0, 0, 0],
          metadata: { rank: 9 },
        }));
        const elsewhere = Array.from({ length: 5 }, (_, n) => ({
          ...bulkRecord(200 + n, { userId: 'u2' }),
          vector: query,
          metadata: { rank: 9 },
        }));
        await store.upsert({ records: [...close, ...passing, ...elsewhere] });
        const matches = await store.query({
          scope: { userId: 'u1' },
          vector: query,
          topK: 3,
          filter: { op: 'gte', field: 'rank', value: 5 },
        });
        assert.deepEqual(
          matches.map((match) => match.record.id),
          passing.slice(0, 3).map((record) => record.id),
        );
      });

      it('list: the after cursor and a native range filter combine', async () => {
        const store = use();
        const records = Array.from({ length: 30 }, (_, n) => bulkRecord(n, { userId: 'u1' }));
        await store.upsert({ records });
        const listed = await collect(
          store.list({ scope: { userId: 'u1' }, after: records[12]!.id, filter: { op: 'lt', field: 'n', value: 20 } }),
        );
        assert.deepEqual(
          listed.map((record) => record.id),
          records.slice(13, 20).map((record) => record.id),
        );
      });

      it('a native date range filter runs inside Chroma and matches core', async () => {
        const store = use();
        const records = Array.from({ length: 40 }, (_, n) => bulkRecord(n, { userId: 'u1' }));
        await store.upsert({ records });
        const from = records[10]!.occurredAt.getTime();
        const listed = await collect(
          store.list({
            scope: { userId: 'u1' },
            filter: {
              op: 'and',
              filters: [
                { op: 'gte', field: 'occurredAt', value: from },
                { op: 'lt', field: 'n', value: 30 },
              ],
            },
          }),
        );
        assert.deepEqual(
          listed.map((record) => record.id),
          records.slice(10, 30).map((record) => record.id),
        );
      });
    },
  },
);
