import { OpenAI } from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chatStreamReply, startOpenAIFakeServer, type OpenAIFakeServer } from './openai-fake-server';

// The streamed replies are read by other packages' tests (an AI SDK provider pointed at the server):
// the official SDK must parse them as a real stream, usage chunk included.
let server: OpenAIFakeServer;
beforeAll(async () => {
  server = await startOpenAIFakeServer({ fallback: (request) => chatStreamReply(request, { content: 'Hello there, Alice.' }) });
});
afterAll(() => server.close());

it('a streamed reply is read by the OpenAI SDK as deltas, a finish reason and a usage chunk', async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  const finishReasons: string[] = [];
  let usage: unknown;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.choices[0]?.finish_reason) finishReasons.push(chunk.choices[0].finish_reason);
    if (chunk.usage) usage = chunk.usage;
  }
  expect(text).toBe('Hello there, Alice.');
  expect(finishReasons).toEqual(['stop']);
  expect(usage).toEqual({ prompt_tokens: 0, completion_tokens: 3, total_tokens: 3 });
});
