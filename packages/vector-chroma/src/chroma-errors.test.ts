import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemError, type ProviderRequestError } from '@mem/core/adapter';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChromaVectorStore } from './chroma-vector-store';

// A local HTTP server answering every request with a chosen status, so the real chromadb client
// raises its real error classes; the store must map each one to a typed MemError.
let server: Server;
let url: string;
let answer: { status: number; body: string; contentType?: string };
let requests: string[];
let onRequest: (() => void) | undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    onRequest?.();
    response.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests = [];
  onRequest = undefined;
});

async function failure(action: () => Promise<unknown>): Promise<MemError> {
  try {
    await action();
  } catch (error) {
    if (MemError.is(error)) return error;
    throw new Error(`expected a MemError, got ${String(error)}`);
  }
  throw new Error('expected the call to fail');
}

function store(options: { maxRetries?: number; retryDelayMs?: number } = {}) {
  return new ChromaVectorStore({
    url,
    collection: 'errors',
    apiKey: 'ck-very-secret',
    maxRetries: options.maxRetries ?? 0,
    retryDelayMs: options.retryDelayMs ?? 0,
  });
}

describe('chromadb failures become typed errors', () => {
  const cases: { status: number; body: string; expected: number; retryable: boolean; mentions: RegExp; operation?: string }[] = [
    {
      status: 400,
      body: JSON.stringify({ error: 'InvalidArgumentError', message: 'Collection expecting embedding with dimension of 3, got 4' }),
      expected: 400,
      retryable: false,
      mentions: /dimension of 3, got 4/,
    },
    { status: 401, body: '{}', expected: 401, retryable: false, mentions: /apiKey \(or CHROMA_API_KEY\)/ },
    { status: 403, body: '{}', expected: 403, retryable: false, mentions: /tenant and database/ },
    {
      status: 404,
      body: '{}',
      expected: 404,
      retryable: false,
      mentions: /tenant or database does not exist/,
      operation: 'createCollection',
    },
    {
      status: 422,
      body: JSON.stringify({ message: 'Quota exceeded: too many records' }),
      expected: 422,
      retryable: false,
      mentions: /Quota exceeded/,
    },
    { status: 429, body: '{}', expected: 429, retryable: true, mentions: /rate limiting/ },
    {
      status: 500,
      body: JSON.stringify({ error: 'Internal', message: 'database is locked' }),
      expected: 500,
      retryable: true,
      mentions: /database is locked/,
    },
    { status: 503, body: 'unavailable', expected: 503, retryable: true, mentions: /503/ },
  ];

  for (const { status, body, expected, retryable, mentions, operation = 'getCollection' } of cases) {
    it(`HTTP ${status} from ${operation} → PROVIDER_REQUEST_FAILED with status ${expected}, retryable ${retryable}, no API key in the message`, async () => {
      answer = { status, body, contentType: body.startsWith('{') ? 'application/json' : 'text/plain' };
      const error = (await failure(() => store().ensureCollection({ dimensions: 3 }))) as ProviderRequestError;
      expect(error.code).toBe('PROVIDER_REQUEST_FAILED');
      expect(error).toMatchObject({ provider: 'chroma', operation, status: expected, retryable });
      expect(error.message).toMatch(mentions);
      expect(error.message).toContain(url);
      expect(error.message).not.toContain('ck-very-secret');
    });
  }

  it('a refused connection → PROVIDER_REQUEST_FAILED, retryable, saying how to start a server', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = (await failure(() =>
      new ChromaVectorStore({ url: `http://127.0.0.1:${port}`, maxRetries: 0 }).get({ scope: { userId: 'u' }, ids: ['a'] }),
    )) as ProviderRequestError;
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: undefined, retryable: true });
    expect(error.message).toMatch(/could not reach the Chroma server \(http:\/\/127\.0\.0\.1:\d+\).*chroma run/);
  });
});

describe('retries', () => {
  it('retries a retryable failure maxRetries times, then throws the mapped error', async () => {
    answer = { status: 503, body: 'unavailable', contentType: 'text/plain' };
    const error = await failure(() => store({ maxRetries: 2 }).ensureCollection({ dimensions: 3 }));
    expect(error.code).toBe('PROVIDER_REQUEST_FAILED');
    expect(requests).toHaveLength(3);
  });

  it('never retries a failure that is not retryable', async () => {
    answer = { status: 400, body: JSON.stringify({ message: 'bad' }) };
    await failure(() => store({ maxRetries: 2 }).ensureCollection({ dimensions: 3 }));
    expect(requests).toHaveLength(1);
  });

  it('an abort during the pause before a retry ends the call with ABORTED and sends nothing more', async () => {
    answer = { status: 503, body: 'unavailable', contentType: 'text/plain' };
    const controller = new AbortController();
    onRequest = () => controller.abort();
    const error = await failure(() =>
      store({ maxRetries: 5, retryDelayMs: 60_000 }).ensureCollection({ dimensions: 3, signal: controller.signal }),
    );
    expect(error.code).toBe('ABORTED');
    expect(requests).toHaveLength(1);
  });

  it('an already aborted signal sends no request', async () => {
    answer = { status: 200, body: '{}' };
    const controller = new AbortController();
    controller.abort();
    const error = await failure(() => store().query({ scope: { userId: 'u' }, vector: [1, 0, 0], topK: 1, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(requests).toEqual([]);
  });
});
