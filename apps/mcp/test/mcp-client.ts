import { expect } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** A tool call's result, as a test reads it. */
export interface ToolOutcome {
  readonly isError: boolean;
  /** The first text content: JSON of the result, or `CODE: message` for an error. */
  readonly text: string;
  /** `structuredContent` of a successful call (already validated by the SDK client against the tool's outputSchema). */
  readonly structured: Record<string, unknown> | undefined;
}

/** Calls a tool and returns what the model would see. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  const result = await client.callTool({ name, arguments: args });
  const first = (result.content as { type: string; text?: string }[])[0];
  return {
    isError: result.isError === true,
    text: first?.type === 'text' ? (first.text ?? '') : '',
    structured: result.structuredContent as Record<string, unknown> | undefined,
  };
}

/** Calls a tool that must succeed and returns its structured result. */
export async function callOk<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const outcome = await callTool(client, name, args);
  expect(outcome.isError, outcome.text).toBe(false);
  // The text content mirrors the structured result, for clients that only read text.
  expect(JSON.parse(outcome.text)).toEqual(outcome.structured);
  return outcome.structured as T;
}

/** Calls a tool that must fail and returns the error text, `CODE: message`. */
export async function callError(client: Client, name: string, args: Record<string, unknown>, code: string): Promise<string> {
  const outcome = await callTool(client, name, args);
  expect(outcome.isError, outcome.text).toBe(true);
  expect(outcome.structured).toBeUndefined();
  expect(outcome.text.startsWith(`${code}: `), outcome.text).toBe(true);
  // Never a stack trace.
  expect(outcome.text).not.toMatch(/\n\s+at /);
  return outcome.text;
}

/** The memory shape every tool returns. */
export interface MemoryOutput {
  readonly id: string;
  readonly text: string;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly occurredAt: string;
  readonly expiresAt?: string;
  readonly memoryType?: 'procedural';
  readonly categories?: readonly string[];
  readonly score?: number;
}

/** The six tools, in the order the server lists them. */
export const TOOL_NAMES = ['add_memory', 'search_memories', 'list_memories', 'get_memory', 'update_memory', 'delete_memory'];

/**
 * Checks what `tools/list` shows: all six tools, with descriptions a model can act on and input
 * schemas that never let the model choose whose memories it sees.
 */
export async function expectAllTools(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
  for (const tool of tools) {
    expect(tool.description!.length, tool.name).toBeGreaterThan(150);
    expect(tool.inputSchema.type).toBe('object');
    expect(Object.keys(tool.inputSchema.properties ?? {}).length, tool.name).toBeGreaterThan(0);
    expect((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, tool.name).toBe(false);
    for (const scopeField of ['userId', 'agentId', 'runId', 'scope']) {
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).not.toContain(scopeField);
    }
    expect(tool.outputSchema?.type, tool.name).toBe('object');
  }
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const properties = (name: string) => Object.keys(byName.get(name)!.inputSchema.properties ?? {}).sort();
  expect(properties('add_memory')).toEqual([
    'expiresAt',
    'idempotencyKey',
    'infer',
    'memoryType',
    'messages',
    'metadata',
    'occurredAt',
    'text',
  ]);
  expect(properties('search_memories')).toEqual(['filter', 'limit', 'query', 'threshold']);
  expect(properties('list_memories')).toEqual(['cursor', 'filter', 'pageSize']);
  expect(properties('get_memory')).toEqual(['id']);
  expect(properties('update_memory')).toEqual(['expiresAt', 'id', 'metadata', 'text']);
  expect(properties('delete_memory')).toEqual(['id']);
  expect(byName.get('search_memories')!.inputSchema.required).toEqual(['query']);
  expect(byName.get('get_memory')!.inputSchema.required).toEqual(['id']);
  // What a model needs to use the tools well.
  expect(byName.get('search_memories')!.description).toMatch(/before answering/);
  expect(byName.get('search_memories')!.description).toContain('{"category": "food"}');
  expect(byName.get('add_memory')!.description).toMatch(/good memory/);
  expect(byName.get('get_memory')!.description).toMatch(/Ids come from search_memories, list_memories/);
  expect(byName.get('search_memories')!.annotations?.readOnlyHint).toBe(true);
  expect(byName.get('delete_memory')!.annotations?.destructiveHint).toBe(true);
}

/**
 * The full round trip through any transport: add → search → list → get → update → delete, and the
 * deleted memory is gone. Assumes a server without an LLM (text is stored as given).
 */
