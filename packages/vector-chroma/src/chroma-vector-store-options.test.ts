import { MemError } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { chromaEndpoint, resolveChromaSettings } from './chroma-vector-store-options';

function invalidField(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return MemError.is(error, 'INVALID_INPUT') ? (error as MemError & { field: string }).field : `unexpected: ${String(error)}`;
  }
  return undefined;
}

describe('resolveChromaSettings', () => {
  it('defaults to a local server at localhost:8000, default tenant and database, collection "mem"', () => {
    const settings = resolveChromaSettings({}, {});
    expect(settings).toMatchObject({
      collection: 'mem',
      host: 'localhost',
      port: 8000,
      ssl: false,
      tenant: 'default_tenant',
      database: 'default_database',
      headers: {},
    });
    expect(chromaEndpoint(settings)).toBe('http://localhost:8000');
  });

  it("falls back to Chroma's variables: CHROMA_URL, CHROMA_HOST / CHROMA_PORT, CHROMA_TENANT, CHROMA_DATABASE, CHROMA_API_KEY", () => {
    expect(chromaEndpoint(resolveChromaSettings({}, { CHROMA_URL: 'https://chroma.example.com' }))).toBe('https://chroma.example.com:443');
    expect(chromaEndpoint(resolveChromaSettings({}, { CHROMA_HOST: 'db', CHROMA_PORT: '9000' }))).toBe('http://db:9000');
    expect(chromaEndpoint(resolveChromaSettings({}, { CHROMA_HOST: 'http://db:8001' }))).toBe('http://db:8001');
    // CHROMA_URL wins over CHROMA_HOST.
    expect(chromaEndpoint(resolveChromaSettings({}, { CHROMA_URL: 'http://a:1', CHROMA_HOST: 'b' }))).toBe('http://a:1');
    const settings = resolveChromaSettings({}, { CHROMA_TENANT: 't', CHROMA_DATABASE: 'd', CHROMA_API_KEY: 'ck-secret' });
    expect(settings).toMatchObject({ tenant: 't', database: 'd', headers: { 'x-chroma-token': 'ck-secret' } });
  });

  it('lets options win over the environment', () => {
    const env = { CHROMA_URL: 'http://env:1', CHROMA_TENANT: 'env', CHROMA_DATABASE: 'env', CHROMA_API_KEY: 'env-key' };
    const settings = resolveChromaSettings(
      { host: 'opt', tenant: 'opt', database: 'opt', apiKey: 'opt-key', headers: { authorization: 'Bearer x' } },
      env,
    );
    expect(chromaEndpoint(settings)).toBe('http://opt:8000');
    expect(settings).toMatchObject({ tenant: 'opt', database: 'opt', headers: { authorization: 'Bearer x', 'x-chroma-token': 'opt-key' } });
    expect(chromaEndpoint(resolveChromaSettings({ url: 'http://127.0.0.1:8123' }, env))).toBe('http://127.0.0.1:8123');
    expect(chromaEndpoint(resolveChromaSettings({ ssl: true, host: 'api.trychroma.com' }, env))).toBe('https://api.trychroma.com:443');
  });

  it('rejects unusable settings with INVALID_INPUT naming the option or variable', () => {
    expect(invalidField(() => resolveChromaSettings({ collection: 'ab' }, {}))).toBe('options.collection');
    expect(invalidField(() => resolveChromaSettings({ collection: 'a..b' }, {}))).toBe('options.collection');
    expect(invalidField(() => resolveChromaSettings({ collection: '-abc' }, {}))).toBe('options.collection');
    expect(invalidField(() => resolveChromaSettings({ url: 'localhost:8000' }, {}))).toBe('options.url');
    expect(invalidField(() => resolveChromaSettings({ url: 'http://user:pw@host:8000' }, {}))).toBe('options.url');
    expect(invalidField(() => resolveChromaSettings({ url: 'http://host:8000/chroma' }, {}))).toBe('options.url');
    expect(invalidField(() => resolveChromaSettings({}, { CHROMA_URL: 'ftp://host' }))).toBe('CHROMA_URL');
    expect(invalidField(() => resolveChromaSettings({}, { CHROMA_PORT: 'eighty' }))).toBe('CHROMA_PORT');
    expect(invalidField(() => resolveChromaSettings({ port: 0 }, {}))).toBe('options.port');
    expect(invalidField(() => resolveChromaSettings({ pageSize: 0 }, {}))).toBe('options.pageSize');
    expect(invalidField(() => resolveChromaSettings({ maxUpsertBatch: 1.5 }, {}))).toBe('options.maxUpsertBatch');
  });

  it('never puts a credential from the URL into a message', () => {
    try {
      resolveChromaSettings({ url: 'http://user:hunter2@host:8000' }, {});
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
    expect.assertions(1);
  });
});
