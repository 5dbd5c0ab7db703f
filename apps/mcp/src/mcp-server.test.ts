import {
  InMemoryGraphStore,
  InMemoryHistoryStore,
  InMemoryVectorStore,
  LexicalEmbedder,
  Memory,
  ProviderRequestError,
  type Embedder,
  type LLM,
  type Scope,
} from '@mem/core';
import { ScriptedLLM } from '@mem/core/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import { callError, callOk, expectAllTools, expectInvalidInputErrors, expectRoundTrip, type MemoryOutput } from '../test/mcp-client';
import { createMemMcpServer, SERVER_INFO } from './mcp-server';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

function newMemory(options: { llm?: LLM; embedder?: Embedder } = {}): Memory {
  return new Memory({
    embedder: options.embedder ?? new LexicalEmbedder(),
    vectorStore: new InMemoryVectorStore(),
    historyStore: new InMemoryHistoryStore(),
    ...(options.llm ? { llm: options.llm } : {}),
  });
}

async function connect(
  memory: Memory,
  scope: Scope,
  options: { inferByDefault?: boolean; onUnexpectedError?: (tool: string, error: unknown) => void } = {},
) {
  const server = createMemMcpServer({ memory, scope, ...options });
  const client = new Client({ name: 'test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  closers.push(() => client.close());
  return client;
}

describe('createMemMcpServer (in-process client)', () => {
  it('lists the six tools with descriptions, input and output schemas, and tells the model when to use them', async () => {
    const client = await connect(newMemory(), { userId: 'alice' });
    await expectAllTools(client);
    expect(client.getServerVersion()).toMatchObject({ name: 'mem', version: SERVER_INFO.version });
    expect(client.getInstructions()).toMatch(/call search_memories/);
    expect(client.getInstructions()).toMatch(/never ask for or pass a user id/);
  });

  it('adds, searches, lists, gets, updates and deletes', async () => {
    await expectRoundTrip(await connect(newMemory(), { userId: 'alice' }));
  });

  it('returns invalid arguments as INVALID_INPUT tool errors naming the argument, and writes nothing', async () => {
    await expectInvalidInputErrors(await connect(newMemory(), { userId: 'alice' }));
  });

  it('add_memory with memoryType procedural: the run (tool calls and results) becomes one procedural memory, found by its type', async () => {
    const summary =
      'Task: book a table for 4 at Tasca do Chico (done). 1. search_restaurants {"q":"Tasca do Chico"} gave id r-19. 2. book r-19 at 20:00: confirmation C-5521.';
    const llm = new ScriptedLLM([{ json: { summary } }]);
    const client = await connect(newMemory({ llm }), { userId: 'alice' }, { inferByDefault: true });
    const added = await callOk<{ memories: MemoryOutput[] }>(client, 'add_memory', {
      memoryType: 'procedural',
      messages: [
        { role: 'user', content: 'Book a table for 4 at Tasca do Chico at 8pm' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'search_restaurants', arguments: '{"q":"Tasca do Chico"}' }] },
        { role: 'tool', toolCallId: 'c1', content: '{"id":"r-19"}' },
        { role: 'assistant', content: 'Booked, confirmation C-5521.' },
      ],
    });
    expect(added.memories).toEqual([expect.objectContaining({ text: summary, memoryType: 'procedural' })]);
    expect(llm.requests[0]!.messages[1]!.content).toContain('assistant calls search_restaurants({"q":"Tasca do Chico"}) [c1]');
    const found = await callOk<{ results: MemoryOutput[] }>(client, 'search_memories', {
      query: 'book a table',
      filter: { memoryType: 'procedural' },
    });
    expect(found.results.map((item) => item.text)).toEqual([summary]);
    // Without an LLM on the server: a typed error, nothing stored.
    const plain = await connect(newMemory(), { userId: 'alice' });
    expect(await callError(plain, 'add_memory', { memoryType: 'procedural', text: 'ran a task' }, 'MISSING_SETTING')).toContain(
      'procedural memory is a summary of the run written by an LLM',
    );
  });

  it('add_memory takes content parts: the text is stored, the images are noted as left out; a bad part is INVALID_INPUT naming it', async () => {
    const client = await connect(newMemory(), { userId: 'alice' });
    const added = await callOk<{ events: { text: string }[]; notes: { reason: string; parts: string[] }[] }>(client, 'add_memory', {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'My dog Rex' },
            { type: 'image_url', image_url: { url: 'https://example.com/rex.jpg' } },
          ],
        },
      ],
    });
    expect(added.events.map((event) => event.text)).toEqual(['My dog Rex']);
    expect(added.notes).toEqual([expect.objectContaining({ reason: 'infer_false', parts: ['messages[0].content[1]'] })]);
    expect(
      await callError(
        client,
        'add_memory',
        { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }] }] },
        'INVALID_INPUT',
      ),
    ).toContain('messages[0].content[0].image_url.url');
    // With tool calls: content null on the assistant message that only calls tools; without them, refused naming content.
    const run = await callOk<{ events: { text: string }[] }>(client, 'add_memory', {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Rex is 3' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'save_pet' }] },
      ],
    });
    expect(run.events.map((event) => event.text)).toEqual(['Rex is 3']);
    expect(await callError(client, 'add_memory', { messages: [{ role: 'assistant', content: null }] }, 'INVALID_INPUT')).toContain(
      'messages[0].content',
    );
  });

  it('add_memory and update_memory take expiresAt: an expired memory leaves search and list, and null brings it back', async () => {
    const memory = newMemory();
    const client = await connect(memory, { userId: 'alice' });
    const past = '2001-02-03T04:05:06.789Z';
    const added = await callOk<{ memories: MemoryOutput[] }>(client, 'add_memory', { text: 'Trial code XK-42', expiresAt: past });
    expect(added.memories[0]).toMatchObject({ text: 'Trial code XK-42', expiresAt: past });
    await callOk(client, 'add_memory', { text: 'Plays the cello' });
    const listed = async () => (await callOk<{ memories: MemoryOutput[] }>(client, 'list_memories', {})).memories.map((item) => item.text);
    expect(await listed()).toEqual(['Plays the cello']);
    const found = await callOk<{ results: MemoryOutput[] }>(client, 'search_memories', { query: 'trial code' });
    expect(found.results.map((item) => item.text)).toEqual(['Plays the cello']);
    // get_memory still reads it by id; clearing the expiry brings it back.
    const id = added.memories[0]!.id;
    expect((await callOk<{ memory: MemoryOutput }>(client, 'get_memory', { id })).memory.expiresAt).toBe(past);
    const cleared = await callOk<{ memory: MemoryOutput }>(client, 'update_memory', { id, expiresAt: null });
    expect(cleared.memory.expiresAt).toBeUndefined();
    expect(await listed()).toEqual(['Trial code XK-42', 'Plays the cello']);
    expect(await callError(client, 'add_memory', { text: 'x', expiresAt: 'next week' }, 'INVALID_INPUT')).toContain(
      'Invalid expiresAt: expected a Date',
    );
  });

  it('add_memory takes idempotencyKey: a retry returns the first result and stores nothing; another text with the key is refused', async () => {
    const memory = newMemory();
    const client = await connect(memory, { userId: 'alice' });
    const first = await callOk<{ events: { kind: string; id: string }[] }>(client, 'add_memory', {
      text: 'Plays the cello',
      idempotencyKey: 'turn-42',
    });
    const retry = await callOk<{ events: { kind: string; id: string }[] }>(client, 'add_memory', {
      text: 'Plays the cello',
      idempotencyKey: 'turn-42',
    });
    expect(retry).toEqual(first);
    expect(first.events[0]!.kind).toBe('ADD');
    expect((await memory.getAll({ scope: { userId: 'alice' } })).results).toHaveLength(1);
    expect(
      await callError(client, 'add_memory', { text: 'Plays the violin', idempotencyKey: 'turn-42' }, 'IDEMPOTENCY_KEY_REUSED'),
    ).toContain('idempotencyKey');
    expect(await callError(client, 'add_memory', { text: 'x', idempotencyKey: '' }, 'INVALID_INPUT')).toContain('idempotencyKey');
    expect((await memory.getAll({ scope: { userId: 'alice' } })).results).toHaveLength(1);
  });

  it('keeps memories in the configured scope: agentId narrows, and other scopes stay invisible', async () => {
    const memory = newMemory();
    await memory.add('Likes green tea', { scope: { userId: 'alice' }, infer: false });
    await memory.add('Likes black coffee', { scope: { userId: 'bob' }, infer: false });
    const bobsId = (await memory.getAll({ scope: { userId: 'bob' } })).results[0]!.id;
    const cursor = await connect(memory, { userId: 'alice', agentId: 'cursor' });

    const { events } = await callOk<{ events: { id: string }[] }>(cursor, 'add_memory', { text: 'Prefers tabs over spaces' });
    expect((await memory.get(events[0]!.id, { scope: { userId: 'alice', agentId: 'cursor' } }))?.scope).toEqual({
      userId: 'alice',
      agentId: 'cursor',
    });
    const listed = await callOk<{ memories: MemoryOutput[] }>(cursor, 'list_memories', {});
    expect(listed.memories.map((item) => item.text)).toEqual(['Prefers tabs over spaces']);
    // Alice's memories of no agent and Bob's match the query better, yet only the agent's own is found.
    const found = await callOk<{ results: MemoryOutput[] }>(cursor, 'search_memories', { query: 'likes green tea black coffee' });
    expect(found.results.map((item) => item.text)).toEqual(['Prefers tabs over spaces']);
    // A filter on a scope field only narrows; it never widens the configured scope.
    const widened = await callOk<{ results: MemoryOutput[] }>(cursor, 'search_memories', { query: 'coffee', filter: { userId: 'bob' } });
    expect(widened.results).toEqual([]);
    await callError(cursor, 'get_memory', { id: bobsId }, 'NOT_FOUND');
    await callError(cursor, 'update_memory', { id: bobsId, text: 'Hates coffee' }, 'NOT_FOUND');
    await callError(cursor, 'delete_memory', { id: bobsId }, 'NOT_FOUND');
    expect((await memory.get(bobsId, { scope: { userId: 'bob' } }))?.text).toBe('Likes black coffee');
  });

  it('extracts facts with the LLM when the server has one (infer on by default)', async () => {
    const llm = new ScriptedLLM([
      {
        json: {
          operations: [
            { op: 'ADD', id: null, text: 'Is vegetarian' },
            { op: 'ADD', id: null, text: 'Lives in Lisbon' },
          ],
        },
      },
    ]);
    const client = await connect(newMemory({ llm }), { userId: 'alice' }, { inferByDefault: true });
    const added = await callOk<{ events: { kind: string; text: string }[] }>(client, 'add_memory', {
      messages: [
        { role: 'user', content: 'I am vegetarian and I live in Lisbon.' },
        { role: 'assistant', content: 'Noted!' },
      ],
    });
    expect(added.events.map((event) => [event.kind, event.text])).toEqual([
      ['ADD', 'Is vegetarian'],
      ['ADD', 'Lives in Lisbon'],
    ]);
    expect(llm.requests).toHaveLength(1);
    expect(JSON.stringify(llm.requests[0]!.messages)).toContain('I am vegetarian and I live in Lisbon.');
    // infer: false stores the text as given, without calling the LLM.
    await callOk(client, 'add_memory', { text: 'Has a cat named Miso', infer: false });
    expect(llm.requests).toHaveLength(1);
  });

  it('returns graph relations with search results when graph memory is on', async () => {
    const llm = new ScriptedLLM([
      {
        json: {
          operations: [{ op: 'ADD', id: null, text: 'Works at Acme as an engineer' }],
          entities: [
            { name: 'user', type: 'person' },
            { name: 'Acme', type: 'company' },
          ],
          relations: [{ source: 'user', relation: 'works at', target: 'Acme' }],
          ended: [],
        },
      },
    ]);
    const memory = new Memory({
      llm,
      embedder: new LexicalEmbedder(),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
      graphStore: new InMemoryGraphStore(),
    });
    const client = await connect(memory, { userId: 'alice' }, { inferByDefault: true });
    await callOk(client, 'add_memory', { text: 'I work at Acme as an engineer', occurredAt: '2024-03-01T09:00:00Z' });
    const found = await callOk<{ results: MemoryOutput[]; relations: unknown[] }>(client, 'search_memories', { query: 'where do I work?' });
    expect(found.results.map((result) => result.text)).toEqual(['Works at Acme as an engineer']);
    expect(found.relations).toEqual([
      { source: 'user', relation: 'works_at', target: 'acme', validFrom: '2024-03-01T09:00:00.000Z', score: expect.any(Number) },
    ]);
  });

  it('refuses infer: true on a server without an LLM', async () => {
    const client = await connect(newMemory(), { userId: 'alice' });
    expect(await callError(client, 'add_memory', { text: 'Likes tea', infer: true }, 'INVALID_INPUT')).toMatch(
      /^INVALID_INPUT: Invalid infer: this server has no LLM/,
    );
  });

  it('passes provider failures on with their code, and hides unexpected errors behind INTERNAL', async () => {
    const failing = (error: Error): Embedder => ({
      provider: 'failing',
      model: 'failing',
      embed: async () => {
        throw error;
      },
    });
    const rateLimited = await connect(
      newMemory({
        embedder: failing(
          new ProviderRequestError({ provider: 'openai', operation: 'embed', status: 429, message: 'Rate limited; retry later.' }),
        ),
      }),
      {
        userId: 'alice',
      },
    );
    expect(await callError(rateLimited, 'search_memories', { query: 'tea' }, 'PROVIDER_REQUEST_FAILED')).toBe(
      'PROVIDER_REQUEST_FAILED: openai embed failed (HTTP 429): Rate limited; retry later.',
    );

    const unexpected: { tool: string; error: unknown }[] = [];
    const secret = 'sk-live-1234567890 and the memory text "Lives in Lisbon"';
    const broken = await connect(
      newMemory({ embedder: failing(new TypeError(secret)) }),
      { userId: 'alice' },
      {
        onUnexpectedError: (tool, error) => unexpected.push({ tool, error }),
      },
    );
    const text = await callError(broken, 'add_memory', { text: 'Lives in Lisbon' }, 'INTERNAL');
    expect(text).not.toContain('sk-live');
    expect(text).not.toContain('Lisbon');
    expect(unexpected).toHaveLength(1);
    expect(unexpected[0]!.tool).toBe('add_memory');
  });

  it('needs a userId in its scope', () => {
    expect(() => createMemMcpServer({ memory: newMemory(), scope: { agentId: 'cursor' } })).toThrow(/Invalid scope\.userId: is missing/);
    expect(() => createMemMcpServer({ memory: newMemory(), scope: {} })).toThrow(/Invalid scope: no userId/);
  });
});
