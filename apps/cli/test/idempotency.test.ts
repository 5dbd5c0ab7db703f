import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mem } from './run-cli';

const dir = mkdtempSync(join(tmpdir(), 'mem-cli-idempotency-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mem add --idempotency-key', () => {
  it('a retry with the same key prints the first result and stores nothing; another text with the key, or a bad key, exits 2', async () => {
    const env = { MEM_DB: join(dir, 'idempotency.db') };
    const add = (text: string, key: string) => mem(['add', text, '--user', 'eve', '--idempotency-key', key, '--json'], { env });
    const first = await add('Keeps bees', 'retry-1');
    expect(first.code).toBe(0);
    // A second process (each mem call is one) gets the first result from the database.
    const retry = await add('Keeps bees', 'retry-1');
    expect(JSON.parse(retry.stdout)).toEqual(JSON.parse(first.stdout));
    expect(JSON.parse(first.stdout).events[0].kind).toBe('ADD');
    const listed = JSON.parse((await mem(['list', '--user', 'eve', '--json'], { env })).stdout);
    expect(listed.results ?? listed).toHaveLength(1);
    const reused = await add('Keeps wasps', 'retry-1');
    expect(reused.code).toBe(2);
    expect(reused.stderr).toContain('idempotencyKey');
    const bad = await add('Keeps ants', 'x'.repeat(256));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('idempotencyKey');
  });
});
