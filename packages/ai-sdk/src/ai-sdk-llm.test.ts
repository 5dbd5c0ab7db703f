import { inspect } from 'node:util';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAI as createOpenAIV2 } from '@ai-sdk/openai-v2';
import { InvalidResponseDataError, LoadAPIKeyError, UnsupportedFunctionalityError } from '@ai-sdk/provider';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory } from '@mem/core';
import { MemError, type ProviderRequestError } from '@mem/core/adapter';
import { HashEmbedder } from '@mem/core/testing';
import { chatBody, errorBody, startOpenAIFakeServer, type OpenAIFakeServer } from '@mem/llm-openai/testing';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AISDKLLM, type AISDKStructuredOutput } from './ai-sdk-llm';
import { completion } from './testing/ai-sdk-fixtures';

let server: OpenAIFakeServer;
const KEY = 'sk-echoed-0123456789abcdef';
const factsFormat = {
  type: 'json' as const,
  name: 'facts',
  schema: {
    type: 'object',
    properties: { facts: { type: 'array', items: { type: 'string' } } },
    required: ['facts'],
    additionalProperties: false,
  },
};
const messages = [
  { role: 'system' as const, content: 'Extract facts.' },
  { role: 'user' as const, content: 'I am vegetarian.' },
];

server = await startOpenAIFakeServer();
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.fallback = undefined;
});

const llm = (options: { structuredOutput?: AISDKStructuredOutput; maxRetries?: number; timeoutMs?: number } = {}) =>
  new AISDKLLM({
    model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).chat('gpt-4.1-mini'),
    retryInitialDelayMs: 1,
    ...options,
  });

describe('the request each structured-output mode sends through @ai-sdk/openai', () => {
  it('json_schema: the schema as a strict json_schema response format', async () => {
    server.enqueue(completion({ content: '{"facts":["Is vegetarian"]}' }));
    const response = await llm().generate({ messages, responseFormat: factsFormat });
    expect(response).toEqual({
      text: '{"facts":["Is vegetarian"]}',
      finishReason: 'stop',
      usage: { promptTokens: 21, completionTokens: 7 },
    });
    expect(chatBody(server.requests[0]!)).toMatchInlineSnapshot(`
      {
        "messages": [
          {
            "content": "Extract facts.",
            "role": "system",
          },
          {
            "content": "I am vegetarian.",
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
      }
    `);
  });

  it('json: JSON mode without the schema', async () => {
    server.enqueue(completion({ content: '{"facts":[]}' }));
    await llm({ structuredOutput: 'json' }).generate({ messages, responseFormat: factsFormat, maxTokens: 300 });
    expect(chatBody(server.requests[0]!)).toMatchObject({ response_format: { type: 'json_object' }, max_tokens: 300 });
  });

  it('tool: one forced function call, whose arguments are the answer', async () => {
    server.enqueue(completion({ toolCalls: [{ name: 'facts', arguments: { facts: ['Is vegetarian'] } }] }));
    const response = await llm({ structuredOutput: 'tool' }).generate({ messages, responseFormat: factsFormat });
    expect(response.text).toBe('{"facts":["Is vegetarian"]}');
    expect(response.finishReason).toBe('stop');
    const body = chatBody(server.requests[0]!);
    expect(body.response_format).toBeUndefined();
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'facts' } });
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'facts',
          description: 'Reply with the facts object. Call this tool exactly once with the complete answer.',
          parameters: factsFormat.schema,
        },
      },
    ]);
  });

  it('text: neither a response format nor tools (core parses the answer leniently)', async () => {
    server.enqueue(completion({ content: 'Here: ```json\n{"facts":[]}\n```' }));
    const response = await llm({ structuredOutput: 'text' }).generate({ messages, responseFormat: factsFormat });
    expect(response.text).toBe('Here: ```json\n{"facts":[]}\n```');
    const body = chatBody(server.requests[0]!);
    expect(body.response_format).toBeUndefined();
    expect(body.tools).toBeUndefined();
  });

  it('a text request has no response format; temperature and providerOptions pass through', async () => {
    server.enqueue(completion({ content: 'Hi' }));
    const subject = new AISDKLLM({
      model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).chat('gpt-4.1-mini'),
      providerOptions: { openai: { user: 'mem-tests' } },
      headers: { 'x-team': 'memory' },
    });
    await subject.generate({ messages: [{ role: 'user', content: 'hi' }], temperature: 0.4 });
    expect(chatBody(server.requests[0]!)).toEqual({
      model: 'gpt-4.1-mini',
      user: 'mem-tests',
      temperature: 0.4,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(server.requests[0]!.headers['x-team']).toBe('memory');
  });

  it('sendTemperature: false leaves temperature out', async () => {
    server.enqueue(completion({ content: 'Hi' }));
    const subject = new AISDKLLM({
      model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).chat('gpt-4.1-mini'),
      sendTemperature: false,
    });
    await subject.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(chatBody(server.requests[0]!).temperature).toBeUndefined();
  });
});

