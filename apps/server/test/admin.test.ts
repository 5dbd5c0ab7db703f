import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../src/keys';
import { KEYS, startTestServer, type TestServer } from './harness';

describe('admin endpoints', () => {
  let api: TestServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('reset deletes every scope, and only an admin key may call it', async () => {
    api = await startTestServer();
    await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'alice fact', scope: {} } });
    const bob = await api.request('POST', '/v1/memories', { key: KEYS.bob, body: { messages: 'bob fact', scope: {} } });
    expect((await api.request('POST', '/v1/admin/reset', { key: KEYS.bob })).status).toBe(403);
    expect((await api.request('GET', '/v1/memories', { key: KEYS.bob })).body.results).toHaveLength(1);

    const reset = await api.request('POST', '/v1/admin/reset', { key: KEYS.admin });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ reset: true });
    expect((await api.request('GET', '/v1/memories', { key: KEYS.alice })).body.results).toEqual([]);
    expect((await api.request('GET', '/v1/memories', { key: KEYS.bob })).body.results).toEqual([]);
    expect((await api.request('GET', `/v1/history/${bob.body.memories[0].id}`, { key: KEYS.bob })).body.results).toEqual([]);
  });

  it('creates a key bound to a user, persists only its hash, and revokes it at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mem-keys-'));
    const keysFile = join(dir, 'keys.yaml');
    api = await startTestServer({ keysFile });

    const created = await api.request('POST', '/v1/admin/keys', { key: KEYS.admin, body: { id: 'erin-app', userIds: ['erin'] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      persisted: true,
      info: { id: 'erin-app', userIds: ['erin'], agentIds: '*', runIds: '*', admin: false, source: 'file' },
    });
    const secret = created.body.key as string;
    expect(secret).toMatch(/^mem_[A-Za-z0-9_-]{43}$/);

    const file = readFileSync(keysFile, 'utf8');
    expect(file).toContain('erin-app');
    expect(file).toMatch(/hash: sha256:[0-9a-f]{64}/);
    expect(file).not.toContain(secret);
    expect(file).not.toContain(secret.slice(4));
    // The file alone authenticates the key (a restart keeps it).
    expect(ApiKeyStore.load({ file: keysFile }).authenticate(secret)?.id).toBe('erin-app');

    expect((await api.request('POST', '/v1/memories', { key: secret, body: { messages: 'erin fact', scope: {} } })).status).toBe(200);
    expect((await api.request('GET', '/v1/memories?userId=alice', { key: secret })).status).toBe(403);

    const listed = await api.request('GET', '/v1/admin/keys', { key: KEYS.admin });
    expect(listed.body.keys.map((key: { id: string }) => key.id)).toEqual(['alice-app', 'bob-app', 'erin-app', 'ops', 'team-app']);
    expect(JSON.stringify(listed.body)).not.toMatch(/sha256|secret-key/);

    expect((await api.request('POST', '/v1/admin/keys', { key: KEYS.admin, body: { id: 'erin-app' } })).status).toBe(409);

    const revoked = await api.request('DELETE', '/v1/admin/keys/erin-app', { key: KEYS.admin });
    expect(revoked.body).toEqual({ revoked: true });
    expect((await api.request('GET', '/v1/memories', { key: secret })).status).toBe(401);
    expect(readFileSync(keysFile, 'utf8')).not.toContain('erin-app');
    expect((await api.request('DELETE', '/v1/admin/keys/erin-app', { key: KEYS.admin })).status).toBe(404);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps API-created keys in memory without a keys file, and refuses to revoke keys from the environment', async () => {
    api = await startTestServer();
    const created = await api.request('POST', '/v1/admin/keys', {
      key: KEYS.admin,
      body: { id: 'temp', userIds: ['frank'], admin: false },
    });
    expect(created.body).toMatchObject({ persisted: false, info: { source: 'api' } });
    const envKey = await api.request('DELETE', '/v1/admin/keys/alice-app', { key: KEYS.admin });
    expect(envKey.status).toBe(409);
    expect(envKey.body.error.code).toBe('CONFLICT');
    expect((await api.request('GET', '/v1/memories', { key: KEYS.alice })).status).toBe(200);
  });

  it('validates new keys: id pattern, scope lists', async () => {
    api = await startTestServer();
    const badId = await api.request('POST', '/v1/admin/keys', { key: KEYS.admin, body: { id: 'has space' } });
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe('id');
    const emptyList = await api.request('POST', '/v1/admin/keys', { key: KEYS.admin, body: { id: 'x', userIds: [] } });
    expect(emptyList.status).toBe(400);
    expect(emptyList.body.error.field).toBe('userIds');
  });
});
