import { MemError } from '@mem/core/adapter';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LockLostError, PostgresAdvisoryLocks } from './postgres-locks';
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

  it('a holder whose connection ends mid-work cannot commit: its fenced writes fail with LockLostError while the next holder goes on', async () => {
    await admin.query('CREATE TABLE IF NOT EXISTS fenced_writes (writer text NOT NULL)');
    await admin.query('TRUNCATE fenced_writes');
    const holder = new PostgresAdvisoryLocks(pool(2), 'fence');
    const next = new PostgresAdvisoryLocks(pool(2), 'fence', 5_000);
    const write = (locks: PostgresAdvisoryLocks, writer: string) =>
      locks.transaction((client) => client.query('INSERT INTO fenced_writes VALUES ($1)', [writer]));
    let nextRan = false;
    const outcome = holder.run(['scope:s'], async () => {
      await write(holder, 'holder, before');
      const pid = (await holder.transaction((client) => client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))).rows[0]!.pid;
      // The holder's session ends (a network failure, a restart, an administrator) while its work goes on.
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // Another process takes the key as soon as the server has released it, and writes.
      await next.run(['scope:s'], async () => {
        nextRan = true;
        await write(next, 'next');
      });
      // The first holder's write now races nothing: it is refused.
      await write(holder, 'holder, after');
    });
    await expect(outcome).rejects.toBeInstanceOf(LockLostError);
    await expect(outcome).rejects.toSatisfy((error: unknown) => MemError.is(error, 'CONFLICT'));
    expect(nextRan).toBe(true);
    const rows = await admin.query<{ writer: string }>('SELECT writer FROM fenced_writes');
    expect(rows.rows.map((row) => row.writer).sort()).toEqual(['holder, before', 'next']);
    // Outside a run, transaction() uses the pool.
    await write(holder, 'unlocked');
    expect((await admin.query('SELECT count(*)::int AS count FROM fenced_writes')).rows[0]?.count).toBe(3);
  });

  it('a fenced transaction in flight when the connection ends is rolled back and fails with LockLostError', async () => {
    await admin.query('CREATE TABLE IF NOT EXISTS fenced_writes (writer text NOT NULL)');
    await admin.query('TRUNCATE fenced_writes');
    const holder = new PostgresAdvisoryLocks(pool(2), 'fence');
    const outcome = holder.run(['scope:t'], () =>
      holder.transaction(async (client) => {
        const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await client.query("INSERT INTO fenced_writes VALUES ('in flight')");
        await Promise.all([client.query('SELECT pg_sleep(10)'), admin.query('SELECT pg_terminate_backend($1)', [pid])]);
      }),
    );
    await expect(outcome).rejects.toBeInstanceOf(LockLostError);
    expect((await admin.query('SELECT count(*)::int AS count FROM fenced_writes')).rows[0]?.count).toBe(0);
    await expect(new PostgresAdvisoryLocks(pool(2), 'fence', 5_000).run(['scope:t'], async () => 'free')).resolves.toBe('free');
  });

  it('a run nested in another takes its keys on the same connection, releases them after, and is refused once that connection is lost', async () => {
    const own = pool(4);
    const locks = new PostgresAdvisoryLocks(own, 'nested');
    const holders = async () =>
      (
        await admin.query<{ pids: number }>(
          "SELECT count(DISTINCT pid)::int AS pids FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND (classid::bigint << 32 | objid::bigint) = ANY($1::bigint[])",
          [[locks.lockId('scope:n'), locks.lockId('record:n1')].map((id) => BigInt.asUintN(64, BigInt(id)).toString())],
        )
      ).rows[0]!.pids;
    let inside = -1;
    await locks.run(['scope:n'], async () => {
      await locks.run(['record:n1'], async () => {
        inside = await holders();
      });
      // The nested key is free again for other sessions while the outer key is still held.
      await expect(new PostgresAdvisoryLocks(pool(2), 'nested', 2_000).run(['record:n1'], async () => 'free')).resolves.toBe('free');
    });
    expect(inside).toBe(1);
    const lost = locks.run(['scope:n'], async () => {
      const pid = (await locks.transaction((client) => client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))).rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return locks.run(['record:n2'], async () => 'ran');
    });
    await expect(lost).rejects.toBeInstanceOf(LockLostError);
  });

  it('a transaction a task starts after its run has ended goes to the pool, not to the released connection', async () => {
    await admin.query('CREATE TABLE IF NOT EXISTS fenced_writes (writer text NOT NULL)');
    await admin.query('TRUNCATE fenced_writes');
    const own = pool(2);
    const locks = new PostgresAdvisoryLocks(own, 'late');
    let start!: () => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    let late: Promise<unknown> | undefined;
    const holder = await locks.run(['scope:late'], async () => {
      late = started.then(() => locks.transaction((client) => client.query("INSERT INTO fenced_writes VALUES ('late')")));
      return (await locks.transaction((client) => client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))).rows[0]!.pid;
    });
    // The released connection is someone else's now, inside a transaction that will roll back.
    const other = await own.connect();
    expect((await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).toBe(holder);
    await other.query('BEGIN');
    await other.query("INSERT INTO fenced_writes VALUES ('other, rolled back')");
    start();
    await late;
    await other.query('ROLLBACK');
    other.release();
    // Had the late transaction used the released connection, its COMMIT would have committed the other's row too.
    expect((await admin.query<{ writer: string }>('SELECT writer FROM fenced_writes')).rows.map((row) => row.writer)).toEqual(['late']);
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
