import { MemError, ProviderRequestError, type ResponseFormat } from '@mem/core/adapter';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import badRequest from './__fixtures__/anthropic-error-bad-request.json';
import overloaded from './__fixtures__/anthropic-error-overloaded.json';
import rateLimited from './__fixtures__/anthropic-error-rate-limited.json';
import serverError from './__fixtures__/anthropic-error-server.json';
import unauthorized from './__fixtures__/anthropic-error-unauthorized.json';
import cachedPrompt from './__fixtures__/anthropic-messages-cached-prompt.json';
import maxTokens from './__fixtures__/anthropic-messages-max-tokens.json';
import refusal from './__fixtures__/anthropic-messages-refusal.json';
import messageText from './__fixtures__/anthropic-messages-text.json';
import toolUse from './__fixtures__/anthropic-messages-tool-use.json';
import { AnthropicLLM, type AnthropicLLMOptions } from './anthropic-llm';
import type { AnthropicRetryEvent } from './index';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import {
  messagesBody,
  startAnthropicFakeServer,
  stableHeaders,
  textReply,
  toolReply,
  type AnthropicFakeServer,
  type FakeRequest,
} from './testing/anthropic-fake-server';

const API_KEY = 'sk-ant-test-0123456789abcdef';
const FACTS: ResponseFormat = {
  type: 'json',
  name: 'facts',
  schema: {
    type: 'object',
    properties: { facts: { type: 'array', items: { type: 'string' } } },
    required: ['facts'],
    additionalProperties: false,
  },
};
const MESSAGES = [
  { role: 'system', content: 'Extract facts. Reply with JSON only.' },
  { role: 'user', content: 'I am vegetarian and I live in Lisbon.' },
] as const;

let server: AnthropicFakeServer;
beforeAll(async () => {
  server = await startAnthropicFakeServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function llm(options: AnthropicLLMOptions = {}): AnthropicLLM {
  return new AnthropicLLM({ apiKey: API_KEY, baseURL: server.baseURL, retryInitialDelayMs: 1, retryMaxDelayMs: 2, ...options });
}

/** The request as the wire saw it, minus credentials and SDK telemetry headers. */
function wire(request: FakeRequest | undefined) {
  return request && { method: request.method, path: request.path, headers: stableHeaders(request.headers), body: request.body };
}

async function failure(promise: Promise<unknown>): Promise<MemError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!MemError.is(error)) throw new Error(`expected a MemError, got ${String(error)}`);
  return error;
}

