import type { Usage } from '@mem/core/adapter';
import { Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, expect, test } from 'vitest';
import jsonSchema from './__fixtures__/openai-chat-json-schema.json';
import { OpenAIEmbedder } from './openai-embedder';
import { OpenAILLM } from './openai-llm';
import {
  chatBody,
  chatReply,
  embeddingBody,
  lexicalEmbeddings,
  startOpenAIFakeServer,
  type FakeReply,
  type FakeRequest,
  type OpenAIFakeServer,
} from './testing/openai-fake-server';

// Memory on the embedded default stores (SQLite), with OpenAILLM and OpenAIEmbedder against the
// local fixture server. The "model" is a script keyed by the conversation; it finds the aliases core
// gives existing memories ("m1: Lives in Lisbon") in the prompt, as a real model would. Token usage
// is counted with the o200k tokenizer (gpt-4.1 / gpt-4o) over what was really sent: the messages
// (+4 per message, +3 to prime the answer, OpenAI's chat format) and the response_format schema.

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
  if (request.path.endsWith('/embeddings')) return lexicalEmbeddings(request, countTokens);
  const body = chatBody(request);
  const messages = body.messages as { role: string; content: string }[];
  const user = messages.find((message) => message.role === 'user')?.content ?? '';
  const step = SCRIPT.find((candidate) => user.includes(candidate.says));
  if (!step) throw new Error('the scripted model has no answer for this conversation');
  const alias = (text: string) => {
    const line = user.split('\n').find((candidate) => candidate.endsWith(`: ${text}`));
    if (!line) throw new Error(`"${text}" is not among the existing memories shown to the model`);
    return line.slice(0, line.indexOf(':'));
  };
  const content = JSON.stringify({ operations: step.operations(alias) });
  const promptTokens =
    messages.reduce((sum, message) => sum + countTokens(message.content) + 4, 3) + countTokens(JSON.stringify(body.response_format ?? ''));
  return chatReply(jsonSchema, { content, usage: { prompt_tokens: promptTokens, completion_tokens: countTokens(content) } });
}

const scope = { userId: 'alice' };
let server: OpenAIFakeServer;
let memory: Memory;
const usages: Usage[] = [];

beforeAll(async () => {
  server = await startOpenAIFakeServer({ fallback: scriptedModel });
  const connection = { apiKey: 'sk-test', baseURL: server.baseURL };
  memory = new Memory({
    llm: new OpenAILLM(connection),
    embedder: new OpenAIEmbedder({ ...connection, dimensions: 256 }),
    vectorStore: new SqliteVectorStore({ path: ':memory:' }),
    historyStore: new SqliteHistoryStore({ path: ':memory:' }),
    now: () => new Date('2025-06-27T12:00:00Z'),
  });
});
afterAll(async () => {
  await memory.close();
  await server.close();
});

test('add → update → delete → search → history through OpenAILLM and OpenAIEmbedder', async () => {
  // 1. add: two new facts.
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
  // One add = embed the conversation (query) → one chat completion → embed the new facts (document).
  expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
    'POST /v1/embeddings',
    'POST /v1/chat/completions',
    'POST /v1/embeddings',
  ]);
  const [queryEmbedding, completion, documentEmbedding] = server.requests;
  expect(queryEmbedding!.body).toEqual({
    model: 'text-embedding-3-small',
    input: ['Hi! I am vegetarian and I live in Lisbon.', 'Nice to meet you! Noted.'],
    dimensions: 256,
    encoding_format: 'base64',
  });
  expect(completion!.body).toMatchObject({
    model: 'gpt-4.1-mini',
    temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'memory_operations', strict: true } },
  });
  expect(chatBody(completion!).messages.map((message) => message.role)).toEqual(['system', 'user']);
  expect(embeddingBody(documentEmbedding!).input).toEqual(['Is vegetarian', 'Lives in Lisbon']);

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

  // 5. history: the Porto memory was added as Lisbon, then updated; the vegetarian one added, then deleted.
  const porto = results[0]!;
  expect((await memory.history(porto.id, { scope })).map((event) => [event.kind, event.previousText, event.text])).toEqual([
    ['ADD', null, 'Lives in Lisbon'],
    ['UPDATE', 'Lives in Lisbon', 'Lives in Porto'],
  ]);
  const vegetarianId = first.events.find((event) => event.text === 'Is vegetarian')!.id;
  expect((await memory.history(vegetarianId, { scope })).map((event) => [event.kind, event.text])).toEqual([
    ['ADD', 'Is vegetarian'],
    ['DELETE', null],
  ]);

  // What the scripted conversation cost: one LLM call and two embedding calls per add.
  expect(usages.map((usage) => [usage.llmCalls, usage.embeddingCalls])).toEqual([
    [1, 2],
    [1, 2],
    [1, 2],
  ]);
  expect(usages.every((usage) => usage.promptTokens > 0 && usage.completionTokens > 0 && usage.embeddingTokens > 0)).toBe(true);
});
