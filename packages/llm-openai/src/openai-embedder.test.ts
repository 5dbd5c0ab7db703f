import { MemError } from '@mem/core/adapter';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import rateLimited from './__fixtures__/openai-embedding-rate-limited.json';
import embedding from './__fixtures__/openai-embedding.json';
import { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai-embedder';
import {
  embeddingBody,
  lexicalEmbeddings,
  startOpenAIFakeServer,
  stableHeaders,
  type OpenAIFakeServer,
} from './testing/openai-fake-server';

let server: OpenAIFakeServer;
beforeAll(async () => {
  server = await startOpenAIFakeServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function embedder(options: OpenAIEmbedderOptions = {}): OpenAIEmbedder {
  return new OpenAIEmbedder({
    apiKey: 'sk-test',
    baseURL: server.baseURL,
    dimensions: 8,
    retryInitialDelayMs: 1,
    retryMaxDelayMs: 2,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<MemError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!MemError.is(error)) throw new Error(`expected a MemError, got ${String(error)}`);
  return error;
}

test('sends model, input and dimensions with the SDK default base64 encoding, and decodes the vectors in input order', async () => {
  server.enqueue(embedding); // the fixture lists index 1 before index 0
  const result = await embedder().embed({ texts: ['Is vegetarian', 'Lives in Lisbon'], purpose: 'document' });

  const request = server.requests[0]!;
  expect({
    method: request.method,
    path: request.path,
    headers: stableHeaders(request.headers),
    body: request.body,
  }).toMatchInlineSnapshot(`
    {
      "body": {
        "dimensions": 8,
        "encoding_format": "base64",
        "input": [
          "Is vegetarian",
          "Lives in Lisbon",
        ],
        "model": "text-embedding-3-small",
      },
      "headers": {
        "accept": "application/json",
        "content-type": "application/json",
      },
      "method": "POST",
      "path": "/v1/embeddings",
    }
  `);
  expect(result.vectors).toEqual([embedding.body.data[1]!.embedding, embedding.body.data[0]!.embedding]);
  expect(result.tokens).toBe(9);
});

test("encodingFormat 'float' asks for JSON arrays", async () => {
  server.enqueue(embedding);
  const result = await embedder({ encodingFormat: 'float' }).embed({ texts: ['a', 'b'] });
  expect(embeddingBody(server.requests[0]!).encoding_format).toBe('float');
  expect(result.vectors[0]).toEqual(embedding.body.data[1]!.embedding);
});

test('no dimensions option: none is sent and the native size is expected', async () => {
  server.fallback = lexicalEmbeddings;
  try {
    const error = await failure(embedder({ dimensions: undefined }).embed({ texts: ['a'] }));
    expect(server.requests[0]!.body).not.toHaveProperty('dimensions');
    // The fake answers 64 dimensions where text-embedding-3-small has 1536: the adapter notices.
    expect(error.code).toBe('PROVIDER_RESPONSE_INVALID');
    expect(error.message).toContain('vector 0 has 64 dimensions, expected 1536');
  } finally {
    server.fallback = undefined;
  }
});

test('splits by maxBatchSize, one request after another, and keeps the overall order', async () => {
  server.fallback = lexicalEmbeddings;
  try {
    const texts = ['one apple', 'two pears', 'three plums', 'four figs', 'five limes'];
    const result = await embedder({ maxBatchSize: 2 }).embed({ texts });
    expect(server.requests.map((request) => embeddingBody(request).input)).toEqual([
      ['one apple', 'two pears'],
      ['three plums', 'four figs'],
      ['five limes'],
    ]);
    const single = await embedder().embed({ texts: ['four figs'] });
    expect(result.vectors[3]).toEqual(single.vectors[0]);
    expect(result.vectors).toHaveLength(5);
    expect(result.tokens).toBe(10); // summed over the three requests
  } finally {
    server.fallback = undefined;
  }
});

test('splits by the estimated token budget; a text above it still goes alone', async () => {
  server.fallback = lexicalEmbeddings;
  try {
    // 30 ASCII bytes ≈ 10 estimated tokens each; a budget of 25 fits two.
    const texts = ['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30), 'd'.repeat(300)];
    await embedder({ maxBatchTokens: 25 }).embed({ texts });
    expect(server.requests.map((request) => (embeddingBody(request).input as string[]).length)).toEqual([2, 1, 1]);
  } finally {
    server.fallback = undefined;
  }
});

test('queryPrefix and documentPrefix are prepended by purpose', async () => {
  server.fallback = lexicalEmbeddings;
  try {
    const subject = embedder({ queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' });
    await subject.embed({ texts: ['tea'], purpose: 'query' });
    await subject.embed({ texts: ['tea'], purpose: 'document' });
    await subject.embed({ texts: ['tea'] });
    expect(server.requests.map((request) => embeddingBody(request).input)).toEqual([
      ['search_query: tea'],
      ['search_document: tea'],
      ['tea'],
    ]);
  } finally {
    server.fallback = undefined;
  }
});

test('no texts: no request; an empty text: InvalidInputError before any request', async () => {
  expect(await embedder().embed({ texts: [] })).toEqual({ vectors: [], tokens: 0 });
  const error = await failure(embedder().embed({ texts: ['ok', ''] }));
  expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'request.texts[1]' });
  expect(server.requests).toHaveLength(0);
});

test('fewer vectors than texts is a ProviderResponseInvalidError', async () => {
  server.enqueue(embedding);
  const error = await failure(embedder().embed({ texts: ['a', 'b', 'c'] }));
  expect(error.code).toBe('PROVIDER_RESPONSE_INVALID');
  expect(error.message).toBe('openai embed returned an unusable response: 3 texts were sent but 2 vectors came back');
});

test('a repeated index is a ProviderResponseInvalidError', async () => {
  const body = structuredClone(embedding.body);
  body.data[0]!.index = 0;
  server.enqueue({ status: 200, body });
  const error = await failure(embedder().embed({ texts: ['a', 'b'] }));
  expect(error.message).toContain('repeated or out-of-range index (0)');
});

test('429 then success: retried after retry-after, tokens of the successful call only', async () => {
  server.enqueue(rateLimited, embedding);
  const result = await embedder().embed({ texts: ['a', 'b'] });
  expect(server.requests).toHaveLength(2);
  expect(result.tokens).toBe(9);
});

test('429 forever: a retryable error saying it was rate limited and retried', async () => {
  server.enqueue(rateLimited, rateLimited);
  const error = await failure(embedder({ maxRetries: 1 }).embed({ texts: ['a', 'b'] }));
  expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', operation: 'embed', status: 429, retryable: true });
  expect(error.message).toContain('rate limited (code rate_limit_exceeded, type tokens); retried 1 time');
});

test('aborting mid-flight rejects with ABORTED and sends no retry', async () => {
  server.enqueue({ hang: true }, embedding);
  const controller = new AbortController();
  const pending = failure(embedder().embed({ texts: ['a', 'b'], signal: controller.signal }));
  await server.nextRequest();
  controller.abort();
  expect((await pending).code).toBe('ABORTED');
  expect(server.requests).toHaveLength(1);
});
