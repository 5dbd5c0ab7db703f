import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mem } from './run-cli';

const dir = mkdtempSync(join(tmpdir(), 'mem-cli-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mem add --image', () => {
  it('sends the images as content parts: without an LLM the text is stored and the images are noted; a bad file is a usage error', async () => {
    const env = { MEM_DB: join(dir, 'images.db') };
    const png = join(dir, 'rex.png');
    writeFileSync(
      png,
      Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'),
    );
    const added = await mem(['add', 'My dog Rex', '--image', png, '--image', 'https://example.com/rex.jpg', '--user', 'eve', '--json'], {
      env,
    });
    expect(added.code).toBe(0);
    const result = JSON.parse(added.stdout);
    expect(result.events.map((event: { text: string }) => event.text)).toEqual(['My dog Rex']);
    expect(result.notes).toEqual([
      expect.objectContaining({
        code: 'IMAGES_DROPPED',
        reason: 'infer_false',
        parts: ['messages[0].content[1]', 'messages[0].content[2]'],
      }),
    ]);
    const plain = await mem(['add', 'Rex likes the beach', '--image', png, '--user', 'eve'], { env });
    expect(plain.stderr).toContain('Note: 1 image was left out (the text was kept): infer: false');
    const bmp = await mem(['add', 'x', '--image', join(dir, 'rex.bmp'), '--user', 'eve'], { env });
    expect(bmp.code).toBe(2);
    expect(bmp.stderr).toContain('--image');
  }, 120_000);

  it('--messages takes content parts (and content null beside toolCalls); --image with --messages is a usage error naming --image, nothing stored', async () => {
    const env = { MEM_DB: join(dir, 'messages.db') };
    const messages = JSON.stringify([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Rex at the beach' },
          { type: 'image_url', image_url: { url: 'https://example.com/rex.jpg' } },
        ],
      },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'save_photo' }] },
    ]);
    const added = await mem(['add', messages, '--messages', '--user', 'eve', '--json'], { env });
    expect(added.code).toBe(0);
    const result = JSON.parse(added.stdout);
    expect(result.events.map((event: { text: string }) => event.text)).toEqual(['Rex at the beach']);
    expect(result.notes).toEqual([expect.objectContaining({ reason: 'infer_false', parts: ['messages[0].content[1]'] })]);
    const both = await mem(['add', messages, '--messages', '--image', 'https://example.com/a.jpg', '--user', 'eve', '--json'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--image');
    expect(both.stderr).toContain('--messages');
    const listed = JSON.parse((await mem(['list', '--user', 'eve', '--json'], { env })).stdout);
    expect(listed.results).toHaveLength(1);
  }, 120_000);
});