describe('results', () => {
  it('a cut-off answer is finishReason length, a content filter is refusal', async () => {
    server.enqueue(
      completion({ content: '{"facts":["Is veg', finishReason: 'length' }),
      completion({ content: '', finishReason: 'content_filter' }),
    );
    expect((await llm().generate({ messages })).finishReason).toBe('length');
    expect((await llm().generate({ messages })).finishReason).toBe('refusal');
  });

  it('a response carries the answer token limit the call ran with, and a request may ask up to maxOutputTokens', async () => {
    server.enqueue(completion({ content: '{"facts":["Is veg', finishReason: 'length' }), completion({ content: 'Hi' }));
    const cut = await llm().generate({ messages, maxTokens: 16 });
    expect([cut.finishReason, cut.maxTokens]).toEqual(['length', 16]);
    expect(chatBody(server.requests[0]!)).toMatchObject({ max_tokens: 16 });
    // None asked, none configured: none sent, none reported.
    expect(await llm().generate({ messages })).not.toHaveProperty('maxTokens');
    expect(llm().capabilities.maxOutputTokens).toBe(1_000_000);
    await expect(llm().generate({ messages, maxTokens: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'request.maxTokens' });
  });

  it('usage is mapped from a V2 model (flat counts) as from a V3 model (nested counts)', async () => {
    server.enqueue(completion({ content: 'Hi', usage: { prompt_tokens: 40, completion_tokens: 3 } }));
    const v2 = new AISDKLLM({ model: createOpenAIV2({ apiKey: KEY, baseURL: server.baseURL }).chat('gpt-4.1-mini') });
    expect(v2.capabilities.structuredOutput).toBe('json_schema');
    expect(await v2.generate({ messages })).toEqual({ text: 'Hi', finishReason: 'stop', usage: { promptTokens: 40, completionTokens: 3 } });
  });

  it('a model reporting no usage gives zeros, and the provider and model name the adapter', async () => {
    const model = new MockLanguageModelV3({
      provider: 'mock.chat',
      modelId: 'mock-1',
      doGenerate: {
        content: [{ type: 'text', text: 'Hi' }],
        finishReason: { unified: 'other', raw: 'weird' },
        usage: {
          inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: undefined, text: undefined, reasoning: undefined },
        },
        warnings: [],
      },
    });
    const subject = new AISDKLLM({ model, structuredOutput: 'text' });
    expect([subject.provider, subject.model, subject.capabilities.structuredOutput]).toEqual(['mock.chat', 'mock-1', 'none']);
    expect(await subject.generate({ messages })).toEqual({
      text: 'Hi',
      finishReason: 'other',
      usage: { promptTokens: 0, completionTokens: 0 },
    });
  });
});

