import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memory, MemError, type FilterInput, type Scope } from '@mem/core';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import { SqliteGraphStore } from '@mem/graph-sqlite';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromaBackend, inMemoryBackend, pineconeBackend, qdrantBackend, sqliteBackend, type Backend } from './support/backends';
import { recordFigure, scaled } from './support/figures';

// Input limits: oversized messages, metadata and filters, deep or malformed filters, non-string ids,
// invalid UTF-16, field names with quotes or SQL/Cypher syntax. Each must fail with a typed
// InvalidInputError naming the field, write nothing (row counts and content of the SQLite file are
// unchanged), and never reach SQL or Cypher as syntax.

const scope: Scope = { userId: 'dana' };
const directory = mkdtempSync(join(tmpdir(), 'mem-hardening-limits-'));
const path = join(directory, 'limits.db');
let memory: Memory;

beforeAll(async () => {
  memory = new Memory({
    embedder: new HashEmbedder(),
    vectorStore: new SqliteVectorStore({ path }),
    historyStore: new SqliteHistoryStore({ path }),
    graphStore: new SqliteGraphStore({ path }),
    llm: new ScriptedLLM([]),
  });
  await memory.add('Likes tea', { scope, infer: false, metadata: { note: 'seed' } });
  // The first search creates the graph tables (lazily, by design): do it before comparing file states.
  await memory.search('tea', { scope });
});
afterAll(async () => {
  await memory.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Everything the file holds, as one comparable string (tables, rows, schema). */
function fileState(): string {
  const database = new Database(path, { readonly: true });
  try {
    const tables = database.prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").all() as {
      name: string;
      sql: string | null;
    }[];
    const parts = [JSON.stringify(tables)];
    for (const { name } of tables) {
      if (!/^(memories|memory_history)$/.test(name)) continue;
      parts.push(
        JSON.stringify(database.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all(), (_key, value: unknown) =>
          Buffer.isBuffer(value) ? value.length : value,
        ),
      );
    }
    return parts.join('\n');
  } finally {
    database.close();
  }
}

const long = (length: number) => 'x'.repeat(length);
const nested = (depth: number): FilterInput => (depth === 0 ? { note: 'seed' } : { $not: nested(depth - 1) });
const cyclic = (): FilterInput => {
  const filter: Record<string, unknown> = { note: 'seed' };
  filter['$not'] = filter;
  return filter as FilterInput;
};
const many = (count: number): FilterInput => ({ $and: Array.from({ length: count }, (_, index) => ({ [`k${index}`]: index })) });
const any = <T>(value: unknown) => value as T;

/** [what, call, the field the error must name (exact, or a prefix ending in '*')]. */
const CASES: readonly [string, () => Promise<unknown>, string][] = [
  ['a message of 100,001 characters', () => memory.add(long(100_001), { scope, infer: false }), 'messages'],
  [
    '201 messages',
    () =>
      memory.add(
        Array.from({ length: 201 }, () => ({ role: 'user' as const, content: 'hi' })),
        { scope, infer: false },
      ),
    'messages',
  ],
  ['no messages', () => memory.add([], { scope, infer: false }), 'messages'],
  ['a message that is a number', () => memory.add(any(42), { scope, infer: false }), 'messages'],
  [
    'message content that is an object',
    () => memory.add([{ role: 'user', content: any({ toString: () => 'x' }) }], { scope, infer: false }),
    'messages[0].content',
  ],
  ['an unknown role', () => memory.add([{ role: any('root'), content: 'x' }], { scope, infer: false }), 'messages[0].role'],
  ['a lone surrogate in a message', () => memory.add('broken \uD800 text', { scope, infer: false }), 'messages'],
  [
    'a lone surrogate in a message name',
    () => memory.add([{ role: 'user', content: 'x', name: 'n\uDC00' }], { scope, infer: false }),
    'messages[0].name',
  ],
  [
    '65 metadata keys',
    () =>
      memory.add('x', {
        scope,
        infer: false,
        metadata: Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, index])),
      }),
    'options.metadata',
  ],
  [
    'a metadata string of 8,193 characters',
    () => memory.add('x', { scope, infer: false, metadata: { note: long(8_193) } }),
    'options.metadata.note',
  ],
  [
    '72 KB of metadata in all (each key within its limit)',
    () =>
      memory.add('x', {
        scope,
        infer: false,
        metadata: Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`k${index}`, long(8_000)])),
      }),
    'options.metadata',
  ],
  [
    '6 MB of metadata arrays',
    () =>
      memory.add('x', {
        scope,
        infer: false,
        metadata: Object.fromEntries(
          Array.from({ length: 8 }, (_, index) => [`k${index}`, Array.from({ length: 100 }, () => long(8_192))]),
        ),
      }),
    'options.metadata',
  ],
  [
    'a metadata array of 101 strings',
    () => memory.add('x', { scope, infer: false, metadata: { tags: Array.from({ length: 101 }, () => 't') } }),
    'options.metadata.tags',
  ],
  ['a nested metadata object', () => memory.add('x', { scope, infer: false, metadata: any({ deep: { a: 1 } }) }), 'options.metadata.deep'],
  ['a metadata NaN', () => memory.add('x', { scope, infer: false, metadata: { n: Number.NaN } }), 'options.metadata.n'],
  ['a metadata Date', () => memory.add('x', { scope, infer: false, metadata: any({ when: new Date() }) }), 'options.metadata.when'],
  ['a metadata key with a double quote', () => memory.add('x', { scope, infer: false, metadata: { 'a"b': 1 } }), 'options.metadata.a"b'],
  [
    'a metadata key with SQL',
    () => memory.add('x', { scope, infer: false, metadata: { "x') OR 1=1 --": 1 } }),
    "options.metadata.x') OR 1=1 --",
  ],
  [
    'a metadata key with Cypher',
    () => memory.add('x', { scope, infer: false, metadata: { '`n`}) DETACH DELETE n //': 1 } }),
    'options.metadata.`n`}) DETACH DELETE n //',
  ],
  ['a metadata key "$where"', () => memory.add('x', { scope, infer: false, metadata: { $where: 'sleep(1)' } }), 'options.metadata.$where'],
  [
    'the metadata key "__proto__"',
    () => memory.add('x', { scope, infer: false, metadata: JSON.parse('{"__proto__": ["admin"]}') }),
    'options.metadata.__proto__',
  ],
  [
    'a reserved metadata key (userId)',
    () => memory.add('x', { scope, infer: false, metadata: { userId: 'bob' } }),
    'options.metadata.userId',
  ],
  [
    'a lone surrogate in a metadata value',
    () => memory.add('x', { scope, infer: false, metadata: { note: 'a\uDBFF' } }),
    'options.metadata.note',
  ],
  ['an empty scope', () => memory.add('x', { scope: {}, infer: false }), 'options.scope'],
  ['a numeric userId', () => memory.add('x', { scope: any({ userId: 42 }), infer: false }), 'options.scope.userId'],
  ['a userId of 257 characters', () => memory.add('x', { scope: { userId: long(257) }, infer: false }), 'options.scope.userId'],
  ['a userId with a NUL byte', () => memory.add('x', { scope: { userId: 'a\u0000b' }, infer: false }), 'options.scope.userId'],
  ['a userId with a lone surrogate', () => memory.add('x', { scope: { userId: '\uD800' }, infer: false }), 'options.scope.userId'],
  [
    'an unknown scope field',
    () => memory.add('x', { scope: any({ userId: 'dana', tenant: 'other' }), infer: false }),
    'options.scope.tenant',
  ],
  ['a scope that is an array', () => memory.add('x', { scope: any(['dana']), infer: false }), 'options.scope'],
  ['an invalid occurredAt', () => memory.add('x', { scope, infer: false, occurredAt: 'yesterday-ish' }), 'options.occurredAt'],
  ['a prompt of 20,001 characters', () => memory.add('x', { scope, prompt: long(20_001) }), 'options.prompt'],
  ['a query of 10,001 characters', () => memory.search(long(10_001), { scope }), 'query'],
  ['a query that is an object', () => memory.search(any({}), { scope }), 'query'],
  ['limit 0', () => memory.search('tea', { scope, limit: 0 }), 'options.limit'],
  ['limit 1,001', () => memory.search('tea', { scope, limit: 1_001 }), 'options.limit'],
  ['a fractional limit', () => memory.search('tea', { scope, limit: 1.5 }), 'options.limit'],
  ['a string limit', () => memory.search('tea', { scope, limit: any('10') }), 'options.limit'],
  ['threshold 2', () => memory.search('tea', { scope, threshold: 2 }), 'options.threshold'],
  ['a filter nested 9 levels', () => memory.search('tea', { scope, filter: nested(9) }), 'options.filter*'],
  ['a filter nested 10,000 levels', () => memory.search('tea', { scope, filter: nested(10_000) }), 'options.filter*'],
  ['a cyclic filter', () => memory.search('tea', { scope, filter: cyclic() }), 'options.filter*'],
  ['a filter with 257 conditions', () => memory.search('tea', { scope, filter: many(257) }), 'options.filter*'],
  [
    '$in with 1,001 values',
    () => memory.search('tea', { scope, filter: { note: { $in: Array.from({ length: 1_001 }, (_, index) => `v${index}`) } } }),
    'options.filter.note.$in',
  ],
  ['a filter string of 1,025 characters', () => memory.search('tea', { scope, filter: { note: long(1_025) } }), 'options.filter.note'],
  ['a filter field with a double quote', () => memory.search('tea', { scope, filter: { 'a"b': 1 } }), 'options.filter.a"b'],
  ['a filter field with SQL', () => memory.search('tea', { scope, filter: { "note') OR 1=1 --": 1 } }), "options.filter.note') OR 1=1 --"],
  ['a filter field with a JSON path', () => memory.search('tea', { scope, filter: { '$.note': 1 } }), 'options.filter.$.note'],
  [
    'an unknown operator ($regex)',
    () => memory.search('tea', { scope, filter: any({ note: { $regex: '.*' } }) }),
    'options.filter.note.$regex',
  ],
  ['an unknown logical operator ($where)', () => memory.search('tea', { scope, filter: any({ $where: 'true' }) }), 'options.filter.$where'],
  [
    'a filter value that is an object',
    () => memory.search('tea', { scope, filter: any({ note: { $eq: { $ne: null } } }) }),
    'options.filter.note.$eq',
  ],
  ['a range on a string', () => memory.search('tea', { scope, filter: any({ note: { $gt: 'a' } }) }), 'options.filter.note.$gt'],
  ['a filter that is an array', () => memory.search('tea', { scope, filter: any([{ note: 'seed' }]) }), 'options.filter'],
  ['a filter that is a string', () => memory.search('tea', { scope, filter: any("note = 'seed'") }), 'options.filter'],
  ['an empty $or', () => memory.search('tea', { scope, filter: { $or: [] } }), 'options.filter.$or'],
  [
    'a filter on "__proto__"',
    () => memory.search('tea', { scope, filter: JSON.parse('{"__proto__": {"$eq": 1}}') }),
    'options.filter.__proto__',
  ],
  ['a numeric id (get)', () => memory.get(any(123), { scope }), 'id'],
  ['a null id (update)', () => memory.update(any(null), 'x', { scope }), 'id'],
  ['an object id (delete)', () => memory.delete(any({ $ne: null }), { scope }), 'id'],
  ['an array id (history)', () => memory.history(any(['a']), { scope }), 'id'],
  ['an id of 257 characters', () => memory.get(long(257), { scope }), 'id'],
  ['an id with a lone surrogate', () => memory.delete('id-\uD800', { scope }), 'id'],
  ['an empty update', () => memory.update('some-id', any({}), { scope }), 'change'],
  ['an update text of 10,001 characters', () => memory.update('some-id', long(10_001), { scope }), 'change.text'],
  [
    'an update to a reserved metadata key',
    () => memory.update('some-id', { metadata: { agentId: 'x' } }, { scope }),
    'change.metadata.agentId',
  ],
  ['pageSize 0', () => memory.getAll({ scope, pageSize: 0 }), 'options.pageSize'],
  ['a numeric cursor', () => memory.getAll({ scope, cursor: any(5) }), 'options.cursor'],
  [
    'deleteAll with a malformed filter',
    () => memory.deleteAll({ scope, filter: any({ note: { $regex: '.*' } }) }),
    'options.filter.note.$regex',
  ],
  ['deleteAll with an empty scope', () => memory.deleteAll({ scope: {} }), 'options.scope'],
];

