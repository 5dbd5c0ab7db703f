import { MemError, ProviderRequestError, type ResponseFormat } from '@mem/core/adapter';
import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import badRequest from './__fixtures__/openai-chat-bad-request.json';
import insufficientQuota from './__fixtures__/openai-chat-insufficient-quota.json';
import jsonObject from './__fixtures__/openai-chat-json-object.json';
import jsonSchema from './__fixtures__/openai-chat-json-schema.json';
import length from './__fixtures__/openai-chat-length.json';
import rateLimited from './__fixtures__/openai-chat-rate-limited.json';
import refusal from './__fixtures__/openai-chat-refusal.json';
import serverError from './__fixtures__/openai-chat-server-error.json';
import chatText from './__fixtures__/openai-chat-text.json';
import toolCallInvalid from './__fixtures__/openai-chat-tool-call-invalid-json.json';
import toolCall from './__fixtures__/openai-chat-tool-call.json';
import unauthorized from './__fixtures__/openai-chat-unauthorized.json';
import { OpenAILLM, type OpenAILLMOptions } from './openai-llm';
import type { OpenAIRetryEvent } from './index';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import {
  chatBody,
  chatReply,
  startOpenAIFakeServer,
  stableHeaders,
  type FakeRequest,
  type OpenAIFakeServer,
} from './testing/openai-fake-server';

const API_KEY = 'sk-test-0123456789abcdef';
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