describe('failures become mem errors; retryable is decided by core', () => {
  it('a 429 is retried (after retry-after-ms) and a 500 too, then the answer comes back', async () => {
    server.enqueue(
      { status: 429, headers: { 'retry-after-ms': '5' }, body: errorBody('Rate limit reached', 'requests', 'rate_limit_exceeded') },
      { status: 500, body: errorBody('The server had an error', 'server_error') },
      completion({ content: 'Hi' }),
    );
    const retries: number[] = [];
    const subject = new AISDKLLM({
      model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).chat('gpt-4.1-mini'),
      retryInitialDelayMs: 1,
      onRetry: (event) => retries.push(event.error.status ?? 0),
    });
    expect((await subject.generate({ messages })).text).toBe('Hi');
    expect(retries).toEqual([429, 500]);
    expect(server.requests).toHaveLength(3);
  });

  it.each([
    [400, 'invalid_json_schema', false, /rejected \(code invalid_json_schema, type invalid_request_error\)/],
    [401, 'invalid_api_key', false, /API key was rejected/],
    [404, 'model_not_found', false, /Check the model id \("gpt-4.1-mini"\)/],
    [429, 'insufficient_quota', false, /rate limited \(code insufficient_quota/],
    [503, 'overloaded', true, /server failed/],
  ])('HTTP %i (%s) → PROVIDER_REQUEST_FAILED, retryable %s', async (status, code, retryable, message) => {
    const body = errorBody('The provider says why, in words', 'invalid_request_error', code);
    server.fallback = { status, body };
    const error = (await llm({ maxRetries: 0 })
      .generate({ messages })
      .catch((caught: unknown) => caught)) as ProviderRequestError;
    expect(MemError.is(error, 'PROVIDER_REQUEST_FAILED')).toBe(true);
    expect({ status: error.status, retryable: error.retryable, provider: error.provider }).toEqual({
      status,
      retryable,
      provider: 'openai.chat',
    });
    expect(error.message).toMatch(message);
    expect(server.requests).toHaveLength(1);
  });

  it('a refused connection is a retryable PROVIDER_REQUEST_FAILED without status', async () => {
    const closed = await startOpenAIFakeServer();
    const baseURL = closed.baseURL;
    await closed.close();
    const subject = new AISDKLLM({ model: createOpenAI({ apiKey: KEY, baseURL }).chat('gpt-4.1-mini'), maxRetries: 0 });
    const error = (await subject.generate({ messages }).catch((caught: unknown) => caught)) as ProviderRequestError;
    expect({ code: error.code, status: error.status, retryable: error.retryable }).toEqual({
      code: 'PROVIDER_REQUEST_FAILED',
      status: undefined,
      retryable: true,
    });
    expect(error.message).toContain(`could not reach ${new URL(baseURL).origin}`);
  });

  it('timeoutMs cuts a hanging attempt and retries it; the caller signal aborts with ABORTED and no retry', async () => {
    server.fallback = { hang: true };
    const timedOut = (await llm({ maxRetries: 1, timeoutMs: 50 })
      .generate({ messages })
      .catch((caught: unknown) => caught)) as ProviderRequestError;
    expect(timedOut.code).toBe('PROVIDER_REQUEST_FAILED');
    expect(timedOut.message).toContain('no answer within the timeout of 50 ms; retried 1 time');
    expect(server.requests).toHaveLength(2);

    server.reset();
    const controller = new AbortController();
    const pending = llm().generate({ messages, signal: controller.signal });
    await server.nextRequest();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.requests).toHaveLength(1);
  });

  it('the abort signal reaches the model call', async () => {
    const model = new MockLanguageModelV3({ doGenerate: async () => new Promise(() => undefined) });
    const controller = new AbortController();
    const pending = new AISDKLLM({ model }).generate({ messages, signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    expect(model.doGenerateCalls[0]!.abortSignal).toBeInstanceOf(AbortSignal);
    expect(model.doGenerateCalls[0]!.abortSignal!.aborted).toBe(false);
    controller.abort();
    expect(model.doGenerateCalls[0]!.abortSignal!.aborted).toBe(true);
    // The mock never settles; the adapter's call stays pending like any call whose model ignores the signal.
    void pending.catch(() => undefined);
  });

  it('neither the key nor the prompt a server echoes reaches the error, cause chain included', async () => {
    server.fallback = (request) => ({
      status: 400,
      body: errorBody(`Bad request from ${request.headers['authorization']}: ${JSON.stringify(request.body)}`, 'invalid_request_error'),
    });
    const error = await llm({ maxRetries: 0 })
      .generate({ messages: [{ role: 'user', content: 'SENTINEL-MEMORY my pin is 4312' }] })
      .catch((caught: unknown) => caught);
    const printed = inspect(error, { depth: 12 });
    expect(MemError.is(error, 'PROVIDER_REQUEST_FAILED')).toBe(true);
    expect(printed).not.toContain(KEY);
    expect(printed).not.toContain('SENTINEL-MEMORY');
    expect(printed).toContain('AI_APICallError HTTP 400');
  });

  it('a missing API key (the provider throws LoadAPIKeyError) is MISSING_SETTING, naming the variable', async () => {
    const model = new MockLanguageModelV3({
      provider: 'openai.chat',
      doGenerate: async () => {
        throw new LoadAPIKeyError({
          message: "OpenAI API key is missing. Pass it using the 'apiKey' parameter or the OPENAI_API_KEY environment variable.",
        });
      },
    });
    await expect(new AISDKLLM({ model }).generate({ messages })).rejects.toMatchObject({
      code: 'MISSING_SETTING',
      message: expect.stringContaining('OPENAI_API_KEY environment variable'),
    });
  });

  it('an unsupported feature is UNSUPPORTED_CAPABILITY; an unreadable response is PROVIDER_RESPONSE_INVALID', async () => {
    const failing = (error: Error) =>
      new AISDKLLM({
        model: new MockLanguageModelV3({
          doGenerate: async () => {
            throw error;
          },
        }),
      }).generate({ messages });
    await expect(failing(new UnsupportedFunctionalityError({ functionality: 'responseFormat json' }))).rejects.toMatchObject({
      code: 'UNSUPPORTED_CAPABILITY',
      capability: 'responseFormat json',
    });
    await expect(failing(new InvalidResponseDataError({ data: { secret: 'SENTINEL' } }))).rejects.toMatchObject({
      code: 'PROVIDER_RESPONSE_INVALID',
    });
  });
});

describe('options', () => {
  it('rejects a model id string, a non-model and an unknown structuredOutput with typed errors', () => {
    expect(() => new AISDKLLM({ model: 'openai/gpt-4.1' as never })).toThrow(/Invalid options.model: is a model id string/);
    expect(() => new AISDKLLM({ model: {} as never })).toThrow(/not an AI SDK model/);
    expect(() => new AISDKLLM({ model: { specificationVersion: 'v9', doGenerate() {} } as never })).toThrow(/specification version v9/);
    expect(() => new AISDKLLM({ model: new MockLanguageModelV3(), structuredOutput: 'xml' as never })).toThrow(/options.structuredOutput/);
    expect(() => new AISDKLLM({ model: new MockLanguageModelV3(), maxRetries: -1 })).toThrow(/options.maxRetries/);
  });
});

describe('images', () => {
  /** A 1×1 PNG. */
  const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  const withImages = [
    { role: 'system' as const, content: 'Describe.' },
    {
      role: 'user' as const,
      content: 'What is this?',
      parts: [
        { type: 'text' as const, text: 'What is this?' },
        { type: 'image' as const, source: { type: 'base64' as const, mediaType: 'image/png' as const, data: PNG }, detail: 'low' as const },
        { type: 'image' as const, source: { type: 'url' as const, url: 'https://example.com/dog.jpg' } },
      ],
    },
  ];
  const visionLlm = () =>
    new AISDKLLM({
      model: createOpenAI({ apiKey: KEY, baseURL: server.baseURL }).chat('gpt-4.1-mini'),
      retryInitialDelayMs: 1,
      imageInput: true,
    });

  it('the model gets file parts (base64 data with its media type; a URL as image/*), detail as openai imageDetail', async () => {
    const model = new MockLanguageModelV3({
      doGenerate: {
        content: [{ type: 'text', text: 'A dog.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 2, text: 2, reasoning: undefined },
        },
        warnings: [],
      },
    });
    await new AISDKLLM({ model, imageInput: true }).generate({ messages: withImages });
    expect(model.doGenerateCalls[0]!.prompt[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'file', mediaType: 'image/png', data: PNG, providerOptions: { openai: { imageDetail: 'low' } } },
        { type: 'file', mediaType: 'image/*', data: new URL('https://example.com/dog.jpg') },
      ],
    });
  });

  it('through @ai-sdk/openai they reach the wire as image_url parts', async () => {
    server.enqueue(completion({ content: 'A dog.' }));
    await visionLlm().generate({ messages: withImages });
    expect((chatBody(server.requests[0]!).messages[1] as { content: unknown }).content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'low' } },
      { type: 'image_url', image_url: { url: 'https://example.com/dog.jpg' } },
    ]);
  });

  it('capabilities.imageInput is false unless the option says the model sees images', () => {
    expect(llm().capabilities.imageInput).toBe(false);
    expect(visionLlm().capabilities.imageInput).toBe(true);
  });

  it('Memory with images.describe: the extraction request carries the image, one call, and the memory is stored', async () => {
    server.enqueue(completion({ content: '{"operations":[{"op":"ADD","id":null,"text":"Has a dog named Rex"}]}' }));
    const memory = new Memory({
      llm: visionLlm(),
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
