import type { Usage } from '@mem/core/adapter';
import { LexicalEmbedder, Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, expect, test } from 'vitest';
import toolUse from './__fixtures__/anthropic-messages-tool-use.json';
import { AnthropicLLM } from './anthropic-llm';
import {
  messagesBody,
  startAnthropicFakeServer,
  toolReply,
  type AnthropicFakeServer,
  type FakeReply,
  type FakeRequest,
} from './testing/anthropic-fake-server';

// Memory on the embedded default stores (SQLite), with AnthropicLLM against the local fixture server
// and core's offline LexicalEmbedder (Anthropic has no embeddings API). The "model" is a script keyed
// by the conversation; it finds the aliases core gives existing memories ("m1: Lives in Lisbon") in
// the prompt, as a real model would, and answers with the forced tool call. Usage is an estimate:
// o200k token counts of the system prompt, the messages and the tool definition (Claude's own
// tokenizer and its tool-use system prompt are not public).

type Operation = { op: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE'; id: string | null; text: string | null };
const SCRIPT: readonly { readonly says: string; readonly operations: (alias: (text: string) => string) => Operation[] }[] = [
  {
    says: 'I am vegetarian and I live in Lisbon',
    operations: () => [
      { op: 'ADD', id: null, text: 'Is vegetarian' },
      { op: 'ADD', id: null, text: 'Lives in Lisbon' },
    ],
  },
  {
    says: 'I moved to Porto',
    operations: (alias) => [{ op: 'UPDATE', id: alias('Lives in Lisbon'), text: 'Lives in Porto' }],
  },
  {
    says: 'I eat fish again',
    operations: (alias) => [
      { op: 'DELETE', id: alias('Is vegetarian'), text: null },
      { op: 'ADD', id: null, text: 'Eats fish' },
    ],
  },
];

function scriptedModel(request: FakeRequest): FakeReply {
  const body = messagesBody(request);
  const messages = body.messages as { role: string; content: string }[];
  const user = messages.find((message) => message.role === 'user')?.content ?? '';
  const step = SCRIPT.find((candidate) => user.includes(candidate.says));
  if (!step) throw new Error('the scripted model has no answer for this conversation');
  const alias = (text: string) => {
    const line = user.split('\n').find((candidate) => candidate.endsWith(`: ${text}`));
    if (!line) throw new Error(`"${text}" is not among the existing memories shown to the model`);
    return line.slice(0, line.indexOf(':'));
  };
  const input = { operations: step.operations(alias) };
  const inputTokens =
    countTokens(typeof body.system === 'string' ? body.system : '') +
    messages.reduce((sum, message) => sum + countTokens(message.content), 0) +
    countTokens(JSON.stringify(body.tools ?? []));
  const toolName = body.tool_choice?.type === 'tool' ? body.tool_choice.name : 'missing';
  return toolReply(toolUse, {
    name: toolName,
    input,
    usage: { input_tokens: inputTokens, output_tokens: countTokens(JSON.stringify(input)) },
  });
}

const scope = { userId: 'alice' };
let server: AnthropicFakeServer;
let memory: Memory;
const usages: Usage[] = [];

beforeAll(async () => {
  server = await startAnthropicFakeServer({ fallback: scriptedModel });
  memory = new Memory({
    llm: new AnthropicLLM({ apiKey: 'sk-ant-test', baseURL: server.baseURL }),
    embedder: new LexicalEmbedder(),
    vectorStore: new SqliteVectorStore({ path: ':memory:' }),
    historyStore: new SqliteHistoryStore({ path: ':memory:' }),
    now: () => new Date('2025-06-27T12:00:00Z'),
  });
});
afterAll(async () => {
  await memory.close();
  await server.close();
});

test('add → update → delete → search → history through AnthropicLLM', async () => {
  // 1. add: two new facts, from one Messages API request with the forced tool.
  const first = await memory.add(
    [
      { role: 'user', content: 'Hi! I am vegetarian and I live in Lisbon.' },
      { role: 'assistant', content: 'Nice to meet you! Noted.' },
    ],
    { scope },
  );
  usages.push(first.usage);
  expect(first.events.map((event) => [event.kind, event.text])).toEqual([
    ['ADD', 'Is vegetarian'],
    ['ADD', 'Lives in Lisbon'],
  ]);
  expect(server.requests).toHaveLength(1);
  const request = server.requests[0]!;
  const body = messagesBody(request);
  expect(`${request.method} ${request.path}`).toBe('POST /v1/messages');
  expect(body).toMatchObject({
    model: 'claude-haiku-4-5',
    max_tokens: 4096,
    temperature: 0,
    tool_choice: { type: 'tool', name: 'memory_operations' },
  });
  expect(body.system).toContain('Reply with JSON only');
  expect(body.messages.map((message) => message.role)).toEqual(['user']);
  expect(body.tools).toMatchObject([{ name: 'memory_operations', input_schema: { required: ['operations'] } }]);

  // 2. update: the model sees "Lives in Lisbon" among the existing memories and updates it.
  const second = await memory.add([{ role: 'user', content: 'Big news: I moved to Porto last month.' }], { scope });
  usages.push(second.usage);
  expect(second.events.map((event) => [event.kind, event.previousText ?? null, event.text])).toEqual([
    ['UPDATE', 'Lives in Lisbon', 'Lives in Porto'],
  ]);

  // 3. delete: the vegetarian memory is no longer true.
  const third = await memory.add([{ role: 'user', content: 'I eat fish again, so I am not vegetarian any more.' }], { scope });
  usages.push(third.usage);
  expect(third.events.map((event) => [event.kind, event.text])).toEqual([
    ['DELETE', 'Is vegetarian'],
    ['ADD', 'Eats fish'],
  ]);

  // 4. search.
  const { results } = await memory.search('Where does Alice live now?', { scope });
  expect(results.map((result) => result.text).sort()).toEqual(['Eats fish', 'Lives in Porto']);
  expect(results[0]!.text).toBe('Lives in Porto');

  // 5. history.
  expect((await memory.history(results[0]!.id, { scope })).map((event) => [event.kind, event.previousText, event.text])).toEqual([
    ['ADD', null, 'Lives in Lisbon'],
    ['UPDATE', 'Lives in Lisbon', 'Lives in Porto'],
  ]);
  const vegetarianId = first.events.find((event) => event.text === 'Is vegetarian')!.id;
  expect((await memory.history(vegetarianId, { scope })).map((event) => [event.kind, event.text])).toEqual([
    ['ADD', 'Is vegetarian'],
    ['DELETE', null],
  ]);

  expect(server.requests).toHaveLength(3); // one Messages API request per add, no retries
  expect(usages.map((usage) => usage.llmCalls)).toEqual([1, 1, 1]);
  expect(usages.every((usage) => usage.promptTokens > 0 && usage.completionTokens > 0)).toBe(true);
});
