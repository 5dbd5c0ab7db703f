import { describe, expect, it } from 'vitest';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, MemError, ProviderRequestError, type MemoryRecord, type Scope } from '../index';
import { HashEmbedder } from '../testing';
import type { Call } from '../contract/types';

// The history store is the write-ahead log: a change is logged as pending, the vector store is
// written, the events are committed. These tests cut the sequence at each point (a failing vector
// store, a history store that cannot settle, i.e. a process that died) and check that the history
// and the store agree afterwards, at once or after recover().

const alice: Scope = { userId: 'alice' };

/** A vector store whose writes can be made to fail, or to fail after they happened. */
class FlakyVectorStore extends InMemoryVectorStore {
  failUpserts = 0;
  failUpsertsAfterWriting = 0;
  failDeletes = 0;
  override async upsert(request: Call<{ records: readonly MemoryRecord[] }>): Promise<void> {
    if (this.failUpserts > 0 && this.failUpserts--)
      throw new ProviderRequestError({ provider: 'flaky', operation: 'upsert', status: 503, message: 'unavailable' });
    await super.upsert(request);
    if (this.failUpsertsAfterWriting > 0 && this.failUpsertsAfterWriting--)
      throw new ProviderRequestError({ provider: 'flaky', operation: 'upsert', message: 'the answer was lost' });
  }
  override async delete(request: Parameters<InMemoryVectorStore['delete']>[0]): Promise<void> {
    if (this.failDeletes > 0 && this.failDeletes--)
      throw new ProviderRequestError({ provider: 'flaky', operation: 'delete', status: 503, message: 'unavailable' });
    await super.delete(request);
  }
}

/** A history store that loses its connection before it can settle: what a killed process leaves behind. */
class DyingHistoryStore extends InMemoryHistoryStore {
  dead = false;
  override async settle(request: Parameters<InMemoryHistoryStore['settle']>[0]): Promise<void> {
    if (this.dead) throw new ProviderRequestError({ provider: 'dying', operation: 'settle', message: 'gone' });
    await super.settle(request);
  }
}

function setup() {
  const vectorStore = new FlakyVectorStore();
  const historyStore = new DyingHistoryStore();
  const memory = new Memory({ embedder: new HashEmbedder(), vectorStore, historyStore });
  return { vectorStore, historyStore, memory };
}

async function rejects(action: Promise<unknown>): Promise<MemError> {
  try {
    await action;
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('history as the write-ahead log', () => {
  it('a vector write that fails leaves no history of the change and nothing pending', async () => {
    const { vectorStore, historyStore, memory } = setup();
    const kept = (await memory.add('Likes tea', { scope: alice, infer: false })).events[0]!.id;
    vectorStore.failUpserts = 1;
    expect((await rejects(memory.add('Plays cello', { scope: alice, infer: false }))).code).toBe('PROVIDER_REQUEST_FAILED');
    vectorStore.failUpserts = 1;
    await rejects(memory.update(kept, 'Likes green tea', { scope: alice }));
    vectorStore.failDeletes = 1;
    await rejects(memory.delete(kept, { scope: alice }));
    expect((await memory.history(kept, { scope: alice })).map((event) => event.kind)).toEqual(['ADD']);
    expect((await memory.get(kept, { scope: alice }))?.text).toBe('Likes tea');
    expect(await historyStore.listPending({ limit: 10 })).toEqual([]);
    expect((await memory.getAll({ scope: alice })).results.map((item) => item.text)).toEqual(['Likes tea']);
  });

  it('a vector write that happened but reported a failure is committed to the history', async () => {
    const { vectorStore, historyStore, memory } = setup();
    vectorStore.failUpsertsAfterWriting = 1;
    await rejects(memory.add('Plays cello', { scope: alice, infer: false }));
    const [stored] = (await memory.getAll({ scope: alice })).results;
    expect((await memory.history(stored!.id, { scope: alice })).map((event) => [event.kind, event.text])).toEqual([['ADD', 'Plays cello']]);
    expect(await historyStore.listPending({ limit: 10 })).toEqual([]);
  });

  it('recover() after a crash between the history and the vector write: ADD and UPDATE dropped, DELETE finished', async () => {
    const { vectorStore, historyStore, memory } = setup();
    const tea = (await memory.add('Likes tea', { scope: alice, infer: false })).events[0]!.id;
    const cello = (await memory.add('Plays cello', { scope: alice, infer: false })).events[0]!.id;
    // The process "dies": writes fail and the log cannot be settled.
    historyStore.dead = true;
    vectorStore.failUpserts = 2;
    vectorStore.failDeletes = 1;
    await rejects(memory.add('Owns a dog', { scope: alice, infer: false }));
    await rejects(memory.update(tea, 'Likes green tea', { scope: alice }));
    await rejects(memory.delete(cello, { scope: alice }));
    expect(await historyStore.listPending({ limit: 10 })).toHaveLength(3);

    historyStore.dead = false;
    const restarted = new Memory({ embedder: new HashEmbedder(), vectorStore, historyStore });
    expect(await restarted.recover()).toEqual({ committed: 0, discarded: 2, completed: 1 });
    expect((await restarted.getAll({ scope: alice })).results.map((item) => item.text)).toEqual(['Likes tea']);
    expect((await restarted.history(tea, { scope: alice })).map((event) => event.kind)).toEqual(['ADD']);
    expect((await restarted.history(cello, { scope: alice })).map((event) => event.kind)).toEqual(['ADD', 'DELETE']);
    expect(await historyStore.listPending({ limit: 10 })).toEqual([]);
    expect(await restarted.recover()).toEqual({ committed: 0, discarded: 0, completed: 0 });
  });

  it('recover() after a crash between the vector write and the commit keeps the change', async () => {
    const { historyStore, memory, vectorStore } = setup();
    const tea = (await memory.add('Likes tea', { scope: alice, infer: false })).events[0]!.id;
    historyStore.dead = true;
    await rejects(memory.add('Owns a dog', { scope: alice, infer: false }));
    await rejects(memory.update(tea, { text: 'Likes green tea', metadata: { strength: 'mild' } }, { scope: alice }));
    historyStore.dead = false;
    const restarted = new Memory({ embedder: new HashEmbedder(), vectorStore, historyStore });
    expect(await restarted.recover()).toEqual({ committed: 2, discarded: 0, completed: 0 });
    const items = (await restarted.getAll({ scope: alice })).results;
    expect(items.map((item) => item.text).sort()).toEqual(['Likes green tea', 'Owns a dog']);
    for (const item of items) expect((await restarted.history(item.id, { scope: alice })).at(-1)?.text).toBe(item.text);
  });

  it('recover() leaves the changes this instance has in flight alone', async () => {
    const { historyStore, memory, vectorStore } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const upsert = vectorStore.upsert.bind(vectorStore);
    vectorStore.upsert = async (request) => {
      await gate;
      return upsert(request);
    };
    const adding = memory.add('Owns a dog', { scope: alice, infer: false });
    while ((await historyStore.listPending({ limit: 10 })).length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await memory.recover()).toEqual({ committed: 0, discarded: 0, completed: 0 });
    release();
    const { events } = await adding;
    expect((await memory.history(events[0]!.id, { scope: alice })).map((event) => event.kind)).toEqual(['ADD']);
  });
});
