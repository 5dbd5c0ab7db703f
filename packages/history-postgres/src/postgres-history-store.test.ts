import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { InMemoryVectorStore, Memory, type MemoryRecord } from '@mem/core';
import { type Call, type HistoryEvent, MemError, uuidv7 } from '@mem/core/adapter';
import { HashEmbedder } from '@mem/core/testing';
import { LockLostError } from '@mem/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PostgresHistoryStore } from './postgres-history-store';

const url = inject('postgresUrl');
const skip = inject('postgresSkip');

function event(memoryId: string, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    id: uuidv7(),
    memoryId,
    kind: 'ADD',
    previousText: null,
    text: 'Likes tea',
    scope: { userId: 'u1' },
    validAt: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, 123)),
    createdAt: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, 456)),
    actor: 'add',
    ...fields,
  };
}

function table(): string {
  return `h_${randomBytes(6).toString('hex')}`;
}

describe.skipIf(skip !== '')(`PostgresHistoryStore on a real PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let admin: pg.Pool;
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await admin.end();
  });

  it('eight stores on separate pools start at once: one layout (version 2: events and idempotency records), every append kept in order', async () => {
    const name = table();
    const stores = Array.from({ length: 8 }, () => new PostgresHistoryStore({ connectionString: url, table: name, maxConnections: 2 }));
    try {
      const memoryId = 'm-1';
      const events = stores.map((_, index) => event(`m-${index}`));
      await Promise.all(stores.map((store, index) => store.append({ events: [events[index]!] })));
      const versions = await admin.query('SELECT version FROM mem_schema_versions WHERE component = $1', [`history:${name}`]);
      assert.deepEqual(versions.rows, [{ version: 2 }]);
      for (const [index, store] of stores.entries()) {
        assert.deepEqual(await store.list({ memoryId: `m-${(index + 1) % stores.length}` }), [events[(index + 1) % stores.length]]);
      }
      // Sequential appends from alternating stores keep their order.
      const chain = Array.from({ length: 10 }, (_, index) => event(memoryId, { kind: 'UPDATE', text: `v${index}`, actor: 'update' }));
      for (const [index, item] of chain.entries()) await stores[index % stores.length]!.append({ events: [item] });
      const listed = await stores[3]!.list({ memoryId });
      assert.deepEqual(
        listed.slice(-10).map((item) => item.text),
        chain.map((item) => item.text),
      );
    } finally {
      await stores[0]!.dropTable();
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('events persist across stores; a stored id still conflicts from another store, and the batch stores nothing', async () => {
    const name = table();
    const first = new PostgresHistoryStore({ connectionString: url, table: name });
    const second = new PostgresHistoryStore({ connectionString: url, table: name });
    try {
      const stored = event('m-1');
      await first.append({ events: [stored] });
      await first.close();
      const fresh = event('m-2');
      await expect(second.append({ events: [fresh, { ...event('m-3'), id: stored.id }] })).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'CONFLICT') && (error as Error).message.includes(stored.id),
      );
      assert.deepEqual(await second.list({ memoryId: 'm-2' }), [], 'no event of the rejected batch was stored');
      assert.deepEqual(await second.list({ memoryId: 'm-1' }), [stored]);
    } finally {
      await second.dropTable();
      await second.close();
    }
  });

  it('text PostgreSQL cannot store (U+0000) is refused with INVALID_INPUT naming the field; nothing is stored', async () => {
    const store = new PostgresHistoryStore({ connectionString: url, table: table() });
    try {
      const cases: [HistoryEvent, string][] = [
        [event('m-1', { text: 'a\u0000b' }), 'events[1].text'],
        [event('m-1', { previousText: '\u0000', kind: 'UPDATE' }), 'events[1].previousText'],
        [event('m-1', { memoryId: 'm\u0000' }), 'events[1].memoryId'],
      ];
      for (const [bad, field] of cases) {
        await expect(store.append({ events: [event('m-1'), bad] })).rejects.toSatisfy(
          (error: unknown) => MemError.is(error, 'INVALID_INPUT') && (error as { field?: string }).field === field,
        );
      }
      assert.deepEqual(await store.list({ memoryId: 'm-1' }), []);
      assert.deepEqual(await store.list({ memoryId: 'm\u0000' }), []);
    } finally {
      await store.dropTable();
      await store.close();
    }
  });

  it("a caller's pool is shared and left open by close(); calls on a closed store fail", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const store = new PostgresHistoryStore({ pool, table: table() });
    try {
      await store.append({ events: [event('m-1')] });
      await store.dropTable();
      await store.close();
      assert.equal((await pool.query('SELECT 1 AS one')).rows[0]?.one, 1, 'the pool is still open');
      await expect(store.list({ memoryId: 'm-1' })).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'PROVIDER_REQUEST_FAILED') && /closed/.test((error as Error).message),
      );
    } finally {
      await pool.end();
    }
  });

  it('settle commits and discards in one statement: a concurrent reader sees both changes or neither', async () => {
    const store = new PostgresHistoryStore({ connectionString: url, table: table(), maxConnections: 4 });
    try {
      const pending = Array.from({ length: 200 }, (_, index) => event(`m-${index % 2}`));
      await store.append({ events: pending, pending: true });
      const commit = pending.filter((_, index) => index % 2 === 0).map((item) => item.id);
      const discard = pending.filter((_, index) => index % 2 === 1).map((item) => item.id);
      const observations: number[][] = [];
      const settling = store.settle({ commit, discard });
      while (observations.length < 20) {
        const [committed, left] = await Promise.all([store.list({ memoryId: 'm-0' }), store.listPending({ limit: 1_000 })]);
        observations.push([committed.length, left.length]);
      }
      await settling;
      assert.deepEqual(await store.list({ memoryId: 'm-1' }), [], 'discarded events are gone');
      assert.equal((await store.list({ memoryId: 'm-0' })).length, 100);
      assert.deepEqual(await store.listPending({ limit: 10 }), []);
      for (const [committed] of observations) assert.ok(committed === 0 || committed === 100, `a reader saw ${committed} of 100 commits`);
    } finally {
      await store.dropTable();
      await store.close();
    }
  });

  it('a table of layout version 1 (before idempotency records) is migrated to version 2, keeping its events', async () => {
    const name = table();
    const first = new PostgresHistoryStore({ connectionString: url, table: name });
    const kept = event('m-1');
    try {
      await first.append({ events: [kept] });
      // What the previous release left: the events table at version 1, no table of idempotency records.
      await admin.query(`DROP TABLE "${name}_idempotency"`);
      await admin.query('UPDATE mem_schema_versions SET version = 1 WHERE component = $1', [`history:${name}`]);
      await first.close();
      const second = new PostgresHistoryStore({ connectionString: url, table: name });
      try {
        assert.deepEqual(await second.list({ memoryId: 'm-1' }), [kept]);
        const versions = await admin.query('SELECT version FROM mem_schema_versions WHERE component = $1', [`history:${name}`]);
        assert.deepEqual(versions.rows, [{ version: 2 }]);
        const record = {
          scope: { userId: 'u1' },
          key: 'retry-1',
          requestHash: 'a'.repeat(64),
          result: '{"format":1}',
          createdAt: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, 1)),
          expiresAt: new Date(Date.UTC(2024, 4, 2, 12, 0, 0, 1)),
        };
        await second.putIdempotencyRecord({ record });
        assert.deepEqual(await second.getIdempotencyRecord({ scope: record.scope, key: 'retry-1', now: record.createdAt }), record);
      } finally {
        await second.dropTable();
        await second.close();
      }
    } finally {
      await first.close();
    }
  });

  it('an add whose lock connection ends during its vector write fails with LockLostError instead of racing the next writer; recover() makes store and history agree', async () => {
    const name = table();
    const tag = `fence_${randomBytes(4).toString('hex')}`;
    const scope = { userId: 'fenced' };
    // Two processes on one database (separate pools), the first one's connections named so the test can find its lock.
    const firstHistory = new PostgresHistoryStore({ connectionString: `${url}?application_name=${tag}`, table: name, maxConnections: 4 });
    const secondHistory = new PostgresHistoryStore({ connectionString: url, table: name, maxConnections: 4 });
    let secondAdd: Promise<string> | undefined;
    let hook: (() => Promise<void>) | undefined;
    class StallingVectorStore extends InMemoryVectorStore {
      override async upsert(request: Call<{ records: readonly MemoryRecord[] }>): Promise<void> {
        const run = hook;
        hook = undefined;
        await run?.();
        return super.upsert(request);
      }
    }
    const vectors = new StallingVectorStore();
    const embedder = new HashEmbedder({ dimensions: 8 });
    const first = new Memory({ embedder, vectorStore: vectors, historyStore: firstHistory });
    const second = new Memory({ embedder, vectorStore: vectors, historyStore: secondHistory });
    try {
      // While the first add writes its vector, its lock connection ends; the second process then
      // takes the scope's lock and adds, before the first add goes on.
      hook = async () => {
        const killed = await admin.query(
          "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1",
          [tag],
        );
        assert.equal(killed.rowCount, 1);
        secondAdd = second.add('the second fact', { scope, infer: false }).then((result) => result.memories[0]!.id);
        await secondAdd;
      };
      const outcome = first.add('the first fact', { scope, infer: false });
      await expect(outcome).rejects.toBeInstanceOf(LockLostError);
      await expect(outcome).rejects.toSatisfy((error: unknown) => MemError.is(error, 'CONFLICT'));
      const secondId = await secondAdd!;
      expect((await second.history(secondId, { scope })).map((item) => item.kind)).toEqual(['ADD']);
      // The first add's event could not be committed: it is pending, for recover().
      expect((await secondHistory.listPending({ limit: 10 })).map((item) => item.text)).toEqual(['the first fact']);
      const report = await second.recover();
      expect(report).toEqual({ committed: 1, discarded: 0, completed: 0 });
      const stored = (await second.getAll({ scope })).results;
      expect(stored.map((item) => item.text).sort()).toEqual(['the first fact', 'the second fact']);
      for (const item of stored) expect((await second.history(item.id, { scope })).map((entry) => entry.kind)).toEqual(['ADD']);
      expect(await secondHistory.listPending({ limit: 10 })).toEqual([]);
    } finally {
      await secondHistory.dropTable();
      await Promise.all([firstHistory.close(), secondHistory.close()]);
    }
  });
});
