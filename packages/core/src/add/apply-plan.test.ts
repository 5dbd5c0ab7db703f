import { describe, expect, it } from 'vitest';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, type Scope } from '../index';
import { HashEmbedder, ScriptedLLM, type ScriptStep } from '../testing';

// Regressions found by the model-output fuzzer (packages/hardening): what the apply step does with
// answers that are valid JSON but odd.

const alice: Scope = { userId: 'alice' };
const aliceWithAgent: Scope = { userId: 'alice', agentId: 'planner' };

function setup(script: ScriptStep[] = []) {
  const llm = new ScriptedLLM(script);
  let clock = Date.parse('2024-05-08T10:00:00Z');
  const memory = new Memory({
    llm,
    embedder: new HashEmbedder(),
    vectorStore: new InMemoryVectorStore(),
    historyStore: new InMemoryHistoryStore(),
    now: () => new Date((clock += 1000)),
  });
  return { memory, llm };
}

const ops = (...operations: { op: string; id?: string | null; text?: string | null }[]) => ({
  json: { operations: operations.map((operation) => ({ id: null, text: null, ...operation })) },
});

describe('apply step', () => {
  it('records UPDATE and DELETE of a memory stored in a narrower scope under that scope, so its history stays complete', async () => {
    const { memory, llm } = setup();
    const stored = await memory.add('Lives in Lisbon', { scope: aliceWithAgent, infer: false });
    const other = await memory.add('Is vegetarian', { scope: aliceWithAgent, infer: false });
    const id = stored.events[0]!.id;
    const otherId = other.events[0]!.id;
    // A call for { userId } sees the memories of { userId, agentId } and changes them.
    llm.push((request) => {
      const alias = (text: string) =>
        /(m\d+): (.*)/g.exec(request.messages[1]!.content.split('\n').find((line) => line.endsWith(text))!)![1]!;
      return JSON.stringify({
        operations: [
          { op: 'UPDATE', id: alias('Lives in Lisbon'), text: 'Lives in Porto' },
          { op: 'DELETE', id: alias('Is vegetarian'), text: null },
        ],
      });
    });
    await memory.add('I moved to Porto and I eat fish now', { scope: alice });
    const history = await memory.history(id, { scope: aliceWithAgent });
    expect(history.map((event) => [event.kind, event.text, event.scope])).toEqual([
      ['ADD', 'Lives in Lisbon', aliceWithAgent],
      ['UPDATE', 'Lives in Porto', aliceWithAgent],
    ]);
    expect((await memory.history(otherId, { scope: aliceWithAgent })).map((event) => [event.kind, event.scope])).toEqual([
      ['ADD', aliceWithAgent],
      ['DELETE', aliceWithAgent],
    ]);
    expect((await memory.get(id, { scope: aliceWithAgent }))?.scope).toEqual(aliceWithAgent);
  });

  it('stores model text holding a lone surrogate as U+FFFD, the same in the result, the store and the history', async () => {
    const { memory } = setup([ops({ op: 'ADD', text: 'Likes \uD83C tea' })]);
    const result = await memory.add('I like tea', { scope: alice });
    expect(result.events).toEqual([expect.objectContaining({ kind: 'ADD', text: 'Likes \uFFFD tea' })]);
    const id = result.events[0]!.id;
    expect((await memory.get(id, { scope: alice }))?.text).toBe('Likes \uFFFD tea');
    expect((await memory.history(id, { scope: alice }))[0]?.text).toBe('Likes \uFFFD tea');
  });
});

describe('apply step: no fact dropped, no duplicate', () => {
  async function seeded(texts: readonly string[]) {
    const { memory, llm } = setup();
    for (const text of texts) await memory.add(text, { scope: alice, infer: false });
    return { memory, llm };
  }
  const stored = async (memory: Memory) => (await memory.getAll({ scope: alice })).results.map((item) => item.text).sort();

  it('"ADD x" next to "DELETE the memory saying x" leaves x stored', async () => {
    const { memory, llm } = await seeded(['Prefers green tea']);
    llm.push(ops({ op: 'DELETE', id: 'm1' }, { op: 'ADD', text: 'Prefers green tea' }));
    await memory.add('I prefer green tea', { scope: alice });
    expect(await stored(memory)).toEqual(['Prefers green tea']);
  });

  it('"ADD x" next to "UPDATE the memory saying x to y" leaves both x and y stored', async () => {
    const { memory, llm } = await seeded(['Lives in Lisbon']);
    llm.push(ops({ op: 'ADD', text: 'Lives in Lisbon' }, { op: 'UPDATE', id: 'm1', text: 'Lives in Porto' }));
    await memory.add('I live in Lisbon and Porto', { scope: alice });
    expect(await stored(memory)).toEqual(['Lives in Lisbon', 'Lives in Porto']);
  });

  it('an UPDATE to the text of another stored memory removes the rewritten memory instead of storing a second copy', async () => {
    const { memory, llm } = await seeded(['Is vegetarian', 'Eats fish']);
    llm.push((request) => {
      const line = request.messages[1]!.content.split('\n').find((candidate) => candidate.endsWith(': Is vegetarian'))!;
      return JSON.stringify({ operations: [{ op: 'UPDATE', id: line.slice(0, line.indexOf(':')), text: 'Eats fish' }] });
    });
    const result = await memory.add('I eat fish now', { scope: alice });
    expect(await stored(memory)).toEqual(['Eats fish']);
    expect(result.events.map((event) => [event.kind, event.text])).toEqual([
      ['DELETE', 'Is vegetarian'],
      ['NONE', 'Eats fish'],
    ]);
  });

  it('an UPDATE restating a memory, then a DELETE of it in the same answer, keeps the memory (as after any UPDATE)', async () => {
    const { memory, llm } = await seeded(['Allergic to peanuts']);
    llm.push(ops({ op: 'UPDATE', id: 'm1', text: 'Allergic to peanuts' }, { op: 'DELETE', id: 'm1' }));
    await memory.add('Still allergic to peanuts', { scope: alice });
    expect(await stored(memory)).toEqual(['Allergic to peanuts']);
  });

  it('an UPDATE and an ADD of the same new text store it once', async () => {
    const { memory, llm } = await seeded(['Lives in Lisbon']);
    llm.push(ops({ op: 'UPDATE', id: 'm1', text: 'Lives in Porto' }, { op: 'ADD', text: 'Lives in Porto' }));
    await memory.add('I moved to Porto', { scope: alice });
    expect(await stored(memory)).toEqual(['Lives in Porto']);
    llm.push(ops({ op: 'ADD', text: 'Works in Braga' }, { op: 'UPDATE', id: 'm1', text: 'Works in Braga' }));
    await memory.add('I work in Braga, not Porto', { scope: alice });
    expect(await stored(memory)).toEqual(['Works in Braga']);
  });
});

