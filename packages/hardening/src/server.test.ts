import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder, Memory, ProviderRequestError } from '@mem/core';
import { ScriptedLLM } from '@mem/core/testing';
import { ApiKeyStore, createServer, type MemServer } from '@mem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigure } from './support/figures';

// The REST server (apps/server): a tenant's API key never reaches another tenant's memories, whatever
// the request names (scope, filters on scope fields, ids of the other tenant), and the log lines hold
// no API key, memory text or prompt, including when the LLM fails or a request is malformed.

const ALICE_KEY = 'alice-SENTINEL-key-000000000001';
const BOB_KEY = 'bob-SENTINEL-key-00000000000002';
const WRONG_KEY = 'wrong-SENTINEL-key-0000000000003';
const SECRET_TEXT = 'SENTINEL-TEXT alice keeps her spare key under the mat';
const SECRET_PROMPT = 'SENTINEL-PROMPT extract only keys';

let server: MemServer;
const logs: string[] = [];
const llm = new ScriptedLLM([], { repeatLast: true });

beforeAll(async () => {
  llm.push(() => {
    // The provider fails and its error (kept as cause) quotes the conversation, as some do.
    throw new ProviderRequestError({
      provider: 'scripted',
      operation: 'generate',
      status: 500,
      message: 'the server failed',
      cause: new Error(`upstream said: ${SECRET_TEXT}`),
    });
  });
  const memory = new Memory({
    llm,
    embedder: new LexicalEmbedder(),
    vectorStore: new InMemoryVectorStore(),
    historyStore: new InMemoryHistoryStore(),
  });
  server = await createServer({
    memory,
    keys: ApiKeyStore.load({
      keys: [
        { id: 'alice-app', key: ALICE_KEY, userIds: ['alice'] },
        { id: 'bob-app', key: BOB_KEY, userIds: ['bob'] },
      ],
    }),
    hasLlm: true,
    log: { write: (line: string) => void logs.push(line) },
    limits: { rateLimit: { burst: 10_000, perSecond: 10_000 } },
  });
});
afterAll(() => server.shutdown());

async function call(
  method: string,
  url: string,
  key: string | undefined,
  body?: unknown,
): Promise<{ status: number; text: string; json: any }> {
  const response = await server.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, text: response.body, json };
}

describe('apps/server: tenants and secrets', () => {
  it("bob's key cannot read, change, delete or find alice's memories, whatever the request names", async () => {
    const added = await call('POST', '/v1/memories', ALICE_KEY, {
      messages: [{ role: 'user', content: SECRET_TEXT }],
      scope: { userId: 'alice' },
      infer: false,
      metadata: { topic: 'home' },
    });
    expect(added.status).toBe(200);
    const id = added.json.memories[0].id as string;
    const attempts: [string, string, unknown][] = [
      ['GET', `/v1/memories/${id}`, undefined],
      ['GET', `/v1/memories/${id}?userId=alice`, undefined],
      ['PATCH', `/v1/memories/${id}`, { text: 'hacked' }],
      ['PATCH', `/v1/memories/${id}?userId=alice`, { text: 'hacked' }],
      ['DELETE', `/v1/memories/${id}`, undefined],
      ['DELETE', `/v1/memories/${id}?userId=alice`, undefined],
      ['GET', `/v1/history/${id}`, undefined],
      ['GET', '/v1/memories?userId=alice', undefined],
      ['POST', '/v1/memories/list', { scope: { userId: 'alice' } }],
      ['POST', '/v1/memories/list', { filter: { userId: 'alice' } }],
      ['POST', '/v1/search', { query: 'spare key mat', scope: { userId: 'alice' } }],
      ['POST', '/v1/search', { query: 'spare key mat', filter: { $or: [{ userId: 'alice' }, { topic: 'home' }] } }],
      ['POST', '/v1/search', { query: 'spare key mat', scope: { agentId: 'x' } }],
      ['DELETE', '/v1/memories?userId=alice', undefined],
      ['POST', '/v1/memories/delete', { scope: { userId: 'alice' } }],
      ['POST', '/v1/memories/delete', { filter: { userId: 'alice' } }],
      ['POST', '/v1/memories', { messages: [{ role: 'user', content: 'x' }], scope: { userId: 'alice' }, infer: false }],
    ];
    const leaks: string[] = [];
    for (const [method, url, body] of attempts) {
      const response = await call(method, url, BOB_KEY, body);
      // The id in the URL is bob's own input and may be echoed; alice's text or a count of her memories may not.
      if (response.text.includes('SENTINEL-TEXT'))
        leaks.push(`${method} ${url} ${JSON.stringify(body)}: ${response.status} ${response.text.slice(0, 200)}`);
      if (response.json?.deleted === true || (typeof response.json?.deleted === 'number' && response.json.deleted > 0))
        leaks.push(`${method} ${url}: deleted ${String(response.json.deleted)}`);
      if (Array.isArray(response.json?.results) && response.json.results.length > 0)
        leaks.push(`${method} ${url}: ${response.json.results.length} results`);
    }
    const still = await call('GET', `/v1/memories/${id}`, ALICE_KEY);
    expect(still.json?.text).toBe(SECRET_TEXT);
    expect((await call('GET', `/v1/history/${id}`, ALICE_KEY)).json.results).toHaveLength(1);
    recordFigure({
      category: 'server: cross-tenant requests',
      backend: 'apps/server (in-memory stores)',
      cases: attempts.length,
      violations: leaks.length,
    });
    expect(leaks).toEqual([]);
  });

  it('log lines and error bodies hold no API key, memory text or prompt (LLM failure, bad key, malformed JSON)', async () => {
    const responses = [
      await call('POST', '/v1/memories', ALICE_KEY, { messages: [{ role: 'user', content: SECRET_TEXT }], prompt: SECRET_PROMPT }),
      await call('POST', '/v1/search', WRONG_KEY, { query: SECRET_TEXT }),
      await call('POST', '/v1/memories', ALICE_KEY, `{"messages": [{"role": "user", "content": "${SECRET_TEXT}"`),
      await call('POST', '/v1/memories', ALICE_KEY, { messages: [{ role: 'user', content: `${SECRET_TEXT} \uD800` }], infer: false }),
      await call('GET', `/v1/memories/${encodeURIComponent(SECRET_TEXT)}`, ALICE_KEY),
    ];
    expect(responses.map((response) => response.status >= 400)).toEqual([true, true, true, true, true]);
    const found: string[] = [];
    for (const sentinel of [ALICE_KEY, BOB_KEY, WRONG_KEY, 'SENTINEL-TEXT', 'SENTINEL-PROMPT']) {
      if (logs.some((line) => line.includes(sentinel))) found.push(`a log line holds ${sentinel.slice(0, 14)}…`);
      for (const response of responses)
        if (response.text.includes(sentinel) && !sentinel.startsWith('SENTINEL-TEXT'))
          found.push(`an error body holds ${sentinel.slice(0, 14)}…`);
    }
    // The id in the URL is the caller's own input; the error may echo neither text nor key but may name the route.
    expect(logs.length).toBeGreaterThan(0);
    recordFigure({
      category: 'server: secrets in logs and error bodies',
      backend: 'apps/server (in-memory stores)',
      cases: responses.length * 5,
      violations: found.length,
    });
    expect(found).toEqual([]);
  });
});
