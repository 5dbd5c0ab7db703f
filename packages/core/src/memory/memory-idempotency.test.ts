import { describe, expect, it } from 'vitest';
import { defineHistoryStoreCapabilities } from '../contract/capabilities';
import { MemError, ProviderRequestError } from '../contract/errors';
import type { HistoryStore } from '../contract/interfaces';
import type { Call, ChatMessage, MemoryRecord } from '../contract/types';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory } from '../index';
import { KeyedMutex } from '../store/locks';
import { HashEmbedder, ScriptedLLM, type ScriptStep } from '../testing';

const alice = { userId: 'alice' };
const T0 = Date.parse('2024-05-08T10:00:00Z');
const HOUR = 3_600_000;

const ops = (...texts: string[]) => ({ json: { operations: texts.map((text) => ({ op: 'ADD', id: null, text })) } });

/** A memory on in-memory stores, with a scripted model and a clock the test moves. */
function setup(
  script: ScriptStep[] = [],
  options: { retentionMs?: number; historyStore?: HistoryStore; vectorStore?: InMemoryVectorStore } = {},
) {
  const llm = new ScriptedLLM(script);
  const clock = { now: T0 };
  const vectorStore = options.vectorStore ?? new InMemoryVectorStore();
  const historyStore = options.historyStore ?? new InMemoryHistoryStore();
  const memory = new Memory({
    llm,
    embedder: new HashEmbedder({ dimensions: 32 }),
    vectorStore,
    historyStore,
    now: () => new Date(clock.now),
    ...(options.retentionMs === undefined ? {} : { idempotency: { retentionMs: options.retentionMs } }),
  });
  return { memory, llm, clock, vectorStore, historyStore };
}

async function texts(memory: Memory, scope = alice): Promise<string[]> {
  return (await memory.getAll({ scope })).results.map((item) => item.text).sort();
}