describe('input limits through Memory on the embedded default (SQLite vector, history and graph in one file)', () => {
  it(`${CASES.length} hostile inputs: each a typed InvalidInputError naming the field, nothing written`, async () => {
    const violations: string[] = [];
    for (const [what, call, field] of CASES) {
      const before = fileState();
      let thrown: unknown;
      try {
        await call();
      } catch (error) {
        thrown = error;
      }
      const named = (thrown as { field?: unknown } | undefined)?.field;
      if (!MemError.is(thrown, 'INVALID_INPUT'))
        violations.push(
          `${what}: expected INVALID_INPUT, got ${thrown === undefined ? 'success' : MemError.is(thrown) ? thrown.code : String(thrown)}`,
        );
      else if (field.endsWith('*') ? !String(named).startsWith(field.slice(0, -1)) : named !== field)
        violations.push(`${what}: the error names "${String(named)}", expected "${field}"`);
      if (fileState() !== before) violations.push(`${what}: the database changed`);
    }
    recordFigure({
      category: 'input limits (typed error, field named, nothing written)',
      backend: 'sqlite (embedded default)',
      cases: CASES.length,
      violations: violations.length,
    });
    expect(violations).toEqual([]);
  });

  it('generated hostile filters: parsed into a typed error naming options.filter…, or evaluated; never a crash, never a write', async () => {
    const keys = fc.constantFrom(
      'note',
      'tags',
      'n',
      'userId',
      'agentId',
      'createdAt',
      'a"b',
      "x') OR 1=1 --",
      '$.x',
      '__proto__',
      'constructor',
      '$and',
      '$or',
      '$not',
      '$eq',
      '$in',
      '$gt',
      '$contains',
      '$regex',
      '',
      ' ',
      'a'.repeat(65),
    );
    const leaf = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: false }),
      fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 4 }),
    );
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.dictionary(keys, tie('node'), { maxKeys: 4 }),
        fc.array(tie('node'), { maxLength: 3 }),
      ),
    }));
    const before = fileState();
    let cases = 0;
    const violations: string[] = [];
    await fc.assert(
      fc.asyncProperty(node, fc.constantFrom('search', 'getAll', 'deleteAll-other-scope'), async (filter, method) => {
        cases++;
        try {
          if (method === 'search') await memory.search('tea', { scope, filter: filter as FilterInput, limit: 5 });
          else if (method === 'getAll') await memory.getAll({ scope, filter: filter as FilterInput });
          else await memory.deleteAll({ scope: { userId: 'nobody-here' }, filter: filter as FilterInput });
        } catch (error) {
          if (!MemError.is(error, 'INVALID_INPUT')) violations.push(`${method} ${JSON.stringify(filter)}: ${String(error)}`);
          else if (!String((error as { field?: unknown }).field).startsWith('options.filter'))
            violations.push(`${method}: the error names ${String((error as { field?: unknown }).field)}`);
        }
        if (violations.length > 0) throw new Error(violations[0]);
      }),
      { numRuns: scaled(300, 5_000) },
    );
    if (fileState() !== before) violations.push('the database changed');
    recordFigure({
      category: 'input limits (generated hostile filters)',
      backend: 'sqlite (embedded default)',
      cases,
      violations: violations.length,
    });
    expect(violations).toEqual([]);
  });

  it('LLM output with SQL and Cypher syntax in entity and relation names is stored inertly', async () => {
    const hostile = [
      "x'); DROP TABLE memories; --",
      '`a`}) MATCH (n) DETACH DELETE n //',
      '"; DELETE FROM memory_history; --',
      "robert'); DROP TABLE students;--",
    ];
    const llm = new ScriptedLLM([
      {
        json: {
          operations: hostile.map((text) => ({ op: 'ADD', id: null, text })),
          entities: hostile.map((name) => ({ name, type: "person'); DROP TABLE x; --" })),
          relations: hostile.map((name) => ({ source: 'user', relation: "knows') OR 1=1 --", target: name })),
          ended: ["g1' OR '1'='1"],
        },
      },
    ]);
    const graphStore = new SqliteGraphStore({ path });
    const injected = new Memory({
      embedder: new HashEmbedder(),
      vectorStore: new SqliteVectorStore({ path }),
      historyStore: new SqliteHistoryStore({ path }),
      graphStore,
      llm,
    });
    const result = await injected.add('hostile conversation', { scope: { userId: 'mallory' } });
    expect(result.events.map((event) => event.text).sort()).toEqual([...hostile].sort());
    const relations = await graphStore.neighbors({ scope: { userId: 'mallory' }, entities: ['user'], limit: 50 });
    expect(relations.map((relation) => relation.target).sort()).toEqual(hostile.map((name) => name.toLowerCase()).sort());
    // The caller's seed memory (another scope) and every table are intact.
    expect((await memory.getAll({ scope })).results.map((item) => item.text)).toContain('Likes tea');
    const database = new Database(path, { readonly: true });
    expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
    database.close();
    await injected.close();
    recordFigure({
      category: 'input limits (SQL/Cypher in model output)',
      backend: 'sqlite (embedded default) + graph-sqlite',
      cases: hostile.length * 3,
      violations: 0,
    });
  });
});

