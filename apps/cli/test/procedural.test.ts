import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mem } from './run-cli';

const dir = mkdtempSync(join(tmpdir(), 'mem-cli-procedural-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mem, procedural memories and categories', () => {
  it('add --memory-type procedural --messages: refused without an LLM (exit 2, says why), bad tool calls name the field', async () => {
    const env = { MEM_DB: join(dir, 'procedural.db') };
    const run = JSON.stringify([
      { role: 'user', content: 'Restart the worker' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'shell', arguments: { command: 'systemctl restart worker' } }] },
      { role: 'tool', toolCallId: 'c1', content: 'ok' },
    ]);
    const refused = await mem(['add', run, '--messages', '--memory-type', 'procedural', '--user', 'eve'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('procedural memory is a summary of the run written by an LLM');
    const bad = await mem(['add', '[{"role":"user","content":"x","toolCalls":[{"name":"a"}]}]', '--messages', '--user', 'eve'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('messages[0].toolCalls');
    // Stored as given (no LLM): the tool call only message has no text; the others are stored.
    const stored = JSON.parse((await mem(['add', run, '--messages', '--user', 'eve', '--json'], { env })).stdout);
    expect(stored.events.map((event: { text: string }) => event.text)).toEqual(['Restart the worker', 'ok']);
    expect((await mem(['add', 'x', '--categories', '[{"name":"ops"}]', '--user', 'eve'], { env })).stderr).toContain(
      'categories are assigned at extraction',
    );
  }, 300_000);

  it('export and import keep memoryType and categories; filters find them', async () => {
    const source = { MEM_DB: join(dir, 'source.db') };
    const file = join(dir, 'typed.jsonl');
    const line = (id: string, text: string, extra: Record<string, unknown>) =>
      JSON.stringify({ id, text, scope: { userId: 'eve' }, metadata: {}, createdAt: '2024-05-08T10:00:00.000Z', ...extra });
    writeFileSync(
      file,
      [
        line('01900000-0000-7000-8000-000000000001', 'Deploy: kubectl set image deploy/api api=v2', { memoryType: 'procedural' }),
        line('01900000-0000-7000-8000-000000000002', 'Is vegetarian', { categories: ['food', 'health'] }),
      ].join('\n'),
    );
    expect((await mem(['import', file], { env: source })).code).toBe(0);
    const texts = async (filter: string) =>
      JSON.parse((await mem(['list', '--filter', filter, '--user', 'eve', '--json'], { env: source })).stdout).results.map(
        (item: { text: string }) => item.text,
      );
    expect(await texts('{"memoryType":"procedural"}')).toEqual(['Deploy: kubectl set image deploy/api api=v2']);
    expect(await texts('{"categories":"health"}')).toEqual(['Is vegetarian']);
    const exported = (await mem(['export', '--user', 'eve'], { env: source })).stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text));
    expect(exported.map((item) => [item.memoryType, item.categories, item.metadata])).toEqual([
      ['procedural', undefined, {}],
      [undefined, ['food', 'health'], {}],
    ]);
    writeFileSync(file, line('01900000-0000-7000-8000-000000000003', 'x', { memoryType: 'episodic' }));
    const refused = await mem(['import', file], { env: source });
    expect(refused.stderr).toContain('metadata.memoryType');
  }, 300_000);
});
