import { InMemoryVectorStore } from '@mem/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestServer, type TestServer } from './harness';

/** The endpoints the memory browser needs beyond the library's operations: who am I, scopes, newest first, import, usage. */
describe('REST API for the memory browser', () => {
  let api: TestServer;
  const texts = (body: { results: { text: string }[] }) => body.results.map((item) => item.text);

  beforeAll(async () => {
    api = await startTestServer();
    for (let index = 0; index < 7; index++) {
      const response = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: `alice fact ${index}`, scope: { userId: 'alice' }, metadata: { even: index % 2 === 0 } },
      });
      expect(response.status).toBe(200);
    }
    await api.request('POST', '/v1/memories', { key: KEYS.bob, body: { messages: 'bob fact', scope: { userId: 'bob' } } });
    await api.request('POST', '/v1/memories', {
      key: KEYS.team,
      body: { messages: 'carol fact', scope: { userId: 'carol', runId: 'r1' } },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('GET /v1/me names the key, its scopes and what the server offers', async () => {
    const admin = await api.request('GET', '/v1/me', { key: KEYS.admin });
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual({
      key: { id: 'ops', userIds: '*', agentIds: '*', runIds: '*', admin: true },
      server: { llm: false, graph: false, scopes: true, import: true, rerank: false },
    });
    const team = await api.request('GET', '/v1/me', { key: KEYS.team });
    expect(team.body.key).toMatchObject({ userIds: ['carol', 'dave'], agentIds: ['helper'], admin: false });
    expect((await api.request('GET', '/v1/me')).status).toBe(401);
  });

  it('GET /v1/scopes lists the scopes a key may read, with counts', async () => {
    const admin = await api.request('GET', '/v1/scopes', { key: KEYS.admin });
    expect(admin.body).toEqual({
      scopes: [
        { scope: { userId: 'alice' }, count: 7 },
        { scope: { userId: 'bob' }, count: 1 },
        { scope: { userId: 'carol', agentId: 'helper', runId: 'r1' }, count: 1 },
      ],
      truncated: false,
    });
    expect((await api.request('GET', '/v1/scopes', { key: KEYS.bob })).body.scopes).toEqual([{ scope: { userId: 'bob' }, count: 1 }]);
    expect((await api.request('GET', '/v1/scopes', { key: KEYS.team })).body.scopes).toEqual([
      { scope: { userId: 'carol', agentId: 'helper', runId: 'r1' }, count: 1 },
    ]);
    expect((await api.request('GET', '/v1/scopes?limit=1', { key: KEYS.admin })).body).toMatchObject({ truncated: true });
    const invalid = await api.request('GET', '/v1/scopes?limit=0', { key: KEYS.admin });
    expect(invalid.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'limit' });
  });

  it('lists newest first with order=newest, page by page, with or without a filter', async () => {
    const first = await api.request('GET', '/v1/memories?order=newest&pageSize=3', { key: KEYS.alice });
    expect(texts(first.body)).toEqual(['alice fact 6', 'alice fact 5', 'alice fact 4']);
    const second = await api.request('GET', `/v1/memories?order=newest&pageSize=3&cursor=${first.body.nextCursor}`, { key: KEYS.alice });
    expect(texts(second.body)).toEqual(['alice fact 3', 'alice fact 2', 'alice fact 1']);
    const third = await api.request('GET', `/v1/memories?order=newest&pageSize=3&cursor=${second.body.nextCursor}`, { key: KEYS.alice });
    expect(texts(third.body)).toEqual(['alice fact 0']);
    expect(third.body.nextCursor).toBeUndefined();
    const filtered = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { even: true }, order: 'newest', pageSize: 2 },
    });
    expect(texts(filtered.body)).toEqual(['alice fact 6', 'alice fact 4']);
    const oldest = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { even: true }, order: 'oldest' },
    });
    expect(texts(oldest.body)).toEqual(['alice fact 0', 'alice fact 2', 'alice fact 4', 'alice fact 6']);
    const bad = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { rating: { $gt: 'high' } }, order: 'newest' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('filter.rating.$gt');
  });

  it('imports records with their ids, dates and metadata: ADD when new, UPDATE when the id exists, all checked first', async () => {
    const record = {
      id: 'restored-1',
      text: 'Restored from an export',
      scope: { userId: 'alice' },
      metadata: { source: 'export' },
      createdAt: '2023-01-02T03:04:05.000Z',
      updatedAt: '2023-02-02T03:04:05.000Z',
      occurredAt: '2022-12-31T00:00:00.000Z',
      hash: 'ignored',
    };
    const first = await api.request('POST', '/v1/memories/import', { key: KEYS.alice, body: { records: [record] } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ added: 1, updated: 0, usage: { llmCalls: 0, embeddingCalls: 1 } });
    const stored = await api.request('GET', '/v1/memories/restored-1', { key: KEYS.alice });
    expect(stored.body).toMatchObject({
      text: record.text,
      metadata: { source: 'export' },
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      occurredAt: record.occurredAt,
    });
    const again = await api.request('POST', '/v1/memories/import', {
      key: KEYS.alice,
      body: {
        records: [
          { ...record, text: 'Restored, then corrected' },
          { text: 'A new one without id', scope: {} },
        ],
      },
    });
    expect(again.body).toMatchObject({ added: 1, updated: 1 });
    const history = await api.request('GET', '/v1/history/restored-1', { key: KEYS.alice });
    expect(history.body.results.map((event: { kind: string }) => event.kind)).toEqual(['ADD', 'UPDATE']);
    const invalid = await api.request('POST', '/v1/memories/import', {
      key: KEYS.alice,
      body: {
        records: [
          { text: 'fine', scope: {} },
          { text: '   ', scope: {} },
        ],
      },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.field).toBe('records[1].text');
  });

  it('GET /v1/usage: the cost of the last requests, a tenant key sees only its own, nothing of their content', async () => {
    await api.request('POST', '/v1/search', { key: KEYS.bob, body: { query: 'bob', scope: {} } });
    const bob = await api.request('GET', '/v1/usage', { key: KEYS.bob });
    expect(bob.status).toBe(200);
    expect(bob.body.entries.map((entry: { operation: string }) => entry.operation)).toEqual(['search', 'add']);
    expect(bob.body.entries[0]).toMatchObject({ keyId: 'bob-app', scope: { userId: 'bob' }, usage: { embeddingCalls: 1 } });
    expect(bob.body).toMatchObject({ requests: 2, capacity: 500, totals: { embeddingCalls: 2, llmCalls: 0 } });
    expect(JSON.stringify(bob.body)).not.toContain('bob fact');
    const admin = await api.request('GET', '/v1/usage?limit=3', { key: KEYS.admin });
    expect(admin.body.entries).toHaveLength(3);
    expect(admin.body.requests).toBeGreaterThan(10);
    expect(new Set(admin.body.entries.map((entry: { keyId: string }) => entry.keyId)).size).toBeGreaterThanOrEqual(1);
  });
});

