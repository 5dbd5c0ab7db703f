import { describe, expect, it } from 'vitest';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, type Embedder, type VectorStore } from '../index';
import { HashEmbedder } from '../testing';

// Regressions of #18: adapter results are read against the contract before core uses them. The
// generated class (every method, every shape) is packages/hardening/src/adapter-results.test.ts.

const scope = { userId: 'u1' };

function embedderReturning(result: unknown): Embedder {
  return { provider: 'custom-embedder', model: 'custom', embed: async () => result as never };
}

describe('adapter results', () => {
  it.each([
    [null, /expected \{ vectors, tokens \}, got null/],
    [{ vectors: [[0.1, 0.2]] }, /tokens is not a number/],
    [{ vectors: [[0.1, Number.NaN]], tokens: 1 }, /vectors\[0\]\[1\] is number, not a finite number/],
    [{ vectors: [], tokens: 1 }, /expected 1 vectors, got 0/],
  ])('an embedder returning %j fails add and search with PROVIDER_RESPONSE_INVALID naming it', async (result, problem) => {
    const memory = new Memory({
      embedder: embedderReturning(result),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
    });
    for (const call of [() => memory.add('Likes tea', { scope, infer: false }), () => memory.search('tea', { scope })]) {
      const error = await call().catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ code: 'PROVIDER_RESPONSE_INVALID', provider: 'custom-embedder', operation: 'embed' });
      expect((error as Error).message).toMatch(problem);
    }
  });

  it('a vector store returning a record of another scope is refused, never shown: the error names the store', async () => {
    const store = new InMemoryVectorStore();
    const memory = new Memory({ embedder: new HashEmbedder(), vectorStore: store, historyStore: new InMemoryHistoryStore() });
    await memory.add('Likes tea', { scope: { userId: 'bob' }, infer: false });
    // A store that ignores the scope of its reads.
    const blind: VectorStore = Object.assign(Object.create(store) as VectorStore, {
      query: (request: Parameters<VectorStore['query']>[0]) => store.query({ ...request, scope: { userId: 'bob' } }),
    });
    const leaky = new Memory({ embedder: new HashEmbedder(), vectorStore: blind, historyStore: new InMemoryHistoryStore() });
    await expect(leaky.search('tea', { scope: { userId: 'alice' } })).rejects.toMatchObject({
      code: 'PROVIDER_RESPONSE_INVALID',
      provider: 'in-memory',
      operation: 'query',
      message: expect.stringMatching(/outside the scope of the call/),
    });
  });
});
