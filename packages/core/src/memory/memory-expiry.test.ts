import { describe, expect, it } from 'vitest';
import { defineVectorStoreCapabilities } from '../contract/capabilities';
import { MemError } from '../contract/errors';
import type { Filter } from '../contract/filter';
import { EXPIRES_AT_KEY } from '../contract/types';
import { InMemoryHistoryStore, InMemoryVectorStore, INPUT_LIMITS, Memory } from '../index';
import { HashEmbedder, ScriptedLLM, type ScriptStep } from '../testing';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };
const T0 = Date.parse('2024-05-08T10:00:00Z');
const HOUR = 3_600_000;

/** A memory whose clock the test moves (`clock.now`), on in-memory stores. */
function setup(script: ScriptStep[] = [], vectorStore = new InMemoryVectorStore()) {
  const llm = new ScriptedLLM(script);
  const clock = { now: T0 };
  const memory = new Memory({
    llm,
    embedder: new HashEmbedder({ dimensions: 32 }),
    vectorStore,
    historyStore: new InMemoryHistoryStore(),
    now: () => new Date(clock.now),
  });
  return { memory, llm, clock, vectorStore };
}

const ops = (...operations: { op: string; id?: string | null; text?: string | null }[]) => ({
  json: { operations: operations.map((operation) => ({ id: null, text: null, ...operation })) },
});

async function listed(memory: Memory, options: { includeExpired?: boolean } = {}) {
  return (await memory.getAll({ scope: alice, ...options })).results.map((item) => item.text).sort();
}

async function found(memory: Memory, query: string, options: { includeExpired?: boolean } = {}) {
  return (await memory.search(query, { scope: alice, ...options })).results.map((item) => item.text).sort();
}

