import { describe, expect, it } from 'vitest';
import { defineVectorStoreCapabilities } from '../contract/capabilities';
import { MemError } from '../contract/errors';
import { CATEGORIES_KEY } from '../contract/types';
import { InMemoryGraphStore, InMemoryHistoryStore, InMemoryVectorStore, Memory, type CategoryDefinition, type FilterInput } from '../index';
import { LANGUAGE_INSTRUCTION } from '../llm/prompts';
import { HashEmbedder, ScriptedLLM, type ScriptStep } from '../testing';

const alice = { userId: 'alice' };
const T0 = Date.parse('2024-05-08T10:00:00Z');

const CATEGORIES: CategoryDefinition[] = [
  { name: 'food', description: 'Diet, dishes, allergies' },
  { name: 'travel', description: 'Trips and places' },
  { name: 'health' },
];

function setup(
  script: ScriptStep[] = [],
  options: {
    categories?: CategoryDefinition[];
    strategy?: 'reconcile' | 'additive';
    vectorStore?: InMemoryVectorStore;
    prompt?: string;
  } = {},
) {
  const llm = new ScriptedLLM(script);
  const memory = new Memory({
    llm,
    embedder: new HashEmbedder({ dimensions: 32 }),
    vectorStore: options.vectorStore ?? new InMemoryVectorStore(),
    historyStore: new InMemoryHistoryStore(),
    now: () => new Date(T0),
    ...(options.categories ? { categories: options.categories } : {}),
    ...(options.strategy ? { strategy: options.strategy } : {}),
    ...(options.prompt ? { prompts: { extraction: options.prompt } } : {}),
  });
  return { memory, llm };
}

type Operation = { op: string; id?: string | null; text?: string | null; categories?: unknown };
const ops = (...operations: Operation[]): ScriptStep => ({
  json: { operations: operations.map((operation) => ({ id: null, text: null, ...operation })) },
});

/** The JSON schema of the items of the answer's list, as sent with the request. */
function itemSchema(llm: ScriptedLLM, call: number, list: 'operations' | 'facts') {
  const schema = llm.requests[call]!.responseFormat as unknown as { schema: { properties: Record<string, { items: unknown }> } };
  return schema.schema.properties[list]!.items as { properties: Record<string, unknown>; required: string[] };
}

