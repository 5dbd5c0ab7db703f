import { MemError } from '@mem/core/adapter';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PostgresAdvisoryLocks } from './postgres-locks';
import { migrate } from './postgres-migrations';

const url = inject('postgresUrl');
const skip = inject('postgresSkip');

describe.skipIf(skip !== '')(`PostgresAdvisoryLocks and migrate on a real PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const pools: pg.Pool[] = [];
  const pool = (max = 4) => {
    const created = new pg.Pool({ connectionString: url, max });
    created.on('error', () => undefined); // a test kills a backend on purpose
    pools.push(created);
    return created;
  };
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = pool(2);
    await admin.query('CREATE TABLE IF NOT EXISTS lock_counter (key text PRIMARY KEY, value integer NOT NULL)');
  });
  afterAll(async () => {
    await Promise.all(pools.map((item) => item.end()));
  });

  it('writers on separate pools (as separate processes) never interleave inside one key: no lost read-modify-write', async () => {
    await admin.query("INSERT INTO lock_counter VALUES ('a', 0), ('b', 0) ON CONFLICT (key) DO UPDATE SET value = 0");
    const lockSets = [pool(), pool(), pool()].map((item) => ({ pool: item, locks: new PostgresAdvisoryLocks(item, 'test') }));
    const increment = async (index: number) => {
      const { pool: own, locks } = lockSets[index % lockSets.length]!;
      const key = index % 2 === 0 ? 'a' : 'b';
      await locks.run([`scope:${key}`], async () => {
        const read = await own.query<{ value: number }>('SELECT value FROM lock_counter WHERE key = $1', [key]);
        await new Promise((resolve) => setTimeout(resolve, 2));
        await own.query('UPDATE lock_counter SET value = $2 WHERE key = $1', [key, read.rows[0]!.value + 1]);
      });
    };
    await Promise.all(Array.from({ length: 60 }, (_, index) => increment(index)));
    const rows = await admin.query<{ key: string; value: number }>('SELECT key, value FROM lock_counter ORDER BY key');
    expect(rows.rows).toEqual([
      { key: 'a', value: 30 },
      { key: 'b', value: 30 },
    ]);
  });

  it('a key held past the timeout gives CONFLICT and runs nothing; a holder whose connection dies releases its keys', async () => {
    const holderPool = pool(2);
    const holder = new PostgresAdvisoryLocks(holderPool, 'test');
    const waiter = new PostgresAdvisoryLocks(pool(2), 'test', 200);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const holding = new Promise<void>((resolve) => (started = resolve));
    const run = holder.run(['record:x'], async () => {
      started();
      await held;
    });
    await holding;
    let ran = false;
    await expect(waiter.run(['record:x'], async () => (ran = true))).rejects.toSatisfy((error: unknown) => MemError.is(error, 'CONFLICT'));
    expect(ran).toBe(false);
    // The holder's backend is killed (as when its process dies): the key is free at once.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid IS NOT NULL AND granted");
    await expect(new PostgresAdvisoryLocks(pool(2), 'test', 5_000).run(['record:x'], async () => 'free')).resolves.toBe('free');
    release();
    await run.catch(() => undefined);
  });

  it('two processes migrating one component at once apply each step exactly once', async () => {
    const statements = ['CREATE TABLE migrated_once (id integer PRIMARY KEY)', 'INSERT INTO migrated_once VALUES (1)'];
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        migrate(pool(2), { schema: 'public', component: 'test:once', migrations: [{ version: 1, description: 'test', statements }] }),
      ),
    );
    expect(results.filter((result) => result.applied)).toHaveLength(1);
    expect((await admin.query('SELECT count(*)::int AS count FROM migrated_once')).rows[0]?.count).toBe(1);
    await expect(migrate(admin, { schema: 'public', component: 'test:once', migrations: [] })).rejects.toSatisfy(
      (error: unknown) => MemError.is(error, 'CONFLICT') && /version 1/.test((error as Error).message),
    );
  });
});
