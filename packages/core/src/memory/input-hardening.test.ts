import { describe, expect, it } from 'vitest';
import { parseFilter, validateScope, type ChatMessage, type MemoryRecord, type Scope } from '../adapter';
import { INPUT_LIMITS, InMemoryHistoryStore, InMemoryVectorStore, Memory, MemError } from '../index';
import { HashEmbedder, ScriptedLLM } from '../testing';

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

describe('arrays, limits and ids on every write path (#18)', () => {
  const scope = { userId: 'u1' };
  const setup = () => {
    const vectorStore = new InMemoryVectorStore();
    const historyStore = new InMemoryHistoryStore();
    return {
      vectorStore,
      historyStore,
      memory: new Memory({ embedder: new HashEmbedder(), vectorStore, historyStore, llm: new ScriptedLLM([]) }),
    };
  };
  const record = async (text: string, recordScope: Scope, id: string): Promise<MemoryRecord> => {
    const [vector] = (await new HashEmbedder().embed({ texts: [text] })).vectors;
    const now = new Date('2024-05-08T10:00:00Z');
    return { id, text, hash: '', vector: vector!, scope: recordScope, metadata: {}, createdAt: now, updatedAt: now, occurredAt: now };
  };

  it('a hole in a messages array is INVALID_INPUT naming the index, with or without inference', async () => {
    const { memory } = setup();
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test
    const sparse = [{ role: 'user' as const, content: 'a' }, , { role: 'user' as const, content: 'b' }] as ChatMessage[];
    for (const infer of [true, false]) {
      await expect(memory.add(sparse, { scope, infer })).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'messages[1]' });
    }
    expect((await memory.getAll({ scope })).results).toEqual([]);
  });

  it("a memory's text has one limit, trimmed, on every path: add without inference, update, importRecords", async () => {
    const { memory } = setup();
    const limit = INPUT_LIMITS.maxMemoryTextLength;
    await expect(memory.add('L'.repeat(limit + 1), { scope, infer: false })).rejects.toMatchObject({ field: 'messages' });
    await expect(
      memory.add([{ role: 'user', content: 'L'.repeat(limit - 3), name: 'Ana' }], { scope, infer: false }),
    ).rejects.toMatchObject({
      field: 'messages[0].content',
    });
    const stored = await memory.add(`  ${'L'.repeat(limit)}  `, { scope, infer: false });
    const id = stored.events[0]!.id;
    // What one path stored, the others accept as it is.
    await memory.update(id, stored.events[0]!.text, { scope });
    await expect(memory.update(id, 'L'.repeat(limit + 1), { scope })).rejects.toMatchObject({ field: 'change.text' });
    await expect(memory.importRecords([await record('L'.repeat(limit + 1), scope, 'imported')])).rejects.toMatchObject({
      field: 'records[0].text',
    });
  });

  it('metadata merged into a memory keeps the limits (update and an UPDATE of add)', async () => {
    const { memory } = setup();
    const keys = (prefix: string, count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, index]));
    const { events } = await memory.add('Likes tea', { scope, infer: false, metadata: keys('a', 40) });
    await expect(memory.update(events[0]!.id, { metadata: keys('b', 30) }, { scope })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'change.metadata',
      message: expect.stringMatching(/70 keys once merged with the 40 keys the memory holds, more than 64/),
    });
    expect((await memory.get(events[0]!.id, { scope }))!.metadata).toEqual(keys('a', 40));
  });

  it("importRecords refuses an id of another scope's memory (another user's, a narrower scope's) and a repeated id, writing nothing", async () => {
    const { memory, vectorStore } = setup();
    const bob = (await memory.add('Bob keeps a secret', { scope: { userId: 'bob' }, infer: false })).events[0]!.id;
    const narrow = (await memory.add('Narrow fact', { scope: { userId: 'u1', agentId: 'a1' }, infer: false })).events[0]!.id;
    for (const id of [bob, narrow]) {
      await expect(memory.importRecords([await record('Imported over it', scope, id)])).rejects.toMatchObject({
        code: 'CONFLICT',
        field: 'records[0].id',
      });
    }
    const twice = [await record('One', scope, 'same-id'), await record('Two', { userId: 'bob' }, 'same-id')];
    await expect(memory.importRecords(twice)).rejects.toMatchObject({ field: 'records[1].id' });
    expect((await vectorStore.get({ scope: { userId: 'bob' }, ids: [bob] }))[0]!.text).toBe('Bob keeps a secret');
    expect((await vectorStore.get({ scope: { userId: 'u1', agentId: 'a1' }, ids: [narrow] }))[0]!.scope).toEqual({
      userId: 'u1',
      agentId: 'a1',
    });
    // The same scope's own id is replaced, as before.
    await memory.importRecords([await record('Narrow fact, restored', { userId: 'u1', agentId: 'a1' }, narrow)]);
  });
});
