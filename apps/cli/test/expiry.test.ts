import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mem } from './run-cli';

const dir = mkdtempSync(join(tmpdir(), 'mem-cli-expiry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mem and expiring memories', () => {
  it('adds with --expires-at, hides expired memories unless --include-expired, exports them, and deletes them with delete --expired', async () => {
    const env = { MEM_DB: join(dir, 'expiry.db') };
    const past = '2001-02-03T04:05:06.789Z';
    const future = '2999-01-01T00:00:00.000Z';
    const gone = JSON.parse((await mem(['add', 'Trial code XK-42', '--user', 'eve', '--expires-at', past, '--json'], { env })).stdout);
    expect(gone.memories[0].expiresAt).toBe(past);
    await mem(['add', 'Conference rate', '--user', 'eve', '--expires-at', future], { env });
    await mem(['add', 'Plays the cello', '--user', 'eve'], { env });
    const texts = async (args: string[]) =>
      JSON.parse((await mem([...args, '--user', 'eve', '--json'], { env })).stdout).results.map((item: { text: string }) => item.text);
    expect(await texts(['list'])).toEqual(['Conference rate', 'Plays the cello']);
    expect(await texts(['list', '--include-expired'])).toEqual(['Trial code XK-42', 'Conference rate', 'Plays the cello']);
    expect(await texts(['search', 'Trial code'])).not.toContain('Trial code XK-42');
    expect(await texts(['search', 'Trial code', '--include-expired'])).toContain('Trial code XK-42');
    expect((await mem(['get', gone.memories[0].id, '--user', 'eve'], { env })).stdout).toContain('expires  2001-02-03');
    expect((await mem(['add', 'x', '--user', 'eve', '--expires-at', 'soon'], { env })).code).toBe(2);

    // An export is a backup: the expired memory goes too, with its expiry, and imports back as it was.
    const lines = (await mem(['export', '--user', 'eve'], { env })).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.expiresAt)).toEqual([past, future, undefined]);
    const target = { MEM_DB: join(dir, 'expiry-target.db') };
    const file = join(dir, 'expiry.jsonl');
    await mem(['export', '--user', 'eve', '-o', file], { env });
    expect((await mem(['import', file], { env: target })).code).toBe(0);
    const restored = (await mem(['export', '--user', 'eve'], { env: target })).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(restored).toEqual(lines);

    const purged = await mem(['delete', '--expired', '--user', 'eve'], { env });
    expect(purged.stdout).toBe('Deleted 1 expired memory.\n');
    expect(await texts(['list', '--include-expired'])).toEqual(['Conference rate', 'Plays the cello']);
    expect((await mem(['delete', '--expired', '--all', '--user', 'eve'], { env })).code).toBe(2);
  }, 300_000); // sixteen CLI processes, each started through tsx
});