describe('expiring memories', () => {
  it('hides a memory from search and getAll once expiresAt passes, unless includeExpired; get still returns it', async () => {
    const { memory, clock } = setup();
    const expiresAt = new Date(T0 + HOUR);
    const trial = await memory.add('Pro trial until tonight', { scope: alice, infer: false, expiresAt });
    await memory.add('Is vegetarian', { scope: alice, infer: false });
    const id = trial.events[0]!.id;
    expect(trial.memories[0]).toMatchObject({ text: 'Pro trial until tonight', expiresAt, metadata: {} });

    // Before the expiry (and at the last millisecond before it), both are visible.
    clock.now = T0 + HOUR - 1;
    expect(await listed(memory)).toEqual(['Is vegetarian', 'Pro trial until tonight']);
    expect(await found(memory, 'Pro trial')).toEqual(['Is vegetarian', 'Pro trial until tonight']);

    // From expiresAt on, it is hidden.
    clock.now = T0 + HOUR;
    expect(await listed(memory)).toEqual(['Is vegetarian']);
    expect(await found(memory, 'Pro trial')).toEqual(['Is vegetarian']);
    expect(await listed(memory, { includeExpired: true })).toEqual(['Is vegetarian', 'Pro trial until tonight']);
    expect(await found(memory, 'Pro trial', { includeExpired: true })).toEqual(['Is vegetarian', 'Pro trial until tonight']);
    expect(await memory.get(id, { scope: alice })).toMatchObject({ text: 'Pro trial until tonight', expiresAt });
  });

  it('keeps the expiry out of user metadata and refuses it as a metadata key', async () => {
    const { memory, vectorStore } = setup();
    const result = await memory.add('Coupon code SPRING', {
      scope: alice,
      infer: false,
      metadata: { category: 'shopping' },
      expiresAt: '2024-06-01T00:00:00Z',
    });
    expect(result.memories[0]!.metadata).toEqual({ category: 'shopping' });
    // Stored as epoch milliseconds under the reserved key, which every store filters like any metadata.
    const [record] = await vectorStore.get({ scope: alice, ids: [result.events[0]!.id] });
    expect(record!.metadata).toEqual({ category: 'shopping', [EXPIRES_AT_KEY]: Date.parse('2024-06-01T00:00:00Z') });
    await expect(memory.add('x', { scope: alice, infer: false, metadata: { expiresAt: 1 } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.metadata.expiresAt',
    });
    await expect(memory.update(result.events[0]!.id, { metadata: { expiresAt: 1 } }, { scope: alice })).rejects.toMatchObject({
      field: 'change.metadata.expiresAt',
    });
  });

  it('rejects a bad expiresAt naming the field, before anything is written', async () => {
    const { memory } = setup();
    for (const expiresAt of ['next tuesday', Number.NaN, new Date('x'), 253_402_300_800_000, {} as unknown as Date]) {
      const error = await memory.add('x', { scope: alice, infer: false, expiresAt }).catch((caught: unknown) => caught);
      expect(MemError.is(error, 'INVALID_INPUT')).toBe(true);
      expect(error).toMatchObject({ field: 'options.expiresAt' });
    }
    await expect(memory.getAll({ scope: alice, includeExpired: 'yes' as unknown as boolean })).rejects.toMatchObject({
      field: 'options.includeExpired',
    });
    expect(await listed(memory, { includeExpired: true })).toEqual([]);
  });

  it('update sets, moves and clears the expiry (null), keeping text and metadata', async () => {
    const { memory, clock } = setup();
    const { events } = await memory.add('Parking permit B12', { scope: alice, infer: false, metadata: { kind: 'permit' } });
    const id = events[0]!.id;
    const soon = new Date(T0 + HOUR);
    const { memory: updated } = await memory.update(id, { expiresAt: soon }, { scope: alice });
    expect(updated).toMatchObject({ text: 'Parking permit B12', metadata: { kind: 'permit' }, expiresAt: soon });
    clock.now = T0 + 2 * HOUR;
    expect(await listed(memory)).toEqual([]);
    // An expired memory can still be updated by id: clearing the expiry brings it back.
    const { memory: cleared } = await memory.update(id, { expiresAt: null }, { scope: alice });
    expect(cleared.expiresAt).toBeUndefined();
    expect(await listed(memory)).toEqual(['Parking permit B12']);
    // A text change alone keeps the expiry.
    await memory.update(id, { expiresAt: T0 + 3 * HOUR }, { scope: alice });
    const { memory: renamed } = await memory.update(id, 'Parking permit B14', { scope: alice });
    expect(renamed.expiresAt).toEqual(new Date(T0 + 3 * HOUR));
    const history = await memory.history(id, { scope: alice });
    expect(history.map((event) => event.kind)).toEqual(['ADD', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE']);
  });

  it('the expiry mem keeps in metadata does not count against the metadata limits of a later update', async () => {
    const { memory } = setup();
    const full = Object.fromEntries(Array.from({ length: INPUT_LIMITS.maxMetadataKeys }, (_, index) => [`k${index}`, index]));
    const { events } = await memory.add('Parking permit B12', { scope: alice, infer: false, metadata: full, expiresAt: T0 + HOUR });
    const id = events[0]!.id;
    const { memory: updated } = await memory.update(id, { metadata: { k0: 'changed' } }, { scope: alice });
    expect(updated.metadata).toMatchObject({ k0: 'changed', k63: 63 });
    expect(updated.expiresAt).toEqual(new Date(T0 + HOUR));
    // A key of the caller's own past the limit is still refused, naming the field, and nothing changes.
    await expect(memory.update(id, { metadata: { extra: 1 } }, { scope: alice })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'change.metadata',
    });
    expect((await memory.get(id, { scope: alice }))?.metadata).not.toHaveProperty('extra');
  });

  it('purgeExpired deletes the expired memories of the scope only, with DELETE history, in one call', async () => {
    const { memory, clock } = setup();
    const expired: string[] = [];
    for (let index = 0; index < 25; index += 1) {
      const result = await memory.add(`Offer ${index}`, { scope: alice, infer: false, expiresAt: T0 + HOUR });
      expired.push(result.events[0]!.id);
    }
    await memory.add('Offer for later', { scope: alice, infer: false, expiresAt: T0 + 10 * HOUR });
    await memory.add('Is vegetarian', { scope: alice, infer: false });
    await memory.add('Bob offer', { scope: bob, infer: false, expiresAt: T0 + HOUR });
    clock.now = T0 + 2 * HOUR;
    expect(await memory.purgeExpired({ scope: alice })).toEqual({ deleted: 25 });
    expect(await listed(memory, { includeExpired: true })).toEqual(['Is vegetarian', 'Offer for later']);
    expect(await memory.get(expired[0]!, { scope: alice })).toBeNull();
    expect((await memory.history(expired[0]!, { scope: alice })).map((event) => [event.kind, event.actor])).toEqual([
      ['ADD', 'add'],
      ['DELETE', 'deleteAll'],
    ]);
    // Bob's expired memory is his to purge.
    expect((await memory.getAll({ scope: bob, includeExpired: true })).results).toHaveLength(1);
    expect(await memory.purgeExpired({ scope: alice })).toEqual({ deleted: 0 });
  });

  it('add: expired memories are not shown to the LLM, a restated fact is stored again, and expiresAt reaches created and updated memories', async () => {
    const { memory, llm, clock } = setup([ops({ op: 'ADD', text: 'Has a Pro trial' })]);
    await memory.add('I started a Pro trial', { scope: alice, expiresAt: T0 + HOUR });
    clock.now = T0 + 2 * HOUR;
    llm.push(ops({ op: 'ADD', text: 'Has a Pro trial' }, { op: 'ADD', text: 'Lives in Porto' }));
    const second = await memory.add('I have a Pro trial again, and I live in Porto', { scope: alice, expiresAt: T0 + 5 * HOUR });
    expect(llm.requests[1]!.messages[1]!.content).toContain('Existing memories:\n(none)');
    expect(second.events.map((event) => event.kind)).toEqual(['ADD', 'ADD']);
    expect(second.memories.map((item) => item.expiresAt)).toEqual([new Date(T0 + 5 * HOUR), new Date(T0 + 5 * HOUR)]);
    // An UPDATE made by an add with expiresAt moves the expiry; one without keeps it.
    llm.push(ops({ op: 'UPDATE', id: 'm1', text: 'Lives in Porto, Portugal' }));
    const third = await memory.add('Porto is in Portugal', { scope: alice, expiresAt: T0 + 9 * HOUR });
    expect(third.memories[0]).toMatchObject({ text: 'Lives in Porto, Portugal', expiresAt: new Date(T0 + 9 * HOUR) });
    llm.push(ops({ op: 'UPDATE', id: 'm1', text: 'Lives in Porto (Portugal)' }));
    const fourth = await memory.add('Yes, Porto', { scope: alice });
    expect(fourth.memories[0]).toMatchObject({ text: 'Lives in Porto (Portugal)', expiresAt: new Date(T0 + 9 * HOUR) });
  });

  it('filters on expiresAt with dates like the date fields', async () => {
    const { memory } = setup();
    await memory.add('A', { scope: alice, infer: false, expiresAt: T0 + HOUR });
    await memory.add('B', { scope: alice, infer: false, expiresAt: T0 + 3 * HOUR });
    await memory.add('C', { scope: alice, infer: false });
    const page = await memory.getAll({ scope: alice, filter: { expiresAt: { $lte: new Date(T0 + 2 * HOUR).toISOString() } } });
    expect(page.results.map((item) => item.text)).toEqual(['A']);
  });

  it('on a store without native not/lte, core evaluates the expiry itself and the store never sees those operators', async () => {
    const narrow = new (class extends InMemoryVectorStore {
      override readonly capabilities = defineVectorStoreCapabilities({ filterOperators: ['eq', 'in', 'and'] });
      readonly filters: Filter[] = [];
      override query(request: Parameters<InMemoryVectorStore['query']>[0]) {
        if (request.filter) this.filters.push(request.filter);
        return super.query(request);
      }
    })();
    const { memory, clock } = setup([], narrow);
    await memory.add('Soon gone', { scope: alice, infer: false, expiresAt: T0 + HOUR });
    await memory.add('Stays', { scope: alice, infer: false, metadata: { category: 'food' } });
    clock.now = T0 + 2 * HOUR;
    expect(await found(memory, 'Soon gone')).toEqual(['Stays']);
    const filtered = await memory.search('Stays', { scope: alice, filter: { category: 'food' } });
    expect(filtered.results.map((item) => item.text)).toEqual(['Stays']);
    // The native part (category) went to the store; the expiry stayed with core.
    expect(narrow.filters).toContainEqual({ op: 'eq', field: 'category', value: 'food' });
    expect(JSON.stringify(narrow.filters)).not.toContain(EXPIRES_AT_KEY);
  });

  it('importRecords keeps the expiry an export carries in its metadata', async () => {
    const source = setup();
    await source.memory.add('Coupon', { scope: alice, infer: false, expiresAt: T0 + HOUR });
    const records = [];
    for await (const record of source.vectorStore.list({ scope: alice })) records.push(record);
    const target = setup();
    await target.memory.importRecords(records);
    expect((await target.memory.getAll({ scope: alice })).results[0]!.expiresAt).toEqual(new Date(T0 + HOUR));
    const bad = [{ ...records[0]!, metadata: { [EXPIRES_AT_KEY]: 'soon' } }];
    await expect(target.memory.importRecords(bad)).rejects.toMatchObject({ field: 'records[0].metadata.expiresAt' });
  });
});
