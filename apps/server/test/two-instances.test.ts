import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// Two server processes (what `pnpm start` runs, from source) on one PostgreSQL database, sent
// concurrent writes for one tenant over loopback: 80 distinct adds and 40 updates of distinct
// memories, spread over both. Afterwards every acknowledged write is there, once, with its history.
// (Writes of the same fact or the same memory through both instances at once are not coordinated
// across processes yet; see the README's "On PostgreSQL".)

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
        const history = await call<{ results: { kind: string; previousText: string | null; text: string | null }[] }>(
          instances[n % 2]!,
          'GET',
          `/v1/history/${item.id}?userId=tenant`,
        );
        const expected = n < 40 ? ['ADD', 'UPDATE'] : ['ADD'];
        expect(history.body.results.map((event) => event.kind)).toEqual(expected);
        if (n < 40) expect(history.body.results[1]!.previousText).toBe(history.body.results[0]!.text);
      }
    },
  );
});