describe('custom categories', () => {
  it('the ONE extraction call assigns them (schema enum, listed in the prompt); unknown names are dropped, case is mended', async () => {
    const { memory, llm } = setup(
      [
        ops(
          { op: 'ADD', text: 'Is vegetarian', categories: ['FOOD', ' health ', 'sports', 7, 'food'] },
          { op: 'ADD', text: 'Flies to Tokyo in June 2024', categories: ['travel'] },
          { op: 'ADD', text: 'Has a cat named Miso', categories: [] },
          { op: 'ADD', text: 'Likes jazz' },
        ),
      ],
      { categories: CATEGORIES },
    );
    const result = await memory.add('I am vegetarian, I fly to Tokyo in June, my cat Miso, and I like jazz', { scope: alice });
    expect(llm.requests).toHaveLength(1);
    expect(result.memories.map((item) => [item.text, item.categories])).toEqual([
      ['Is vegetarian', ['food', 'health']],
      ['Flies to Tokyo in June 2024', ['travel']],
      ['Has a cat named Miso', undefined],
      ['Likes jazz', undefined],
    ]);
    expect(result.memories[0]!.metadata).toEqual({});
    const system = llm.requests[0]!.messages[0]!.content;
    expect(system).toContain('- food: Diet, dishes, allergies\n- travel: Trips and places\n- health');
    expect(system).toContain('"categories":[string]');
    const item = itemSchema(llm, 0, 'operations');
    expect(item.properties.categories).toEqual({ type: 'array', items: { type: 'string', enum: ['food', 'travel', 'health'] } });
    expect(item.required).toContain('categories');
  });

  it('are filterable with the filter language (an array field: eq matches any element, $in, $nin), natively or by core', async () => {
    const narrow = new (class extends InMemoryVectorStore {
      override readonly capabilities = defineVectorStoreCapabilities({ filterOperators: ['eq', 'in', 'and'] });
    })();
    for (const vectorStore of [new InMemoryVectorStore(), narrow]) {
      const { memory } = setup(
        [
          ops(
            { op: 'ADD', text: 'Is vegetarian', categories: ['food', 'health'] },
            { op: 'ADD', text: 'Flies to Tokyo in June 2024', categories: ['travel'] },
            { op: 'ADD', text: 'Likes jazz', categories: [] },
          ),
        ],
        { categories: CATEGORIES, vectorStore },
      );
      await memory.add('a conversation', { scope: alice });
      const texts = async (filter: FilterInput) => (await memory.getAll({ scope: alice, filter })).results.map((item) => item.text);
      expect(await texts({ categories: 'food' })).toEqual(['Is vegetarian']);
      expect(await texts({ categories: { $in: ['travel', 'health'] } })).toEqual(['Is vegetarian', 'Flies to Tokyo in June 2024']);
      expect(await texts({ categories: { $nin: ['food'] } })).toEqual(['Flies to Tokyo in June 2024', 'Likes jazz']);
      expect(await texts({ categories: { $contains: 'travel' } })).toEqual(['Flies to Tokyo in June 2024']);
      const found = await memory.search('vegetarian', { scope: alice, filter: { categories: 'health' } });
      expect(found.results.map((item) => [item.text, item.categories])).toEqual([['Is vegetarian', ['food', 'health']]]);
    }
  });

  it('with graph memory the same ONE call carries the operations with their categories and the graph', async () => {
    const llm = new ScriptedLLM([
      {
        json: {
          operations: [{ op: 'ADD', id: null, text: 'Works at Acme', categories: ['work'] }],
          entities: [
            { name: 'user', type: 'person' },
            { name: 'Acme', type: 'company' },
          ],
          relations: [{ source: 'user', relation: 'works_at', target: 'Acme' }],
          ended: [],
        },
      },
    ]);
    const memory = new Memory({
      llm,
      embedder: new HashEmbedder({ dimensions: 32 }),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
      graphStore: new InMemoryGraphStore(),
      categories: [{ name: 'work' }],
    });
    const result = await memory.add('I work at Acme', { scope: alice });
    expect(llm.requests).toHaveLength(1);
    const schema = (llm.requests[0]!.responseFormat as unknown as { schema: { required: string[] } }).schema;
    expect(schema.required).toEqual(['operations', 'entities', 'relations', 'ended']);
    expect(itemSchema(llm, 0, 'operations').required).toContain('categories');
    expect(result.memories[0]!.categories).toEqual(['work']);
    expect(result.graph?.relations).toHaveLength(1);
  });

  it('an UPDATE sets the categories the model gave the new text; without categories configured it keeps them', async () => {
    const { memory, llm } = setup([ops({ op: 'ADD', text: 'Is vegetarian', categories: ['food'] })], { categories: CATEGORIES });
    const { events } = await memory.add('I am vegetarian', { scope: alice });
    const id = events[0]!.id;
    llm.push(ops({ op: 'UPDATE', id: 'm1', text: 'Is vegan since 2024, for her health', categories: ['food', 'health'] }));
    await memory.add('I went vegan this year, for my health', { scope: alice });
    expect((await memory.get(id, { scope: alice }))!.categories).toEqual(['food', 'health']);
    // This call turns categories off: the schema has none, and the UPDATE keeps the memory's.
    llm.push(ops({ op: 'UPDATE', id: 'm1', text: 'Is vegan since January 2024, for her health', categories: ['travel'] }));
    await memory.add('Since January', { scope: alice, categories: [] });
    expect(itemSchema(llm, 2, 'operations').properties).not.toHaveProperty('categories');
    expect(llm.requests[2]!.messages[0]!.content).not.toContain('Categories:');
    expect(await memory.get(id, { scope: alice })).toMatchObject({
      text: 'Is vegan since January 2024, for her health',
      categories: ['food', 'health'],
    });
    // update() merges metadata and leaves the categories as they are.
    const { memory: updated } = await memory.update(id, { metadata: { source: 'chat' } }, { scope: alice });
    expect(updated).toMatchObject({ categories: ['food', 'health'], metadata: { source: 'chat' } });
  });

  it('the add option replaces the Memory option for one call; the additive strategy assigns them too', async () => {
    const { memory, llm } = setup(
      [{ json: { facts: [{ text: 'Runs 10 km on Sundays', categories: ['sport', 'food'] }, 'Drinks green tea'] } }],
      { categories: CATEGORIES, strategy: 'additive' },
    );
    const result = await memory.add('I run 10 km every Sunday and drink green tea', {
      scope: alice,
      categories: [{ name: 'sport', description: 'Exercise' }],
    });
    expect(result.memories.map((item) => [item.text, item.categories])).toEqual([
      ['Runs 10 km on Sundays', ['sport']],
      ['Drinks green tea', undefined],
    ]);
    const item = itemSchema(llm, 0, 'facts');
    expect(item.properties.categories).toEqual({ type: 'array', items: { type: 'string', enum: ['sport'] } });
    expect(llm.requests[0]!.messages[0]!.content).toContain('- sport: Exercise');
    expect(llm.requests[0]!.messages[0]!.content).not.toContain('- food');
  });

  it('without categories the prompts and schemas are as before (no categories anywhere)', async () => {
    const { memory, llm } = setup([ops({ op: 'ADD', text: 'Is vegetarian', categories: ['food'] })]);
    const result = await memory.add('I am vegetarian', { scope: alice });
    expect(result.memories[0]!.categories).toBeUndefined();
    expect(itemSchema(llm, 0, 'operations').properties).not.toHaveProperty('categories');
    expect(llm.requests[0]!.messages[0]!.content).not.toContain('categories');
  });

  const invalid: [string, unknown, string][] = [
    ['not an array', { name: 'food' }, 'options.categories'],
    ['an empty name', [{ name: '  ' }], 'options.categories[0].name'],
    ['a missing name', [{ description: 'x' }], 'options.categories[0].name'],
    ['a duplicate name (ignoring case)', [{ name: 'food' }, { name: 'Food ' }], 'options.categories[1].name'],
    ['too many', Array.from({ length: 51 }, (_, index) => ({ name: `c${index}` })), 'options.categories'],
    ['a name over 64 characters', [{ name: 'n'.repeat(65) }], 'options.categories[0].name'],
    ['a description over 500 characters', [{ name: 'food', description: 'd'.repeat(501) }], 'options.categories[0].description'],
    ['a category that is not an object', ['food'], 'options.categories[0]'],
    ['a hole', [{ name: 'food' }, undefined], 'options.categories[1]'],
  ];
  for (const [what, categories, field] of invalid) {
    it(`bad categories, ${what}: INVALID_INPUT naming ${field} (add option and Memory option), nothing written`, async () => {
      const { memory, llm } = setup([]);
      const error = await memory.add('I am vegetarian', { scope: alice, categories: categories as never }).catch((thrown) => thrown);
      expect(MemError.is(error, 'INVALID_INPUT')).toBe(true);
      expect(error.field).toBe(field);
      expect(llm.requests).toHaveLength(0);
      expect((await memory.getAll({ scope: alice })).results).toEqual([]);
      expect(() => setup([], { categories: categories as never })).toThrow(expect.objectContaining({ field }));
    });
  }

  it('the limits are stated in the error, at the limit accepted', async () => {
    const fifty = Array.from({ length: 50 }, (_, index) => ({ name: `c${index}`.padEnd(64, 'x'), description: 'd'.repeat(500) }));
    expect(() => setup([], { categories: fifty })).not.toThrow();
    expect(() => setup([], { categories: [...fifty, { name: 'one more' }] })).toThrow(/51 categories, more than 50/);
  });

  it('categories with infer: false are refused (nothing extracts them); the key is reserved as metadata', async () => {
    const { memory } = setup([]);
    await expect(memory.add('x', { scope: alice, infer: false, categories: [{ name: 'food' }] })).rejects.toMatchObject({
      field: 'options.categories',
    });
    await expect(memory.add('x', { scope: alice, infer: false, metadata: { [CATEGORIES_KEY]: ['food'] } })).rejects.toMatchObject({
      field: 'options.metadata.categories',
    });
    // A Memory with categories still stores messages as given (they get none).
    const withCategories = setup([], { categories: CATEGORIES });
    const raw = await withCategories.memory.add('Is vegetarian', { scope: alice, infer: false });
    expect(raw.memories[0]!.categories).toBeUndefined();
    // An empty list (categories off for this call) is what such an add is anyway: accepted.
    const empty = await memory.add('Likes tea', { scope: alice, infer: false, categories: [] });
    expect(empty.memories[0]).toMatchObject({ text: 'Likes tea' });
    expect(empty.memories[0]!.categories).toBeUndefined();
  });
});

