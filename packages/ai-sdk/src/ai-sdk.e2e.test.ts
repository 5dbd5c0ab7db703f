import { createOpenAI } from '@ai-sdk/openai';
import { Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import {
  chatBody,
  chatStreamReply,
  embeddingBody,
  lexicalEmbeddings,
  startOpenAIFakeServer,
  type FakeReply,
  type FakeRequest,
  type OpenAIFakeServer,
} from '@mem/llm-openai/testing';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { generateText, stepCountIs, streamText } from 'ai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AISDKEmbedder } from './ai-sdk-embedder';
import { AISDKLLM } from './ai-sdk-llm';
import { DEFAULT_MEMORY_HEADER } from './ai-sdk-memory-context';
import { withMemory } from './ai-sdk-memory-middleware';
import { memoryTools } from './ai-sdk-memory-tools';
import { chatMessages, completion } from './testing/ai-sdk-fixtures';

// End to end through a real provider package: @ai-sdk/openai 3 sends real HTTP requests to the local
// server speaking OpenAI's wire protocol, for mem's own calls (AISDKLLM extracting memories,
// AISDKEmbedder) and for the app's calls (generateText / streamText with withMemory, memoryTools).
// The server plays the model: memory extraction is a script keyed by what the user said; a chat
// answer names the memories it was given, so the test sees what reached the model.

const EXTRACTIONS: readonly { readonly says: string; readonly facts: readonly string[] }[] = [
  { says: 'I am vegetarian and I live in Lisbon', facts: ['Is vegetarian', 'Lives in Lisbon'] },
  { says: 'Cook me something', facts: ['Asked for a dinner idea'] },
  { says: 'I took up the cello', facts: ['Plays the cello'] },
];

function model(request: FakeRequest): FakeReply {
  if (request.path.endsWith('/embeddings')) return lexicalEmbeddings(request);
  const body = chatBody(request) as {
    response_format?: { type: string; json_schema?: { name: string } };
    tools?: unknown[];
    stream?: boolean;
  };
  const messages = chatMessages(request);
  if (body.response_format?.json_schema?.name === 'memory_operations') {
    const conversation = messages.map((message) => message.content ?? '').join('\n');
    const step = EXTRACTIONS.find((candidate) => conversation.includes(candidate.says));
    if (!step) throw new Error('the scripted model has no extraction for this conversation');
    return completion({ content: JSON.stringify({ operations: step.facts.map((text) => ({ op: 'ADD', id: null, text })) }) });
  }
  if (body.tools) {
    const lastRole = messages.at(-1)?.role;
    return lastRole === 'tool'
      ? completion({ content: 'I will remember that.' })
      : completion({ toolCalls: [{ name: 'addMemory', arguments: { text: 'I took up the cello' } }] });
  }
  const memories = messages.find((message) => message.role === 'system' && message.content?.startsWith(DEFAULT_MEMORY_HEADER));
  const known = memories?.content?.split('\n').slice(1).join('; ') ?? 'nothing';
  const answer = `I know: ${known}`;
  return body.stream ? chatStreamReply(request, { content: answer }) : completion({ content: answer });
}

const alice = { userId: 'alice' };
let server: OpenAIFakeServer;
let memory: Memory;
let openai: ReturnType<typeof createOpenAI>;

beforeAll(async () => {
  server = await startOpenAIFakeServer({ fallback: model });
  openai = createOpenAI({ apiKey: 'sk-test', baseURL: server.baseURL });
  memory = new Memory({
    llm: new AISDKLLM({ model: openai.chat('gpt-4.1-mini') }),
    embedder: new AISDKEmbedder({
      model: openai.embedding('text-embedding-3-small'),
      dimensions: 64,
      providerOptions: { all: { openai: { dimensions: 64 } } },
    }),
    vectorStore: new SqliteVectorStore({ path: ':memory:' }),
    historyStore: new SqliteHistoryStore({ path: ':memory:' }),
    now: () => new Date('2025-06-27T12:00:00Z'),
  });
});
afterAll(async () => {
  await memory.close();
  await server.close();
});

it('mem extracts memories with AISDKLLM and AISDKEmbedder over HTTP', async () => {
  const { events, usage } = await memory.add('I am vegetarian and I live in Lisbon.', { scope: alice });
  expect(events.map((event) => [event.kind, event.text])).toEqual([
    ['ADD', 'Is vegetarian'],
    ['ADD', 'Lives in Lisbon'],
  ]);
  expect(usage).toMatchObject({ llmCalls: 1, promptTokens: 21, completionTokens: 7, embeddingCalls: 2 });
  const extraction = server.requests.find((request) => request.path.endsWith('/chat/completions'))!;
  expect(chatBody(extraction)).toMatchObject({
    model: 'gpt-4.1-mini',
    temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'memory_operations', strict: true } },
  });
  expect(embeddingBody(server.requests[0]!)).toMatchObject({ model: 'text-embedding-3-small', dimensions: 64 });
});

it('generateText with withMemory: the memories reach the provider in the request, the exchange is learnt afterwards', async () => {
  server.reset();
  const learnt = new Promise<string[]>((resolve, reject) => {
    const wrapped = withMemory(openai.chat('gpt-4.1-mini'), {
      memory,
      scope: alice,
      onAdded: (result) => resolve(result.events.map((event) => event.text)),
      onError: reject,
    });
    void generateText({ model: wrapped, prompt: 'Cook me something for tonight.' }).then((result) => {
      expect(result.text).toBe('I know: - Is vegetarian (2025-06-27); - Lives in Lisbon (2025-06-27)');
    }, reject);
  });
  expect(await learnt).toEqual(['Asked for a dinner idea']);
  const chat = server.requests.filter((request) => request.path.endsWith('/chat/completions'));
  // The app's call first, then mem's extraction of the exchange.
  expect(chatMessages(chat[0]!).map((message) => message.role)).toEqual(['system', 'user']);
  expect(chatMessages(chat[0]!)[0]!.content).toContain('- Is vegetarian (2025-06-27)');
  expect(JSON.stringify(chatMessages(chat[1]!))).toContain('Cook me something for tonight.');
});

it('streamText with withMemory over a real SSE stream', async () => {
  const result = streamText({
    model: withMemory(openai.chat('gpt-4.1-mini'), { memory, scope: alice, add: 'off' }),
    prompt: 'Where do I live, vegetarian me?',
  });
  const chunks: string[] = [];
  for await (const chunk of result.textStream) chunks.push(chunk);
  expect(chunks.length).toBeGreaterThan(3);
  expect(chunks.join('')).toContain('Lives in Lisbon');
  expect((await result.providerMetadata)?.['mem']).toMatchObject({ memories: expect.any(Number) });
});

it('memoryTools called by the provider model over HTTP', async () => {
  const result = await generateText({
    model: openai.chat('gpt-4.1-mini'),
    tools: memoryTools(memory, { scope: alice }),
    stopWhen: stepCountIs(2),
    prompt: 'I took up the cello, remember it.',
  });
  expect(result.text).toBe('I will remember that.');
  expect(result.steps[0]!.toolResults[0]).toMatchObject({
    toolName: 'addMemory',
    output: { events: [{ kind: 'ADD', text: 'Plays the cello' }] },
  });
  expect((await memory.search('cello', { scope: alice })).results[0]!.text).toBe('Plays the cello');
});
