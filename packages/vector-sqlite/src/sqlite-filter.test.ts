import {
  MemError,
  compareIds,
  evaluateFilter,
  type Filter,
  type FilterScalar,
  type MemoryRecord,
  type Metadata,
  type Scope,
} from '@mem/core/adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterToSql } from './sqlite-filter';
import { SqliteVectorStore } from './sqlite-vector-store';
import { seededRandom } from '../test/seeded-random';

const random = seededRandom(20_240_517);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

// Values chosen to trip SQLite: look-alike types (1 vs true vs '1'), integers beyond 2^53 (JSON text
// parses to an exact int64), 1e21 (exponent notation), -0, astral characters, LIKE/GLOB wildcards.
const STRINGS = [
  'food',
  'Food',
  'travel',
  '5',
  '1',
  'true',
  '',
  'green tea',
  'Green Tea in Kyoto',
  '🍣 sushi',
  '\u{1F600}',
  '\uFFFD',
  '%',
  '_',
  "O'Reilly",
  'a"b',
];
const NUMBERS = [
  0,
  -0,
  1,
  5,
  3.5,
  -2,
  0.1,
  0.30000000000000004,
  1_000_000,
  2 ** 53 + 2,
  88_523_708_544_661_340,
  1e21,
  -1e-7,
  Number.MAX_SAFE_INTEGER,
];
const BOOLEANS = [true, false];
const SCALARS: readonly FilterScalar[] = [...STRINGS, ...NUMBERS, ...BOOLEANS];
// expiresAt and memoryType are the reserved keys the store mirrors in columns of their own; here they
// hold every type (numbers, strings, arrays, booleans), so the mirrors must agree with the JSON on all.
const METADATA_FIELDS = ['category', 'rating', 'flag', 'tags', 'note', 'dotted.key-1', 'expiresAt', 'memoryType', 'missing'];
const SCOPES: readonly Scope[] = [
  { userId: 'u1' },
  { userId: 'u1', agentId: 'a1' },
  { userId: 'u1', agentId: 'a2', runId: 'r1' },
  { userId: 'u1', runId: 'r2' },
];
const BASE_MS = Date.UTC(2024, 0, 1);

function randomMetadata(): Metadata {
  const metadata: Record<string, Metadata[string]> = {};
  for (const field of METADATA_FIELDS.slice(0, -1)) {
    const roll = random();
    if (roll < 0.2) continue; // missing
    if (field === 'tags' || roll > 0.85) {
      metadata[field] = Array.from({ length: Math.floor(random() * 4) }, () => pick(STRINGS));
    } else {
      metadata[field] = pick(SCALARS);
    }
  }
  return metadata;
}

function makeRecords(count: number): MemoryRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const vector = Array.from({ length: 4 }, () => random() * 2 - 1);
    return {
      id: `id-${String(index).padStart(3, '0')}`,
      vector,
      text: `record ${index}`,
      hash: 'hash',
      scope: pick(SCOPES),
      metadata: randomMetadata(),
      createdAt: new Date(BASE_MS + index * 1_000),
      updatedAt: new Date(BASE_MS + (index % 7) * 60_000),
      occurredAt: new Date(BASE_MS - index * 37),
    };
  });
}

function randomLeaf(records: readonly MemoryRecord[]): Filter {
  const kind = random();
  const field =
    kind < 0.7
      ? pick(METADATA_FIELDS)
      : kind < 0.85
        ? pick(['userId', 'agentId', 'runId'])
        : pick(['createdAt', 'updatedAt', 'occurredAt']);
  const isDate = ['createdAt', 'updatedAt', 'occurredAt'].includes(field);
  const sample = (): FilterScalar => {
    if (isDate) {
      const record = pick(records);
      return (record[field as 'createdAt'] as Date).getTime() + pick([0, 0, 1, -1]);
    }
    if (['userId', 'agentId', 'runId'].includes(field)) return pick<FilterScalar>(['u1', 'a1', 'a2', 'r1', 'r2', 'u', 1, true]);
    return pick(SCALARS);
  };
  const numberSample = (): number => (isDate ? (sample() as number) : pick(NUMBERS));
  switch (pick(['eq', 'ne', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'contains'] as const)) {
    case 'eq':
      return { op: 'eq', field, value: sample() };
    case 'ne':
      return { op: 'ne', field, value: sample() };
    case 'in':
      return { op: 'in', field, values: Array.from({ length: 1 + Math.floor(random() * 4) }, sample) };
    case 'nin':
      return { op: 'nin', field, values: Array.from({ length: 1 + Math.floor(random() * 4) }, sample) };
    case 'gt':
      return { op: 'gt', field, value: numberSample() };
    case 'gte':
      return { op: 'gte', field, value: numberSample() };
    case 'lt':
      return { op: 'lt', field, value: numberSample() };
    case 'lte':
      return { op: 'lte', field, value: numberSample() };
    case 'contains': {
      // Slice by code points: half an astral character is not well-formed text (checked separately).
      const source = Array.from(pick(STRINGS.filter((value) => value.length > 0)));
      const start = Math.floor(random() * source.length);
      return {
        op: 'contains',
        field,
        value: (random() < 0.3 ? source : source.slice(start, start + 1 + Math.floor(random() * 3))).join(''),
      };
    }
  }
}