describe('REST API for the memory browser on a store that cannot list scopes', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer({ parts: { vectorStore: new InMemoryVectorStore() } });
    for (let index = 0; index < 5; index++) {
      await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: `fact ${index}`, scope: {} } });
    }
  });
  afterAll(async () => {
    await api?.close();
  });

  it('lists newest first by reading the scope, and says scopes cannot be listed', async () => {
    const first = await api.request('GET', '/v1/memories?order=newest&pageSize=2', { key: KEYS.alice });
    expect(first.body.results.map((item: { text: string }) => item.text)).toEqual(['fact 4', 'fact 3']);
    const rest = await api.request('GET', `/v1/memories?order=newest&pageSize=10&cursor=${first.body.nextCursor}`, { key: KEYS.alice });
    expect(rest.body.results.map((item: { text: string }) => item.text)).toEqual(['fact 2', 'fact 1', 'fact 0']);
    expect(rest.body.nextCursor).toBeUndefined();
    expect((await api.request('GET', '/v1/me', { key: KEYS.alice })).body.server.scopes).toBe(false);
    const scopes = await api.request('GET', '/v1/scopes', { key: KEYS.alice });
    expect(scopes.status).toBe(400);
    expect(scopes.body.error.code).toBe('UNSUPPORTED_CAPABILITY');
  });
});