export async function expectRoundTrip(client: Client): Promise<void> {
  const added = await callOk<{ events: { kind: string; id: string; text: string }[]; memories: MemoryOutput[] }>(client, 'add_memory', {
    text: 'Is vegetarian and loves spicy food',
    metadata: { category: 'food' },
    occurredAt: '2024-06-10T12:00:00Z',
  });
  expect(added.events).toHaveLength(1);
  expect(added.events[0]).toMatchObject({ kind: 'ADD', text: 'Is vegetarian and loves spicy food' });
  const id = added.events[0]!.id;
  expect(added.memories[0]).toMatchObject({ id, metadata: { category: 'food' }, occurredAt: '2024-06-10T12:00:00.000Z' });
  await callOk(client, 'add_memory', {
    messages: [{ role: 'user', content: 'My sister Ana lives in Porto' }],
    metadata: { category: 'family' },
  });

  const found = await callOk<{ results: MemoryOutput[] }>(client, 'search_memories', { query: 'vegetarian food', limit: 5 });
  expect(found.results[0]).toMatchObject({ id, text: 'Is vegetarian and loves spicy food' });
  expect(typeof found.results[0]!.score).toBe('number');
  const filtered = await callOk<{ results: MemoryOutput[] }>(client, 'search_memories', {
    query: 'where does my sister live',
    filter: { category: 'family' },
  });
  expect(filtered.results.map((result) => result.text)).toEqual(['My sister Ana lives in Porto']);

  const firstPage = await callOk<{ memories: MemoryOutput[]; nextCursor?: string }>(client, 'list_memories', { pageSize: 1 });
  expect(firstPage.memories.map((memory) => memory.id)).toEqual([id]);
  expect(firstPage.nextCursor).toBe(id);
  const secondPage = await callOk<{ memories: MemoryOutput[]; nextCursor?: string }>(client, 'list_memories', {
    pageSize: 1,
    cursor: firstPage.nextCursor,
  });
  expect(secondPage.memories.map((memory) => memory.text)).toEqual(['My sister Ana lives in Porto']);
  expect(secondPage.nextCursor).toBeUndefined();

  const got = await callOk<{ memory: MemoryOutput }>(client, 'get_memory', { id });
  expect(got.memory).toEqual(added.memories[0]);

  const updated = await callOk<{ memory: MemoryOutput }>(client, 'update_memory', { id, text: 'Is vegan', metadata: { since: 2024 } });
  expect(updated.memory).toMatchObject({ id, text: 'Is vegan', metadata: { category: 'food', since: 2024 } });
  expect((await callOk<{ memory: MemoryOutput }>(client, 'get_memory', { id })).memory.text).toBe('Is vegan');
  const afterUpdate = await callOk<{ results: MemoryOutput[] }>(client, 'search_memories', { query: 'vegan', limit: 1 });
  expect(afterUpdate.results[0]?.id).toBe(id);

  expect(await callOk(client, 'delete_memory', { id })).toEqual({ id, deleted: true });
  const gone = await callError(client, 'get_memory', { id }, 'NOT_FOUND');
  expect(gone).toContain(id);
  await callError(client, 'delete_memory', { id }, 'NOT_FOUND');
  const rest = await callOk<{ memories: MemoryOutput[] }>(client, 'list_memories', {});
  expect(rest.memories.map((memory) => memory.text)).toEqual(['My sister Ana lives in Porto']);
}

/** Invalid arguments come back as INVALID_INPUT tool errors naming the argument. */
export async function expectInvalidInputErrors(client: Client): Promise<void> {
  const before = (await callOk<{ memories: MemoryOutput[] }>(client, 'list_memories', { pageSize: 100 })).memories;
  expect(await callError(client, 'search_memories', { query: 'tea', limit: 'ten' }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid limit: /,
  );
  expect(await callError(client, 'search_memories', { query: 'tea', limit: 1000 }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid limit: /,
  );
  expect(await callError(client, 'search_memories', {}, 'INVALID_INPUT')).toMatch(/^INVALID_INPUT: Invalid query: is required/);
  expect(await callError(client, 'search_memories', { query: 'tea', filter: { rating: { $gtx: 3 } } }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid filter\.rating\.\$gtx: /,
  );
  expect(await callError(client, 'add_memory', { messages: [{ role: 'robot', content: 'hi' }] }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid messages\[0\]\.role: /,
  );
  expect(await callError(client, 'add_memory', { text: 'Likes tea', occurredAt: 'yesterday-ish' }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid occurredAt: /,
  );
  expect(await callError(client, 'add_memory', { text: 'Likes tea', metadata: { userId: 'bob' } }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid metadata\.userId: /,
  );
  expect(
    await callError(client, 'add_memory', { text: 'Likes tea', messages: [{ role: 'user', content: 'hi' }] }, 'INVALID_INPUT'),
  ).toMatch(/^INVALID_INPUT: Invalid text: pass exactly one of text and messages/);
  // The model cannot pick whose memories it reads.
  expect(await callError(client, 'search_memories', { query: 'tea', userId: 'bob' }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid userId: is not an argument of this tool\. The server decides whose memories you see/,
  );
  expect(await callError(client, 'update_memory', { id: 'x' }, 'INVALID_INPUT')).toMatch(
    /^INVALID_INPUT: Invalid text: pass a new text, metadata, expiresAt, or several/,
  );
  // Nothing was written by any of the failed calls.
  const after = (await callOk<{ memories: MemoryOutput[] }>(client, 'list_memories', { pageSize: 100 })).memories;
  expect(after).toEqual(before);
}
