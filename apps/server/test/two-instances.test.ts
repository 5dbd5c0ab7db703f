import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// Two server processes (what `pnpm start` runs, from source) on one PostgreSQL database, sent
// concurrent writes for one tenant over loopback, spread over both: distinct adds and updates of
// distinct memories; the same fact added through both at once; updates of one memory with distinct
// metadata keys; and updates of one memory racing its delete. Afterwards every acknowledged write is
// there, once, with one unbroken history chain per memory (the advisory locks of
// @mem/history-postgres coordinate the two processes; see the README's "On PostgreSQL").

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const url = inject('postgresUrl');
const skip = inject('postgresSkip');
const KEY = 'two-instances-key-0123456789abcdef';
const database = `two_instances_${process.pid}`;

interface Instance {
  readonly child: ChildProcess;
  readonly url: string;
}

function start(databaseUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      MEM_PORT: '0',
      MEM_VECTOR_STORE: 'postgres',
      MEM_HISTORY_STORE: 'postgres',
      DATABASE_URL: databaseUrl,
      MEM_API_KEYS: JSON.stringify([{ id: 'tenant', key: KEY, userIds: ['tenant'] }]),
      MEM_RATE_LIMIT_BURST: '1000',
      MEM_RATE_LIMIT_PER_SECOND: '1000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"msg":"listening","url":"([^"]+)"/.exec(output);
      if (match) resolve({ child, url: match[1]! });
    });
    child.on('exit', (code) => reject(new Error(`the server exited with code ${code} before listening:\n${output}`)));
  });
}

