import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestServer, type Response, type TestServer } from './harness';

/**
 * Tenant isolation: alice's key never reads or changes bob's memories, on any endpoint. Each
 * operation of the document is listed below; a new endpoint without an isolation case fails the
 * last test.
 */
describe('tenant isolation: a key for user alice on user bob’s data', () => {
  let api: TestServer;
  let bobId: string;
  const BOB_TEXT = 'Bob keeps his savings under the floorboards';

  beforeAll(async () => {
    api = await startTestServer();
    const bob = await api.request('POST', '/v1/memories', {
      key: KEYS.bob,
      body: { messages: BOB_TEXT, scope: { userId: 'bob' }, metadata: { secret: true } },
    });
    expect(bob.status).toBe(200);
    bobId = bob.body.memories[0].id;
    const alice = await api.request('POST', '/v1/memories', {
      key: KEYS.alice,
      body: { messages: 'Alice likes savings accounts', scope: { userId: 'alice' } },
    });
    expect(alice.status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
  });

  const forbidden = (response: Response, field = 'scope.userId') => {
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', field });
    expect(JSON.stringify(response.body)).not.toContain(BOB_TEXT);
  };
  const texts = (response: Response) => (response.body.results as { text: string }[]).map((item) => item.text);

  /** operationId → what alice's key gets for bob's data. */
  const cases: Record<string, () => Promise<void>> = {
    addMemories: async () => {
      forbidden(
        await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'I am bob now', scope: { userId: 'bob' } } }),
      );
    },
    listMemories: async () => {
      forbidden(await api.request('GET', '/v1/memories?userId=bob', { key: KEYS.alice }), 'userId');
      // Without a userId the key's only user is filled in; an agent-only scope cannot widen to every user.
      expect(texts(await api.request('GET', '/v1/memories', { key: KEYS.alice }))).toEqual(['Alice likes savings accounts']);
      expect(texts(await api.request('GET', '/v1/memories?agentId=any', { key: KEYS.alice }))).toEqual([]);
    },
    listMemoriesFiltered: async () => {
      forbidden(await api.request('POST', '/v1/memories/list', { key: KEYS.alice, body: { scope: { userId: 'bob' } } }));
      // A filter on a scope field only narrows the key's scope.
      const filtered = await api.request('POST', '/v1/memories/list', {
        key: KEYS.alice,
        body: { scope: {}, filter: { $or: [{ userId: 'bob' }, { secret: true }] } },
      });
      expect(texts(filtered)).toEqual([]);
    },
    deleteAllMemories: async () => {
      forbidden(await api.request('DELETE', '/v1/memories?userId=bob', { key: KEYS.alice }), 'userId');
    },
    deleteMemoriesFiltered: async () => {
      forbidden(await api.request('POST', '/v1/memories/delete', { key: KEYS.alice, body: { scope: { userId: 'bob' } } }));
      const own = await api.request('POST', '/v1/memories/delete', { key: KEYS.alice, body: { scope: {}, filter: { secret: true } } });
      expect(own.body).toEqual({ deleted: 0 });
    },
    purgeExpiredMemories: async () => {
      forbidden(await api.request('POST', '/v1/memories/purge-expired', { key: KEYS.alice, body: { scope: { userId: 'bob' } } }));
      expect((await api.request('POST', '/v1/memories/purge-expired', { key: KEYS.alice, body: { scope: {} } })).body).toEqual({
        deleted: 0,
      });
    },
    getMemory: async () => {
      forbidden(await api.request('GET', `/v1/memories/${bobId}?userId=bob`, { key: KEYS.alice }), 'userId');
      const response = await api.request('GET', `/v1/memories/${bobId}`, { key: KEYS.alice });
      expect(response.status).toBe(404);
      expect(JSON.stringify(response.body)).not.toContain(BOB_TEXT);
    },
    updateMemory: async () => {
      forbidden(await api.request('PATCH', `/v1/memories/${bobId}?userId=bob`, { key: KEYS.alice, body: { text: 'hacked' } }), 'userId');
      expect((await api.request('PATCH', `/v1/memories/${bobId}`, { key: KEYS.alice, body: { text: 'hacked' } })).status).toBe(404);
    },
    deleteMemory: async () => {
      forbidden(await api.request('DELETE', `/v1/memories/${bobId}?userId=bob`, { key: KEYS.alice }), 'userId');
      expect((await api.request('DELETE', `/v1/memories/${bobId}`, { key: KEYS.alice })).body).toEqual({ deleted: false });
    },
    memoryHistory: async () => {
      forbidden(await api.request('GET', `/v1/history/${bobId}?userId=bob`, { key: KEYS.alice }), 'userId');
      expect((await api.request('GET', `/v1/history/${bobId}`, { key: KEYS.alice })).body).toEqual({ results: [] });
    },
    searchMemories: async () => {
      forbidden(await api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: BOB_TEXT, scope: { userId: 'bob' } } }));
      const own = await api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: BOB_TEXT, scope: {}, limit: 100 } });
      expect(texts(own)).toEqual(['Alice likes savings accounts']);
    },
    importMemories: async () => {
      const response = await api.request('POST', '/v1/memories/import', {
        key: KEYS.alice,
        body: {
          records: [
            { text: 'alice writes this', scope: { userId: 'alice' } },
            { id: bobId, text: 'hacked', scope: { userId: 'bob' } },
          ],
        },
      });
      forbidden(response, 'records[1].scope.userId');
      // Bob's memory id in alice's own scope is a conflict with what is stored (409, naming the record), not a takeover.
      const taken = await api.request('POST', '/v1/memories/import', {
        key: KEYS.alice,
        body: { records: [{ id: bobId, text: 'hacked', scope: { userId: 'alice' } }] },
      });
      expect(taken.status).toBe(409);
      expect(taken.body.error).toMatchObject({ code: 'CONFLICT', field: 'records[0].id' });
      // Nothing of either batch was written.
      expect(texts(await api.request('GET', '/v1/memories', { key: KEYS.alice }))).toEqual(['Alice likes savings accounts']);
    },
    listScopes: async () => {
      const response = await api.request('GET', '/v1/scopes', { key: KEYS.alice });
      expect(response.status).toBe(200);
      expect(response.body.scopes).toEqual([{ scope: { userId: 'alice' }, count: 1 }]);
    },
    listUsage: async () => {
      const response = await api.request('GET', '/v1/usage', { key: KEYS.alice });
      expect(response.status).toBe(200);
      expect(response.body.entries.length).toBeGreaterThan(0);
      expect(response.body.entries.every((entry: { keyId: string }) => entry.keyId === 'alice-app')).toBe(true);
    },
    whoAmI: async () => {
      const response = await api.request('GET', '/v1/me', { key: KEYS.alice });
      expect(response.body.key).toEqual({ id: 'alice-app', userIds: ['alice'], agentIds: '*', runIds: '*', admin: false });
    },
    reset: async () => {
      const response = await api.request('POST', '/v1/admin/reset', { key: KEYS.alice });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('FORBIDDEN');
    },
    listKeys: async () => {
      expect((await api.request('GET', '/v1/admin/keys', { key: KEYS.alice })).status).toBe(403);
    },
    createKey: async () => {
      expect(
        (await api.request('POST', '/v1/admin/keys', { key: KEYS.alice, body: { id: 'alice-wants-bob', userIds: ['bob'] } })).status,
      ).toBe(403);
    },
    revokeKey: async () => {
      expect((await api.request('DELETE', '/v1/admin/keys/bob-app', { key: KEYS.alice })).status).toBe(403);
    },
  };
  /** Operations that touch no tenant data. */
  const PUBLIC = new Set(['health', 'ready', 'openapi']);

  for (const [operationId, run] of Object.entries(cases)) {
    it(`${operationId}: 403 or an empty result, never bob's memory`, run);
  }

  it('bob’s memory is untouched afterwards, and bob’s key still works', async () => {
    const response = await api.request('GET', `/v1/memories/${bobId}`, { key: KEYS.bob });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ text: BOB_TEXT, scope: { userId: 'bob' } });
    const history = await api.request('GET', `/v1/history/${bobId}`, { key: KEYS.bob });
    expect(history.body.results.map((event: { kind: string }) => event.kind)).toEqual(['ADD']);
    expect((await api.request('GET', '/v1/memories?userId=alice', { key: KEYS.bob })).status).toBe(403);
  });

  it('a key for several users must name one; restricted agent ids are filled in or refused', async () => {
    const unnamed = await api.request('POST', '/v1/search', { key: KEYS.team, body: { query: 'x', scope: { agentId: 'helper' } } });
    forbidden(unnamed);
    forbidden(
      await api.request('POST', '/v1/search', { key: KEYS.team, body: { query: 'x', scope: { userId: 'carol', agentId: 'other' } } }),
      'scope.agentId',
    );
    const added = await api.request('POST', '/v1/memories', {
      key: KEYS.team,
      body: { messages: 'Carol prefers mornings', scope: { userId: 'carol' } },
    });
    expect(added.status).toBe(200);
    expect(added.body.memories[0].scope).toEqual({ userId: 'carol', agentId: 'helper' });
  });

  it('has a case for every operation of the document', async () => {
    const document = (await api.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string }>> };
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((operation) => operation.operationId));
    for (const operationId of operations) {
      expect(PUBLIC.has(operationId) || operationId in cases, `no isolation case for ${operationId}`).toBe(true);
    }
  });

  it('answers 401 without a key or with an unknown one, on every data endpoint', async () => {
    const document = (await api.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { operationId: string; security: unknown[] }>>;
    };
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation.security.length === 0) continue;
        const url = path.replace('{id}', 'some-id');
        const missing = await api.request(method.toUpperCase(), url);
        expect(missing.status, `${method} ${path}`).toBe(401);
        expect(missing.body.error.code).toBe('UNAUTHENTICATED');
        expect(missing.headers.get('www-authenticate')).toBe('Bearer');
        const wrong = await api.request(method.toUpperCase(), url, { key: 'not-a-real-key-at-all' });
        expect(wrong.status, `${method} ${path}`).toBe(401);
      }
    }
  });
});