let server: OpenAIFakeServer;
beforeAll(async () => {
  server = await startOpenAIFakeServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function llm(options: OpenAILLMOptions = {}): OpenAILLM {
  return new OpenAILLM({ apiKey: API_KEY, baseURL: server.baseURL, retryInitialDelayMs: 1, retryMaxDelayMs: 2, ...options });
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
  test('a text request sends the messages, temperature 0 and no token limit, with the key as a bearer token', async () => {
    server.enqueue(chatText);
    const response = await llm().generate({ messages: [{ role: 'user', content: 'Say hello' }] });

    expect(response).toEqual({
      text: 'Hello! How can I help you today?',
      finishReason: 'stop',
      usage: { promptTokens: 9, completionTokens: 10 },
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(server.requests[0]!.headers['x-stainless-retry-count']).toBe('0');
    expect(wire(server.requests[0])).toMatchInlineSnapshot(`
      {
        "body": {
          "messages": [
            {
              "content": "Say hello",
              "role": "user",
            },
          ],
          "model": "gpt-4.1-mini",
          "temperature": 0,
        },
        "headers": {
          "accept": "application/json",
          "content-type": "application/json",
        },
        "method": "POST",
        "path": "/v1/chat/completions",
      }
    `);
  });

  test('json_schema (default) sends a strict response_format with the schema and returns the JSON text', async () => {
    server.enqueue(jsonSchema);
    const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS });

    expect(JSON.parse(response.text)).toEqual({ facts: ['Is vegetarian', 'Lives in Lisbon'] });
    expect(response.finishReason).toBe('stop');
    expect(response.usage).toEqual({ promptTokens: 212, completionTokens: 14 });
    expect(wire(server.requests[0])).toMatchInlineSnapshot(`
      {
        "body": {
          "messages": [
            {
              "content": "Extract facts. Reply with JSON only.",
              "role": "system",
            },
            {
              "content": "I am vegetarian and I live in Lisbon.",
              "role": "user",
            },
          ],
          "model": "gpt-4.1-mini",
          "response_format": {
            "json_schema": {
              "name": "facts",
              "schema": {
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
              "strict": true,
            },
            "type": "json_schema",
          },
          "temperature": 0,
        },
        "headers": {
          "accept": "application/json",
          "content-type": "application/json",
        },
        "method": "POST",
        "path": "/v1/chat/completions",
      }
    `);
  });

  test('json_object sends response_format json_object and keeps the schema out of the body', async () => {
    server.enqueue(jsonObject);
    const subject = llm({ structuredOutput: 'json_object' });
    const response = await subject.generate({ messages: MESSAGES, responseFormat: FACTS, temperature: 0.3, maxTokens: 300 });

    expect(subject.capabilities.structuredOutput).toBe('json_object');
    expect(JSON.parse(response.text)).toEqual({ facts: ['Is vegetarian'] });
    expect(wire(server.requests[0])?.body).toMatchInlineSnapshot(`
      {
        "max_completion_tokens": 300,
        "messages": [
          {
            "content": "Extract facts. Reply with JSON only.",
            "role": "system",
          },
          {
            "content": "I am vegetarian and I live in Lisbon.",
            "role": "user",
          },
        ],
        "model": "gpt-4.1-mini",
        "response_format": {
          "type": "json_object",
        },
        "temperature": 0.3,
      }
    `);
  });

  test('tool forces one function call and returns its arguments as the answer', async () => {
    server.enqueue(toolCall);
    const subject = llm({ structuredOutput: 'tool' });
    const response = await subject.generate({ messages: MESSAGES, responseFormat: FACTS });

    expect(subject.capabilities.structuredOutput).toBe('json_object');
    expect(response).toEqual({
      text: '{"facts":["Is vegetarian","Lives in Lisbon"]}',
      finishReason: 'stop',
      usage: { promptTokens: 251, completionTokens: 18 },
    });
    expect(wire(server.requests[0])?.body).toMatchInlineSnapshot(`
      {
        "messages": [
          {
            "content": "Extract facts. Reply with JSON only.",
            "role": "system",
          },
          {
            "content": "I am vegetarian and I live in Lisbon.",
            "role": "user",
          },
        ],
        "model": "gpt-4.1-mini",
        "temperature": 0,
        "tool_choice": {
          "function": {
            "name": "facts",
          },
          "type": "function",
        },
        "tools": [
          {
            "function": {
              "description": "Reply with the facts object.",
              "name": "facts",
              "parameters": {
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
            },
            "type": "function",
          },
        ],
      }
    `);
  });

  test('a text request in tool mode sends no tools', async () => {
    server.enqueue(chatText);
    await llm({ structuredOutput: 'tool' }).generate({ messages: MESSAGES });
    expect(server.requests[0]!.body).not.toHaveProperty('tools');
    expect(server.requests[0]!.body).not.toHaveProperty('tool_choice');
  });

  test('maxTokens goes into the configured field; reasoning models get no temperature', async () => {
    server.enqueue(chatText, chatText, chatText);
    await llm({ maxTokens: 2000 }).generate({ messages: MESSAGES });
    await llm({ maxTokensField: 'max_tokens' }).generate({ messages: MESSAGES, maxTokens: 100, temperature: 0.7 });
    await llm({ model: 'o4-mini' }).generate({ messages: MESSAGES, temperature: 0.7 });

    const bodies = server.requests.map((request) => request.body);
    expect(bodies[0]).toMatchObject({ max_completion_tokens: 2000, temperature: 0 });
    expect(bodies[1]).toMatchObject({ max_tokens: 100, temperature: 0.7 });
    expect(bodies[1]).not.toHaveProperty('max_completion_tokens');
    expect(bodies[2]).toMatchObject({ model: 'o4-mini' });
    expect(bodies[2]).not.toHaveProperty('temperature');
  });

  test('an AzureOpenAI client passed as client routes to its deployment with api-version, and its own retries are bypassed', async () => {
    const client = new AzureOpenAI({
      apiKey: 'azure-test-key',
      endpoint: server.baseURL.replace(/\/v1$/, ''),
      apiVersion: '2024-10-21',
      maxRetries: 5,
    });
    server.enqueue(serverError, jsonSchema);
    const response = await new OpenAILLM({ client, model: 'my-gpt-4o-deployment', maxRetries: 1, retryInitialDelayMs: 1 }).generate({
      messages: MESSAGES,
      responseFormat: FACTS,
    });

    expect(JSON.parse(response.text)).toEqual({ facts: ['Is vegetarian', 'Lives in Lisbon'] });
    expect(server.requests).toHaveLength(2); // one failure + our one retry; the client's maxRetries: 5 did not apply
    expect(server.requests.map((request) => [request.path, request.query['api-version'], request.headers['api-key']])).toEqual([
      ['/openai/deployments/my-gpt-4o-deployment/chat/completions', '2024-10-21', 'azure-test-key'],
      ['/openai/deployments/my-gpt-4o-deployment/chat/completions', '2024-10-21', 'azure-test-key'],
    ]);
  });
});

describe('answers core must act on', () => {
  test('finish_reason length comes back as finishReason length with the cut text and the limit it ran with', async () => {
    server.enqueue(length, length);
    const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS, maxTokens: 8 });
    expect(response).toEqual({
      text: '{"facts":["Is vegetarian","Lives in Lis',
      finishReason: 'length',
      usage: { promptTokens: 212, completionTokens: 8 },
      maxTokens: 8,
    });
    // No limit sent (none configured, none asked): none reported, the model's own maximum applied.
    expect(await llm().generate({ messages: MESSAGES, responseFormat: FACTS })).not.toHaveProperty('maxTokens');
  });

  test('a refusal comes back as finishReason refusal with the refusal text', async () => {
    server.enqueue(refusal);
    const response = await llm().generate({ messages: MESSAGES, responseFormat: FACTS });
    expect(response).toEqual({
      text: "I'm sorry, I can't help with that request.",
      finishReason: 'refusal',
      usage: { promptTokens: 205, completionTokens: 11 },
    });
  });

  test('a tool call with invalid JSON arguments is returned raw, so core can make its corrective retry', async () => {
    server.enqueue(toolCallInvalid);
    const response = await llm({ structuredOutput: 'tool' }).generate({ messages: MESSAGES, responseFormat: FACTS });
    expect(response).toEqual({
      text: '{"facts":["Is vegetarian",]',
      finishReason: 'stop',
      usage: { promptTokens: 240, completionTokens: 15 },
    });
  });

  test('a response without choices is a ProviderResponseInvalidError', async () => {
    server.enqueue({ status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } });
    const error = await failure(llm().generate({ messages: MESSAGES }));
    expect(error.code).toBe('PROVIDER_RESPONSE_INVALID');
    expect(error.message).toContain('no choice');
  });

  test('missing usage (some compatible servers) counts as zero tokens', async () => {
    const { usage: _usage, ...body } = chatText.body;
    server.enqueue({ status: 200, body });
    const response = await llm().generate({ messages: MESSAGES });
    expect(response.usage).toEqual({ promptTokens: 0, completionTokens: 0 });
  });
});