describe('memories in the language of the conversation', () => {
  const conversations = [
    {
      language: 'Portuguese',
      message: 'Sou vegetariana e mudei-me para o Porto em março. A minha irmã Inês é enfermeira.',
      facts: ['É vegetariana', 'Mudou-se para o Porto em março de 2024', 'A irmã Inês é enfermeira'],
      query: 'vegetariana',
    },
    {
      language: 'Japanese',
      message: '私はベジタリアンです。先月、京都に引っ越しました。妹のユキは看護師です。',
      facts: ['ベジタリアンである', '2024年4月に京都へ引っ越した', '妹のユキは看護師'],
      query: 'ベジタリアンである',
    },
  ];
  for (const { language, message, facts, query } of conversations) {
    for (const strategy of ['reconcile', 'additive'] as const) {
      it(`${language} (${strategy}): the instruction and the original text reach the model, the facts are stored in ${language} as written`, async () => {
        const answer: ScriptStep = strategy === 'reconcile' ? ops(...facts.map((text) => ({ op: 'ADD', text }))) : { json: { facts } };
        const { memory, llm } = setup([answer], { strategy });
        const result = await memory.add([{ role: 'user', content: message }], { scope: alice });
        const [system, user] = llm.requests[0]!.messages;
        expect(system!.content).toContain(LANGUAGE_INSTRUCTION);
        expect(system!.content.match(/never translate/g)).toHaveLength(1);
        expect(user!.content).toContain(`user: ${message}`);
        expect(result.memories.map((item) => item.text)).toEqual(facts);
        expect((await memory.getAll({ scope: alice })).results.map((item) => item.text).sort()).toEqual([...facts].sort());
        const found = await memory.search(query, { scope: alice, limit: 1 });
        expect(found.results[0]!.text).toBe(facts[0]);
      });
    }
  }

  it('custom extraction instructions (in English) still carry the language rule; with categories too', async () => {
    const { memory, llm } = setup([ops({ op: 'ADD', text: 'Adora pastéis de nata', categories: ['food'] })], {
      prompt: 'Remember only food preferences.',
      categories: CATEGORIES,
    });
    const result = await memory.add('Adoro pastéis de nata!', { scope: alice });
    expect(llm.requests[0]!.messages[0]!.content).toContain('Remember only food preferences.');
    expect(llm.requests[0]!.messages[0]!.content).toContain(LANGUAGE_INSTRUCTION);
    expect(result.memories[0]).toMatchObject({ text: 'Adora pastéis de nata', categories: ['food'] });
  });
});
