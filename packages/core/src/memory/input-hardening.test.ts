import { describe, expect, it } from 'vitest';
import { parseFilter, validateScope } from '../adapter';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, MemError } from '../index';
import { HashEmbedder } from '../testing';

// Regressions found by packages/hardening (input limits).

function rejection(action: () => unknown): MemError & { field?: string } {
  try {
    action();
  } catch (error) {
    if (MemError.is(error)) return error as MemError & { field?: string };
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('hostile input', () => {
  it('a scope id holding a lone surrogate is rejected, naming the field (stores would turn it into U+FFFD and merge scopes)', () => {
    expect(rejection(() => validateScope({ userId: '\uD800' }, 'options.scope'))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.scope.userId',
    });
    expect(rejection(() => validateScope({ userId: 'u1', runId: 'run \uDC00' }))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'scope.runId',
    });
    expect(validateScope({ userId: 'emoji 😀 ok' })).toEqual({ userId: 'emoji 😀 ok' });
  });

  it('metadata key "__proto__" is rejected instead of vanishing, and nothing is written', async () => {
    const vectorStore = new InMemoryVectorStore();
    const memory = new Memory({ embedder: new HashEmbedder(), vectorStore, historyStore: new InMemoryHistoryStore() });
    const metadata = JSON.parse('{"__proto__": ["admin"], "ok": 1}') as Record<string, string[]>;
    await expect(memory.add('Likes tea', { scope: { userId: 'u1' }, infer: false, metadata })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.metadata.__proto__',
    });
    expect((await memory.getAll({ scope: { userId: 'u1' } })).results).toEqual([]);
  });

  it('metadata larger than 64 KiB of JSON in all is rejected, though every key is within its own limit', async () => {
    const memory = new Memory({
      embedder: new HashEmbedder(),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
    });
    const metadata = Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`k${index}`, 'x'.repeat(8_000)]));
    await expect(memory.add('Likes tea', { scope: { userId: 'u1' }, infer: false, metadata })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.metadata',
    });
    await memory.add('Likes tea', { scope: { userId: 'u1' }, infer: false, metadata: { k: 'x'.repeat(8_000) } });
  });

  it('a filter on "__proto__" is rejected', () => {
    expect(rejection(() => parseFilter(JSON.parse('{"__proto__": {"$eq": 1}}')))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'filter.__proto__',
    });
  });
});
