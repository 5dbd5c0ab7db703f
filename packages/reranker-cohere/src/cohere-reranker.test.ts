import { createServer } from 'node:net';
import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder, Memory } from '@mem/core';
import { MemError, type ProviderRequestError } from '@mem/core/adapter';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CohereEmulator, emulatorScore, startCohereEmulator } from '../test/cohere-emulator';
import { CohereReranker, type CohereRerankerOptions } from './cohere-reranker';

let server: CohereEmulator;
beforeAll(async () => {
  server = await startCohereEmulator({ token: 'sk-secret-key-123' });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.failures.length = 0;
  server.rawAnswer = undefined;
  server.delayMs = 0;
});

const reranker = (options: CohereRerankerOptions = {}) =>
  new CohereReranker({ apiKey: 'sk-secret-key-123', baseUrl: server.url, retryInitialDelayMs: 1, retryMaxDelayMs: 5, ...options });

async function captureError(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('CohereReranker: requests', () => {
  it('sends the v2 body in snake_case with the bearer key and returns the scores in document order', async () => {
    const documents = ['My brother plays chess.', 'The user likes green tea.', 'Tea, but black.'];
    const scores = await reranker({ model: 'rerank-v4.0-fast', maxTokensPerDoc: 512 }).rerank({ query: 'green tea', documents });
    expect(scores).toEqual(documents.map((document) => emulatorScore('green tea', document)));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toEqual({
      path: '/v2/rerank',
      authorization: 'Bearer sk-secret-key-123',
      body: { model: 'rerank-v4.0-fast', query: 'green tea', documents, top_n: 3, max_tokens_per_doc: 512 },
    });
  });

  it('splits more documents than maxBatchSize into several requests and keeps their order', async () => {
    const documents = Array.from({ length: 7 }, (_, index) => (index % 3 === 0 ? `green tea number ${index}` : `chess game ${index}`));
    const scores = await reranker({ maxBatchSize: 3 }).rerank({ query: 'green tea', documents });
    expect(server.requests.map((request) => (request.body as { documents: string[] }).documents.length)).toEqual([3, 3, 1]);
    expect(scores).toEqual(documents.map((document) => emulatorScore('green tea', document)));
  });

  it('sends nothing for no documents', async () => {
    expect(await reranker().rerank({ query: 'green tea', documents: [] })).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('reads CO_API_KEY and CO_API_URL when no option is given; options take precedence', async () => {
    const fromEnvironment = new CohereReranker({ environment: { CO_API_KEY: 'sk-secret-key-123', CO_API_URL: server.url } });
    expect(await fromEnvironment.rerank({ query: 'tea', documents: ['tea'] })).toEqual([1]);
    const wrongKey = new CohereReranker({ apiKey: 'other', baseUrl: server.url, environment: { CO_API_KEY: 'sk-secret-key-123' } });
    const error = (await captureError(() => wrongKey.rerank({ query: 'tea', documents: ['tea'] }))) as ProviderRequestError;
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: 401, retryable: false });
    expect(error.message).toContain('apiKey option');
  });
});

describe('CohereReranker: options', () => {
  it('refuses a missing key with MISSING_SETTING naming CO_API_KEY', () => {
    const error = (() => {
      try {
        new CohereReranker({ environment: {} });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect(error?.message).toContain('CO_API_KEY');
  });

  it.each([
    [{ model: '' }, 'options.model'],
    [{ timeoutMs: 0 }, 'options.timeoutMs'],
    [{ maxBatchSize: 0 }, 'options.maxBatchSize'],
    [{ maxTokensPerDoc: 1.5 }, 'options.maxTokensPerDoc'],
    [{ baseUrl: 'ftp://example.com' }, 'options.baseUrl'],
    [{ maxRetries: -1 }, 'options.maxRetries'],
  ] as [CohereRerankerOptions, string][])('refuses %o naming %s', (options, field) => {
    expect(() => new CohereReranker({ apiKey: 'k', ...options })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', field }));
  });

  it('refuses a document that is not a string, naming its index, before any request', async () => {
    const error = await captureError(() => reranker().rerank({ query: 'q', documents: ['a', 3 as unknown as string] }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'request.documents[1]' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('CohereReranker: failures', () => {
  it('retries a 429 after its retry-after and then succeeds', async () => {
    server.failures.push({ status: 429, headers: { 'retry-after': '0' } });
    expect(await reranker().rerank({ query: 'tea', documents: ['tea', 'chess'] })).toEqual([1, 0]);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up on a 500 after maxRetries with a retryable ProviderRequestError', async () => {
    server.failures.push({ status: 500 }, { status: 500 }, { status: 500 });
    const error = await captureError(() => reranker({ maxRetries: 2 }).rerank({ query: 'tea', documents: ['tea'] }));
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', provider: 'cohere', status: 500, retryable: true });
    expect(error.message).toContain('after 2 retries');
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a refused key, and never puts the key or the documents in the message', async () => {
    server.failures.push({ status: 401, body: { message: 'invalid api token sk-secret-key-123' } });
    const error = await captureError(() => reranker({ maxRetries: 3 }).rerank({ query: 'private query', documents: ['private document'] }));
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: 401, retryable: false });
    expect(server.requests).toHaveLength(1);
    expect(error.message).not.toContain('sk-secret-key-123');
    expect(error.message).not.toContain('private');
    expect(JSON.stringify(error.cause ?? '')).not.toContain('sk-secret-key-123');
  });

  it('names the model and the endpoint on a 404', async () => {
    const error = await captureError(() =>
      new CohereReranker({ apiKey: 'sk-secret-key-123', baseUrl: `${server.url}/wrong`, maxRetries: 0 }).rerank({
        query: 'tea',
        documents: ['tea'],
      }),
    );
    expect(error).toMatchObject({ status: 404 });
    expect(error.message).toContain('/v2/rerank');
  });

  it.each([
    ['no results array', { id: 'x' }],
    ['too few scores', { results: [{ index: 0, relevance_score: 0.5 }] }],
    [
      'a repeated index',
      {
        results: [
          { index: 0, relevance_score: 0.5 },
          { index: 0, relevance_score: 0.4 },
        ],
      },
    ],
    [
      'an index out of range',
      {
        results: [
          { index: 0, relevance_score: 0.5 },
          { index: 5, relevance_score: 0.4 },
        ],
      },
    ],
  ])('refuses a response with %s as PROVIDER_RESPONSE_INVALID', async (_, body) => {
    server.rawAnswer = body;
    const error = await captureError(() => reranker().rerank({ query: 'tea', documents: ['tea', 'chess'] }));
    expect(error).toMatchObject({ code: 'PROVIDER_RESPONSE_INVALID', provider: 'cohere' });
  });

  it('reports a server that does not listen as a retryable failure naming the origin', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const error = await captureError(() =>
      new CohereReranker({ apiKey: 'k', baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 }).rerank({ query: 'tea', documents: ['tea'] }),
    );
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', retryable: true });
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('gives up after timeoutMs, and an abort mid-request ends the call with ABORTED', async () => {
    server.delayMs = 300;
    const timedOut = await captureError(() => reranker({ timeoutMs: 50, maxRetries: 0 }).rerank({ query: 'tea', documents: ['tea'] }));
    expect(timedOut).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', retryable: true });
    expect(timedOut.message).toContain('50 ms');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const aborted = await captureError(() => reranker().rerank({ query: 'tea', documents: ['tea'], signal: controller.signal }));
    expect(MemError.is(aborted, 'ABORTED')).toBe(true);
  });
});

describe('CohereReranker: in Memory.search', () => {
  it('re-orders hybrid search results with rerank: true and reports rerankScore', async () => {
    const memory = new Memory({
      embedder: new LexicalEmbedder(),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
      reranker: reranker(),
    });
    const scope = { userId: 'alice' };
    for (const text of ['my brother likes chess and tea', 'she works in the office', 'the user likes green tea']) {
      await memory.add(text, { scope, infer: false });
    }
    const { results } = await memory.search('green tea', { scope, rerank: true, limit: 3 });
    expect(results[0]).toMatchObject({ text: 'the user likes green tea', rerankScore: 1 });
    expect(results.map((result) => result.rerankScore)).toEqual([...results.map((result) => result.rerankScore!)].sort((a, b) => b - a));
    expect(server.requests.length).toBeGreaterThan(0);
    await memory.close();
  });
});