function randomFilter(records: readonly MemoryRecord[], depth: number): Filter {
  const roll = random();
  if (depth <= 0 || roll < 0.5) return randomLeaf(records);
  if (roll < 0.65) return { op: 'not', filter: randomFilter(records, depth - 1) };
  const children = Array.from({ length: Math.floor(random() * 4) }, () => randomFilter(records, depth - 1));
  return { op: roll < 0.82 ? 'and' : 'or', filters: children };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('filterToSql agrees with core evaluateFilter on a real SQLite engine', () => {
  const store = new SqliteVectorStore({ path: ':memory:' });
  const records = makeRecords(80);
  const scope: Scope = { userId: 'u1' };

  beforeAll(async () => {
    await store.ensureCollection({ dimensions: 4 });
    await store.upsert({ records });
  });
  afterAll(() => store.close());

  it('matches the reference evaluator for 800 generated filters, through list, query and keywordQuery', async () => {
    const mismatches: string[] = [];
    for (let index = 0; index < 800; index++) {
      const filter = randomFilter(records, 3);
      const expected = records
        .filter((record) => evaluateFilter(filter, record))
        .map((record) => record.id)
        .sort(compareIds);
      const listed = (await collect(store.list({ scope, filter }))).map((record) => record.id);
      const queried = (await store.query({ scope, vector: [1, 0, 0, 0], topK: 1000, filter }))
        .map((match) => match.record.id)
        .sort(compareIds);
      const keyword = (await store.keywordQuery({ scope, text: 'record', topK: 1000, filter }))
        .map((match) => match.record.id)
        .sort(compareIds);
      if (
        JSON.stringify(listed) !== JSON.stringify(expected) ||
        JSON.stringify(queried) !== JSON.stringify(expected) ||
        JSON.stringify(keyword) !== JSON.stringify(expected)
      ) {
        mismatches.push(JSON.stringify(filter));
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    // 2,400 SQLite queries: about a second on a quiet machine, many more on a loaded one.
  }, 60_000);

  it('tells booleans, numbers and numeric strings apart', async () => {
    const typed = new SqliteVectorStore({ path: ':memory:' });
    await typed.ensureCollection({ dimensions: 2 });
    const base = { vector: [1, 0], text: 't', hash: 'h', scope, createdAt: new Date(0), updatedAt: new Date(0), occurredAt: new Date(0) };
    await typed.upsert({
      records: [
        { ...base, id: 'bool', metadata: { value: true } },
        { ...base, id: 'one', metadata: { value: 1 } },
        { ...base, id: 'string', metadata: { value: '1' } },
        { ...base, id: 'array', metadata: { value: ['1', 'true'] } },
      ],
    });
    const ids = async (filter: Filter) => (await collect(typed.list({ scope, filter }))).map((record) => record.id);
    expect(await ids({ op: 'eq', field: 'value', value: true })).toEqual(['bool']);
    expect(await ids({ op: 'eq', field: 'value', value: 1 })).toEqual(['one']);
    expect(await ids({ op: 'eq', field: 'value', value: '1' })).toEqual(['array', 'string']);
    expect(await ids({ op: 'gte', field: 'value', value: 1 })).toEqual(['one']);
    expect(await ids({ op: 'ne', field: 'value', value: true })).toEqual(['array', 'one', 'string']);
    await typed.close();
  });
});

describe('filterToSql output', () => {
  it('puts values and field names only in bound parameters', () => {
    const hostile = "x'); DROP TABLE memories; --";
    const condition = filterToSql(
      {
        op: 'and',
        filters: [
          { op: 'eq', field: 'note', value: hostile },
          { op: 'in', field: 'tags', values: [hostile, 'b'] },
          { op: 'contains', field: 'userId', value: hostile },
          { op: 'gt', field: 'rating', value: 3 },
        ],
      },
      'm',
    );
    expect(condition.sql).not.toContain('DROP');
    expect(condition.sql).not.toContain('note');
    expect(condition.params).toContain(hostile);
    expect(condition.params).toContain('$."note"');
  });

  it('rejects field names outside the metadata key pattern before building SQL', () => {
    for (const field of ['a"b', "a'b", 'a) OR 1=1 --', '', 'x'.repeat(65), '$.x']) {
      let thrown: unknown;
      try {
        filterToSql({ op: 'eq', field, value: 1 }, 'm');
      } catch (error) {
        thrown = error;
      }
      expect(MemError.is(thrown, 'INVALID_INPUT'), field).toBe(true);
    }
  });

  it('rejects malformed values and unknown operators', () => {
    const bad: unknown[] = [
      { op: 'eq', field: 'a', value: null },
      { op: 'eq', field: 'a', value: Number.NaN },
      { op: 'in', field: 'a', values: 'x' },
      { op: 'gt', field: 'a', value: '3' },
      { op: 'contains', field: 'a', value: 3 },
      { op: 'regex', field: 'a', value: '.*' },
      { op: 'eq', field: 'a', value: '\ud83d' },
      { op: 'contains', field: 'a', value: 'x\ude00' },
    ];
    for (const filter of bad) expect(() => filterToSql(filter as Filter, 'm')).toThrow(/Invalid filter/);
  });

  it('gives an empty and true and an empty or false, like evaluateFilter', () => {
    expect(filterToSql({ op: 'and', filters: [] }, 'm').sql).toBe('1');
    expect(filterToSql({ op: 'or', filters: [] }, 'm').sql).toBe('0');
  });
});
