import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryGraphStore, InMemoryHistoryStore, InMemoryVectorStore, Memory, type TelemetryOptions } from '../index';
import { HashEmbedder, ScriptedLLM, type ScriptStep } from '../testing';

const alice = { userId: 'alice-7f3a' };
const SECRET_MESSAGE = 'I am vegetarian and I live in Lisbon';
const FACTS = ['Is vegetarian', 'Lives in Lisbon'];

const ops = (...operations: { op: string; id?: string | null; text?: string | null }[]) => ({
  json: { operations: operations.map((operation) => ({ id: null, text: null, ...operation })) },
});

function setup(script: ScriptStep[], telemetry?: TelemetryOptions | false, options: { sampler?: AlwaysOffSampler } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(options.sampler ? { sampler: options.sampler } : {}),
  });
  const tracer = provider.getTracer('test');
  const llm = new ScriptedLLM(script);
  const memory = new Memory({
    llm,
    embedder: new HashEmbedder({ dimensions: 32 }),
    vectorStore: new InMemoryVectorStore(),
    historyStore: new InMemoryHistoryStore(),
    ...(telemetry === false ? { telemetry } : { telemetry: { tracer, ...telemetry } }),
  });
  return { memory, llm, exporter, provider, tracer };
}

const named = (spans: readonly ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
const one = (spans: readonly ReadableSpan[], name: string) => {
  const found = named(spans, name);
  expect(found.map((span) => span.name)).toEqual([name]);
  return found[0]!;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
/** Every attribute of every span, as one string, to look for memory text and ids in. */
const everything = (spans: readonly ReadableSpan[]) =>
  JSON.stringify(spans.map((span) => [span.name, span.attributes, span.status, span.events]));

afterEach(() => {
  trace.disable();
  context.disable();
});

describe('Memory telemetry: operation spans', () => {
  it('runs add in an upsert_memory span with chat, embeddings and store spans inside, counts and ids, and no memory text', async () => {
    const { memory, llm, exporter } = setup([ops({ op: 'ADD', text: FACTS[0] }, { op: 'ADD', text: FACTS[1] })]);
    const result = await memory.add([{ role: 'user', content: SECRET_MESSAGE }], { scope: alice });
    const spans = exporter.getFinishedSpans();

    const add = one(spans, 'upsert_memory');
    expect(parentOf(add)).toBeUndefined();
    expect(add.kind).toBe(0); // INTERNAL: mem runs in the caller's process
    expect(add.status.code).toBe(0); // UNSET on success, as the conventions ask
    expect(add.attributes).toMatchObject({
      'gen_ai.operation.name': 'upsert_memory',
      'gen_ai.memory.record.count': 2,
      'mem.memory.added_count': 2,
      'mem.memory.updated_count': 0,
      'mem.memory.deleted_count': 0,
      'mem.memory.unchanged_count': 0,
      'mem.memory.record.ids': result.events.map((event) => event.id),
      'mem.usage.llm_calls': 1,
      'mem.usage.embedding_calls': 2,
    });

    const chat = one(spans, 'chat scripted');
    expect(parentOf(chat)).toBe(idOf(add));
    expect(chat.kind).toBe(2); // CLIENT
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'scripted',
      'gen_ai.request.model': 'scripted',
      'gen_ai.output.type': 'json',
      'gen_ai.usage.input_tokens': result.usage.promptTokens,
      'gen_ai.usage.output_tokens': result.usage.completionTokens,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(llm.requests).toHaveLength(1);

    // The writes happen under the history store's lock: their spans nest in the lock's span.
    const lock = one(spans, 'lock history_store');
    expect(parentOf(lock)).toBe(idOf(add));

    // Two embedding calls: the conversation (before the LLM), the new texts (under the lock).
    const embeddings = named(spans, 'embeddings hashing-32');
    expect(embeddings.map((span) => [span.attributes['mem.embeddings.input_count'], parentOf(span)])).toEqual([
      [1, idOf(add)],
      [2, idOf(lock)],
    ]);
    for (const span of embeddings) {
      expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.embeddings.dimension.count': 32 });
    }
    const upsert = one(spans, 'upsert vector_store');
    expect(parentOf(upsert)).toBe(idOf(lock));
    expect(upsert.attributes).toMatchObject({
      'mem.store.kind': 'vector_store',
      'mem.store.provider': 'in-memory',
      'db.operation.name': 'upsert',
      'mem.store.request_count': 2,
    });
    expect(named(spans, 'append history_store').every((span) => parentOf(span) === idOf(lock))).toBe(true);
    expect(named(spans, 'append history_store').length).toBeGreaterThan(0);

    const text = everything(spans);
    for (const secret of [SECRET_MESSAGE, ...FACTS, alice.userId]) expect(text).not.toContain(secret);
  });

  it('records the messages, answers, query, memories and scope ids only when asked (recordContent, recordScope)', async () => {
    const { memory, exporter } = setup([ops({ op: 'ADD', text: FACTS[0] }, { op: 'ADD', text: FACTS[1] })], {
      recordContent: true,
      recordScope: true,
    });
    const added = await memory.add([{ role: 'user', content: SECRET_MESSAGE }], { scope: alice });
    await memory.search('what does she eat?', { scope: alice });
    const spans = exporter.getFinishedSpans();

    const chat = one(spans, 'chat scripted');
    const input = JSON.parse(String(chat.attributes['gen_ai.input.messages'])) as { role: string; parts: { content: string }[] }[];
    expect(input.some((message) => message.role === 'user' && message.parts[0]!.content.includes(SECRET_MESSAGE))).toBe(true);
    const output = JSON.parse(String(chat.attributes['gen_ai.output.messages']));
    expect(output).toMatchObject([{ role: 'assistant', finish_reason: 'stop' }]);
    expect(output[0].parts[0].content).toContain(FACTS[0]);

    const add = one(spans, 'upsert_memory');
    expect(add.attributes['mem.scope.user_id']).toBe(alice.userId);
    expect(add.attributes['mem.scope.agent_id']).toBeUndefined();
    expect(JSON.parse(String(add.attributes['gen_ai.memory.records']))).toEqual(
      added.memories.map((memoryItem) => ({ id: memoryItem.id, content: memoryItem.text })),
    );

    const search = one(spans, 'search_memory');
    expect(search.attributes['gen_ai.memory.query.text']).toBe('what does she eat?');
    const returned = JSON.parse(String(search.attributes['gen_ai.memory.records'])) as { id: string; content: string; score: number }[];
    expect(returned.map((record) => record.content).sort()).toEqual([...FACTS].sort());
    expect(returned.every((record) => typeof record.score === 'number')).toBe(true);
  });

  it('runs search in a search_memory span: results counted, ids listed, query embedded and the store queried inside it', async () => {
    const { memory, exporter } = setup([]);
    const stored = await memory.add(
      [
        { role: 'user', content: 'Likes green tea' },
        { role: 'user', content: 'Plays the cello' },
      ],
      { scope: alice, infer: false },
    );
    exporter.reset();
    const { results } = await memory.search('tea', { scope: alice, limit: 5 });
    const spans = exporter.getFinishedSpans();
    const search = one(spans, 'search_memory');
    expect(search.attributes).toMatchObject({
      'gen_ai.operation.name': 'search_memory',
      'gen_ai.memory.record.count': results.length,
      'mem.memory.record.ids': results.map((result) => result.id),
      'mem.usage.embedding_calls': 1,
    });
    expect(results.length).toBe(2);
    expect(search.attributes['gen_ai.memory.query.text']).toBeUndefined();
    const embedding = one(spans, 'embeddings hashing-32');
    expect(parentOf(embedding)).toBe(idOf(search));
    expect(embedding.attributes['mem.embeddings.purpose']).toBe('query');
    const query = one(spans, 'query vector_store');
    expect(parentOf(query)).toBe(idOf(search));
    expect(query.attributes['mem.store.result_count']).toBe(2);
    expect(stored.events.map((event) => event.kind)).toEqual(['ADD', 'ADD']);
    expect(everything(spans)).not.toContain('green tea');
  });

  it('names add with infer: false create_memory, and update, delete, deleteAll and purgeExpired after their operations', async () => {
    const { memory, exporter } = setup([]);
    const added = await memory.add('Likes green tea', { scope: alice, infer: false });
    const id = added.events[0]!.id;
    await memory.update(id, 'Likes black tea', { scope: alice });
    await memory.delete(id, { scope: alice });
    await memory.add(
      ['a', 'b', 'c'].map((letter) => ({ role: 'user' as const, content: `fact ${letter}` })),
      {
        scope: alice,
        infer: false,
      },
    );
    await memory.deleteAll({ scope: alice });
    await memory.purgeExpired({ scope: alice });
    const spans = exporter.getFinishedSpans().filter((span) => parentOf(span) === undefined);
    expect(spans.map((span) => span.name)).toEqual([
      'create_memory',
      'update_memory',
      'delete_memory',
      'create_memory',
      'delete_memory',
      'delete_memory',
    ]);
    expect(spans.map((span) => span.attributes['gen_ai.memory.record.id'])).toEqual([undefined, id, id, undefined, undefined, undefined]);
    expect(spans.map((span) => span.attributes['gen_ai.memory.record.count'])).toEqual([1, 1, 1, 3, 3, 0]);
    expect(spans[5]!.attributes['mem.delete.expired_only']).toBe(true);
    // deleteAll reads the scope with one listing span, under the scope's lock, under its operation span.
    const all = exporter.getFinishedSpans();
    const scopeLock = all.find((span) => span.name === 'lock history_store' && parentOf(span) === idOf(spans[4]!));
    const listing = all.filter((span) => span.name === 'list vector_store' && parentOf(span) === idOf(scopeLock!));
    expect(listing.map((span) => span.attributes['mem.store.result_count'])).toEqual([3]);
    expect(everything(exporter.getFinishedSpans())).not.toContain('tea');
  });

  it('traces an idempotent add and its retry: the idempotency record is looked up inside the span, and the retry reports the first result', async () => {
    const { memory, llm, exporter } = setup([ops({ op: 'ADD', text: FACTS[0] })]);
    const first = await memory.add(SECRET_MESSAGE, { scope: alice, idempotencyKey: 'request-1' });
    const retry = await memory.add(SECRET_MESSAGE, { scope: alice, idempotencyKey: 'request-1' });
    expect(retry.events).toEqual(first.events);
    expect(llm.requests).toHaveLength(1);
    const spans = exporter.getFinishedSpans();
    const adds = named(spans, 'upsert_memory');
    expect(adds.map((span) => span.attributes['mem.memory.record.ids'])).toEqual([[first.events[0]!.id], [first.events[0]!.id]]);
    expect(adds.every((span) => span.status.code === 0)).toBe(true);
    const lookups = named(spans, 'getIdempotencyRecord history_store');
    expect(lookups.length).toBeGreaterThan(0);
    expect(
      lookups.every((span) =>
        adds.some(
          (add) => parentOf(span) === idOf(add) || spans.some((lock) => idOf(lock) === parentOf(span) && parentOf(lock) === idOf(add)),
        ),
      ),
    ).toBe(true);
    expect(everything(spans)).not.toContain('request-1');
  });

  it('records importRecords as upsert_memory with what it added and updated', async () => {
    const source = setup([]);
    await source.memory.add('Likes green tea', { scope: alice, infer: false });
    const [item] = (await source.memory.getAll({ scope: alice })).results;
    const { memory, exporter } = setup([]);
    const vector = Array.from({ length: 32 }, (_, index) => (index === 0 ? 1 : 0));
    const { id, text, hash, createdAt, updatedAt, occurredAt } = item!;
    await memory.importRecords([{ id, vector, text, hash, scope: alice, metadata: {}, createdAt, updatedAt, occurredAt }]);
    await memory.importRecords([
      { id, vector, text: 'Likes black tea', hash, scope: alice, metadata: {}, createdAt, updatedAt, occurredAt },
    ]);
    const spans = named(exporter.getFinishedSpans(), 'upsert_memory');
    expect(spans.map((span) => [span.attributes['mem.memory.added_count'], span.attributes['mem.memory.updated_count']])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(spans.map((span) => span.attributes['gen_ai.memory.record.count'])).toEqual([1, 1]);
  });
});

describe('Memory telemetry: graph memory and reranking', () => {
  it('traces the graph store and reranker calls inside add and search, and changes no result', async () => {
    const answer = {
      json: {
        operations: [{ op: 'ADD', id: null, text: 'Works at Acme' }],
        entities: [
          { name: 'user', type: 'person' },
          { name: 'Acme', type: 'company' },
        ],
        relations: [{ source: 'user', relation: 'works_at', target: 'Acme' }],
        ended: [],
      },
    };
    const run = async (telemetry: TelemetryOptions | false) => {
      const reranker = {
        provider: 'length',
        rerank: async ({ documents }: { documents: readonly string[] }) => documents.map((d) => d.length),
      };
      const memory = new Memory({
        llm: new ScriptedLLM([answer]),
        embedder: new HashEmbedder({ dimensions: 32 }),
        vectorStore: new InMemoryVectorStore(),
        historyStore: new InMemoryHistoryStore(),
        graphStore: new InMemoryGraphStore(),
        reranker,
        now: () => new Date('2024-05-08T10:00:00Z'),
        telemetry,
      });
      const added = await memory.add('I work at Acme', { scope: alice });
      const found = await memory.search('where does the user work? Acme', { scope: alice, rerank: true });
      return {
        added: { events: added.events.map((event) => [event.kind, event.text]), graph: added.graph },
        found: {
          results: found.results.map((result) => [result.text, result.score, result.rerankScore]),
          relations: found.relations?.map((relation) => [relation.source, relation.relation, relation.target]),
        },
      };
    };
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
    const traced = await run({ tracer });
    expect(traced).toEqual(await run(false));
    expect(traced.found.relations).toEqual([['user', 'works_at', 'acme']]);

    const spans = exporter.getFinishedSpans();
    const add = one(spans, 'upsert_memory');
    const search = one(spans, 'search_memory');
    const descendsFrom = (span: ReadableSpan, ancestor: ReadableSpan): boolean => {
      const parent = spans.find((candidate) => idOf(candidate) === parentOf(span));
      return parent !== undefined && (parent === ancestor || descendsFrom(parent, ancestor));
    };
    const relations = one(spans, 'upsertRelations graph_store');
    expect(descendsFrom(relations, add)).toBe(true);
    expect(relations.attributes).toMatchObject({ 'mem.store.kind': 'graph_store', 'mem.store.request_count': 1 });
    const neighbors = named(spans, 'neighbors graph_store').filter((span) => descendsFrom(span, search));
    expect(neighbors.map((span) => span.attributes['mem.store.result_count'])).toContain(1);
    const rerank = one(spans, 'rerank');
    expect(parentOf(rerank)).toBe(idOf(search));
    expect(rerank.attributes).toMatchObject({ 'mem.store.provider': 'length', 'mem.store.request_count': 1 });
    expect(search.attributes['mem.graph.relation_count']).toBe(1);
    expect(everything(spans).toLowerCase()).not.toContain('acme');
  });
});

describe("Memory telemetry: the app's context", () => {
  it("nests the operation under the app's active span, and makes each child span active for the code it calls", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    let activeInLLM: string | undefined;
    const { memory, exporter, tracer } = setup([
      () => {
        // What an HTTP instrumentation inside an LLM SDK would see as its parent.
        activeInLLM = trace.getActiveSpan()?.spanContext().spanId;
        return JSON.stringify(ops({ op: 'ADD', text: FACTS[0] }).json);
      },
    ]);
    await tracer.startActiveSpan('POST /chat', async (request) => {
      await memory.add(SECRET_MESSAGE, { scope: alice });
      request.end();
    });
    const spans = exporter.getFinishedSpans();
    const request = one(spans, 'POST /chat');
    const add = one(spans, 'upsert_memory');
    expect(parentOf(add)).toBe(idOf(request));
    expect(add.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(activeInLLM).toBe(idOf(one(spans, 'chat scripted')));
  });
});

describe('Memory telemetry: errors', () => {
  it('marks the operation span ERROR with the error class and code, never its message', async () => {
    const { memory, exporter } = setup([]);
    await expect(memory.search('tea', { scope: {} })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const span = one(exporter.getFinishedSpans(), 'search_memory');
    expect(span.status).toEqual({ code: 2, message: 'InvalidInputError' });
    expect(span.attributes).toMatchObject({ 'error.type': 'InvalidInputError', 'mem.error.code': 'INVALID_INPUT' });
    expect(span.events).toEqual([]);
    expect(everything([span])).not.toContain('userId');
  });

  it('marks a failing LLM call ERROR on its chat span and on the operation around it', async () => {
    const { memory, exporter } = setup([
      () => {
        throw new Error(`provider echoed ${SECRET_MESSAGE}`);
      },
    ]);
    await expect(memory.add(SECRET_MESSAGE, { scope: alice })).rejects.toThrow();
    const spans = exporter.getFinishedSpans();
    const chat = one(spans, 'chat scripted');
    const add = one(spans, 'upsert_memory');
    expect(parentOf(chat)).toBe(idOf(add));
    for (const span of [chat, add]) {
      expect(span.status.code).toBe(2);
      expect(span.attributes['error.type']).toBe('Error');
    }
    expect(everything(spans)).not.toContain(SECRET_MESSAGE);
  });
});

describe('Memory telemetry: switching it on and off', () => {
  it('uses the global tracer of @opentelemetry/api when no tracer is given, and nothing with telemetry: false', async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const parts = () => ({
      embedder: new HashEmbedder({ dimensions: 16 }),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
    });
    await new Memory(parts()).add('Likes green tea', { scope: alice, infer: false });
    expect(exporter.getFinishedSpans().map((span) => span.name)).toContain('create_memory');
    expect(exporter.getFinishedSpans().find((span) => span.name === 'create_memory')!.instrumentationScope.name).toBe('@mem/core');
    exporter.reset();
    await new Memory({ ...parts(), telemetry: false }).add('Likes green tea', { scope: alice, infer: false });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('starts no child span when the operation span is not recorded (sampled out, or no SDK)', async () => {
    const { tracer, memory, exporter } = setup([ops({ op: 'ADD', text: FACTS[0] })], {}, { sampler: new AlwaysOffSampler() });
    let started = 0;
    const counting = {
      startSpan: (...args: Parameters<typeof tracer.startSpan>) => {
        started++;
        return tracer.startSpan(...args);
      },
    };
    const counted = new Memory({
      llm: new ScriptedLLM([ops({ op: 'ADD', text: FACTS[0] })]),
      embedder: new HashEmbedder({ dimensions: 16 }),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
      graphStore: new InMemoryGraphStore(),
      telemetry: { tracer: counting },
    });
    await counted.add(SECRET_MESSAGE, { scope: alice, infer: false });
    await counted.search('tea', { scope: alice });
    expect(started).toBe(2);
    await memory.add(SECRET_MESSAGE, { scope: alice });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('refuses a telemetry option of the wrong shape', () => {
    const parts = {
      embedder: new HashEmbedder({ dimensions: 16 }),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
    };
    const bad = (telemetry: unknown) => () => new Memory({ ...parts, telemetry: telemetry as TelemetryOptions });
    expect(bad({ tracer: {} })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', field: 'options.telemetry.tracer' }));
    expect(bad({ recordContent: 'yes' })).toThrow(expect.objectContaining({ field: 'options.telemetry.recordContent' }));
    expect(bad('on')).toThrow(expect.objectContaining({ field: 'options.telemetry' }));
  });
});