describe('failures and retries', () => {
  test('401 is not retried and tells to check OPENAI_API_KEY, without the key or the provider message', async () => {
    server.enqueue(unauthorized);
    const error = await failure(new OpenAILLM({ apiKey: API_KEY, baseURL: server.baseURL }).generate({ messages: MESSAGES }));

    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error).toMatchObject({
      code: 'PROVIDER_REQUEST_FAILED',
      provider: 'openai',
      operation: 'generate',
      status: 401,
      retryable: false,
    });
    expect(error.message).toMatchInlineSnapshot(
      `"openai generate failed (HTTP 401): the API key was rejected (code invalid_api_key, type invalid_request_error). Check the apiKey option (it takes precedence over OPENAI_API_KEY): it must be a valid key for this server."`,
    );
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).not.toContain('Incorrect API key');
    expect(server.requests).toHaveLength(1);
  });

  test('429 with retry-after-ms is retried after the asked delay and then succeeds', async () => {
    const retries: OpenAIRetryEvent[] = [];
    server.enqueue(rateLimited, chatText);
    const response = await llm({ onRetry: (event) => retries.push(event) }).generate({ messages: MESSAGES });

    expect(response.text).toBe('Hello! How can I help you today?');
    expect(server.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ operation: 'generate', retry: 1, delayMs: 5 });
    expect(retries[0]!.error).toMatchObject({ status: 429, retryable: true });
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);
  });

  test('429 with only retry-after in seconds waits that long (here 0 s)', async () => {
    const retries: OpenAIRetryEvent[] = [];
    server.enqueue({ ...rateLimited, headers: { 'retry-after': '0' } }, chatText);
    await llm({ retryInitialDelayMs: 60_000, retryMaxDelayMs: 60_000, onRetry: (event) => retries.push(event) }).generate({
      messages: MESSAGES,
    });
    expect(retries.map((event) => event.delayMs)).toEqual([0]);
  });

  test('429 on every attempt gives up after maxRetries and says it was rate limited and retried', async () => {
    server.enqueue(rateLimited, rateLimited, rateLimited, rateLimited);
    const error = await failure(llm({ maxRetries: 2 }).generate({ messages: MESSAGES }));

    expect(error).toMatchObject({ status: 429, retryable: true });
    expect(error.message).toMatchInlineSnapshot(
      `"openai generate failed (HTTP 429): rate limited (code rate_limit_exceeded, type requests); retried 2 times; the server asked to wait 5 ms. Lower the request rate, raise maxRetries, or ask for a higher rate limit."`,
    );
    expect(server.requests).toHaveLength(3);
  });

  test('a retry-after longer than maxRetryAfterMs ends the call at once', async () => {
    server.enqueue({ ...rateLimited, headers: { 'retry-after': '120' } }, chatText);
    const error = await failure(llm().generate({ messages: MESSAGES }));
    expect(error).toMatchObject({ status: 429, retryable: true });
    expect(error.message).toContain('the server asked to wait 120 s');
    expect(server.requests).toHaveLength(1);
  });

  test('429 insufficient_quota is not retried: waiting does not add credit', async () => {
    server.enqueue(insufficientQuota, chatText);
    const error = await failure(llm().generate({ messages: MESSAGES }));
    expect(error).toMatchObject({ status: 429, retryable: false });
    expect(error.message).toContain('run out of quota');
    expect(server.requests).toHaveLength(1);
  });

  test('500 then success is retried once', async () => {
    server.enqueue(serverError, chatText);
    const response = await llm().generate({ messages: MESSAGES });
    expect(response.finishReason).toBe('stop');
    expect(server.requests).toHaveLength(2);
  });

  test('500 forever gives up after maxRetries with a retryable error', async () => {
    server.fallback = serverError;
    try {
      const error = await failure(llm({ maxRetries: 3 }).generate({ messages: MESSAGES }));
      expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: 500, retryable: true });
      expect(error.message).toMatchInlineSnapshot(
        `"openai generate failed (HTTP 500): the server failed (type server_error); retried 3 times. Try again later."`,
      );
      expect(server.requests).toHaveLength(4);
    } finally {
      server.fallback = undefined;
    }
  });

  test('400 is not retried; the message names the parameter but not the provider text', async () => {
    server.enqueue(badRequest, chatText);
    const error = await failure(llm().generate({ messages: MESSAGES, responseFormat: FACTS }));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(error.message).toMatchInlineSnapshot(
      `"openai generate failed (HTTP 400): the request was rejected (type invalid_request_error, param response_format). Check the model's support for the structuredOutput mode and the options; the provider's message is in error.cause."`,
    );
    expect(server.requests).toHaveLength(1);
  });

  test('a refused connection is retried, then reported with the origin and the setting to check', async () => {
    const closed = await startOpenAIFakeServer();
    const baseURL = closed.baseURL;
    await closed.close();
    const error = await failure(
      new OpenAILLM({ apiKey: API_KEY, baseURL, maxRetries: 1, retryInitialDelayMs: 1 }).generate({ messages: MESSAGES }),
    );
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: undefined, retryable: true });
    expect(error.message).toBe(
      `openai generate failed: could not connect to ${new URL(baseURL).origin}; retried 1 time. Check the network and the baseURL option or OPENAI_BASE_URL.`,
    );
  });

  test('an attempt over timeoutMs is a retryable timeout error, retried like a connection failure', async () => {
    server.enqueue({ hang: true }, { hang: true });
    const error = await failure(llm({ timeoutMs: 50, maxRetries: 1 }).generate({ messages: MESSAGES }));
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: undefined, retryable: true });
    expect(error.message).toBe(
      `openai generate failed: no answer from ${new URL(server.baseURL).origin} within the timeout of 50 ms; retried 1 time. Raise timeoutMs, or check the server's load.`,
    );
    expect(server.requests).toHaveLength(2);
  });

  test('aborting mid-flight rejects with ABORTED and sends no retry', async () => {
    server.enqueue({ hang: true }, chatText);
    const controller = new AbortController();
    const pending = failure(llm().generate({ messages: MESSAGES, signal: controller.signal }));
    await server.nextRequest();
    controller.abort();

    const error = await pending;
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe("openai generate was aborted by the caller's AbortSignal.");
    expect(server.requests).toHaveLength(1);
  });

  test('aborting while waiting to retry rejects with ABORTED and sends nothing more', async () => {
    const controller = new AbortController();
    server.enqueue(serverError, chatText);
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

  test('a user message with parts goes out as text and image_url parts (data URL for inline bytes, the URL as given, detail kept)', async () => {
    server.enqueue(chatText);
    await llm({ model: 'gpt-4o-mini' }).generate({
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
        "messages": [
          {
            "content": "Describe.",
            "role": "system",
          },
          {
            "content": [
              {
                "text": "What is this?",
                "type": "text",
              },
              {
                "image_url": {
                  "detail": "low",
                  "url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
                },
                "type": "image_url",
              },
              {
                "image_url": {
                  "url": "https://example.com/dog.jpg",
                },
                "type": "image_url",
              },
            ],
            "role": "user",
          },
        ],
        "model": "gpt-4o-mini",
        "temperature": 0,
      }
    `);
  });

  test('capabilities.imageInput: true for vision model ids, false for others, the option decides', () => {
    const imageInput = (options: OpenAILLMOptions) => llm(options).capabilities.imageInput;
    expect(['gpt-4.1-mini', 'gpt-4o', 'gpt-5-nano', 'o4-mini', 'o3', 'chatgpt-4o-latest'].map((model) => imageInput({ model }))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['gpt-3.5-turbo', 'o3-mini', 'o1-mini', 'llama3.1'].map((model) => imageInput({ model }))).toEqual([false, false, false, false]);
    expect(imageInput({ model: 'llava', imageInput: true })).toBe(true);
    expect(imageInput({ model: 'gpt-4o', imageInput: false })).toBe(false);
  });

  test('Memory with images.describe: the extraction request carries the images, one call, and the memory is stored', async () => {
    server.enqueue(chatReply(jsonSchema, { content: '{"operations":[{"op":"ADD","id":null,"text":"Has a dog named Rex"}]}' }));
    const memory = new Memory({
      llm: llm({ model: 'gpt-4.1-mini' }),
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
    const user = chatBody(server.requests[0]!).messages[1] as { content: { type: string; text?: string; image_url?: unknown }[] };
    expect(user.content.map((part) => part.type)).toEqual(['text', 'text', 'image_url']);
    expect(user.content[0]!.text).toContain('user: My dog Rex\n[image 1]');
    expect(user.content[2]!.image_url).toEqual({ url: `data:image/png;base64,${PNG}` });
  });
});