describe('requests', () => {
  test('a text request sends model, max_tokens 4096, temperature 0 and the messages; the key is sent, never snapshotted', async () => {
    server.enqueue(messageText);
    const response = await llm().generate({ messages: [{ role: 'user', content: 'Say hello' }] });

    expect(response).toEqual({
      text: 'Hello! How can I help you today?',
      finishReason: 'stop',
      usage: { promptTokens: 14, completionTokens: 12 },
      maxTokens: 4096,
    });
    expect(server.requests).toHaveLength(1);
    const headers = server.requests[0]!.headers;
    expect(headers.authorization).toBe(`Bearer ${API_KEY}`); // SDK 1.14 sends the key as a bearer token
    expect(headers['x-stainless-retry-count']).toBe('0');
    expect(wire(server.requests[0])).toMatchInlineSnapshot(`
      {
        "body": {
          "max_tokens": 4096,
          "messages": [
            {
              "content": "Say hello",
              "role": "user",
            },
          ],
          "model": "claude-haiku-4-5",
          "temperature": 0,
        },
        "headers": {
          "accept": "application/json",
          "anthropic-version": "2026-10-21",
          "content-type": "application/json",
        },
        "method": "POST",
        "path": "/v1/messages",
      }
    `);
  });

  test('several system messages are joined into the system parameter; the turns keep their order', async () => {
    server.enqueue(messageText);
    await llm().generate({
      messages: [
        { role: 'system', content: 'You extract facts.' },
        { role: 'user', content: 'I live in Lisbon.' },
        { role: 'system', content: 'Today is 2025-06-27.' },
        { role: 'assistant', content: '{"facts":[}' },
        { role: 'user', content: 'That answer cannot be used. Reply again.' },
      ],
    });
    const body = messagesBody(server.requests[0]!);
    expect(body.system).toBe('You extract facts.\n\nToday is 2025-06-27.');
    expect(body.messages).toEqual([
      { role: 'user', content: 'I live in Lisbon.' },
      { role: 'assistant', content: '{"facts":[}' },
      { role: 'user', content: 'That answer cannot be used. Reply again.' },
    ]);
  });

  test('a JSON request forces one tool call and returns its input as JSON text', async () => {
    server.enqueue(toolUse);
    const subject = llm();
    const response = await subject.generate({ messages: MESSAGES, responseFormat: FACTS });

    expect(subject.capabilities.structuredOutput).toBe('json_object');
    expect(response).toEqual({
      text: '{"facts":["Is vegetarian","Lives in Lisbon"]}',
      finishReason: 'stop',
      usage: { promptTokens: 642, completionTokens: 58 },
      maxTokens: 4096,
    });
    expect(wire(server.requests[0])).toMatchInlineSnapshot(`
      {
        "body": {
          "max_tokens": 4096,
          "messages": [
            {
              "content": "I am vegetarian and I live in Lisbon.",
              "role": "user",
            },
          ],
          "model": "claude-haiku-4-5",
          "system": "Extract facts. Reply with JSON only.",
          "temperature": 0,
          "tool_choice": {
            "name": "facts",
            "type": "tool",
          },
          "tools": [
            {
              "description": "Reply with the facts object. Call this tool exactly once with the complete answer.",
              "input_schema": {
                "additionalProperties": false,
                "properties": {
                  "facts": {
                    "items": {
                      "type": "string",
                    },
                    "type": "array",
                  },
                },
                "required": [
                  "facts",
                ],
                "type": "object",
              },
              "name": "facts",
            },
          ],
        },
        "headers": {
          "accept": "application/json",
          "anthropic-version": "2026-10-21",
          "content-type": "application/json",
        },
        "method": "POST",
        "path": "/v1/messages",
      }
    `);
  });

  test('strictTool marks the tool strict and declares json_schema', async () => {
    server.enqueue(toolUse);
    const subject = llm({ strictTool: true });
    await subject.generate({ messages: MESSAGES, responseFormat: FACTS });
    expect(subject.capabilities.structuredOutput).toBe('json_schema');
    expect(messagesBody(server.requests[0]!).tools).toMatchObject([{ name: 'facts', strict: true }]);
  });

  test('maxTokens and temperature of the request win; sendTemperature: false leaves temperature out', async () => {
    server.enqueue(messageText, messageText);
    await llm({ maxTokens: 1000 }).generate({ messages: MESSAGES, maxTokens: 200, temperature: 0.5 });
    await llm({ sendTemperature: false, model: 'claude-sonnet-4-6' }).generate({ messages: MESSAGES });
    expect(server.requests[0]!.body).toMatchObject({ max_tokens: 200, temperature: 0.5 });
    expect(server.requests[1]!.body).toMatchObject({ max_tokens: 4096, model: 'claude-sonnet-4-6' });
    expect(server.requests[1]!.body).not.toHaveProperty('temperature');
  });

  test('only system messages: InvalidInputError before any request', async () => {
    const error = await failure(llm().generate({ messages: [{ role: 'system', content: 'Hi' }] }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'request.messages' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('answers core must act on', () => {
  test("stop_reason max_tokens comes back as finishReason 'length' with the limit it ran with (a cut tool call gives its partial input)", async () => {
    server.enqueue(maxTokens);
    const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS, maxTokens: 16 });
    expect(response).toEqual({ text: '{}', finishReason: 'length', usage: { promptTokens: 642, completionTokens: 16 }, maxTokens: 16 });
    expect((server.requests[0]!.body as { max_tokens: number }).max_tokens).toBe(16);
  });

  test("stop_reasons that leave the answer unfinished (model_context_window_exceeded, pause_turn) are 'length' too", async () => {
    for (const stopReason of ['model_context_window_exceeded', 'pause_turn']) {
      server.enqueue({ ...maxTokens, body: { ...(maxTokens.body as object), stop_reason: stopReason } });
      const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS });
      expect(response.finishReason).toBe('length');
    }
  });

  test('the largest maxTokens a request may ask for is a capability; more is refused before any request', async () => {
    expect(llm().capabilities.maxOutputTokens).toBe(128_000);
    const error = await failure(llm().generate({ messages: MESSAGES, maxTokens: 128_001 }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'request.maxTokens' });
    expect(server.requests).toHaveLength(0);
  });

  test("stop_reason refusal comes back as finishReason 'refusal' with the text", async () => {
    server.enqueue(refusal);
    const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS });
    expect(response).toEqual({
      text: "I can't help with that.",
      finishReason: 'refusal',
      usage: { promptTokens: 630, completionTokens: 9 },
      maxTokens: 4096,
    });
  });

  test('a JSON request answered with text instead of the tool returns the text, for core to parse or correct', async () => {
    server.enqueue(textReply(messageText, { text: 'Sure: {"facts":["Is vegetarian"]}' }));
    const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS });
    expect(response.text).toBe('Sure: {"facts":["Is vegetarian"]}');
  });

  test('cached prompt tokens count as prompt tokens', async () => {
    server.enqueue(cachedPrompt);
    const response = await llm().generate({ messages: MESSAGES });
    expect(response.usage).toEqual({ promptTokens: 21 + 1200 + 3400, completionTokens: 3 });
  });

  test('a response without a content list is a ProviderResponseInvalidError', async () => {
    server.enqueue({ status: 200, body: { id: 'msg_x', type: 'message', role: 'assistant' } });
    const error = await failure(llm().generate({ messages: MESSAGES }));
    expect(error.code).toBe('PROVIDER_RESPONSE_INVALID');
  });
});

