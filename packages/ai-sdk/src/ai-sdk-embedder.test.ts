import { createOpenAI } from '@ai-sdk/openai';
import { embeddingBody, errorBody, lexicalEmbeddings, startOpenAIFakeServer, type OpenAIFakeServer } from '@mem/llm-openai/testing';
import { MockEmbeddingModelV3 } from 'ai/test';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AISDKEmbedder } from './ai-sdk-embedder';

const server: OpenAIFakeServer = await startOpenAIFakeServer();
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.fallback = (request) => lexicalEmbeddings(request);
});
const provider = () => createOpenAI({ apiKey: 'sk-test', baseURL: server.baseURL });

describe('AISDKEmbedder through @ai-sdk/openai', () => {
  it('sends texts with their purpose prefix and providerOptions, in batches of maxBatchSize, and sums the tokens', async () => {
    const embedder = new AISDKEmbedder({
      model: provider().embedding('text-embedding-3-small'),
      dimensions: 32,
      maxBatchSize: 2,
      queryPrefix: 'search_query: ',
      documentPrefix: 'search_document: ',
      providerOptions: { all: { openai: { dimensions: 32 } }, query: { openai: { user: 'searcher' } } },
    });
    const documents = await embedder.embed({ texts: ['Likes tea', 'Lives in Lisbon', 'Plays cello'], purpose: 'document' });
    expect(documents.vectors).toHaveLength(3);
    expect(documents.vectors.every((vector) => vector.length === 32)).toBe(true);
    expect(documents.tokens).toBe(10); // the server counts words: "search_document: " + text
    expect(server.requests.map((request) => embeddingBody(request))).toEqual([
      {
        model: 'text-embedding-3-small',
        input: ['search_document: Likes tea', 'search_document: Lives in Lisbon'],
        dimensions: 32,
        encoding_format: 'float',
      },
      { model: 'text-embedding-3-small', input: ['search_document: Plays cello'], dimensions: 32, encoding_format: 'float' },
    ]);
    server.reset();
    await embedder.embed({ texts: ['tea'], purpose: 'query' });
    expect(embeddingBody(server.requests[0]!)).toEqual({
      model: 'text-embedding-3-small',
      input: ['search_query: tea'],
      dimensions: 32,
      user: 'searcher',
      encoding_format: 'float',
    });
  });

  it('vectors of the wrong length, or too few, are PROVIDER_RESPONSE_INVALID', async () => {
    const embedder = new AISDKEmbedder({ model: provider().embedding('text-embedding-3-small'), dimensions: 16, maxRetries: 0 });
    await expect(embedder.embed({ texts: ['tea'] })).rejects.toMatchObject({
      code: 'PROVIDER_RESPONSE_INVALID',
      message: expect.stringContaining('vector 0 has 64 dimensions, expected 16'),
    });
    server.fallback = (request) => {
      const reply = lexicalEmbeddings(request) as { status: number; body: { data: unknown[] } };
      return { ...reply, body: { ...reply.body, data: reply.body.data.slice(1) } };
    };
    const unchecked = new AISDKEmbedder({ model: provider().embedding('text-embedding-3-small'), maxRetries: 0 });
    await expect(unchecked.embed({ texts: ['tea', 'coffee'] })).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_INVALID' });
  });

  it('a 429 is retried; a 401 is not', async () => {
    server.enqueue({ status: 429, body: errorBody('Rate limit reached', 'requests', 'rate_limit_exceeded') });
    const embedder = new AISDKEmbedder({ model: provider().embedding('text-embedding-3-small'), retryInitialDelayMs: 1 });
    expect((await embedder.embed({ texts: ['tea'] })).vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    server.reset();
    server.fallback = { status: 401, body: errorBody('Incorrect API key', 'invalid_request_error', 'invalid_api_key') };
    await expect(embedder.embed({ texts: ['tea'] })).rejects.toMatchObject({
      code: 'PROVIDER_REQUEST_FAILED',
      status: 401,
      retryable: false,
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe('AISDKEmbedder on the AI SDK mock model', () => {
  it("batches by the model's maxEmbeddingsPerCall and forwards the abort signal", async () => {
    const model = new MockEmbeddingModelV3({
      maxEmbeddingsPerCall: 2,
      doEmbed: async ({ values }) => ({
        embeddings: values.map((_, index) => [1, index + 1]),
        usage: { tokens: values.length },
        warnings: [],
      }),
    });
    const controller = new AbortController();
    const result = await new AISDKEmbedder({ model }).embed({ texts: ['a', 'b', 'c'], signal: controller.signal });
    expect(result).toEqual({
      vectors: [
        [1, 1],
        [1, 2],
        [1, 1],
      ],
      tokens: 3,
    });
    expect(model.doEmbedCalls.map((call) => call.values)).toEqual([['a', 'b'], ['c']]);
    expect(model.doEmbedCalls.every((call) => call.abortSignal instanceof AbortSignal)).toBe(true);
  });

  it('rejects empty texts and bad options before any call', async () => {
    const model = new MockEmbeddingModelV3({ doEmbed: async () => ({ embeddings: [[1]], warnings: [] }) });
    await expect(new AISDKEmbedder({ model }).embed({ texts: ['tea', ''] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'request.texts[1]',
    });
    expect(model.doEmbedCalls).toHaveLength(0);
    expect(() => new AISDKEmbedder({ model, dimensions: 0 })).toThrow(/options.dimensions/);
    expect(() => new AISDKEmbedder({ model: 'openai/text-embedding-3-small' as never })).toThrow(/model id string/);
  });
});