async function call<T>(instance: Instance, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${instance.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

interface Item {
  readonly id: string;
  readonly text: string;
  readonly metadata: Record<string, unknown>;
}

interface Event {
  readonly kind: string;
  readonly previousText: string | null;
  readonly text: string | null;
}

async function history(instance: Instance, id: string): Promise<Event[]> {
  const response = await call<{ results: Event[] }>(instance, 'GET', `/v1/history/${id}?userId=tenant`);
  expect(response.status).toBe(200);
  return response.body.results;
}

/** Breaks of one memory's history chain: it starts with its ADD, each event starts from the text the previous left, nothing follows a DELETE. */
function chainBreaks(events: readonly Event[]): string[] {
  const breaks = events[0]?.kind === 'ADD' ? [] : [`the first event is ${events[0]?.kind ?? 'missing'}`];
  for (let index = 1; index < events.length; index++) {
    if (events[index - 1]!.kind === 'DELETE') breaks.push(`event ${index} follows a DELETE`);
    if (events[index]!.kind === 'ADD') breaks.push(`event ${index} is a second ADD`);
    if (events[index]!.previousText !== events[index - 1]!.text) breaks.push(`event ${index} starts from another text`);
  }
  return breaks;
}

async function listAll(instance: Instance): Promise<Item[]> {
  const listed: Item[] = [];
  let cursor: string | undefined;
  do {
    const page = await call<{ results: Item[]; nextCursor?: string }>(
      instance,
      'GET',
      `/v1/memories?userId=tenant&pageSize=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    listed.push(...page.body.results);
    cursor = page.body.nextCursor;
  } while (cursor);
  return listed;
}

describe.skipIf(skip !== '')(`two server instances on one PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let instances: Instance[] = [];
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    const databaseUrl = url.replace(/\/postgres$/, `/${database}`);
    // Both start at once: each creates (or finds) the tables under the migration lock and runs recover().
    instances = await Promise.all([start(databaseUrl), start(databaseUrl)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(
      instances.map(
        (instance) =>
          new Promise<void>((resolve) => {
            instance.child.once('exit', () => resolve());
            instance.child.kill('SIGTERM');
          }),
      ),
    );
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });

  it(
    'concurrent adds and updates for one tenant through both instances: everything acknowledged is there, once, with its history',
    { timeout: 180_000 },
    async () => {
      const scope = {};
      const adds = await Promise.all(
        Array.from({ length: 80 }, (_, n) =>
          call<{ memories: Item[] }>(instances[n % 2]!, 'POST', '/v1/memories', {
            messages: `fact number ${n} from instance ${n % 2}`,
            scope,
            infer: false,
            metadata: { n },
          }),
        ),
      );
      expect(adds.map((response) => response.status)).toEqual(adds.map(() => 200));
      const added = adds.map((response) => response.body.memories[0]!);
      expect(new Set(added.map((item) => item.id)).size).toBe(80);
      // Updates of distinct memories, each sent to the instance that did not add it.
      const updates = await Promise.all(
        added.slice(0, 40).map((item, n) =>
          call<{ memory: Item }>(instances[(n + 1) % 2]!, 'PATCH', `/v1/memories/${item.id}?userId=tenant`, {
            text: `${item.text}, updated`,
            metadata: { updated: true },
          }),
        ),
      );
      expect(updates.map((response) => response.status)).toEqual(updates.map(() => 200));
      // Read back through each instance: every memory once, with its latest text and merged metadata.
      for (const instance of instances) {
        const listed = (await listAll(instance)).filter((item) => typeof item.metadata.n === 'number');
        expect(listed.length).toBe(80);
        const texts = listed.map((item) => item.text);
        expect(new Set(texts).size).toBe(80);
        for (const [n, item] of added.entries()) {
          const stored = listed.find((candidate) => candidate.id === item.id);
          expect(stored?.text).toBe(n < 40 ? `${item.text}, updated` : item.text);
          expect(stored?.metadata).toEqual(n < 40 ? { n, updated: true } : { n });
        }
      }
      for (const [n, item] of added.entries()) {
        const events = await history(instances[n % 2]!, item.id);
        expect(events.map((event) => event.kind)).toEqual(n < 40 ? ['ADD', 'UPDATE'] : ['ADD']);
        expect(chainBreaks(events)).toEqual([]);
      }
    },
  );

  it('the same fact added through both instances at once is stored once, with one ADD', { timeout: 180_000 }, async () => {
    const adds = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        call<{ memories: Item[] }>(instances[n % 2]!, 'POST', '/v1/memories', {
          messages: 'the one fact both instances are told at once',
          scope: {},
          infer: false,
        }),
      ),
    );
    expect(adds.map((response) => response.status)).toEqual(adds.map(() => 200));
    const stored = (await listAll(instances[0]!)).filter((item) => item.text === 'the one fact both instances are told at once');
    expect(stored).toHaveLength(1);
    expect((await history(instances[1]!, stored[0]!.id)).map((event) => event.kind)).toEqual(['ADD']);
  });

  it(
    'updates of one memory with distinct metadata keys through both instances: every key kept, one UPDATE each, one chain',
    { timeout: 180_000 },
    async () => {
      const added = await call<{ memories: Item[] }>(instances[0]!, 'POST', '/v1/memories', {
        messages: 'the memory both instances update',
        scope: {},
        infer: false,
      });
      const id = added.body.memories[0]!.id;
      const updates = await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          call<{ memory: Item }>(instances[n % 2]!, 'PATCH', `/v1/memories/${id}?userId=tenant`, {
            text: `the memory both instances update, version ${n}`,
            metadata: { [`key_${n}`]: n },
          }),
        ),
      );
      expect(updates.map((response) => response.status)).toEqual(updates.map(() => 200));
      const stored = (await listAll(instances[1]!)).find((item) => item.id === id);
      expect(Object.keys(stored?.metadata ?? {}).sort()).toEqual(Array.from({ length: 40 }, (_, n) => `key_${n}`).sort());
      const events = await history(instances[0]!, id);
      expect(events.filter((event) => event.kind === 'UPDATE')).toHaveLength(40);
      expect(chainBreaks(events)).toEqual([]);
      expect(events.at(-1)!.text).toBe(stored!.text);
    },
  );

  it(
    'updates of one memory racing its delete through both instances: each acknowledged or NOT_FOUND, nothing after the DELETE',
    { timeout: 180_000 },
    async () => {
      const added = await call<{ memories: Item[] }>(instances[1]!, 'POST', '/v1/memories', {
        messages: 'the memory one instance deletes while both update it',
        scope: {},
        infer: false,
      });
      const id = added.body.memories[0]!.id;
      const writes = await Promise.all(
        Array.from({ length: 41 }, (_, n) =>
          n === 20
            ? call<{ deleted: boolean }>(instances[0]!, 'DELETE', `/v1/memories/${id}?userId=tenant`)
            : call<{ memory: Item }>(instances[n % 2]!, 'PATCH', `/v1/memories/${id}?userId=tenant`, {
                text: `the memory one instance deletes, version ${n}`,
                metadata: { [`key_${n}`]: n },
              }),
        ),
      );
      expect(writes[20]!.status).toBe(200);
      expect((writes[20]!.body as { deleted: boolean }).deleted).toBe(true);
      const updates = writes.filter((_, n) => n !== 20);
      expect(updates.filter((response) => response.status !== 200 && response.status !== 404)).toEqual([]);
      expect((await listAll(instances[0]!)).find((item) => item.id === id)).toBeUndefined();
      const events = await history(instances[1]!, id);
      expect(chainBreaks(events)).toEqual([]);
      expect(events.at(-1)!.kind).toBe('DELETE');
      expect(events.filter((event) => event.kind === 'UPDATE')).toHaveLength(updates.filter((response) => response.status === 200).length);
    },
  );
});
