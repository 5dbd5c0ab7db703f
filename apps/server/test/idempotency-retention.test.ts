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
    const env = {
      MEM_DB: join(dir, 'retention.db'),
      MEM_PORT: '0',
      MEM_API_KEYS: JSON.stringify([{ id: 'tenant', key: KEY, userIds: ['u'] }]),
      MEM_IDEMPOTENCY_RETENTION_MS: '50',
    };
    const lines: string[] = [];
    const add = (url: string, text: string) =>
      fetch(`${url}/v1/memories`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': 'order-1' },
        body: JSON.stringify({ messages: text, scope: { userId: 'u' } }),
      });
    const first = await startServer({ env, log: 'silent' });
    try {
      expect((await add(first.url, 'I like tea')).status).toBe(200);
      // Within the retention the same key with another body is a reused key.
      expect((await add(first.url, 'I like coffee')).status).toBe(422);
      await new Promise((resolve) => setTimeout(resolve, 120));
      // Past it the key is free again.
      expect((await add(first.url, 'I like coffee')).status).toBe(200);
    } finally {
      await first.server.shutdown();
    }
    await new Promise((resolve) => setTimeout(resolve, 120));
    const second = await startServer({ env, log: { write: (line: string) => lines.push(line) } });
    try {
      const starting = lines
        .map((line) => JSON.parse(line) as { msg?: string; idempotencyKeysPurged?: number })
        .find((line) => line.msg === 'starting');
      expect(starting?.idempotencyKeysPurged).toBe(1);
    } finally {
      await second.server.shutdown();
    }
  });
});
