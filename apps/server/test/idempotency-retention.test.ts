import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/start';

const dir = mkdtempSync(join(tmpdir(), 'mem-idempotency-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'retention-test-key-0123456789abcdef';

describe('idempotency keys on the server', () => {
  it('are kept for MEM_IDEMPOTENCY_RETENTION_MS, and the expired ones are deleted when the server starts', async () => {
    // Each key keeps the retention it was written with. The clock decides only where the outcome
    // cannot depend on the machine's speed: an hour never passes within the test, 1 ms always has
    // after a 20 ms wait.
    const env = (file: string, retentionMs: number) => ({
      MEM_DB: join(dir, file),
      MEM_PORT: '0',
      MEM_API_KEYS: JSON.stringify([{ id: 'tenant', key: KEY, userIds: ['u'] }]),
      MEM_IDEMPOTENCY_RETENTION_MS: String(retentionMs),
    });
    const lines: string[] = [];
    const add = (url: string, text: string) =>
      fetch(`${url}/v1/memories`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': 'order-1' },
        body: JSON.stringify({ messages: text, scope: { userId: 'u' } }),
      });
    const wait = () => new Promise((resolve) => setTimeout(resolve, 20));

    const kept = await startServer({ env: env('hour.db', 3_600_000), log: 'silent' });
    try {
      const stored = await add(kept.url, 'I like tea');
      expect(stored.status).toBe(200);
      const body = await stored.json();
      // Within the retention a retry answers the first result, and another body is a reused key.
      expect(await (await add(kept.url, 'I like tea')).json()).toEqual(body);
      expect((await add(kept.url, 'I like coffee')).status).toBe(422);
    } finally {
      await kept.server.shutdown();
    }

    const short = await startServer({ env: env('short.db', 1), log: 'silent' });
    try {
      expect((await add(short.url, 'I like tea')).status).toBe(200);
      await wait();
      // Past the retention the key is free again.
      expect((await add(short.url, 'I like coffee')).status).toBe(200);
    } finally {
      await short.server.shutdown();
    }
    await wait();
    const restarted = await startServer({ env: env('short.db', 1), log: { write: (line: string) => lines.push(line) } });
    try {
      const starting = lines
        .map((line) => JSON.parse(line) as { msg?: string; idempotencyKeysPurged?: number })
        .find((line) => line.msg === 'starting');
      expect(starting?.idempotencyKeysPurged).toBe(1);
    } finally {
      await restarted.server.shutdown();
    }
  });
});