async function rejection(action: Promise<unknown>): Promise<MemError> {
  try {
    await action;
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** An in-memory history store whose locks are shared by every Memory on it: what a database gives processes. */
class SharedLockHistoryStore extends InMemoryHistoryStore {
  override readonly capabilities = defineHistoryStoreCapabilities({ writeLocks: 'database', idempotencyRecords: true });
  private readonly shared = new KeyedMutex();
  override async lock<T>(request: Call<{ keys: readonly string[] }>, work: () => Promise<T>): Promise<T> {
    return this.shared.runAll(request.keys, work);
  }
}

describe('idempotent adds', () => {
  it('a retry with the same key returns the first result (same events, ids, memories, usage) and writes nothing', async () => {
    const { memory, llm, clock } = setup([ops('Is vegetarian', 'Lives in Lisbon')]);
    const first = await memory.add('I am vegetarian and live in Lisbon', { scope: alice, idempotencyKey: 'request-1' });
    expect(first.events.map((event) => event.kind)).toEqual(['ADD', 'ADD']);
    clock.now = T0 + 60_000;
    const retry = await memory.add('I am vegetarian and live in Lisbon', { scope: alice, idempotencyKey: 'request-1' });
    expect(retry).toEqual(first);
    expect(retry.memories[0]!.createdAt).toBeInstanceOf(Date);
    expect(llm.requests).toHaveLength(1);
    expect(await texts(memory)).toEqual(['Is vegetarian', 'Lives in Lisbon']);
    for (const event of first.events) expect((await memory.history(event.id, { scope: alice })).map((item) => item.kind)).toEqual(['ADD']);
  });

  it('without inference too: a second add of the same text with the key returns the ADD, not a NONE', async () => {
    const { memory } = setup();
    const first = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' });
    const retry = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' });
    expect(retry.events).toEqual([{ kind: 'ADD', id: first.events[0]!.id, text: 'Plays cello' }]);
    const plain = await memory.add('Plays cello', { scope: alice, infer: false });
    expect(plain.events[0]!.kind).toBe('NONE');
  });

  it('20 concurrent calls with one key run the add once: one model call, one set of memories, 20 identical results', async () => {
    let calls = 0;
    const { memory, llm } = setup([
      async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return JSON.stringify(ops('Owns a dog').json);
      },
    ]);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => memory.add('I have a dog', { scope: alice, idempotencyKey: 'concurrent' })),
    );
    expect(calls).toBe(1);
    expect(llm.requests).toHaveLength(1);
    for (const result of results) expect(result).toEqual(results[0]);
    expect(await texts(memory)).toEqual(['Owns a dog']);
  });

  it('two Memory instances (as two processes) planning at once: the key is checked again under the scope lock, one writes', async () => {
    const vectorStore = new InMemoryVectorStore();
    const historyStore = new SharedLockHistoryStore();
    let planned = 0;
    let bothPlanned!: () => void;
    const gate = new Promise<void>((resolve) => (bothPlanned = resolve));
    // Each instance answers with another text: had both written, two memories would be stored.
    const step = (text: string) => async () => {
      if (++planned === 2) bothPlanned();
      await gate;
      return JSON.stringify(ops(text).json);
    };
    const one = setup([step('Owns a dog')], { vectorStore, historyStore });
    const two = setup([step('Has a dog')], { vectorStore, historyStore });
    const [first, second] = await Promise.all([
      one.memory.add('I have a dog', { scope: alice, idempotencyKey: 'across' }),
      two.memory.add('I have a dog', { scope: alice, idempotencyKey: 'across' }),
    ]);
    expect(second).toEqual(first);
    expect(await texts(one.memory)).toHaveLength(1);
    expect(await texts(one.memory)).toEqual([first.events[0]!.text]);
  });

  it('the same key with another request in the same scope is refused with IdempotencyKeyReusedError naming the field; nothing is written', async () => {
    const { memory, llm } = setup([ops('Is vegetarian')]);
    await memory.add('I am vegetarian', { scope: alice, idempotencyKey: 'k1' });
    for (const options of [
      { message: 'I am vegan', extra: {} },
      { message: 'I am vegetarian', extra: { metadata: { source: 'chat' } } },
      { message: 'I am vegetarian', extra: { infer: false } },
      { message: 'I am vegetarian', extra: { occurredAt: new Date(T0 - HOUR) } },
      { message: 'I am vegetarian', extra: { expiresAt: new Date(T0 + HOUR) } },
      { message: 'I am vegetarian', extra: { prompt: 'Remember diets only.' } },
      { message: 'I am vegetarian', extra: { memoryType: 'procedural' as const } },
      { message: 'I am vegetarian', extra: { categories: [{ name: 'food' }] } },
    ]) {
      const error = await rejection(memory.add(options.message, { scope: alice, idempotencyKey: 'k1', ...options.extra }));
      expect(error.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(error.name).toBe('IdempotencyKeyReusedError');
      expect((error as { field?: string }).field).toBe('options.idempotencyKey');
      expect(error.message).toContain('options.idempotencyKey');
    }
    expect(llm.requests).toHaveLength(1);
    expect(await texts(memory)).toEqual(['Is vegetarian']);
  });

  it('a procedural run with tool calls: a retry is the same request, other tool calls are another', async () => {
    const { memory, llm } = setup([{ json: { summary: 'Ran search(q=tea): 3 results' } }]);
    const run = (query: string) => [
      { role: 'user' as const, content: 'Find tea shops' },
      { role: 'assistant' as const, content: '', toolCalls: [{ id: 'c1', name: 'search', arguments: { q: query } }] },
      { role: 'tool' as const, toolCallId: 'c1', content: '3 results' },
    ];
    const first = await memory.add(run('tea'), { scope: alice, memoryType: 'procedural', idempotencyKey: 'run-1' });
    expect(await memory.add(run('tea'), { scope: alice, memoryType: 'procedural', idempotencyKey: 'run-1' })).toEqual(first);
    const error = await rejection(memory.add(run('coffee'), { scope: alice, memoryType: 'procedural', idempotencyKey: 'run-1' }));
    expect(error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(llm.requests).toHaveLength(1);
  });

  it('a run with content parts: a retry (content null or parts alike) is the same request, another image or another tool result is another', async () => {
    const { memory, llm } = setup([{ json: { summary: 'Took a screenshot of the status page: all green' } }]);
    const run = (image: string, result = 'saved') =>
      [
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'Check the status page' },
            { type: 'image_url' as const, image_url: { url: image } },
          ],
        },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'screenshot' }] },
        { role: 'tool' as const, toolCallId: 'c1', content: result },
      ] as unknown as ChatMessage[];
    const options = { scope: alice, memoryType: 'procedural' as const, idempotencyKey: 'run-2' };
    const first = await memory.add(run('https://example.com/a.png'), options);
    expect(await memory.add(run('https://example.com/a.png'), options)).toEqual(first);
    for (const other of [run('https://example.com/b.png'), run('https://example.com/a.png', 'failed')]) {
      expect((await rejection(memory.add(other, options))).code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    expect(llm.requests).toHaveLength(1);
  });

  it('metadata in another key order, and occurredAt left to a moving clock, are the same request', async () => {
    const { memory, clock } = setup();
    const first = await memory.add('Likes tea', { scope: alice, infer: false, idempotencyKey: 'k', metadata: { a: 1, b: 'x' } });
    clock.now = T0 + 5_000;
    expect(await memory.add('Likes tea', { scope: alice, infer: false, idempotencyKey: 'k', metadata: { b: 'x', a: 1 } })).toEqual(first);
  });

  it('the same key in another scope is independent', async () => {
    const { memory } = setup();
    const bob = { userId: 'bob' };
    const narrower = { userId: 'alice', agentId: 'planner' };
    const forAlice = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'shared' });
    const forBob = await memory.add('Plays piano', { scope: bob, infer: false, idempotencyKey: 'shared' });
    const forAgent = await memory.add('Plays drums', { scope: narrower, infer: false, idempotencyKey: 'shared' });
    expect(forBob.events[0]!.id).not.toBe(forAlice.events[0]!.id);
    expect(forAgent.events[0]!.id).not.toBe(forAlice.events[0]!.id);
    expect(await texts(memory, bob)).toEqual(['Plays piano']);
    expect(await texts(memory, narrower)).toEqual(['Plays drums']);
  });

  it('bad keys are InvalidInputError naming options.idempotencyKey; nothing runs or is written', async () => {
    const { memory, llm } = setup([ops('Never stored')]);
    for (const key of ['', 'x'.repeat(256), 'line\nbreak', '\u0000', '\uD800', 42, null, ['k'], { key: 'k' }]) {
      const error = await rejection(memory.add('I am vegetarian', { scope: alice, idempotencyKey: key as string }));
      expect(error.code).toBe('INVALID_INPUT');
      expect((error as { field?: string }).field).toBe('options.idempotencyKey');
    }
    const longest = 'k'.repeat(255);
    await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: longest });
    expect(llm.requests).toHaveLength(0);
    expect(await texts(memory)).toEqual(['Plays cello']);
  });

  it('a call that fails records nothing: the retry runs again and its result is the one kept', async () => {
    const { memory, llm, vectorStore } = setup([ops('Owns a dog'), ops('Owns a dog')]);
    const upsert = vectorStore.upsert.bind(vectorStore);
    let fail = true;
    vectorStore.upsert = async (request: Call<{ records: readonly MemoryRecord[] }>) => {
      if (fail) throw new ProviderRequestError({ provider: 'flaky', operation: 'upsert', status: 503, message: 'unavailable' });
      return upsert(request);
    };
    expect((await rejection(memory.add('I have a dog', { scope: alice, idempotencyKey: 'retry-me' }))).code).toBe(
      'PROVIDER_REQUEST_FAILED',
    );
    expect(await texts(memory)).toEqual([]);
    fail = false;
    const second = await memory.add('I have a dog', { scope: alice, idempotencyKey: 'retry-me' });
    expect(second.events.map((event) => event.kind)).toEqual(['ADD']);
    expect(await memory.add('I have a dog', { scope: alice, idempotencyKey: 'retry-me' })).toEqual(second);
    expect(llm.requests).toHaveLength(2);
  });

  it('keys are kept for retentionMs: after it the key is free again, and purgeIdempotencyKeys deletes expired ones', async () => {
    const { memory, clock, historyStore } = setup([], { retentionMs: HOUR });
    const first = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' });
    await memory.add('Plays piano', { scope: alice, infer: false, idempotencyKey: 'other' });
    clock.now = T0 + HOUR - 1;
    expect(await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' })).toEqual(first);
    expect(await memory.purgeIdempotencyKeys()).toEqual({ purged: 0 });
    clock.now = T0 + HOUR;
    // Expired: the add runs again (the text is stored already, so it is a NONE this time).
    const again = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' });
    expect(again.events.map((event) => event.kind)).toEqual(['NONE']);
    // The new record of 'k' is live; the record of 'other' has expired.
    expect(await memory.purgeIdempotencyKeys()).toEqual({ purged: 1 });
    expect(await historyStore.getIdempotencyRecord!({ scope: alice, key: 'other', now: new Date(T0) })).toBeNull();
    expect(await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' })).toEqual(again);
  });

  it('idempotency.retentionMs is checked when the Memory is built', () => {
    for (const retentionMs of [0, -1, 1.5, Number.NaN, '1000', 367 * 24 * HOUR]) {
      expect(() => setup([], { retentionMs: retentionMs as number })).toThrow(/options\.idempotency\.retentionMs/);
    }
  });

  it('a history store without idempotency records: the key is refused with UnsupportedCapabilityError naming the stores to use', async () => {
    class PlainHistoryStore extends InMemoryHistoryStore {
      override readonly capabilities = defineHistoryStoreCapabilities({ writeLocks: 'process' });
    }
    const { memory, llm } = setup([ops('Never stored')], { historyStore: new PlainHistoryStore() });
    const error = await rejection(memory.add('I am vegetarian', { scope: alice, idempotencyKey: 'k' }));
    expect(error.code).toBe('UNSUPPORTED_CAPABILITY');
    expect(error.message).toContain('idempotencyKey');
    expect(error.message).toContain('SqliteHistoryStore');
    expect(llm.requests).toHaveLength(0);
    expect(await texts(memory)).toEqual([]);
    await expect(memory.purgeIdempotencyKeys()).rejects.toMatchObject({ code: 'UNSUPPORTED_CAPABILITY' });
    // Without a key it adds as before.
    await memory.add('Plays cello', { scope: alice, infer: false });
    expect(await texts(memory)).toEqual(['Plays cello']);
  });

  it('a stored record of another scope, or a result the store changed, is PROVIDER_RESPONSE_INVALID, never a leak', async () => {
    class LeakyHistoryStore extends InMemoryHistoryStore {
      mode: 'scope' | 'result' = 'scope';
      override async getIdempotencyRecord(request: Parameters<InMemoryHistoryStore['getIdempotencyRecord']>[0]) {
        const record = await super.getIdempotencyRecord({ ...request, scope: alice });
        if (!record) return null;
        return this.mode === 'scope' ? record : { ...record, scope: request.scope, result: '{"format":1,"result":{}}' };
      }
    }
    const historyStore = new LeakyHistoryStore();
    const { memory } = setup([], { historyStore });
    await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k' });
    const error = await rejection(memory.add('Plays cello', { scope: { userId: 'bob' }, infer: false, idempotencyKey: 'k' }));
    expect(error.code).toBe('PROVIDER_RESPONSE_INVALID');
    historyStore.mode = 'result';
    expect((await rejection(memory.add('Plays cello', { scope: { userId: 'bob' }, infer: false, idempotencyKey: 'k' }))).code).toBe(
      'PROVIDER_RESPONSE_INVALID',
    );
  });

  it('the record is stored by the settle that commits the add (one step), and on its own for an add that wrote nothing', async () => {
    const settles: boolean[] = [];
    const puts: string[] = [];
    class WatchedHistoryStore extends InMemoryHistoryStore {
      override async settle(request: Parameters<InMemoryHistoryStore['settle']>[0]) {
        settles.push(request.idempotencyRecord !== undefined);
        return super.settle(request);
      }
      override async putIdempotencyRecord(request: Parameters<InMemoryHistoryStore['putIdempotencyRecord']>[0]) {
        puts.push(request.record.key);
        return super.putIdempotencyRecord(request);
      }
    }
    const { memory } = setup([], { historyStore: new WatchedHistoryStore() });
    const first = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k1' });
    expect(settles).toEqual([true]);
    expect(puts).toEqual([]);
    expect(await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k1' })).toEqual(first);
    // Already stored: a NONE, no history to commit, so the record is put alone.
    const none = await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k2' });
    expect(none.events.map((event) => event.kind)).toEqual(['NONE']);
    expect(puts).toEqual(['k2']);
    expect(await memory.add('Plays cello', { scope: alice, infer: false, idempotencyKey: 'k2' })).toEqual(none);
  });

  it('a process that dies before the settle leaves no record: after recover() the retry runs again, and the stored text is a NONE, not a duplicate', async () => {
    class DyingHistoryStore extends InMemoryHistoryStore {
      dead = false;
      override async settle(request: Parameters<InMemoryHistoryStore['settle']>[0]) {
        if (this.dead) throw new ProviderRequestError({ provider: 'dying', operation: 'settle', message: 'gone' });
        return super.settle(request);
      }
    }
    const historyStore = new DyingHistoryStore();
    const { memory, vectorStore } = setup([], { historyStore });
    historyStore.dead = true;
    await rejection(memory.add('Owns a dog', { scope: alice, infer: false, idempotencyKey: 'k' }));
    historyStore.dead = false;
    const restarted = setup([], { historyStore, vectorStore }).memory;
    expect(await restarted.recover()).toEqual({ committed: 1, discarded: 0, completed: 0 });
    const retry = await restarted.add('Owns a dog', { scope: alice, infer: false, idempotencyKey: 'k' });
    expect(retry.events.map((event) => event.kind)).toEqual(['NONE']);
    expect(await texts(restarted)).toEqual(['Owns a dog']);
  });
});
