import { join } from 'node:path';
import { AbortedError, LexicalEmbedder, Memory, type Embedder } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { gate, KEYS, startTestServer, type TestServer } from './harness';

/** Embeds lexically, but first waits for `before()` (which may hold the call). */
function heldEmbedder(before: (signal: AbortSignal | undefined) => Promise<void>): Embedder {
  const lexical = new LexicalEmbedder();
  return {
    provider: 'held',
    model: lexical.model,
    async embed(request) {
      await before(request.signal);
      return lexical.embed(request);
    },
  };
}

describe('limits', () => {
  let api: TestServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('rate limits per key with a token bucket: 429 RATE_LIMITED with Retry-After, other keys unaffected, refilled over time', async () => {
    let clock = 1_000_000;
    api = await startTestServer({ rateLimit: { burst: 2, perSecond: 1 }, now: () => clock });
    const list = (key: string) => api!.request('GET', '/v1/memories', { key });
    expect((await list(KEYS.alice)).status).toBe(200);
    expect((await list(KEYS.alice)).status).toBe(200);
    const limited = await list(KEYS.alice);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await list(KEYS.bob)).status).toBe(200);
    clock += 1000;
    expect((await list(KEYS.alice)).status).toBe(200);
    expect((await list(KEYS.alice)).status).toBe(429);
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE and stores nothing', async () => {
    api = await startTestServer({ bodyLimitBytes: 4096 });
    const large = await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'word '.repeat(2000), scope: {} } });
    expect(large.status).toBe(413);
    expect(large.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await api.request('GET', '/v1/memories', { key: KEYS.alice })).body.results).toEqual([]);
    expect((await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'small enough', scope: {} } })).status).toBe(
      200,
    );
  });

  it('stops a request over the time limit with 504 TIMEOUT', async () => {
    const embedder = heldEmbedder(
      (signal) =>
        new Promise((_, reject) => {
          // Never finishes by itself: only the server's time limit ends it.
          signal?.addEventListener('abort', () => reject(new AbortedError('held embed', { cause: signal.reason })), { once: true });
        }),
    );
    api = await startTestServer({ parts: { embedder }, requestTimeoutMs: 200 });
    const response = await api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'anything', scope: {} } });
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe('TIMEOUT');
  });

  it('shuts down gracefully: an in-flight add finishes and is stored, then the stores close', async () => {
    const held = gate();
    const called = gate();
    let hold = true;
    const embedder = heldEmbedder(async () => {
      if (!hold) return;
      called.open();
      await held.promise;
    });
    api = await startTestServer({ parts: { embedder } });
    const path = join(api.dir, 'mem.db');
    const adding = api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'Finished during shutdown', scope: {} } });
    await called.promise;

    let stopped = false;
    const shutdown = api.server.shutdown().then(() => (stopped = true));
    // New connections are refused while the in-flight add still runs.
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
    expect(stopped).toBe(false);

    hold = false;
    held.open();
    const added = await adding;
    expect(added.status).toBe(200);
    await shutdown;
    expect(stopped).toBe(true);

    const reopened = new Memory({
      embedder: new LexicalEmbedder(),
      vectorStore: new SqliteVectorStore({ path }),
      historyStore: new SqliteHistoryStore({ path }),
    });
    try {
      const { results } = await reopened.getAll({ scope: { userId: 'alice' } });
      expect(results.map((item) => item.text)).toEqual(['Finished during shutdown']);
    } finally {
      await reopened.close();
    }
  });
});

describe('logs', () => {
  it('carry method, route, status, duration and key id, never memory text, prompts, queries or keys', async () => {
    const api = await startTestServer();
    const marker = 'Zanzibar-marker-7731';
    try {
      await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: {
          messages: [{ role: 'user', content: `I secretly love ${marker}`, name: `Name-${marker}` }],
          scope: {},
          metadata: { note: marker },
        },
      });
      await api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: `where is ${marker}`, scope: {} } });
      await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: 'x', scope: {}, prompt: `Prompt ${marker}`, infer: true },
      });
      await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: marker, scope: { userId: marker } } });
      await api.request('GET', `/v1/memories/${marker}`, { key: KEYS.alice });
      await api.request('GET', '/v1/memories', { key: `wrong-${KEYS.bob}` });
      const created = await api.request('POST', '/v1/admin/keys', { key: KEYS.admin, body: { id: 'new-key', userIds: ['zed'] } });

      const text = api.logs.join('');
      for (const secret of [marker, ...Object.values(KEYS), created.body.key as string]) {
        expect(text).not.toContain(secret);
      }
      const lines = api.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
      const search = lines.find((line) => line.route === '/v1/search');
      expect(search).toMatchObject({ level: 'info', msg: 'request', method: 'POST', route: '/v1/search', status: 200, keyId: 'alice-app' });
      expect(search!.durationMs).toEqual(expect.any(Number));
      expect(lines.find((line) => line.route === '/v1/memories/:id')).toMatchObject({ status: 404 });
      expect(
        lines.every((line) =>
          Object.keys(line).every((key) =>
            [
              'time',
              'level',
              'msg',
              'method',
              'route',
              'status',
              'durationMs',
              'keyId',
              'requestId',
              'errorCode',
              'errorName',
              'url',
              'description',
            ].includes(key),
          ),
        ),
      ).toBe(true);
    } finally {
      await api.close();
    }
  });
});
