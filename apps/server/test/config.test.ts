import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError } from '@mem/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryFromConfig, loadConfig } from '../src/config';
import { ApiKeyStore, hashKey } from '../src/keys';

const dir = mkdtempSync(join(tmpdir(), 'mem-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const invalid = (run: () => unknown, field: string) => {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(MemError.is(caught, 'INVALID_INPUT'), String(caught)).toBe(true);
  expect((caught as { field: string }).field).toBe(field);
};

describe('loadConfig', () => {
  it('needs nothing: embedded SQLite at ./mem.db, lexical embedder, no LLM, safe server defaults', () => {
    expect(loadConfig({ env: {} })).toEqual({
      db: './mem.db',
      llm: { provider: 'none' },
      embedder: { provider: 'lexical' },
      vectorStore: { provider: 'sqlite' },
      historyStore: { provider: 'sqlite' },
      graphStore: { provider: 'none' },
      strategy: 'reconcile',
      server: {
        host: '127.0.0.1',
        port: 8420,
        bodyLimitBytes: 1_048_576,
        requestTimeoutMs: 120_000,
        rateLimit: { burst: 60, perSecond: 20 },
      },
    });
  });

  it('picks providers from the provider variables when left on auto', () => {
    expect(loadConfig({ env: { OPENAI_API_KEY: 'sk-test' } })).toMatchObject({
      llm: { provider: 'openai' },
      embedder: { provider: 'openai' },
    });
    expect(loadConfig({ env: { ANTHROPIC_API_KEY: 'x' } })).toMatchObject({
      llm: { provider: 'anthropic' },
      embedder: { provider: 'lexical' },
    });
    expect(loadConfig({ env: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', MEM_LLM_MODEL: 'llama3.2' } })).toMatchObject({
      llm: { provider: 'openai', model: 'llama3.2' },
    });
    expect(loadConfig({ env: { OPENAI_API_KEY: 'sk-test', MEM_LLM: 'none', MEM_EMBEDDER: 'lexical' } })).toMatchObject({
      llm: { provider: 'none' },
      embedder: { provider: 'lexical' },
    });
  });

  it('reads a YAML or JSON file (MEM_CONFIG); MEM_* variables win over it, overrides (CLI flags) over both', () => {
    const yaml = join(dir, 'mem.yaml');
    writeFileSync(
      yaml,
      [
        'db: /data/from-file.db',
        'embedder: { provider: lexical, dimensions: 256 }',
        'graphStore: { provider: sqlite }',
        'server:',
        '  port: 9000',
        '  rateLimit: { burst: 5 }',
      ].join('\n'),
    );
    const fromFile = loadConfig({ env: { MEM_CONFIG: yaml } });
    expect(fromFile).toMatchObject({
      db: '/data/from-file.db',
      embedder: { provider: 'lexical', dimensions: 256 },
      graphStore: { provider: 'sqlite' },
    });
    expect(fromFile.server).toMatchObject({ port: 9000, rateLimit: { burst: 5, perSecond: 20 } });

    const withEnv = loadConfig({ env: { MEM_CONFIG: yaml, MEM_DB: '/data/env.db', MEM_PORT: '9100', MEM_RATE_LIMIT_PER_SECOND: '2.5' } });
    expect(withEnv).toMatchObject({ db: '/data/env.db', server: { port: 9100, rateLimit: { burst: 5, perSecond: 2.5 } } });
    expect(loadConfig({ env: { MEM_CONFIG: yaml, MEM_DB: '/data/env.db' }, overrides: { db: '/data/flag.db' } }).db).toBe('/data/flag.db');

    const json = join(dir, 'mem.json');
    writeFileSync(
      json,
      JSON.stringify({ vectorStore: { provider: 'qdrant', options: { url: 'http://127.0.0.1:6333', collection: 'mem' } } }),
    );
    expect(loadConfig({ env: { MEM_CONFIG: json } }).vectorStore).toEqual({
      provider: 'qdrant',
      options: { url: 'http://127.0.0.1:6333', collection: 'mem' },
    });
  });

  it('names the setting when a value is unusable', () => {
    invalid(() => loadConfig({ env: { MEM_PORT: 'eighty' } }), 'MEM_PORT');
    invalid(() => loadConfig({ env: { MEM_PORT: '70000' } }), 'config: server.port (MEM_PORT)');
    invalid(() => loadConfig({ env: { MEM_VECTOR_STORE: 'mongo' } }), 'config: vectorStore.provider');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ graphStore: { provider: 'neo5j' } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): graphStore.provider`);
    writeFileSync(bad, '{ not json');
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), 'MEM_CONFIG');
    invalid(() => loadConfig({ env: { MEM_CONFIG: join(dir, 'missing.yaml') } }), 'MEM_CONFIG');
  });
});

describe('createMemoryFromConfig', () => {
  it('builds the embedded default on one SQLite file, with graph memory when asked', async () => {
    const db = join(dir, 'built.db');
    const configured = await createMemoryFromConfig(loadConfig({ env: { MEM_DB: db, MEM_GRAPH_STORE: 'sqlite' } }));
    try {
      expect(configured.description).toBe(`llm none, embedder lexical/hashing-512, vector sqlite, history sqlite, graph sqlite (${db})`);
      expect(configured.llm).toBeUndefined();
      await configured.memory.add('I like tea', { scope: { userId: 'u' }, infer: false });
      expect((await configured.memory.getAll({ scope: { userId: 'u' } })).results).toHaveLength(1);
    } finally {
      await configured.close();
    }
  });

  it('builds the OpenAI adapters from the configuration without calling them', async () => {
    const config = loadConfig({
      env: { MEM_DB: join(dir, 'openai.db') },
      overrides: {
        llm: { provider: 'openai', model: 'gpt-4.1-mini', options: { apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' } },
        embedder: { provider: 'openai', dimensions: 64, options: { apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' } },
      },
    });
    const configured = await createMemoryFromConfig(config);
    try {
      expect(configured.description).toContain('llm openai/gpt-4.1-mini, embedder openai/text-embedding-3-small');
      expect(configured.description).not.toContain('sk-test');
    } finally {
      await configured.close();
    }
  });
});

describe('API keys from the environment and files', () => {
  it('reads MEM_API_KEYS and MEM_ADMIN_KEY, keeping only hashes', () => {
    const definitions = ApiKeyStore.definitionsFromEnvironment({
      MEM_API_KEYS: JSON.stringify([{ id: 'app', key: 'k'.repeat(32), userIds: ['u1'] }]),
      MEM_ADMIN_KEY: 'a'.repeat(32),
    });
    const store = ApiKeyStore.load({ keys: definitions });
    expect(store.authenticate('k'.repeat(32))).toMatchObject({
      id: 'app',
      userIds: ['u1'],
      agentIds: '*',
      admin: false,
      hash: hashKey('k'.repeat(32)),
    });
    expect(store.authenticate('a'.repeat(32))).toMatchObject({ id: 'admin', admin: true });
    expect(JSON.stringify(store.list())).not.toContain('k'.repeat(32));
  });

  it('refuses short keys, repeated ids, plain keys in the keys file and malformed entries, naming the entry', () => {
    invalid(() => ApiKeyStore.load({ keys: [{ id: 'short', key: 'abc' }] }), 'MEM_API_KEYS[0].key');
    invalid(
      () =>
        ApiKeyStore.load({
          keys: [
            { id: 'same', key: 'x'.repeat(20) },
            { id: 'same', key: 'y'.repeat(20) },
          ],
        }),
      'MEM_API_KEYS: same',
    );
    invalid(() => ApiKeyStore.load({ keys: [{ id: 'u', key: 'x'.repeat(20), userIds: [] }] }), 'MEM_API_KEYS[0].userIds');
    invalid(() => ApiKeyStore.definitionsFromEnvironment({ MEM_API_KEYS: '{"id":"x"}' }), 'MEM_API_KEYS');
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'plain', key: 'x'.repeat(20) }] }));
    invalid(() => ApiKeyStore.load({ file }), 'MEM_KEYS_FILE: keys[0].key');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'bad', hash: 'md5:abc' }] }));
    invalid(() => ApiKeyStore.load({ file }), 'MEM_KEYS_FILE: keys[0].hash');
  });
});