describe('failures and retries', () => {
  test('401 is not retried and tells to check ANTHROPIC_API_KEY, without the key or the provider message', async () => {
    server.enqueue(unauthorized);
    const error = await failure(new AnthropicLLM({ apiKey: API_KEY, baseURL: server.baseURL }).generate({ messages: MESSAGES }));

    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error).toMatchObject({
      code: 'PROVIDER_REQUEST_FAILED',
      provider: 'anthropic',
      operation: 'generate',
      status: 401,
      retryable: false,
    });
    expect(error.message).toMatchInlineSnapshot(
      `"anthropic generate failed (HTTP 401): the API key was rejected (type authentication_error). Check the apiKey option (it takes precedence over ANTHROPIC_API_KEY): it must be a valid Anthropic API key."`,
    );
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).not.toContain('invalid x-api-key');
    expect(server.requests).toHaveLength(1);
  });

  test('429 with retry-after is retried after the asked delay (not the backoff) and then succeeds', async () => {
    const retries: AnthropicRetryEvent[] = [];
    server.enqueue(rateLimited, messageText);
    const response = await llm({
      retryInitialDelayMs: 600_000,
      retryMaxDelayMs: 600_000,
      onRetry: (event) => retries.push(event),
    }).generate({ messages: MESSAGES });

    expect(response.finishReason).toBe('stop');
    expect(server.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ operation: 'generate', retry: 1, delayMs: 0 });
    expect(retries[0]!.error).toMatchObject({ status: 429, retryable: true });
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);
  });

  test('429 on every attempt gives up after maxRetries and says it was rate limited and retried', async () => {
    server.enqueue(rateLimited, rateLimited, rateLimited);
    const error = await failure(llm({ maxRetries: 2 }).generate({ messages: MESSAGES }));
    expect(error).toMatchObject({ status: 429, retryable: true });
    expect(error.message).toMatchInlineSnapshot(
      `"anthropic generate failed (HTTP 429): rate limited (type rate_limit_error); retried 2 times; the server asked to wait 0 ms. Lower the request rate, raise maxRetries, or ask for a higher rate limit."`,
    );
    expect(server.requests).toHaveLength(3);
  });

  test('500 then success is retried once; 529 overloaded is retried too', async () => {
    server.enqueue(serverError, overloaded, messageText);
    const response = await llm().generate({ messages: MESSAGES });
    expect(response.finishReason).toBe('stop');
    expect(server.requests).toHaveLength(3);
  });

  test('500 forever gives up after maxRetries with a retryable error', async () => {
    server.fallback = serverError;
    try {
      const error = await failure(llm({ maxRetries: 3 }).generate({ messages: MESSAGES }));
      expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: 500, retryable: true });
      expect(error.message).toMatchInlineSnapshot(
        `"anthropic generate failed (HTTP 500): the server failed (type api_error); retried 3 times. Try again later."`,
      );
      expect(server.requests).toHaveLength(4);
    } finally {
      server.fallback = undefined;
    }
  });

  test('400 is not retried; the message names the error type but not the provider text', async () => {
    server.enqueue(badRequest, toolUse);
    const error = await failure(llm().generate({ messages: MESSAGES, responseFormat: FACTS }));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(error.message).toMatchInlineSnapshot(
      `"anthropic generate failed (HTTP 400): the request was rejected (type invalid_request_error). Check the model and the options (maxTokens, temperature); the provider's message is in error.cause."`,
    );
    expect(server.requests).toHaveLength(1);
  });

  test('a refused connection is retried, then reported with the origin and the setting to check', async () => {
    const closed = await startAnthropicFakeServer();
    const baseURL = closed.baseURL;
    await closed.close();
    const error = await failure(
      new AnthropicLLM({ apiKey: API_KEY, baseURL, maxRetries: 1, retryInitialDelayMs: 1 }).generate({ messages: MESSAGES }),
    );
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: undefined, retryable: true });
    expect(error.message).toBe(
      `anthropic generate failed: could not connect to ${baseURL}; retried 1 time. Check the network and the baseURL option or ANTHROPIC_BASE_URL.`,
    );
  });

  test('an attempt over timeoutMs is a retryable timeout error, retried like a connection failure', async () => {
    server.enqueue({ hang: true }, { hang: true });
    const error = await failure(llm({ timeoutMs: 50, maxRetries: 1 }).generate({ messages: MESSAGES }));
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: undefined, retryable: true });
    expect(error.message).toBe(
      `anthropic generate failed: no answer from ${new URL(server.baseURL).origin} within the timeout of 50 ms; retried 1 time. Raise timeoutMs, or lower maxTokens.`,
    );
    expect(server.requests).toHaveLength(2);
  });

  test('aborting mid-flight rejects with ABORTED and sends no retry', async () => {
    server.enqueue({ hang: true }, messageText);
    const controller = new AbortController();
    const pending = failure(llm().generate({ messages: MESSAGES, signal: controller.signal }));
    await server.nextRequest();
    controller.abort();

    const error = await pending;
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe("anthropic generate was aborted by the caller's AbortSignal.");
    expect(server.requests).toHaveLength(1);
  });

  test('aborting while waiting to retry rejects with ABORTED and sends nothing more', async () => {
    const controller = new AbortController();
    server.enqueue(overloaded, messageText);
    const error = await failure(
      llm({ retryInitialDelayMs: 600_000, retryMaxDelayMs: 600_000, onRetry: () => controller.abort() }).generate({
        messages: MESSAGES,
        signal: controller.signal,
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
  });

  test('an already aborted signal sends nothing', async () => {
    const error = await failure(llm().generate({ messages: MESSAGES, signal: AbortSignal.abort() }));
    expect(error.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(0);
  });
});

describe('images', () => {
  /** A 1×1 PNG. */
  const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

  test('a user message with parts goes out as text and image blocks (base64 source for inline bytes, url source for a URL)', async () => {
    server.enqueue(messageText);
    await llm().generate({
      messages: [
        { role: 'system', content: 'Describe.' },
        {
          role: 'user',
          content: 'What is this?',
          parts: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', mediaType: 'image/png', data: PNG }, detail: 'low' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/dog.jpg' } },
          ],
        },
      ],
    });
    expect(wire(server.requests[0])?.body).toMatchInlineSnapshot(`
      {
        "max_tokens": 4096,
        "messages": [
          {
            "content": [
              {
                "text": "What is this?",
                "type": "text",
              },
              {
                "source": {
                  "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
                  "media_type": "image/png",
                  "type": "base64",
                },
                "type": "image",
              },
              {
                "source": {
                  "type": "url",
                  "url": "https://example.com/dog.jpg",
                },
                "type": "image",
              },
            ],
            "role": "user",
          },
        ],
        "model": "claude-haiku-4-5",
        "system": "Describe.",
        "temperature": 0,
      }
    `);
  });

  test('capabilities.imageInput: true for Claude 3 and later, false for claude-2 and claude-instant, the option decides', () => {
    const imageInput = (options: AnthropicLLMOptions) => llm(options).capabilities.imageInput;
    expect(
      ['claude-haiku-4-5', 'claude-3-5-sonnet-latest', 'claude-2.1', 'claude-instant-1.2'].map((model) => imageInput({ model })),
    ).toEqual([true, true, false, false]);
    expect(imageInput({ model: 'claude-haiku-4-5', imageInput: false })).toBe(false);
  });

  test('Memory with images.describe: the extraction request carries the image blocks, one call, and the memory is stored', async () => {
    server.enqueue(
      toolReply(toolUse, { name: 'memory_operations', input: { operations: [{ op: 'ADD', id: null, text: 'Has a dog named Rex' }] } }),
    );
    const memory = new Memory({
      llm: llm(),
      embedder: new HashEmbedder(),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
      images: { describe: true },
    });
    const result = await memory.add(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'My dog Rex' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
      { scope: { userId: 'u1' } },
    );
    expect(result.events.map((event) => event.text)).toEqual(['Has a dog named Rex']);
    expect(result.usage.llmCalls).toBe(1);
    const user = messagesBody(server.requests[0]!).messages[0]! as { content: { type: string; text?: string; source?: unknown }[] };
    expect(user.content.map((block) => block.type)).toEqual(['text', 'text', 'image']);
    expect(user.content[0]!.text).toContain('user: My dog Rex\n[image 1]');
    expect(user.content[2]!.source).toEqual({ type: 'base64', media_type: 'image/png', data: PNG });
  });
});
