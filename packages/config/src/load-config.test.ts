import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError } from '@mem/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config';

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
      reranker: { provider: 'none' },
      strategy: 'reconcile',
      images: { describe: false },
      server: {
        host: '127.0.0.1',
        port: 8420,
        bodyLimitBytes: 1_048_576,
        requestTimeoutMs: 120_000,
        rateLimit: { burst: 60, perSecond: 20 },
        readWorkers: Math.min(4, availableParallelism()),
      },
    });
  });

  it('server.readWorkers: MEM_READ_WORKERS or the file, 0 to 64, checked naming the setting', () => {
    expect(loadConfig({ env: { MEM_READ_WORKERS: '0' } }).server.readWorkers).toBe(0);
    expect(loadConfig({ env: { MEM_READ_WORKERS: '3' } }).server.readWorkers).toBe(3);
    expect(loadConfig({ env: {}, overrides: { server: { readWorkers: 2 } } }).server.readWorkers).toBe(2);
    invalid(() => loadConfig({ env: { MEM_READ_WORKERS: 'many' } }), 'MEM_READ_WORKERS');
    invalid(() => loadConfig({ env: { MEM_READ_WORKERS: '65' } }), 'config: server.readWorkers (MEM_READ_WORKERS)');
    invalid(() => loadConfig({ env: {}, overrides: { server: { readWorkers: 1.5 } } }), 'config: server.readWorkers (MEM_READ_WORKERS)');
  });

  it('images: MEM_IMAGES=describe or off; limits from the file, checked naming the setting', () => {
    expect(loadConfig({ env: { MEM_IMAGES: 'describe' } }).images).toEqual({ describe: true });
    expect(loadConfig({ env: { MEM_IMAGES: 'off' }, overrides: { images: { maxImages: 3, maxBytes: 500_000 } } }).images).toEqual({
      describe: false,
      maxImages: 3,
      maxBytes: 500_000,
    });
    invalid(() => loadConfig({ env: { MEM_IMAGES: 'yes' } }), 'MEM_IMAGES');
    invalid(() => loadConfig({ env: {}, overrides: { images: { maxImages: 101 } } }), 'config: images.maxImages');
    invalid(() => loadConfig({ env: {}, overrides: { images: { describe: 'on' as unknown as boolean } } }), 'config: images.describe');
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
    writeFileSync(
      json,
      JSON.stringify({
        vectorStore: { provider: 'sqlite', vectorCache: false, vectorCacheBytes: 1048576, keywordIndex: false, keywordIndexBytes: 2048 },
      }),
    );
    expect(loadConfig({ env: { MEM_CONFIG: json } }).vectorStore).toEqual({
      provider: 'sqlite',
      vectorCache: false,
      vectorCacheBytes: 1048576,
      keywordIndex: false,
      keywordIndexBytes: 2048,
    });
    writeFileSync(
      json,
      JSON.stringify({
        vectorStore: {
          provider: 'sqlite',
          approximate: true,
          approximateMinScope: 20000,
          approximateExpansion: 512,
          approximateCandidates: 128,
        },
      }),
    );
    expect(loadConfig({ env: { MEM_CONFIG: json } }).vectorStore).toEqual({
      provider: 'sqlite',
      approximate: true,
      approximateMinScope: 20000,
      approximateExpansion: 512,
      approximateCandidates: 128,
    });
  });

  it('names the setting when a value is unusable', () => {
    invalid(() => loadConfig({ env: { MEM_PORT: 'eighty' } }), 'MEM_PORT');
    invalid(() => loadConfig({ env: { MEM_PORT: '70000' } }), 'config: server.port (MEM_PORT)');
    invalid(() => loadConfig({ env: { MEM_VECTOR_STORE: 'mongo' } }), 'config: vectorStore.provider');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', vectorCache: 'no' } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.vectorCache`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', vectorCacheBytes: 0.5 } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.vectorCacheBytes`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', keywordIndex: 'no' } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.keywordIndex`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', keywordIndexBytes: 0 } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.keywordIndexBytes`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', approximate: 'yes' } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.approximate`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', approximateMinScope: 0 } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.approximateMinScope`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', approximateExpansion: 0 } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.approximateExpansion`);
    writeFileSync(bad, JSON.stringify({ vectorStore: { provider: 'sqlite', approximateCandidates: 10_001 } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): vectorStore.approximateCandidates`);
    writeFileSync(bad, JSON.stringify({ graphStore: { provider: 'neo5j' } }));
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), `MEM_CONFIG (${bad}): graphStore.provider`);
    writeFileSync(bad, '{ not json');
    invalid(() => loadConfig({ env: { MEM_CONFIG: bad } }), 'MEM_CONFIG');
    invalid(() => loadConfig({ env: { MEM_CONFIG: join(dir, 'missing.yaml') } }), 'MEM_CONFIG');
    invalid(() => loadConfig({ env: { MEM_RERANKER: 'jina' } }), 'config: reranker.provider');
    invalid(() => loadConfig({ env: { MEM_RERANKER_MODEL: 'rerank-v3.5' } }), 'config: reranker.model');
    invalid(() => loadConfig({ env: { MEM_CATEGORIES: '[{name: food}]' } }), 'MEM_CATEGORIES');
    invalid(() => loadConfig({ env: { MEM_CATEGORIES: '{"name":"food"}' } }), 'config: categories (MEM_CATEGORIES)');
    invalid(() => loadConfig({ env: { MEM_CATEGORIES: '[{"description":"x"}]' } }), 'config: categories (MEM_CATEGORIES)[0]');
  });

  it('reads the idempotency retention from MEM_IDEMPOTENCY_RETENTION_MS, naming it when out of range', () => {
    expect(loadConfig({ env: {} }).idempotency).toBeUndefined();
    expect(loadConfig({ env: { MEM_IDEMPOTENCY_RETENTION_MS: '3600000' } }).idempotency).toEqual({ retentionMs: 3_600_000 });
    invalid(
      () => loadConfig({ env: { MEM_IDEMPOTENCY_RETENTION_MS: '0' } }),
      'config: idempotency.retentionMs (MEM_IDEMPOTENCY_RETENTION_MS)',
    );
    invalid(() => loadConfig({ env: { MEM_IDEMPOTENCY_RETENTION_MS: 'a day' } }), 'MEM_IDEMPOTENCY_RETENTION_MS');
  });

  it('reads the reranker from MEM_RERANKER and MEM_RERANKER_MODEL, with options from the file', () => {
    expect(loadConfig({ env: { MEM_RERANKER: 'cohere', MEM_RERANKER_MODEL: 'rerank-v4.0-fast' } }).reranker).toEqual({
      provider: 'cohere',
      model: 'rerank-v4.0-fast',
    });
    const file = join(dir, 'reranker.yaml');
    writeFileSync(file, 'reranker:\n  provider: transformers\n  options:\n    localModelPath: ./models\n');
    expect(loadConfig({ env: { MEM_CONFIG: file } }).reranker).toEqual({
      provider: 'transformers',
      options: { localModelPath: './models' },
    });
    expect(loadConfig({ env: { MEM_CONFIG: file, MEM_RERANKER: 'none' } }).reranker).toEqual({ provider: 'none' });
  });

  it('reads custom categories from the file or MEM_CATEGORIES (a JSON array)', () => {
    const file = join(dir, 'categories.yaml');
    writeFileSync(file, 'categories:\n  - name: food\n    description: Diet and dishes\n  - name: travel\n');
    expect(loadConfig({ env: { MEM_CONFIG: file } }).categories).toEqual([
      { name: 'food', description: 'Diet and dishes' },
      { name: 'travel' },
    ]);
    expect(loadConfig({ env: { MEM_CONFIG: file, MEM_CATEGORIES: '[{"name":"work"}]' } }).categories).toEqual([{ name: 'work' }]);
    expect(loadConfig({ env: {} })).not.toHaveProperty('categories');
  });
});
