import { describe, expect, it } from 'vitest';
import { InMemoryVectorStore } from '../builtin/in-memory-vector-store';
import type { VectorStore } from '../contract/interfaces';
import type { MemoryRecord } from '../contract/types';
import { tracedVectorStore } from './traced-parts';

describe('tracedVectorStore', () => {
  it("keeps a store's optional queryAny and findByHash (core takes the faster add path through them), and adds none the store lacks", async () => {
    const base = new InMemoryVectorStore();
    const calls: string[] = [];
    const withExtras: VectorStore = Object.assign(Object.create(base) as VectorStore, {
      queryAny: async () => {
        calls.push('queryAny');
        return [];
      },
      findByHash: async () => {
        calls.push('findByHash');
        return [] as MemoryRecord[];
      },
    });
    const traced = tracedVectorStore(withExtras);
    const scope = { userId: 'u' };
    expect(await traced.queryAny!({ scope, vectors: [[1, 0]], topK: 3 })).toEqual([]);
    expect(await traced.findByHash!({ scope, hashes: ['h'] })).toEqual([]);
    expect(calls).toEqual(['queryAny', 'findByHash']);
    const plain = tracedVectorStore(base);
    expect(plain.queryAny).toBeUndefined();
    expect(plain.findByHash).toBeUndefined();
  });
});
