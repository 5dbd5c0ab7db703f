import { ScriptedLLM } from '@mem/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestServer, validatedResponses, type TestServer } from './harness';

// Every endpoint over real HTTP, every response checked against the served OpenAPI document.
describe('the REST API on the embedded default (SQLite, lexical embedder, no LLM)', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(async () => {
    await api?.close();
  });

  const add = (messages: unknown, extra: Record<string, unknown> = {}) =>
    api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages, scope: { userId: 'alice' }, ...extra } });

  it('adds messages as given (infer defaults to false without an LLM) and returns the library result with ISO dates', async () => {
    const response = await add([{ role: 'user', content: 'I drink green tea every morning', name: 'Alice' }], {
      metadata: { category: 'food', rating: 4 },
      occurredAt: '2024-05-08T10:00:00Z',
    });
    expect(response.status).toBe(200);
    expect(response.body.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: 'Alice: I drink green tea every morning' }]);
    expect(response.body.memories[0]).toMatchObject({
      text: 'Alice: I drink green tea every morning',
      metadata: { category: 'food', rating: 4 },
      scope: { userId: 'alice' },
      occurredAt: '2024-05-08T10:00:00.000Z',
    });
    expect(response.body.usage).toMatchObject({ llmCalls: 0, embeddingCalls: 1 });
  });

  it('refuses infer: true when the server has no LLM, and says so in its document', async () => {
    const response = await add('I like hiking', { infer: true });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: 'INVALID_INPUT',
      field: 'infer',
      message:
        'Invalid infer: this server has no LLM, so it stores messages as given and accepts only false. Leave infer out, or configure an LLM on the server (OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL).',
    });
    const document = (await api.request('GET', '/openapi.json')).body;
    expect(document.paths['/v1/memories'].post.requestBody.content['application/json'].schema).toBeDefined();
  });

  it('without an LLM, the document allows only what the server accepts: no categories, no procedural memoryType', async () => {
    // Schema-valid requests are accepted (what schemathesis checks): an empty category list, memoryType semantic.
    const accepted = await add('I like jasmine tea', { categories: [], memoryType: 'semantic', infer: false });
    expect(accepted.status).toBe(200);
    // Out of the way of the listing tests below.
    expect((await api.request('DELETE', `/v1/memories/${accepted.body.memories[0].id}`, { key: KEYS.alice })).body).toEqual({
      deleted: true,
    });
    const categories = await add('I like jasmine tea', { categories: [{ name: 'food' }] });
    expect(categories.status).toBe(400);
    expect(categories.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'categories' });
    expect(categories.body.error.message).toContain('accepts only an empty list');
    const procedural = await add('ran the tests', { memoryType: 'procedural' });
    expect(procedural.status).toBe(400);
    expect(procedural.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'memoryType' });
    const schema = JSON.stringify((await api.request('GET', '/openapi.json')).body.paths['/v1/memories'].post);
    expect(schema).toContain('only an empty list');
    expect(schema).not.toContain('"procedural"');
  });

  it('lists a scope page by page with a cursor, filters through POST /v1/memories/list, and fills the scope from a single-user key', async () => {
    await add('I live in Lisbon', { metadata: { category: 'home' } });
    await add('I have a dog called Bolt', { metadata: { category: 'pets' } });
    const first = await api.request('GET', '/v1/memories?pageSize=2', { key: KEYS.alice });
    expect(first.status).toBe(200);
    expect(first.body.results).toHaveLength(2);
    expect(first.body.nextCursor).toBe(first.body.results[1].id);
    const second = await api.request('GET', `/v1/memories?userId=alice&pageSize=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, {
      key: KEYS.alice,
    });
    expect(second.body.results.map((item: { text: string }) => item.text)).toEqual(['I have a dog called Bolt']);
    expect(second.body.nextCursor).toBeUndefined();

    const filtered = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { category: { $in: ['home', 'pets'] } } },
    });
    expect(filtered.status).toBe(200);
    expect(filtered.body.results.map((item: { text: string }) => item.text)).toEqual(['I live in Lisbon', 'I have a dog called Bolt']);
  });

  it('searches a scope: best match first, with scores, filter and limit', async () => {
    const response = await api.request('POST', '/v1/search', {
      key: KEYS.alice,
      body: { query: 'where does alice live? Lisbon', scope: { userId: 'alice' }, limit: 2 },
    });
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(2);
    expect(response.body.results[0]).toMatchObject({ text: 'I live in Lisbon', score: expect.any(Number) });
    const filtered = await api.request('POST', '/v1/search', {
      key: KEYS.alice,
      body: { query: 'Lisbon', scope: { userId: 'alice' }, filter: { category: 'pets' } },
    });
    expect(filtered.body.results.map((item: { text: string }) => item.text)).toEqual(['I have a dog called Bolt']);
  });

  it('gets, updates (text and metadata) and deletes one memory, and returns its history oldest first', async () => {
    const created = await add('I work as a nurse', { metadata: { category: 'work' } });
    const id = created.body.memories[0].id as string;

    const got = await api.request('GET', `/v1/memories/${id}?userId=alice`, { key: KEYS.alice });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, text: 'I work as a nurse' });

    const updated = await api.request('PATCH', `/v1/memories/${id}`, {
      key: KEYS.alice,
      body: { text: 'Works as a doctor', metadata: { level: 'senior' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.memory).toMatchObject({ id, text: 'Works as a doctor', metadata: { category: 'work', level: 'senior' } });
    expect(updated.body.usage.embeddingCalls).toBe(1);

    const deleted = await api.request('DELETE', `/v1/memories/${id}`, { key: KEYS.alice });
    expect(deleted.body).toEqual({ deleted: true });
    expect((await api.request('DELETE', `/v1/memories/${id}`, { key: KEYS.alice })).body).toEqual({ deleted: false });
    const gone = await api.request('GET', `/v1/memories/${id}`, { key: KEYS.alice });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('NOT_FOUND');

    const history = await api.request('GET', `/v1/history/${id}`, { key: KEYS.alice });
    expect(history.status).toBe(200);
    expect(
      history.body.results.map((event: { kind: string; previousText: string | null; text: string | null }) => [
        event.kind,
        event.previousText,
        event.text,
      ]),
    ).toEqual([
      ['ADD', null, 'I work as a nurse'],
      ['UPDATE', 'I work as a nurse', 'Works as a doctor'],
      ['DELETE', 'Works as a doctor', null],
    ]);
  });

  it('answers 404 NOT_FOUND when updating a memory that does not exist', async () => {
    const response = await api.request('PATCH', '/v1/memories/no-such-id', { key: KEYS.alice, body: { text: 'x y z' } });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('deletes by filter (POST /v1/memories/delete) and then every memory of a scope (DELETE /v1/memories)', async () => {
    const byFilter = await api.request('POST', '/v1/memories/delete', {
      key: KEYS.alice,
      body: { scope: { userId: 'alice' }, filter: { category: 'pets' } },
    });
    expect(byFilter.body).toEqual({ deleted: 1 });
    const remaining = await api.request('GET', '/v1/memories', { key: KEYS.alice });
    expect(remaining.body.results.map((item: { text: string }) => item.text)).not.toContain('I have a dog called Bolt');
    const all = await api.request('DELETE', '/v1/memories?userId=alice', { key: KEYS.alice });
    expect(all.body).toEqual({ deleted: remaining.body.results.length });
    expect((await api.request('GET', '/v1/memories', { key: KEYS.alice })).body.results).toEqual([]);
  });

  it('expiring memories: expiresAt on add and update, hidden from list and search unless includeExpired, purged in one call', async () => {
    const past = '2001-02-03T04:05:06.789Z';
    const future = '2999-01-01T00:00:00.000Z';
    const gone = await add('Trial code XK-42', { expiresAt: past, metadata: { kind: 'code' } });
    expect(gone.status).toBe(200);
    expect(gone.body.memories[0]).toMatchObject({ expiresAt: past, metadata: { kind: 'code' } });
    const later = await add('Conference rate until 2999', { expiresAt: Date.parse(future) });
    expect(later.body.memories[0].expiresAt).toBe(future);
    const textsOf = (response: { body: { results: { text: string }[] } }) => response.body.results.map((item) => item.text);
    const listed = textsOf(await api.request('GET', '/v1/memories?pageSize=1000', { key: KEYS.alice }));
    expect(listed).toContain('Conference rate until 2999');
    expect(listed).not.toContain('Trial code XK-42');
    expect(textsOf(await api.request('GET', '/v1/memories?pageSize=1000&includeExpired=true', { key: KEYS.alice }))).toContain(
      'Trial code XK-42',
    );
    const newest = await api.request('POST', '/v1/memories/list', { key: KEYS.alice, body: { scope: {}, order: 'newest' } });
    expect(textsOf(newest)).not.toContain('Trial code XK-42');
    const search = (extra: Record<string, unknown> = {}) =>
      api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'Trial code XK-42', scope: {}, ...extra } });
    expect(textsOf(await search())).not.toContain('Trial code XK-42');
    expect(textsOf(await search({ includeExpired: true }))).toContain('Trial code XK-42');
    const filtered = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, includeExpired: true, filter: { expiresAt: { $lt: '2500-01-01T00:00:00Z' } } },
    });
    expect(textsOf(filtered)).toEqual(['Trial code XK-42']);
    // GET by id still returns it; PATCH moves or clears the expiry.
    const id = gone.body.memories[0].id;
    expect((await api.request('GET', `/v1/memories/${id}`, { key: KEYS.alice })).body.expiresAt).toBe(past);
    const cleared = await api.request('PATCH', `/v1/memories/${id}`, { key: KEYS.alice, body: { expiresAt: null } });
    expect(cleared.body.memory.expiresAt).toBeUndefined();
    await api.request('PATCH', `/v1/memories/${id}`, { key: KEYS.alice, body: { expiresAt: past } });
    const bad = await add('x', { expiresAt: 'tomorrow' });
    expect(bad.status).toBe(400);
    expect((await add('x', { metadata: { expiresAt: 5 } })).status).toBe(400);
    const purged = await api.request('POST', '/v1/memories/purge-expired', { key: KEYS.alice, body: { scope: {} } });
    expect(purged.body).toEqual({ deleted: 1 });
    expect((await api.request('GET', `/v1/memories/${id}`, { key: KEYS.alice })).status).toBe(404);
    await api.request('DELETE', `/v1/memories/${later.body.memories[0].id}`, { key: KEYS.alice });
  });

  it('idempotent adds: 20 concurrent requests with one Idempotency-Key store one set of memories and get identical responses', async () => {
    const key = 'retry-7f3c2a9e-0b1d-4c5e-8f60-123456789abc';
    const body = { messages: 'I keep bees on the roof', scope: { userId: 'alice' }, metadata: { source: 'retry-test' } };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api.request('POST', '/v1/memories', { key: KEYS.alice, body, headers: { 'Idempotency-Key': key } })),
    );
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.body).toEqual(responses[0]!.body);
    }
    expect(responses[0]!.body.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: 'I keep bees on the roof' }]);
    const stored = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { source: 'retry-test' } },
    });
    expect(stored.body.results.map((item: { id: string }) => item.id)).toEqual([responses[0]!.body.events[0].id]);
    // A later retry still gets the first response; without the header the same body is a NONE.
    const later = await api.request('POST', '/v1/memories', { key: KEYS.alice, body, headers: { 'idempotency-key': key } });
    expect(later.body).toEqual(responses[0]!.body);
    expect((await api.request('POST', '/v1/memories', { key: KEYS.alice, body })).body.events[0].kind).toBe('NONE');

    // The same key with another body: 422, naming the header, nothing written.
    const other = await api.request('POST', '/v1/memories', {
      key: KEYS.alice,
      body: { ...body, messages: 'I keep wasps on the roof' },
      headers: { 'Idempotency-Key': key },
    });
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
    expect(other.body.error.message).toContain('different body');
    const after = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { source: 'retry-test' } },
    });
    expect(after.body.results).toHaveLength(1);

    // The same key for another user is independent.
    const forBob = await api.request('POST', '/v1/memories', {
      key: KEYS.bob,
      body: { ...body, scope: { userId: 'bob' } },
      headers: { 'Idempotency-Key': key },
    });
    expect(forBob.status).toBe(200);
    expect(forBob.body.events[0]).toMatchObject({ kind: 'ADD' });
    expect(forBob.body.events[0].id).not.toBe(responses[0]!.body.events[0].id);

    // Bad keys: 400 naming the header, nothing written.
    for (const bad of ['x'.repeat(256), 'two words', '']) {
      const refused = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { ...body, messages: 'Never stored' },
        headers: { 'Idempotency-Key': bad },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'Idempotency-Key' });
      expect(refused.body.error.message).toMatch(/^Invalid Idempotency-Key header: /);
    }
    const everything = await api.request('GET', '/v1/memories?pageSize=1000', { key: KEYS.alice });
    expect(everything.body.results.map((item: { text: string }) => item.text)).not.toContain('Never stored');

    // The document describes the header and the 422.
    const document = (await api.request('GET', '/openapi.json')).body;
    const operation = document.paths['/v1/memories'].post;
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: expect.objectContaining({ maxLength: 255 }),
      }),
    );
    expect(operation.responses['422']).toBeDefined();
  });

  it('answers health and readiness without a key', async () => {
    expect((await api.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api.request('GET', '/readyz')).body).toEqual({ status: 'ready' });
  });

  it('serves the OpenAPI 3.1 document and a browsable page whose assets are served locally (no CDN)', async () => {
    const document = await api.request('GET', '/openapi.json');
    expect(document.body.openapi).toBe('3.1.0');
    expect(document.body.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const page = await fetch(`${api.url}/docs/`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('swagger-ui');
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src, 'the docs page must not load scripts from another host').not.toMatch(/^(https?:)?\/\//);
      const asset = await fetch(new URL(src, `${api.url}/docs/`));
      await asset.arrayBuffer();
      expect(asset.status).toBe(200);
    }
    const initializer = await (await fetch(`${api.url}/docs/static/swagger-initializer.js`)).text();
    expect(initializer).toContain("url: resolveUrl('./json')");
    const served = await (await fetch(`${api.url}/docs/json`)).json();
    expect(served).toEqual(document.body);
  });
});

describe('the REST API with an LLM', () => {
  it('extracts facts with the configured LLM (infer defaults to true) and reports its usage', async () => {
    const llm = new ScriptedLLM([{ json: { operations: [{ op: 'ADD', id: null, text: 'Is vegetarian' }] } }]);
    const api = await startTestServer({ parts: { llm } });
    try {
      const response = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: [{ role: 'user', content: 'I stopped eating meat last year.' }], scope: { userId: 'alice' } },
      });
      expect(response.status).toBe(200);
      expect(response.body.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: 'Is vegetarian' }]);
      expect(response.body.usage.llmCalls).toBe(1);
      expect(llm.requests).toHaveLength(1);
      const document = (await api.request('GET', '/openapi.json')).body;
      const infer = document.paths['/v1/memories'].post.requestBody.content['application/json'].schema.properties.infer;
      expect(infer.type).toBe('boolean');
    } finally {
      await api.close();
    }
  });
});

describe('the REST API: procedural memories and custom categories', () => {
  const run = [
    { role: 'user', content: 'Rotate the API key of project p-77.' },
    { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'rotate_key', arguments: { project: 'p-77' } }] },
    { role: 'tool', toolCallId: 'call_1', name: 'rotate_key', content: '{"keyId":"k_9f2","expires":"2025-01-01"}' },
    { role: 'assistant', content: 'Rotated: new key k_9f2.' },
  ];

  it('memoryType procedural: one LLM call summarises a run with tool calls into one procedural memory, filterable by memoryType', async () => {
    const summary = 'Task: rotate the API key of project p-77 (completed). 1. rotate_key {"project":"p-77"} returned keyId k_9f2.';
    const llm = new ScriptedLLM([{ json: { summary } }, { json: { operations: [{ op: 'ADD', id: null, text: 'Owns project p-77' }] } }]);
    const api = await startTestServer({ parts: { llm } });
    try {
      const added = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: run, scope: { userId: 'alice' }, memoryType: 'procedural', prompt: 'Keep ids verbatim.' },
      });
      expect(added.status).toBe(200);
      expect(added.body.memories).toEqual([expect.objectContaining({ text: summary, memoryType: 'procedural', metadata: {} })]);
      expect(added.body.usage.llmCalls).toBe(1);
      const prompt = llm.requests[0]!.messages.map((message) => message.content).join('\n');
      expect(prompt).toContain('Keep ids verbatim.');
      expect(prompt).toContain('assistant calls rotate_key({"project":"p-77"}) [call_1]');
      expect(prompt).toContain('tool (rotate_key, result of call_1): {"keyId":"k_9f2","expires":"2025-01-01"}');
      await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'I own project p-77', scope: {} } });
      const texts = (response: { body: { results: { text: string }[] } }) => response.body.results.map((item) => item.text);
      const procedural = await api.request('POST', '/v1/memories/list', {
        key: KEYS.alice,
        body: { scope: {}, filter: { memoryType: 'procedural' } },
      });
      expect(texts(procedural)).toEqual([summary]);
      const found = await api.request('POST', '/v1/search', {
        key: KEYS.alice,
        body: { query: 'project p-77', scope: {}, filter: { memoryType: { $ne: 'procedural' } } },
      });
      expect(texts(found)).toEqual(['Owns project p-77']);
      // Bad shapes are typed 400s naming the field; OpenAI's wire names are refused by the document.
      const bad = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: [{ role: 'user', content: 'x', toolCalls: [{ name: 'a' }] }], scope: {}, memoryType: 'procedural' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'messages[0].toolCalls' });
      const wire = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: [{ role: 'assistant', content: null, tool_calls: [] }], scope: {} },
      });
      expect(wire.status).toBe(400);
      const noInfer = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: run, scope: {}, memoryType: 'procedural', infer: false },
      });
      expect(noInfer.status).toBe(400);
      expect(noInfer.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'infer' });
      expect(llm.requests).toHaveLength(2);
    } finally {
      await api.close();
    }
  });

  it('a procedural run with content parts (an image a tool returned) and content null: summarised, the image noted as left out; a bad part is a 400 naming it', async () => {
    const PNG_URL =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const withImage = [
      ...run.slice(0, 2),
      {
        role: 'tool',
        toolCallId: 'call_1',
        name: 'rotate_key',
        content: [
          { type: 'text', text: 'rotated' },
          { type: 'image_url', image_url: { url: PNG_URL } },
        ],
      },
      run[3],
    ];
    const summary = 'Task: rotate the API key of project p-77 (completed).';
    const llm = new ScriptedLLM([{ json: { summary } }]);
    const api = await startTestServer({ parts: { llm } });
    try {
      const added = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: withImage, scope: { userId: 'alice' }, memoryType: 'procedural' },
      });
      expect(added.status).toBe(200);
      expect(added.body.memories).toEqual([expect.objectContaining({ text: summary, memoryType: 'procedural' })]);
      expect(added.body.notes).toEqual([expect.objectContaining({ code: 'IMAGES_DROPPED', parts: ['messages[2].content[1]'] })]);
      expect(llm.requests[0]!.messages[1]!.content).toContain('tool (rotate_key, result of call_1): rotated');
      const bad = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: {
          messages: [run[0], { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }],
          scope: {},
          memoryType: 'procedural',
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'messages[1].content[0].image_url.url' });
      expect(llm.requests).toHaveLength(1);
    } finally {
      await api.close();
    }
  });

  it('a server without an LLM refuses a procedural add (its document allows only semantic), writing nothing', async () => {
    const api = await startTestServer();
    try {
      const response = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: run, scope: { userId: 'alice' }, memoryType: 'procedural' },
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'memoryType' });
      expect(response.body.error.message).toContain('a procedural memory is a summary of the run written by one');
      expect((await api.request('GET', '/v1/memories', { key: KEYS.alice })).body.results).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('categories: assigned by the extraction call, returned, filterable; bad categories are 400 naming the field', async () => {
    const llm = new ScriptedLLM([
      {
        json: {
          operations: [
            { op: 'ADD', id: null, text: 'É vegetariana', categories: ['comida', 'desporto'] },
            { op: 'ADD', id: null, text: 'Vai a Tóquio em junho', categories: ['viagens'] },
          ],
        },
      },
    ]);
    const api = await startTestServer({ parts: { llm } });
    try {
      const categories = [{ name: 'comida', description: 'Dieta e pratos' }, { name: 'viagens' }];
      const added = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: 'Sou vegetariana e vou a Tóquio em junho.', scope: { userId: 'alice' }, categories },
      });
      expect(added.status).toBe(200);
      expect(added.body.memories.map((item: { text: string; categories?: string[] }) => [item.text, item.categories])).toEqual([
        ['É vegetariana', ['comida']],
        ['Vai a Tóquio em junho', ['viagens']],
      ]);
      expect(llm.requests[0]!.messages[0]!.content).toContain('- comida: Dieta e pratos');
      const listed = await api.request('POST', '/v1/memories/list', {
        key: KEYS.alice,
        body: { scope: {}, filter: { categories: 'comida' } },
      });
      expect(listed.body.results.map((item: { text: string }) => item.text)).toEqual(['É vegetariana']);
      for (const [body, field] of [
        [[{ name: 'comida' }, { name: 'Comida' }], 'categories[1].name'],
        [[{ name: '' }], 'categories[0].name'],
      ] as const) {
        const refused = await api.request('POST', '/v1/memories', {
          key: KEYS.alice,
          body: { messages: 'x', scope: {}, categories: body },
        });
        expect(refused.status).toBe(400);
        expect(refused.body.error.field).toBe(field);
      }
      const reserved = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: 'x', scope: {}, metadata: { categories: ['a'] }, infer: false },
      });
      expect(reserved.status).toBe(400);
      expect(llm.requests).toHaveLength(1);
    } finally {
      await api.close();
    }
  });
});

describe('the REST API with images in messages', () => {
  /** A 1×1 PNG. */
  const PNG_URL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  const messages = [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'My dog Rex at the beach.' },
        { type: 'image_url', image_url: { url: PNG_URL, detail: 'low' } },
      ],
    },
  ];

  it('MEM_IMAGES=describe with an LLM that sees images: the images go to the model, the answer is validated against the document', async () => {
    const llm = new ScriptedLLM([{ json: { operations: [{ op: 'ADD', id: null, text: 'Has a dog named Rex' }] } }], {
      capabilities: { imageInput: true },
    });
    const api = await startTestServer({ parts: { llm }, config: { images: { describe: true } } });
    try {
      const response = await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages, scope: { userId: 'alice' } } });
      expect(response.status).toBe(200);
      expect(response.body.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: 'Has a dog named Rex' }]);
      expect(response.body).not.toHaveProperty('notes');
      expect(llm.requests[0]!.messages[1]!.parts?.map((part) => part.type)).toEqual(['text', 'text', 'image']);
    } finally {
      await api.close();
    }
  });

  it('without MEM_IMAGES the text parts are kept and the response notes the images left out; infer: false too', async () => {
    const llm = new ScriptedLLM([{ json: { operations: [{ op: 'ADD', id: null, text: 'Has a dog named Rex' }] } }], {
      capabilities: { imageInput: true },
    });
    const api = await startTestServer({ parts: { llm } });
    try {
      const inferred = await api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages, scope: { userId: 'alice' } } });
      expect(inferred.status).toBe(200);
      expect(inferred.body.notes).toEqual([
        { code: 'IMAGES_DROPPED', reason: 'images_off', message: expect.any(String), parts: ['messages[0].content[1]'] },
      ]);
      expect(llm.requests[0]!.messages[1]!.parts).toBeUndefined();
      const raw = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages, scope: { userId: 'alice' }, infer: false },
      });
      expect(raw.status).toBe(200);
      expect(raw.body.events.map((event: { text: string }) => event.text)).toEqual(['My dog Rex at the beach.']);
      expect(raw.body.notes[0]).toMatchObject({ reason: 'infer_false', parts: ['messages[0].content[1]'] });
    } finally {
      await api.close();
    }
  });

  it("bad parts are 400 INVALID_INPUT naming the part, with core's words, and nothing is written", async () => {
    const api = await startTestServer({ config: { images: { maxImages: 1 } } });
    try {
      const cases: [unknown, string, RegExp][] = [
        [[{ type: 'input_audio', input_audio: {} }], 'messages[0].content[0].type', /unknown content part type "input_audio"/],
        [[{ type: 'image_url', image_url: {} }], 'messages[0].content[0].image_url.url', /is missing/],
        [
          [{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }],
          'messages[0].content[0].image_url.url',
          /http\(s\) URL or a data URL/,
        ],
        [
          [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR*w0KGgo=' } }],
          'messages[0].content[0].image_url.url',
          /malformed base64/,
        ],
        [
          [{ type: 'image_url', image_url: { url: PNG_URL.replace('image/png', 'image/bmp') } }],
          'messages[0].content[0].image_url.url',
          /unsupported media type/,
        ],
      ];
      for (const [content, field, message] of cases) {
        const response = await api.request('POST', '/v1/memories', {
          key: KEYS.alice,
          body: { messages: [{ role: 'user', content }], scope: { userId: 'alice' }, infer: false },
        });
        expect(response.status, field).toBe(400);
        expect(response.body.error).toMatchObject({ code: 'INVALID_INPUT', field });
        expect(response.body.error.message).toMatch(message);
      }
      // More images than images.maxImages over the messages of one add: send less, a 413 naming the first over.
      const over = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: PNG_URL } }] },
            {
              role: 'assistant',
              content: [
                { type: 'text', text: 'and' },
                { type: 'image_url', image_url: { url: PNG_URL } },
              ],
            },
          ],
          scope: { userId: 'alice' },
          infer: false,
        },
      });
      expect(over.status).toBe(413);
      expect(over.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'messages[1].content[1]' });
      expect(over.body.error.message).toMatch(/is image 2 of the call, more than images.maxImages \(1\)/);
      expect((await api.request('GET', '/v1/memories?userId=alice', { key: KEYS.alice })).body.results).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe('the REST API with graph memory (SQLite graph store in the same file)', () => {
  it('returns what add changed in the graph, and the relations and entities around a search', async () => {
    const llm = new ScriptedLLM([
      {
        json: {
          operations: [{ op: 'ADD', id: null, text: 'Works at Acme as an engineer' }],
          entities: [
            { name: 'user', type: 'person' },
            { name: 'Acme', type: 'company' },
          ],
          relations: [{ source: 'user', relation: 'works at', target: 'Acme' }],
          ended: [],
        },
      },
    ]);
    const api = await startTestServer({ parts: { llm }, config: { graphStore: { provider: 'sqlite' } } });
    try {
      const added = await api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: { messages: 'I work at Acme as an engineer', scope: {}, occurredAt: '2024-03-01T09:00:00Z' },
      });
      expect(added.status).toBe(200);
      expect(added.body.graph).toEqual({
        entities: [
          { name: 'user', type: 'person' },
          { name: 'acme', type: 'company' },
        ],
        relations: [{ source: 'user', relation: 'works_at', target: 'acme' }],
        invalidated: [],
      });
      const found = await api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'where do I work?', scope: {} } });
      expect(found.status).toBe(200);
      expect(found.body.relations).toEqual([
        expect.objectContaining({
          source: 'user',
          relation: 'works_at',
          target: 'acme',
          validFrom: '2024-03-01T09:00:00.000Z',
          validTo: null,
          scope: { userId: 'alice' },
        }),
      ]);
      expect(found.body.entities).toContainEqual(expect.objectContaining({ name: 'user', type: 'person', scope: { userId: 'alice' } }));
    } finally {
      await api.close();
    }
  });
});

describe('the REST API with a reranker (MEM_RERANKER)', () => {
  it('re-orders a search with rerank: true; a server without a reranker refuses it naming the setting', async () => {
    // A reranker that prefers memories about pets, whatever the query: the order shows it was used.
    const reranker = {
      provider: 'test',
      rerank: async ({ documents }: { documents: readonly string[] }) => documents.map((text) => (text.includes('dog') ? 0.9 : 0.1)),
    };
    const api = await startTestServer({ parts: { reranker } });
    try {
      const add = (text: string) =>
        api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: text, scope: { userId: 'alice' } } });
      await add('I live in Lisbon');
      await add('I have a dog called Bolt');
      const plain = await api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'Lisbon', scope: { userId: 'alice' } } });
      expect(plain.body.results[0]).toMatchObject({ text: 'I live in Lisbon' });
      expect(plain.body.results[0].rerankScore).toBeUndefined();
      const reranked = await api.request('POST', '/v1/search', {
        key: KEYS.alice,
        body: { query: 'Lisbon', scope: { userId: 'alice' }, rerank: true },
      });
      expect(reranked.status).toBe(200);
      expect(reranked.body.results[0]).toMatchObject({ text: 'I have a dog called Bolt', rerankScore: 0.9 });
      expect((await api.request('GET', '/v1/me', { key: KEYS.alice })).body.server.rerank).toBe(true);
    } finally {
      await api.close();
    }
    const without = await startTestServer();
    try {
      const refused = await without.request('POST', '/v1/search', {
        key: KEYS.alice,
        body: { query: 'Lisbon', scope: { userId: 'alice' }, rerank: true },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'rerank' });
      expect(refused.body.error.message).toContain('MEM_RERANKER');
      const document = (await without.request('GET', '/openapi.json')).body;
      expect(JSON.stringify(document.paths['/v1/search'])).toContain('This server has no reranker');
    } finally {
      await without.close();
    }
  });
});

describe('coverage of the document', () => {
  it('every operation of the document had a success response validated by the tests above', async () => {
    const api = await startTestServer();
    try {
      const document = (await api.request('GET', '/openapi.json')).body as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      const elsewhere = new Set([
        ...['reset', 'listKeys', 'createKey', 'revokeKey'], // covered in admin.test.ts
        ...['whoAmI', 'listScopes', 'importMemories', 'listUsage'], // covered in browse-api.test.ts
      ]);
      const operations = Object.values(document.paths).flatMap((methods) =>
        Object.values(methods).map((operation) => operation.operationId),
      );
      for (const operationId of operations.filter((id) => !elsewhere.has(id))) {
        const statuses = [...(validatedResponses.get(operationId) ?? [])];
        expect(
          statuses.some((status) => status >= 200 && status < 300),
          `${operationId} had no 2xx response validated`,
        ).toBe(true);
      }
    } finally {
      await api.close();
    }
  });
});
