import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createMemoryFromConfig } from './create-memory-from-config';
import { loadConfig } from './load-config';

const dir = mkdtempSync(join(tmpdir(), 'mem-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  const postgresSkip = inject('postgresSkip');
  it.skipIf(postgresSkip !== '')(
    `builds the PostgreSQL stores (MEM_VECTOR_STORE=postgres, MEM_HISTORY_STORE=postgres, DATABASE_URL)${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`,
    async () => {
      const schema = `config_${Date.now()}`;
      const config = loadConfig({
        env: { MEM_VECTOR_STORE: 'postgres', MEM_HISTORY_STORE: 'postgres' },
        overrides: {
          vectorStore: { provider: 'postgres', options: { connectionString: inject('postgresUrl'), schema } },
          historyStore: { provider: 'postgres', options: { connectionString: inject('postgresUrl'), schema } },
        },
      });
      expect(config.vectorStore.provider).toBe('postgres');
      expect(config.historyStore.provider).toBe('postgres');
      const configured = await createMemoryFromConfig(config);
      try {
        expect(configured.description).toBe('llm none, embedder lexical/hashing-512, vector postgres, history postgres');
        const scope = { userId: 'u' };
        const { memories } = await configured.memory.add('I like tea', { scope, infer: false });
        expect((await configured.memory.getAll({ scope })).results.map((item) => item.text)).toEqual(['I like tea']);
        expect((await configured.memory.history(memories[0]!.id, { scope })).map((event) => event.kind)).toEqual(['ADD']);
      } finally {
        await configured.close();
      }
    },
  );
});