describe('apply step: decided by records of exactly their own scope (#18)', () => {
  it('a fact added for a broader scope is stored there although a narrower scope holds the same text, and survives its deletion', async () => {
    const { memory } = setup();
    const shared: Scope = { agentId: 'shared' };
    const narrow = await memory.add('Speaks Portuguese', { scope: { userId: 'alice', agentId: 'shared' }, infer: false });
    const broad = await memory.add('Speaks Portuguese', { scope: shared, infer: false });
    expect(broad.events.map((event) => event.kind)).toEqual(['ADD']);
    expect(broad.events[0]!.id).not.toBe(narrow.events[0]!.id);
    await memory.delete(narrow.events[0]!.id, { scope: { userId: 'alice', agentId: 'shared' } });
    expect((await memory.getAll({ scope: shared })).results.map((item) => [item.text, item.scope])).toEqual([
      ['Speaks Portuguese', shared],
    ]);
    // Within one scope a repeated text is still one memory.
    expect((await memory.add('Speaks Portuguese', { scope: shared, infer: false })).events.map((event) => event.kind)).toEqual(['NONE']);
  });
});

describe('apply step: a text carried by a DELETE or NONE is kept (#18)', () => {
  const alias = (request: { messages: readonly { content: string }[] }, text: string) =>
    /^(m\d+): /m.exec(request.messages[1]!.content.split('\n').find((line) => line.endsWith(`: ${text}`))!)![1]!;

  it('DELETE of a memory with a new text is an UPDATE (the old text stays in history), with its own text a DELETE', async () => {
    const { memory, llm } = setup();
    const lisbon = (await memory.add('Lives in Lisbon', { scope: alice, infer: false })).events[0]!.id;
    const tea = (await memory.add('Drinks tea', { scope: alice, infer: false })).events[0]!.id;
    llm.push((request) =>
      JSON.stringify({
        operations: [
          { op: 'DELETE', id: alias(request, 'Lives in Lisbon'), text: 'Lives in Porto' },
          { op: 'DELETE', id: alias(request, 'Drinks tea'), text: '  drinks TEA ' },
        ],
      }),
    );
    const { events } = await memory.add('I moved to Porto and I stopped drinking tea', { scope: alice });
    expect(events.map((event) => [event.kind, event.id, event.text])).toEqual([
      ['UPDATE', lisbon, 'Lives in Porto'],
      ['DELETE', tea, 'Drinks tea'],
    ]);
    expect((await memory.history(lisbon, { scope: alice })).map((event) => event.kind)).toEqual(['ADD', 'UPDATE']);
  });

  it('NONE with another text adds the text; NONE or UPDATE of an unknown id with a text adds it; DELETE of an unknown id with a text is refused, then retried', async () => {
    const { memory, llm } = setup();
    await memory.add('Likes jazz', { scope: alice, infer: false });
    llm.push(
      (request) =>
        JSON.stringify({
          operations: [
            { op: 'NONE', id: alias(request, 'Likes jazz'), text: 'Likes bebop jazz' },
            { op: 'NONE', id: 'm42', text: 'Plays the piano' },
            { op: 'DELETE', id: 'm43', text: 'Owns a cat' },
          ],
        }),
      ops({ op: 'NONE', id: 'm42', text: 'Plays the piano' }, { op: 'NONE', id: 'm1', text: 'Likes bebop jazz' }),
    );
    const { events } = await memory.add('I play the piano and love bebop', { scope: alice });
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[1]!.messages.at(-1)!.content).toMatch(/DELETE with a text, but its id is not one of the existing memories/);
    expect(events.map((event) => [event.kind, event.text])).toEqual([
      ['ADD', 'Plays the piano'],
      ['NONE', 'Likes jazz'],
      ['ADD', 'Likes bebop jazz'],
    ]);
  });
});