describe('hostile values are data, never syntax, in every vector store', () => {
  const backends: Backend[] = [];
  beforeAll(async () => {
    backends.push(inMemoryBackend(), sqliteBackend(), chromaBackend(), await qdrantBackend(), await pineconeBackend());
  });
  afterAll(async () => {
    for (const backend of backends) await backend.close();
  });
  const VALUES = [
    "x' OR '1'='1",
    "'; DROP TABLE memories; --",
    '{"$ne": null}',
    '$ne',
    '%',
    '_',
    '.*',
    '\\',
    '"',
    '`n`}) DETACH DELETE n //',
    'NUL \u0000 inside',
    '日本語 🍣',
  ];

  for (const name of ['in-memory', 'sqlite (embedded default)', 'chroma (real server)', 'qdrant (emulator)', 'pinecone (emulator)']) {
    it(`${name}: texts, metadata values and filter values with SQL, Cypher, regex and operator syntax round-trip and match only themselves`, async (context) => {
      const backend = backends.find((candidate) => candidate.name === name)!;
      if (backend.skip) context.skip(backend.skip);
      const stores = await backend.create();
      const target = new Memory({ embedder: new HashEmbedder(), ...stores });
      const violations: string[] = [];
      try {
        for (const value of VALUES) await target.add(`note: ${value}`, { scope, infer: false, metadata: { note: value } });
        for (const value of VALUES) {
          const { results } = await target.getAll({ scope, filter: { note: value } });
          if (results.length !== 1 || results[0]!.metadata['note'] !== value || results[0]!.text !== `note: ${value}`)
            violations.push(`${name}: filter on ${JSON.stringify(value)} returned ${results.length}`);
          const contains = await target.getAll({ scope, filter: { note: { $contains: value } } });
          if (contains.results.some((item) => !String(item.metadata['note']).includes(value)))
            violations.push(`${name}: $contains ${JSON.stringify(value)} matched a value without it`);
        }
        const all = await target.getAll({ scope, pageSize: 100 });
        if (all.results.length !== VALUES.length)
          violations.push(`${name}: ${all.results.length} memories stored, expected ${VALUES.length}`);
      } finally {
        await target.close().catch(() => undefined);
        await stores.dispose();
      }
      recordFigure({
        category: 'input limits (hostile values are data)',
        backend: name,
        cases: VALUES.length * 3,
        violations: violations.length,
      });
      expect(violations).toEqual([]);
    });
  }
});
