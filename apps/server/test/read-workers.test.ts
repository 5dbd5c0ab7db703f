import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, MemError, type SearchOptions } from '@mem/core';
import { createMemoryFromConfig, loadConfig, type ConfiguredMemory } from '@mem/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorResponse } from '../src/http-errors';
import { createLogger } from '../src/logger';
import { ReadPool } from '../src/read-pool';
import { startServer, type StartedServer } from '../src/start';

const dir = mkdtempSync(join(tmpdir(), 'mem-read-workers-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };
const TOPICS = ['green tea', 'jazz records', 'mountain hikes', 'Portuguese lessons', 'sourdough bread', 'chess openings'];

/** A file with two users' memories, written on the main thread as the server does. */
async function seeded(name: string): Promise<{ configured: ConfiguredMemory; logs: string[]; pool: ReadPool }> {
  const config = loadConfig({ env: { MEM_DB: join(dir, `${name}.db`) } });
  const configured = await createMemoryFromConfig(config);
  for (const [scope, count] of [
    [alice, 60],
    [bob, 40],
  ] as const) {
    for (let start = 0; start < count; start += 20) {
      const messages = Array.from({ length: 20 }, (_, offset) => {
        const index = start + offset;
        return { role: 'user' as const, content: `${scope.userId} enjoys ${TOPICS[index % TOPICS.length]} (note ${index})` };
      });
      await configured.memory.add(messages, { scope, infer: false, metadata: { batch: start / 20, owner: scope.userId } });
    }
  }
  const logs: string[] = [];
  const pool = ReadPool.start({ memory: configured.memory, config, logger: createLogger({ write: (line) => logs.push(line) }), size: 2 });
  // The first search runs on the main thread (it creates the tables a read-only connection cannot)
  // and starts the workers.
  expect(pool.threads).toEqual([]);
  await pool.search('warm up', { scope: alice });
  expect(pool.counts).toEqual({ workers: 0, mainThread: 1 });
  expect(pool.threads.length).toBe(2);
  await pool.ready();
  return { configured, logs, pool };
}

describe('searches in worker threads (MEM_READ_WORKERS)', () => {
  let configured: ConfiguredMemory;
  let pool: ReadPool;
  let logs: string[];

  beforeAll(async () => {
    ({ configured, pool, logs } = await seeded('shared'));
  });
  afterAll(async () => {
    await pool?.close();
    await configured?.close();
  });

  it('return exactly what the main thread returns, for every kind of search', async () => {
    const searches: [string, SearchOptions][] = [
      ['green tea', { scope: alice }],
      ['who enjoys jazz records?', { scope: alice, limit: 3 }],
      ['sourdough bread', { scope: bob, limit: 25 }],
      ['chess', { scope: alice, filter: { batch: { $gte: 1 } } }],
      ['Portuguese', { scope: alice, filter: { $or: [{ batch: 0 }, { owner: 'nobody' }] }, limit: 5 }],
      ['mountain hikes', { scope: alice, keyword: false }],
      ['mountain hikes', { scope: alice, threshold: 0.3 }],
      ['nothing in common zzz', { scope: bob }],
      ['green tea', { scope: { userId: 'nobody' } }],
    ];
    const before = pool.counts.workers;
    for (const [query, options] of searches) {
      const inWorker = await pool.search(query, options);
      const onMain = await configured.memory.search(query, options);
      expect(inWorker).toEqual(onMain);
    }
    expect(pool.counts.workers - before).toBe(searches.length);
    // The fixture is not trivially empty: searches found memories.
    expect((await pool.search('green tea', { scope: alice })).results.length).toBeGreaterThan(0);
  });

  it('see every add acknowledged before the search was sent, and every delete (read-your-writes across the pool)', async () => {
    for (let round = 0; round < 12; round++) {
      const text = `Alice adopted a parrot named Kiwi${round}`;
      const { events } = await configured.memory.add(text, { scope: alice, infer: false });
      const id = events[0]!.id;
      // Several at once, so both workers answer.
      const found = await Promise.all([0, 1, 2].map(() => pool.search(`parrot Kiwi${round}`, { scope: alice, limit: 3 })));
      for (const response of found) expect(response.results.map((item) => item.id)).toContain(id);
      await configured.memory.delete(id, { scope: alice });
      const gone = await Promise.all([0, 1].map(() => pool.search(`parrot Kiwi${round}`, { scope: alice, limit: 3 })));
      for (const response of gone) expect(response.results.map((item) => item.id)).not.toContain(id);
    }
  });

  it('never return another user’s memories, with both users searching at once', async () => {
    const calls = Array.from({ length: 24 }, (_, index) => {
      const scope = index % 2 === 0 ? alice : bob;
      return pool
        .search(`${scope.userId === 'alice' ? 'bob' : 'alice'} enjoys ${TOPICS[index % TOPICS.length]}`, { scope, limit: 50 })
        .then((response) => ({ scope, response }));
    });
    for (const { scope, response } of await Promise.all(calls)) {
      expect(response.results.length).toBeGreaterThan(0);
      for (const item of response.results) {
        expect(item.scope).toEqual(scope);
        expect(item.text.startsWith(`${scope.userId} `)).toBe(true);
      }
    }
  });

  it('fail with the same typed errors as the main thread', async () => {
    const cases: [string, SearchOptions][] = [
      ['tea', { scope: alice, filter: { batch: { $regex: 'x' } } as never }],
      ['tea', { scope: alice, limit: 0 }],
      ['tea', { scope: {} }],
      ['tea', { scope: alice, rerank: true }],
    ];
    for (const [query, options] of cases) {
      const inWorker = await pool.search(query, options).catch((error: unknown) => error);
      const onMain = await configured.memory.search(query, options).catch((error: unknown) => error);
      expect(MemError.is(onMain)).toBe(true);
      expect(inWorker).toBeInstanceOf((onMain as object).constructor);
      expect(inWorker).toMatchObject({
        name: (onMain as MemError).name,
        code: (onMain as MemError).code,
        message: (onMain as MemError).message,
      });
      if (onMain instanceof InvalidInputError) expect((inWorker as InvalidInputError).field).toBe(onMain.field);
    }
    const aborted = new AbortController();
    aborted.abort();
    const error = await pool.search('tea', { scope: alice, signal: aborted.signal }).catch((caught: unknown) => caught);
    expect(MemError.is(error, 'ABORTED')).toBe(true);
    expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});

describe('a search worker that dies', () => {
  it('fails the searches it held (not a MemError: the server answers 500), is replaced, and nothing hangs', async () => {
    const { configured, pool, logs } = await seeded('crash');
    try {
      const [first] = pool.threads;
      const threadId = first!.threadId;
      // Both workers are idle, so the search goes to the first; it dies before it can answer.
      const search = pool.search('green tea', { scope: alice });
      await first!.terminate();
      const error = await search.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(Error);
      expect(MemError.is(error)).toBe(false);
      expect((error as Error).message).toContain('search worker stopped');
      expect(toErrorResponse(error, 'request-1')).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL' } } });
      expect(pool.size).toBe(2);
      expect(pool.threads.map((thread) => thread.threadId)).not.toContain(threadId);
      await pool.ready();
      const again = await Promise.all([0, 1, 2, 3].map(() => pool.search('green tea', { scope: alice })));
      for (const response of again) expect(response).toEqual(await configured.memory.search('green tea', { scope: alice }));
      expect(logs.some((line) => line.includes('search worker stopped; starting another'))).toBe(true);
    } finally {
      await pool.close();
      await configured.close();
    }
  });
});

describe('search workers that cannot open the database', () => {
  it('leave every search on the main thread, say so once in the log, and stop', async () => {
    const config = loadConfig({ env: { MEM_DB: join(dir, 'unopenable.db') } });
    const configured = await createMemoryFromConfig(config);
    const logs: string[] = [];
    // The workers are given a file that is not there: a read-only connection cannot create it.
    const pool = ReadPool.start({
      memory: configured.memory,
      config: { ...config, db: join(dir, 'no-such-folder', 'mem.db') },
      logger: createLogger({ write: (line) => logs.push(line) }),
      size: 2,
    });
    try {
      await configured.memory.add('Erin keeps bees', { scope: { userId: 'erin' }, infer: false });
      await pool.search('bees', { scope: { userId: 'erin' } });
      const threads = [...pool.threads];
      await Promise.all(
        threads.map((thread) => (thread.threadId === -1 ? undefined : new Promise((resolve) => thread.once('exit', resolve)))),
      );
      for (let round = 0; round < 3; round++) {
        const { results } = await pool.search('bees', { scope: { userId: 'erin' } });
        expect(results.map((item) => item.text)).toEqual(['Erin keeps bees']);
      }
      expect(pool.counts).toEqual({ workers: 0, mainThread: 4 });
      const refused = logs.filter((line) => line.includes('could not open the database read-only'));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toContain('"errorCode":"INVALID_INPUT"');
    } finally {
      await pool.close();
      await configured.close();
    }
  });
});

describe('the server with search workers', () => {
  const key = 'read-workers-key-0123456789';
  let started: StartedServer;
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${started.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    started = await startServer({
      env: {
        MEM_DB: join(dir, 'server.db'),
        MEM_PORT: '0',
        MEM_READ_WORKERS: '2',
        MEM_API_KEYS: JSON.stringify([{ id: 'tester', key, userIds: ['carol', 'dave'] }]),
      },
      log: 'silent',
    });
  });

  it('answers searches from the workers over HTTP (the first on the main thread) and closes them on shutdown', async () => {
    for (const [userId, text] of [
      ['carol', 'Carol grows tomatoes on her balcony'],
      ['dave', 'Dave grows tomatoes in a greenhouse'],
    ] as const) {
      expect((await call('/v1/memories', { messages: text, scope: { userId } })).status).toBe(200);
    }
    // The first search runs on the main thread and starts the workers; once they are ready, the rest run in them.
    const pool = started.readPool!;
    for (let round = 0; round < 4; round++) {
      const found = await call('/v1/search', { query: 'tomatoes', scope: { userId: 'carol' } });
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect(found.body.results.map((item: { text: string }) => item.text)).toEqual(['Carol grows tomatoes on her balcony']);
      if (round === 0) await pool.ready();
    }
    expect(pool.size).toBe(2);
    expect(pool.counts.mainThread).toBe(1);
    expect(pool.counts.workers).toBe(3);
    const threads = [...pool.threads];
    const exited = threads.map((thread) => new Promise((resolve) => thread.once('exit', resolve)));
    await started.server.shutdown();
    await Promise.all(exited);
    expect(threads.map((thread) => thread.threadId)).toEqual([-1, -1]);
    const after = await fetch(`${started.url}/healthz`).catch((error: unknown) => error);
    expect(after).toBeInstanceOf(Error);
  });
});
