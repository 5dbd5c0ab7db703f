import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ScriptedLLM } from '@mem/core/testing';
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

  it('passes the configured categories to Memory: the extraction call lists them, a bad list is refused when it is built', async () => {
    const llm = new ScriptedLLM([{ json: { operations: [{ op: 'ADD', id: null, text: 'Is vegetarian', categories: ['food'] }] } }]);
    const env = { MEM_DB: join(dir, 'categories.db'), MEM_CATEGORIES: '[{"name":"food","description":"Diet"}]' };
    const configured = await createMemoryFromConfig(loadConfig({ env }), { llm });
    try {
      const { memories } = await configured.memory.add('I am vegetarian', { scope: { userId: 'u' } });
      expect(memories[0]!.categories).toEqual(['food']);
      expect(llm.requests[0]!.messages[0]!.content).toContain('- food: Diet');
    } finally {
      await configured.close();
    }
    await expect(
      createMemoryFromConfig(loadConfig({ env: { ...env, MEM_CATEGORIES: '[{"name":"food"},{"name":"Food"}]' } }), { llm }),
    ).rejects.toMatchObject({ field: 'options.categories[1].name' });
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

  it('builds the reranker of MEM_RERANKER: search({ rerank: true }) goes to it (cohere, against a local v2 rerank endpoint)', async () => {
    const bodies: { model: string; query: string; documents: string[] }[] = [];
    const server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        const body = JSON.parse(text) as { model: string; query: string; documents: string[] };
        bodies.push(body);
        // The document holding 'chess' is the most relevant, whatever the hybrid order was.
        const results = body.documents
          .map((document, index) => ({ index, relevance_score: document.includes('chess') ? 0.9 : 0.1 }))
          .sort((a, b) => b.relevance_score - a.relevance_score);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id: 'r', results, meta: {} }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const configured = await createMemoryFromConfig(
      loadConfig({
        env: { MEM_DB: join(dir, 'reranked.db'), MEM_RERANKER: 'cohere', MEM_RERANKER_MODEL: 'rerank-v3.5' },
        overrides: { reranker: { provider: 'cohere', options: { apiKey: 'co-test', baseUrl } } },
      }),
    );
    try {
      expect(configured.description).toContain('reranker cohere/rerank-v3.5');
      expect(configured.description).not.toContain('co-test');
      const scope = { userId: 'u' };
      await configured.memory.add('I like green tea', { scope, infer: false });
      await configured.memory.add('My brother plays chess', { scope, infer: false });
      const { results } = await configured.memory.search('green tea', { scope, rerank: true });
      expect(results[0]).toMatchObject({ text: 'My brother plays chess', rerankScore: 0.9 });
      expect(bodies[0]).toMatchObject({ model: 'rerank-v3.5', query: 'green tea' });
    } finally {
      await configured.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('builds a local cross-encoder reranker (transformers) without loading its model until a reranked search', async () => {
    const configured = await createMemoryFromConfig(
      loadConfig({
        env: { MEM_DB: join(dir, 'transformers.db'), MEM_RERANKER: 'transformers' },
        overrides: { reranker: { provider: 'transformers', options: { localModelPath: join(dir, 'no-models') } } },
      }),
    );
    try {
      expect(configured.description).toContain('reranker transformers/Xenova/ms-marco-MiniLM-L-6-v2');
      const scope = { userId: 'u' };
      await configured.memory.add('I like green tea', { scope, infer: false });
      // The model folder is empty: the reranked search names the missing files.
      await expect(configured.memory.search('tea', { scope, rerank: true })).rejects.toMatchObject({ code: 'MISSING_SETTING' });
      expect((await configured.memory.search('tea', { scope })).results).toHaveLength(1);
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
