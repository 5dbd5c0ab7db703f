import assert from 'node:assert/strict';
import {
  cosineSimilarity,
  scopeContains,
  type Filter,
  type MemoryRecord,
  type Metadata,
  type Scope,
  type VectorStore,
} from '@mem/core/adapter';
import { assertClose, assertRejectsWithCode, collect, compareStrings, sortedIds } from './assertions';
import { createNamespace, runPrepared, type CaseOutcome, type ConformanceCase, type RunCaseOptions } from './case';
import {
  ALL,
  SCORE_TOLERANCE,
  assertRecordEqual,
  assertSortedByScore,
  expectedInScope,
  matchIds,
  needsKeywordSearch,
  needsOneOf,
  pickFilter,
  waitUntilVisible,
} from './vector-store-case-support';
import { EXPIRY_CASES } from './vector-store-expiry-cases';
import { MEMORY_TYPE_CASES } from './vector-store-memory-type-cases';
import { filterCase } from './vector-store-filter-cases';
import { CONFORMANCE_DIMENSIONS, createVectorStoreHelpers, type VectorStoreCaseHelpers } from './vector-store-helpers';

/** A conformance case for a {@link VectorStore}. The suite has called `ensureCollection({ dimensions: 8 })` before `run`. */
export type VectorStoreCase = ConformanceCase<VectorStore, VectorStoreCaseHelpers>;

// ---------------------------------------------------------------------------------------------
// Shared fixtures

/** Five scopes that overlap the way real callers do: a user, a user's agent, an agent alone, a run. */
const ISOLATION_SCOPES: Readonly<Record<string, Scope>> = {
  userA: { userId: 'user-a' },
  userB: { userId: 'user-b' },
  userAWithAgentX: { userId: 'user-a', agentId: 'agent-x' },
  agentX: { agentId: 'agent-x' },
  runR: { runId: 'run-r' },
};

/** Equivalent ways to say `field = value` for a string field; a case uses the first the store declares. */
function equalsFilters(field: string, value: string): Filter[] {
  return [
    { op: 'eq', field, value },
    { op: 'in', field, values: [value] },
  ];
}

/** Equivalent filters selecting the `rare` records of the topK case (kind = rare, weight = 1). */
const RARE_FILTERS: readonly Filter[] = [
  ...equalsFilters('kind', 'rare'),
  { op: 'gte', field: 'weight', value: 1 },
  { op: 'gt', field: 'weight', value: 0.5 },
];
/** Equivalent filters selecting the even records of the listing case (parity = even, remainder = 0). */
const EVEN_FILTERS: readonly Filter[] = [
  ...equalsFilters('parity', 'even'),
  { op: 'lt', field: 'remainder', value: 1 },
  { op: 'lte', field: 'remainder', value: 0 },
];
/** Equivalent filters selecting the shopping record of the keyword case (category = shopping, priority = 2). */
const SHOPPING_FILTERS: readonly Filter[] = [
  ...equalsFilters('category', 'shopping'),
  { op: 'gte', field: 'priority', value: 2 },
  { op: 'gt', field: 'priority', value: 1.5 },
];

const ISOLATION_TEXT = 'Prefers a window seat on long flights';

/** Writes one record per isolation scope, all with the same vector, text and metadata; waits until each is visible. */
async function seedIsolation(store: VectorStore, helpers: VectorStoreCaseHelpers): Promise<MemoryRecord[]> {
  const records = Object.values(ISOLATION_SCOPES).map((scope, index) =>
    helpers.record({ id: helpers.id(index + 1), scope, text: ISOLATION_TEXT, vector: helpers.axis(0), metadata: { topic: 'travel' } }),
  );
  await helpers.write(records);
  await waitUntilVisible(store, helpers, records);
  return records;
}

// ---------------------------------------------------------------------------------------------
// The cases

/** Every vector store case, in the order the suite runs them. */
export const vectorStoreCases: readonly VectorStoreCase[] = [
  // Scope isolation ---------------------------------------------------------------------------
  {
    name: 'scope: query returns only records inside the call scope (identical vectors and texts)',
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      for (const [label, scope] of Object.entries(ISOLATION_SCOPES)) {
        const matches = await store.query({ scope, vector: helpers.axis(0), topK: ALL });
        assert.deepEqual(matchIds(matches), expectedInScope(records, scope), `query in scope ${label} ${JSON.stringify(scope)}`);
      }
    },
  },
  {
    name: 'scope: get returns only records inside the call scope',
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      const ids = records.map((record) => record.id);
      for (const [label, scope] of Object.entries(ISOLATION_SCOPES)) {
        const found = await store.get({ scope, ids });
        assert.deepEqual(sortedIds(found), expectedInScope(records, scope), `get in scope ${label} ${JSON.stringify(scope)}`);
      }
    },
  },
  {
    name: 'scope: list returns only records inside the call scope',
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      for (const [label, scope] of Object.entries(ISOLATION_SCOPES)) {
        const listed = await collect(store.list({ scope }));
        assert.deepEqual(
          listed.map((record) => record.id),
          expectedInScope(records, scope),
          `list in scope ${label} ${JSON.stringify(scope)}`,
        );
      }
    },
  },
  {
    name: 'scope: keywordQuery returns only records inside the call scope',
    requires: needsKeywordSearch,
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      for (const [label, scope] of Object.entries(ISOLATION_SCOPES)) {
        const matches = await helpers.eventually(async () => {
          const found = await store.keywordQuery({ scope, text: 'window seat flights', topK: ALL });
          assert.ok(found.length > 0, `keywordQuery in scope ${label} found nothing`);
          return found;
        });
        assert.deepEqual(matchIds(matches), expectedInScope(records, scope), `keywordQuery in scope ${label} ${JSON.stringify(scope)}`);
      }
    },
  },
  {
    name: 'scope: delete never touches records outside the call scope',
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      const ids = records.map((record) => record.id);
      let remaining = records;
      for (const scope of [ISOLATION_SCOPES.userB!, ISOLATION_SCOPES.agentX!]) {
        await store.delete({ scope, ids });
        remaining = remaining.filter((record) => !scopeContains(scope, record.scope));
        const expected = sortedIds(remaining);
        await helpers.eventually(async () => {
          const left = new Set<string>();
          for (const record of records) for (const found of await store.get({ scope: record.scope, ids: [record.id] })) left.add(found.id);
          assert.deepEqual(
            [...left].sort(compareStrings),
            expected,
            `records left after delete of every id in scope ${JSON.stringify(scope)}`,
          );
        });
      }
    },
  },
  {
    name: 'scope: a filter on a scope field narrows the call scope but never widens it',
    requires: needsOneOf(equalsFilters('userId', 'user-b')),
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      const equals = (field: string, value: string) => pickFilter(store, equalsFilters(field, value))!;
      const checks: { scope: Scope; filter: Filter }[] = [
        { scope: ISOLATION_SCOPES.userA!, filter: equals('userId', 'user-b') },
        { scope: ISOLATION_SCOPES.userA!, filter: equals('agentId', 'agent-x') },
        { scope: ISOLATION_SCOPES.agentX!, filter: equals('runId', 'run-r') },
      ];
      for (const { scope, filter } of checks) {
        const expected = expectedInScope(records, scope, filter);
        const matches = await store.query({ scope, vector: helpers.axis(0), topK: ALL, filter });
        assert.deepEqual(matchIds(matches), expected, `query in scope ${JSON.stringify(scope)} with filter ${JSON.stringify(filter)}`);
        const listed = await collect(store.list({ scope, filter }));
        assert.deepEqual(
          listed.map((record) => record.id),
          expected,
          `list in scope ${JSON.stringify(scope)} with filter ${JSON.stringify(filter)}`,
        );
      }
    },
  },

  {
    name: 'scope: ids with quotes, unicode, wildcards and injection-like text isolate exactly',
    async run(store, helpers) {
      const scopes: Scope[] = [
        { userId: "o'brien" },
        { userId: "o'brien' OR '1'='1" },
        { userId: 'a"b\\c' },
        { userId: '%' },
        { userId: '_' },
        { userId: '*' },
        { userId: 'ユーザー 🍣' },
        { userId: 'user-a', agentId: "x' OR agentId IS NOT NULL --" },
        { userId: 'user-a', agentId: '$ne' },
      ];
      const records = scopes.map((scope, index) =>
        helpers.record({ id: helpers.id(index + 1), scope, text: ISOLATION_TEXT, vector: helpers.axis(0) }),
      );
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      const ids = records.map((record) => record.id);
      for (const scope of [...scopes, { userId: 'user-a' }, { agentId: '%' }]) {
        const label = JSON.stringify(scope);
        const expected = expectedInScope(records, scope);
        assert.deepEqual(sortedIds(await store.get({ scope, ids })), expected, `get in scope ${label}`);
        assert.deepEqual(
          (await collect(store.list({ scope }))).map((record) => record.id),
          expected,
          `list in scope ${label}`,
        );
        assert.deepEqual(matchIds(await store.query({ scope, vector: helpers.axis(0), topK: ALL })), expected, `query in scope ${label}`);
      }
      await store.delete({ scope: { userId: '%' }, ids });
      await helpers.eventually(async () => {
        const left: string[] = [];
        for (const record of records) left.push(...(await store.get({ scope: record.scope, ids: [record.id] })).map((found) => found.id));
        assert.deepEqual(
          left.sort(compareStrings),
          sortedIds(records.filter((record) => record.scope.userId !== '%')),
          'records left after deleting in scope { userId: "%" }',
        );
      });
    },
  },

  {
    name: 'scope: an id holding a lone UTF-16 surrogate is rejected with INVALID_INPUT by every call, and nothing is written',
    async run(store, helpers) {
      // Stores encode a lone surrogate as U+FFFD: "\uD800" and "\uDBFF" would name one scope (and the
      // scope of a user literally named U+FFFD), and a record would come back with another scope.
      const stored = helpers.record({ id: helpers.id(1), scope: { userId: '\uFFFD' }, text: ISOLATION_TEXT, vector: helpers.axis(0) });
      await helpers.write([stored]);
      await waitUntilVisible(store, helpers, [stored]);
      for (const scope of [{ userId: '\uD800' }, { userId: 'user-a', agentId: 'agent \uDC00' }, { runId: '\uDBFF' }] as Scope[]) {
        const label = JSON.stringify(scope);
        const ids = [stored.id, helpers.id(2)];
        await assertRejectsWithCode(
          () => store.upsert({ records: [helpers.record({ id: helpers.id(2), scope, vector: helpers.axis(1) })] }),
          'INVALID_INPUT',
          `upsert with scope ${label}`,
        );
        await assertRejectsWithCode(
          () => store.query({ scope, vector: helpers.axis(0), topK: ALL }),
          'INVALID_INPUT',
          `query in scope ${label}`,
        );
        await assertRejectsWithCode(() => store.get({ scope, ids }), 'INVALID_INPUT', `get in scope ${label}`);
        await assertRejectsWithCode(() => collect(store.list({ scope })), 'INVALID_INPUT', `list in scope ${label}`);
        await assertRejectsWithCode(() => store.delete({ scope, ids }), 'INVALID_INPUT', `delete in scope ${label}`);
      }
      assert.deepEqual(
        sortedIds(await store.get({ scope: { userId: '\uFFFD' }, ids: [stored.id, helpers.id(2)] })),
        [stored.id],
        'records after the rejected calls',
      );
    },
  },

  // Filters -----------------------------------------------------------------------------------
  filterCase('eq', 'eq on strings, numbers, booleans, arrays, scope and date fields (types never coerce)'),
  filterCase('ne', 'ne is the exact negation of eq and matches missing fields'),
  filterCase('in', 'in on strings, numbers, booleans, arrays, scope and date fields'),
  filterCase('nin', 'nin is the exact negation of in and matches missing fields'),
  filterCase('gt', 'gt on numbers and dates; other types never match'),
  filterCase('gte', 'gte on numbers and dates'),
  filterCase('lt', 'lt on numbers and dates'),
  filterCase('lte', 'lte on numbers and dates'),
  filterCase('contains', 'contains: case-sensitive substring of strings, whole element of arrays'),
  filterCase('and', 'and'),
  filterCase('or', 'or, including nested and'),
  filterCase('not', 'not, double not, and not inside and/or'),
  ...EXPIRY_CASES,
  ...MEMORY_TYPE_CASES,

  // Scores and topK ---------------------------------------------------------------------------
  {
    name: 'query: score is cosine similarity (identical ≈ 1, orthogonal ≈ 0, opposite ≈ -1)',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const same = helpers.record({ id: helpers.id(1), scope, vector: helpers.axis(0) });
      const orthogonal = helpers.record({ id: helpers.id(2), scope, vector: helpers.axis(1) });
      const opposite = helpers.record({ id: helpers.id(3), scope, vector: helpers.axis(0, -1) });
      await helpers.write([same, orthogonal, opposite]);
      await waitUntilVisible(store, helpers, [same, orthogonal, opposite]);
      const matches = await store.query({ scope, vector: helpers.axis(0), topK: ALL });
      assert.deepEqual(
        matches.map((match) => match.record.id),
        [same.id, orthogonal.id, opposite.id],
        'order: identical, orthogonal, opposite',
      );
      assertClose(matches[0]!.score, 1, SCORE_TOLERANCE, 'score of an identical vector');
      assertClose(matches[1]!.score, 0, SCORE_TOLERANCE, 'score of an orthogonal vector');
      assertClose(matches[2]!.score, -1, SCORE_TOLERANCE, 'score of the opposite vector');
    },
  },
  {
    name: 'query: results are sorted by descending score, in [-1, 1], and equal the exact ranking',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const records = Array.from({ length: 12 }, (_, index) =>
        helpers.record({ id: helpers.id(index + 1), scope, vector: helpers.unitVector(index + 1) }),
      );
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      for (const seed of [101, 202, 303]) {
        const vector = helpers.unitVector(seed);
        const matches = await store.query({ scope, vector, topK: ALL });
        assertSortedByScore(matches, `query ${seed}`);
        const expectedOrder = records
          .map((record) => ({ id: record.id, score: cosineSimilarity(vector, record.vector) }))
          .sort((a, b) => b.score - a.score);
        assert.equal(matches.length, records.length, `query ${seed}: every record in scope is returned when topK exceeds their number`);
        matches.forEach((match, index) => {
          assert.ok(
            match.score >= -1 - SCORE_TOLERANCE && match.score <= 1 + SCORE_TOLERANCE,
            `query ${seed}: score ${match.score} outside [-1, 1]`,
          );
          const reference = expectedOrder.find((item) => item.id === match.record.id);
          assert.ok(reference, `query ${seed}: unknown id ${match.record.id}`);
          assertClose(match.score, reference.score, SCORE_TOLERANCE, `query ${seed}: score of ${match.record.id} (cosine similarity)`);
          // Near-ties may swap; anything else must follow the exact ranking.
          assertClose(match.score, expectedOrder[index]!.score, SCORE_TOLERANCE, `query ${seed}: rank ${index + 1}`);
        });
      }
    },
  },
  {
    name: 'query: topK is respected exactly (1, 3, and more than available)',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const records = Array.from({ length: 5 }, (_, index) =>
        helpers.record({ id: helpers.id(index + 1), scope, vector: helpers.unitVector(index + 1) }),
      );
      // Records in another scope must not count toward topK either.
      const others = Array.from({ length: 5 }, (_, index) =>
        helpers.record({ id: helpers.id(index + 11), scope: { userId: 'user-b' }, vector: helpers.unitVector(index + 1) }),
      );
      await helpers.write([...records, ...others]);
      await waitUntilVisible(store, helpers, [...records, ...others]);
      const vector = helpers.unitVector(77);
      const ranking = records
        .map((record) => ({ id: record.id, score: cosineSimilarity(vector, record.vector) }))
        .sort((a, b) => b.score - a.score);
      for (const topK of [1, 3, 5, 6, 50]) {
        const matches = await store.query({ scope, vector, topK });
        assert.equal(matches.length, Math.min(topK, records.length), `query with topK ${topK} over ${records.length} records in scope`);
        assert.deepEqual(
          matches.map((match) => match.record.id),
          ranking.slice(0, topK).map((item) => item.id),
          `query with topK ${topK}: the best ${topK}, best first`,
        );
      }
    },
  },
  {
    name: 'query: topK counts only records matching the filter and the scope (no post-filtering of a top-k)',
    requires: needsOneOf(RARE_FILTERS),
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      // Twenty close records that do not match, three far ones that do.
      const angled = (theta: number) => [Math.cos(theta), Math.sin(theta), 0, 0, 0, 0, 0, 0];
      const common = Array.from({ length: 20 }, (_, index) =>
        helpers.record({ id: helpers.id(index + 1), scope, vector: angled(0.01 * (index + 1)), metadata: { kind: 'common', weight: 0 } }),
      );
      const rare = [1.0, 1.2, 1.4].map((theta, index) =>
        helpers.record({ id: helpers.id(index + 101), scope, vector: angled(theta), metadata: { kind: 'rare', weight: 1 } }),
      );
      // Matching records in another scope, closer than any rare record in scope.
      const elsewhere = Array.from({ length: 5 }, (_, index) =>
        helpers.record({
          id: helpers.id(index + 201),
          scope: { userId: 'user-b' },
          vector: angled(0.02 * index),
          metadata: { kind: 'rare', weight: 1 },
        }),
      );
      await helpers.write([...common, ...rare, ...elsewhere]);
      await waitUntilVisible(store, helpers, [...common, ...rare, ...elsewhere]);
      const filter = pickFilter(store, RARE_FILTERS)!;
      for (const topK of [1, 2, 3, 10]) {
        const matches = await store.query({ scope, vector: helpers.axis(0), topK, filter });
        assert.deepEqual(
          matches.map((match) => match.record.id),
          rare.slice(0, topK).map((record) => record.id),
          `query with topK ${topK} and filter ${JSON.stringify(filter)}`,
        );
      }
    },
  },
  {
    name: 'query: a vector of the wrong length throws DIMENSION_MISMATCH',
    async run(store, helpers) {
      await helpers.write([helpers.record({ id: helpers.id(1) })]);
      await assertRejectsWithCode(
        () => store.query({ scope: { userId: 'user-a' }, vector: new Array(helpers.dimensions + 1).fill(0.1), topK: 3 }),
        'DIMENSION_MISMATCH',
        `query with a ${helpers.dimensions + 1}-dimensional vector in a ${helpers.dimensions}-dimensional collection`,
      );
    },
  },

  // Round trips -------------------------------------------------------------------------------
  {
    name: 'round trip: metadata keeps exact values and types (unicode, quotes, injection-like text, numbers, booleans, arrays)',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const metadata: Metadata = {
        plain: 'hello',
        unicode: 'Zoë 🍣 日本語 Ünïcödé — “quotes” ‘single’',
        quotes: `It's "quoted" \\ back\\slash \`tick\``,
        sqlLike: "'; DROP TABLE memories; --",
        cypherLike: '"}) MATCH (n) DETACH DELETE n //',
        jsonLike: '{"$ne": null}',
        newline: 'line one\nline two\ttabbed',
        negative: -42,
        float: Math.PI,
        negativeFloat: -0.000123,
        zero: 0,
        largeSafeInteger: Number.MAX_SAFE_INTEGER,
        negativeLargeSafeInteger: Number.MIN_SAFE_INTEGER,
        yes: true,
        no: false,
        numericString: '42',
        booleanString: 'true',
        tags: ['travel', 'food', "O'Reilly", '🍣'],
        single: ['only'],
        'dotted.key-name_1': 'dots and dashes in keys',
      };
      const record = helpers.record({ id: helpers.id(1), scope, metadata });
      const bare = helpers.record({ id: helpers.id(2), scope, metadata: {} });
      await helpers.write([record, bare]);
      await waitUntilVisible(store, helpers, [record, bare]);
      const [fromGet] = await store.get({ scope, ids: [record.id] });
      assert.deepEqual(fromGet?.metadata, metadata, 'metadata read back with get');
      const [bareFromGet] = await store.get({ scope, ids: [bare.id] });
      assert.deepEqual(bareFromGet?.metadata, {}, 'empty metadata read back with get');
      const listed = await collect(store.list({ scope }));
      assert.deepEqual(listed.find((item) => item.id === record.id)?.metadata, metadata, 'metadata read back with list');
      const matches = await store.query({ scope, vector: record.vector, topK: 1 });
      assert.deepEqual(matches[0]?.record.metadata, metadata, 'metadata read back with query');
    },
  },
  {
    name: 'round trip: text, hash, scope, vector and dates (millisecond precision) through get, list and query',
    async run(store, helpers) {
      const records = [
        helpers.record({
          id: helpers.id(1),
          scope: { userId: 'user-a', agentId: 'agent-x', runId: 'run-r' },
          text: `Zoë's "favourite" dish is 🍣; she said '; DROP TABLE x; --`,
          createdAt: new Date(Date.UTC(2021, 1, 28, 23, 59, 59, 999)),
          updatedAt: new Date(Date.UTC(2024, 1, 29, 0, 0, 0, 1)),
          occurredAt: new Date(Date.UTC(1999, 11, 31, 12, 34, 56, 789)),
        }),
        helpers.record({ id: helpers.id(2), scope: { agentId: 'agent-x' }, text: 'Agent-only memory' }),
        helpers.record({ id: helpers.id(3), scope: { runId: 'run-r' }, text: 'line one\nline two' }),
      ];
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      for (const record of records) {
        const [fromGet] = await store.get({ scope: record.scope, ids: [record.id] });
        assertRecordEqual(fromGet, record, 'get');
        const listed = await collect(store.list({ scope: record.scope }));
        assertRecordEqual(
          listed.find((item) => item.id === record.id),
          record,
          'list',
        );
        const matches = await store.query({ scope: record.scope, vector: record.vector, topK: ALL });
        assertRecordEqual(matches.find((match) => match.record.id === record.id)?.record, record, 'query');
      }
    },
  },
  {
    name: 'upsert: the same id twice keeps one record and the second version wins entirely',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const first = helpers.record({
        id: helpers.id(1),
        scope,
        text: 'Likes coffee',
        vector: helpers.axis(0),
        metadata: { mood: 'first', stale: 'remove me', rating: 1 },
      });
      const second = helpers.record({
        id: first.id,
        scope,
        text: 'Likes tea',
        vector: helpers.axis(1),
        metadata: { mood: 'second', rating: 2 },
        createdAt: first.createdAt,
        updatedAt: new Date(first.updatedAt.getTime() + 86_400_123),
        occurredAt: new Date(first.occurredAt.getTime() + 1),
      });
      await helpers.write([first]);
      await waitUntilVisible(store, helpers, [first]);
      await helpers.write([second]);
      await helpers.eventually(async () => {
        const listed = await collect(store.list({ scope }));
        assert.equal(listed.length, 1, 'records after upserting one id twice');
        assertRecordEqual(listed[0], second, 'list after the second upsert (metadata keys of the first version must be gone)');
      });
      const matches = await store.query({ scope, vector: helpers.axis(1), topK: ALL });
      assert.equal(matches.length, 1, 'query after upserting one id twice');
      assertRecordEqual(matches[0]?.record, second, 'query after the second upsert');
      assertClose(matches[0]!.score, 1, SCORE_TOLERANCE, 'the query scores against the new vector');
    },
  },
  {
    name: 'get: missing ids are left out; delete: a missing id is ignored',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const record = helpers.record({ id: helpers.id(1), scope });
      await helpers.write([record]);
      await waitUntilVisible(store, helpers, [record]);
      const found = await store.get({ scope, ids: [helpers.id(404), record.id, helpers.id(405)] });
      assert.deepEqual(
        found.map((item) => item.id),
        [record.id],
        'get with two missing ids and one present',
      );
      assert.deepEqual(await store.get({ scope, ids: [helpers.id(406)] }), [], 'get with only a missing id');
      await store.delete({ scope, ids: [helpers.id(404)] });
      await store.delete({ scope, ids: [helpers.id(405), record.id] });
      await helpers.eventually(async () => {
        assert.deepEqual(await store.get({ scope, ids: [record.id] }), [], 'the present id is deleted along with a missing one');
      });
    },
  },
  {
    name: 'get and delete with another scope do not touch the record',
    async run(store, helpers) {
      const record = helpers.record({ id: helpers.id(1), scope: { userId: 'user-a', agentId: 'agent-x' } });
      await helpers.write([record]);
      await waitUntilVisible(store, helpers, [record]);
      for (const scope of [
        { userId: 'user-b' },
        { userId: 'user-a', agentId: 'agent-y' },
        { agentId: 'agent-x', runId: 'run-r' },
        { runId: 'run-r' },
      ] satisfies Scope[]) {
        assert.deepEqual(await store.get({ scope, ids: [record.id] }), [], `get of ${record.id} in scope ${JSON.stringify(scope)}`);
        await store.delete({ scope, ids: [record.id] });
      }
      const [found] = await store.get({ scope: record.scope, ids: [record.id] });
      assertRecordEqual(found, record, 'the record after deletes in other scopes');
    },
  },

  // Listing -----------------------------------------------------------------------------------
  {
    name: 'list: ascending id order, and the after cursor starts strictly after the given id',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      // Written in scrambled order; ids sort by the number passed to helpers.id.
      const numbers = [7, 2, 9, 4, 1, 8, 3, 6, 5, 10];
      const records = numbers.map((n) => helpers.record({ id: helpers.id(n * 2), scope }));
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      const ascending = sortedIds(records);
      assert.deepEqual(
        (await collect(store.list({ scope }))).map((record) => record.id),
        ascending,
        'list order',
      );
      assert.deepEqual(
        (await collect(store.list({ scope, after: ascending[3]! }))).map((record) => record.id),
        ascending.slice(4),
        'list after an existing id',
      );
      // An id that is not stored (it sorts between the 5th and 6th) works as a cursor too.
      assert.deepEqual(
        (await collect(store.list({ scope, after: helpers.id(11) }))).map((record) => record.id),
        ascending.slice(5),
        'list after a missing id',
      );
      assert.deepEqual(await collect(store.list({ scope, after: ascending.at(-1)! })), [], 'list after the last id');
    },
  },
  {
    name: 'list: 1,200 records across 3 scopes, each scope lists exactly its own, in order, past any page size',
    async run(store, helpers) {
      const scopes: Scope[] = [{ userId: 'user-a' }, { userId: 'user-b' }, { agentId: 'agent-x' }];
      const total = 1_200;
      // Interleaved scopes, scrambled write order (a multiplier coprime with the total).
      const records = Array.from({ length: total }, (_, index) => {
        const n = (index * 7_919) % total;
        return helpers.record({
          id: helpers.id(n + 1),
          scope: scopes[n % scopes.length]!,
          vector: helpers.unitVector(n + 1),
          text: `bulk ${n}`,
        });
      });
      await helpers.write(records);
      for (const scope of scopes) {
        const expected = expectedInScope(records, scope);
        assert.equal(expected.length, total / scopes.length);
        await helpers.eventually(async () => {
          const listed = await collect(store.list({ scope }));
          assert.equal(listed.length, expected.length, `records listed in scope ${JSON.stringify(scope)}`);
          assert.deepEqual(
            listed.map((record) => record.id),
            expected,
            `ids listed in scope ${JSON.stringify(scope)}, ascending, no duplicates`,
          );
        });
        const cursor = expected[499 % expected.length]!;
        const afterCursor = await collect(store.list({ scope, after: cursor }));
        assert.deepEqual(
          afterCursor.map((record) => record.id),
          expected.filter((id) => id > cursor),
          `list after ${cursor} in scope ${JSON.stringify(scope)}`,
        );
      }
    },
  },

  {
    name: 'listKeys (optional): the ids, createdAt and occurredAt list gives, in its order, inside the scope, with a filter, cut at limit; unordered, any limit of them',
    requires: (store) => (store.listKeys ? undefined : 'the store has no listKeys (an optional method)'),
    async run(store, helpers) {
      const day = (n: number) => new Date(Date.UTC(2024, 4, n, 15));
      const scopes: Scope[] = [{ userId: 'user-a' }, { userId: 'user-b' }];
      const records = Array.from({ length: 24 }, (_, index) =>
        helpers.record({
          id: helpers.id(((index * 7) % 24) + 1),
          scope: scopes[index % 2]!,
          createdAt: new Date(Date.UTC(2024, 4, 1, 12, 59 - index)),
          occurredAt: day(1 + (index % 3)),
        }),
      );
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      const keysOf = (items: readonly { id: string; createdAt: Date; occurredAt: Date }[]) =>
        items.map((item) => [item.id, item.createdAt.getTime(), item.occurredAt.getTime()]);
      // Conversations by occurredAt, as search reads them (`in`), or a range where the store has no `in`.
      const operators = store.capabilities.filterOperators;
      const conversation: Filter | undefined = operators.has('in')
        ? { op: 'in', field: 'occurredAt', values: [day(1).getTime(), day(3).getTime()] }
        : operators.has('and') && operators.has('gte') && operators.has('lte')
          ? {
              op: 'and',
              filters: [
                { op: 'gte', field: 'occurredAt', value: day(2).getTime() },
                { op: 'lte', field: 'occurredAt', value: day(3).getTime() },
              ],
            }
          : undefined;
      for (const scope of scopes) {
        for (const filter of conversation ? [undefined, conversation] : [undefined]) {
          const listed: MemoryRecord[] = await collect(store.list({ scope, ...(filter ? { filter } : {}) }));
          assert.ok(listed.length > 2, `records listed in ${JSON.stringify(scope)}`);
          const keys = await store.listKeys!({ scope, limit: 100, ...(filter ? { filter } : {}) });
          assert.deepEqual(keysOf(keys), keysOf(listed), `listKeys in ${JSON.stringify(scope)} with filter ${JSON.stringify(filter)}`);
          const cut = await store.listKeys!({ scope, limit: 2, ...(filter ? { filter } : {}) });
          assert.deepEqual(keysOf(cut), keysOf(listed.slice(0, 2)), `listKeys with limit 2 in ${JSON.stringify(scope)}`);
          // Unordered: any `limit` of the matches in any order, all of them when they fit.
          const sorted = (items: ReturnType<typeof keysOf>) => items.map((item) => JSON.stringify(item)).sort();
          const all = await store.listKeys!({ scope, limit: 100, unordered: true, ...(filter ? { filter } : {}) });
          assert.deepEqual(sorted(keysOf(all)), sorted(keysOf(listed)), `listKeys unordered in ${JSON.stringify(scope)}`);
          const some = sorted(keysOf(await store.listKeys!({ scope, limit: 2, unordered: true, ...(filter ? { filter } : {}) })));
          assert.equal(some.length, 2, `listKeys unordered with limit 2 in ${JSON.stringify(scope)}: 2 keys`);
          const matching = new Set(sorted(keysOf(listed)));
          assert.ok(
            some.every((key) => matching.has(key)),
            `listKeys unordered with limit 2 in ${JSON.stringify(scope)}: keys of matching records, got ${some.join(', ')}`,
          );
        }
      }
    },
  },

  {
    name: 'list: the after cursor and a filter combine',
    requires: needsOneOf(EVEN_FILTERS),
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const records = Array.from({ length: 12 }, (_, index) =>
        helpers.record({ id: helpers.id(index + 1), scope, metadata: { parity: index % 2 === 0 ? 'even' : 'odd', remainder: index % 2 } }),
      );
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      const filter = pickFilter(store, EVEN_FILTERS)!;
      const cursor = records[4]!.id;
      const listed = await collect(store.list({ scope, filter, after: cursor }));
      assert.deepEqual(
        listed.map((record) => record.id),
        expectedInScope(records, scope, filter).filter((id) => id > cursor),
        `list with filter ${JSON.stringify(filter)} after the 5th id`,
      );
    },
  },

  // Concurrency and atomicity -----------------------------------------------------------------
  {
    name: 'concurrency: 20 concurrent upserts of distinct ids lose nothing',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const records = Array.from({ length: 20 }, (_, index) =>
        helpers.record({ id: helpers.id(index + 1), scope, text: `writer ${index}` }),
      );
      await Promise.all(records.map((record) => store.upsert({ records: [record] })));
      await helpers.eventually(async () => {
        const listed = await collect(store.list({ scope }));
        assert.deepEqual(
          listed.map((record) => record.id),
          sortedIds(records),
          'records after 20 concurrent single-record upserts',
        );
      });
    },
  },
  {
    name: 'concurrency: 20 concurrent upserts of one id leave exactly one record, one of the versions',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const id = helpers.id(1);
      const versions = Array.from({ length: 20 }, (_, index) =>
        helpers.record({ id, scope, text: `version ${index}`, vector: helpers.unitVector(index + 1) }),
      );
      await Promise.all(versions.map((record) => store.upsert({ records: [record] })));
      await helpers.eventually(async () => {
        const listed = await collect(store.list({ scope }));
        assert.equal(listed.length, 1, 'records after 20 concurrent upserts of one id');
        const version = versions.find((candidate) => candidate.text === listed[0]!.text);
        assert.ok(version, `the stored text "${listed[0]!.text}" is none of the versions written`);
        assertRecordEqual(listed[0], version, 'the surviving version is one whole version, not a mix');
        const matches = await store.query({ scope, vector: helpers.unitVector(1), topK: ALL });
        assert.equal(matches.length, 1, 'query after 20 concurrent upserts of one id');
      });
    },
  },
  {
    name: 'upsert: a batch with a wrong-length vector throws DIMENSION_MISMATCH and changes nothing',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const existing = helpers.record({ id: helpers.id(1), scope, text: 'Original text', metadata: { version: 1 } });
      await helpers.write([existing]);
      await waitUntilVisible(store, helpers, [existing]);
      const overwrite = helpers.record({ id: helpers.id(1), scope, text: 'Overwritten text', metadata: { version: 2 } });
      const wrongLength = helpers.record({ id: helpers.id(2), scope, vector: new Array(helpers.dimensions + 3).fill(0.25) });
      const fresh = helpers.record({ id: helpers.id(3), scope });
      // The batch stays within maxUpsertBatch and always holds the wrong-length record.
      const maxBatch = store.capabilities.maxUpsertBatch;
      const batch = maxBatch >= 3 ? [overwrite, wrongLength, fresh] : maxBatch === 2 ? [overwrite, wrongLength] : [wrongLength];
      await assertRejectsWithCode(
        () => store.upsert({ records: batch }),
        'DIMENSION_MISMATCH',
        'upsert of a batch holding one wrong-length vector',
      );
      const listed = await collect(store.list({ scope }));
      assert.deepEqual(
        listed.map((record) => record.id),
        [existing.id],
        'records after the rejected batch',
      );
      assertRecordEqual(listed[0], existing, 'the existing record after the rejected batch');
    },
  },
  {
    name: 'ensureCollection: idempotent with the same dimensions (keeps records), DIMENSION_MISMATCH with others',
    async run(store, helpers) {
      const record = helpers.record({ id: helpers.id(1) });
      await helpers.write([record]);
      await waitUntilVisible(store, helpers, [record]);
      await store.ensureCollection({ dimensions: helpers.dimensions });
      await store.ensureCollection({ dimensions: helpers.dimensions });
      const [found] = await store.get({ scope: record.scope, ids: [record.id] });
      assertRecordEqual(found, record, 'the record after ensureCollection was called again');
      for (const dimensions of [helpers.dimensions + 1, helpers.dimensions * 2]) {
        await assertRejectsWithCode(
          () => store.ensureCollection({ dimensions }),
          'DIMENSION_MISMATCH',
          `ensureCollection({ dimensions: ${dimensions} }) on a ${helpers.dimensions}-dimensional collection`,
        );
      }
      const [still] = await store.get({ scope: record.scope, ids: [record.id] });
      assertRecordEqual(still, record, 'the record after the rejected ensureCollection');
    },
  },

  // Keyword search ----------------------------------------------------------------------------
  {
    name: 'keywordQuery: throws UNSUPPORTED_CAPABILITY when capabilities.keywordSearch is false',
    requires: (store) =>
      store.capabilities.keywordSearch ? 'the store declares keywordSearch: true (the ranking cases apply)' : undefined,
    async run(store, helpers) {
      await helpers.write([helpers.record({ id: helpers.id(1), text: 'Allergic to penicillin' })]);
      await assertRejectsWithCode(
        () => store.keywordQuery({ scope: { userId: 'user-a' }, text: 'penicillin', topK: 3 }),
        'UNSUPPORTED_CAPABILITY',
        'keywordQuery on a store without keywordSearch',
      );
    },
  },
  {
    name: 'keywordQuery: a record sharing a rare word ranks first; scope and topK are respected',
    requires: needsKeywordSearch,
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const texts = [
        'Prefers tea over coffee in the morning',
        'Is allergic to penicillin and carries an epipen',
        'Went hiking in the Dolomites last summer',
        'Works as a nurse in the morning shift',
        'Likes coffee with oat milk in the morning',
      ];
      const records = texts.map((text, index) => helpers.record({ id: helpers.id(index + 1), scope, text, vector: helpers.axis(0) }));
      const elsewhere = helpers.record({
        id: helpers.id(50),
        scope: { userId: 'user-b' },
        text: 'Allergic to penicillin, penicillin, penicillin',
        vector: helpers.axis(0),
      });
      await helpers.write([...records, elsewhere]);
      await waitUntilVisible(store, helpers, [...records, elsewhere]);
      const matches = await helpers.eventually(async () => {
        const found = await store.keywordQuery({ scope, text: 'penicillin allergy', topK: 3 });
        assert.ok(
          found.length > 0,
          'keywordQuery for "penicillin allergy" found nothing: a record sharing any word of the query must match (OR semantics, as BM25)',
        );
        return found;
      });
      assert.equal(matches[0]!.record.id, records[1]!.id, 'the record sharing the rare word "penicillin" ranks first');
      assert.ok(
        matches.every((match) => scopeContains(scope, match.record.scope)),
        'keywordQuery returned a record of another scope',
      );
      assert.ok(matches.length <= 3, `keywordQuery with topK 3 returned ${matches.length} matches`);
      assertSortedByScore(matches, 'keywordQuery');
      assertRecordEqual(matches[0]!.record, records[1]!, 'keywordQuery');
      const morning = await store.keywordQuery({ scope, text: 'morning', topK: 2 });
      assert.equal(morning.length, 2, 'keywordQuery with topK 2 when three records share the word');
      const morningIds = new Set([records[0]!.id, records[3]!.id, records[4]!.id]);
      assert.ok(
        morning.every((match) => morningIds.has(match.record.id)),
        'keywordQuery for "morning" returned a record without the word',
      );
    },
  },
  {
    name: 'keywordQuery: a filter applies on top of the scope',
    requires: (store) => needsKeywordSearch(store) ?? needsOneOf(SHOPPING_FILTERS)(store),
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const records = [
        helpers.record({ id: helpers.id(1), scope, text: 'Drinks espresso every day', metadata: { category: 'food', priority: 1 } }),
        helpers.record({ id: helpers.id(2), scope, text: 'Bought an espresso machine', metadata: { category: 'shopping', priority: 2 } }),
        helpers.record({ id: helpers.id(3), scope, text: 'Espresso gives them headaches', metadata: {} }),
      ];
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      const filter = pickFilter(store, SHOPPING_FILTERS)!;
      const matches = await helpers.eventually(async () => {
        const found = await store.keywordQuery({ scope, text: 'espresso', topK: ALL, filter });
        assert.ok(found.length > 0, 'keywordQuery with a filter found nothing');
        return found;
      });
      assert.deepEqual(matchIds(matches), [records[1]!.id], `keywordQuery for "espresso" with filter ${JSON.stringify(filter)}`);
    },
  },

  // Cancellation -----------------------------------------------------------------------------
  {
    name: 'an already aborted signal: every call throws ABORTED and changes nothing',
    async run(store, helpers) {
      const scope: Scope = { userId: 'user-a' };
      const existing = helpers.record({ id: helpers.id(1), scope });
      await helpers.write([existing]);
      await waitUntilVisible(store, helpers, [existing]);
      const controller = new AbortController();
      controller.abort();
      const signal = controller.signal;
      const fresh = helpers.record({ id: helpers.id(2), scope });
      await assertRejectsWithCode(
        () => store.ensureCollection({ dimensions: helpers.dimensions, signal }),
        'ABORTED',
        'ensureCollection with an aborted signal',
      );
      await assertRejectsWithCode(() => store.upsert({ records: [fresh], signal }), 'ABORTED', 'upsert with an aborted signal');
      await assertRejectsWithCode(
        () => store.query({ scope, vector: helpers.axis(0), topK: 3, signal }),
        'ABORTED',
        'query with an aborted signal',
      );
      await assertRejectsWithCode(() => store.get({ scope, ids: [existing.id], signal }), 'ABORTED', 'get with an aborted signal');
      await assertRejectsWithCode(() => collect(store.list({ scope, signal })), 'ABORTED', 'list with an aborted signal');
      await assertRejectsWithCode(() => store.delete({ scope, ids: [existing.id], signal }), 'ABORTED', 'delete with an aborted signal');
      if (store.capabilities.keywordSearch) {
        await assertRejectsWithCode(
          () => store.keywordQuery({ scope, text: 'memory', topK: 3, signal }),
          'ABORTED',
          'keywordQuery with an aborted signal',
        );
      }
      const listed = await collect(store.list({ scope }));
      assert.deepEqual(
        listed.map((record) => record.id),
        [existing.id],
        'records after the aborted calls: the upsert wrote nothing, the delete deleted nothing',
      );
    },
  },

  // Reset -------------------------------------------------------------------------------------
  {
    name: 'reset: removes every record in every scope',
    async run(store, helpers) {
      const records = await seedIsolation(store, helpers);
      const extra = helpers.record({ id: helpers.id(99), scope: { userId: 'user-c', agentId: 'agent-z', runId: 'run-z' } });
      await helpers.write([extra]);
      await waitUntilVisible(store, helpers, [extra]);
      await store.reset();
      await helpers.eventually(async () => {
        for (const record of [...records, extra]) {
          assert.deepEqual(
            await store.get({ scope: record.scope, ids: [record.id] }),
            [],
            `record in scope ${JSON.stringify(record.scope)} after reset`,
          );
          assert.deepEqual(
            await collect(store.list({ scope: record.scope })),
            [],
            `list in scope ${JSON.stringify(record.scope)} after reset`,
          );
        }
      });
      // Core checks the collection once per store, so the store must stay usable after reset
      // without another ensureCollection call.
      const afterReset = helpers.record({ id: helpers.id(100), scope: { userId: 'user-a' } });
      await helpers.write([afterReset]);
      await helpers.eventually(async () => {
        const [found] = await store.get({ scope: afterReset.scope, ids: [afterReset.id] });
        assertRecordEqual(found, afterReset, 'a record written after reset (without calling ensureCollection again)');
      });
    },
  },
];

/**
 * Runs one vector store case directly (outside `describeVectorStore`): calls
 * `ensureCollection({ dimensions: 8 })`, then the case.
 *
 * @returns `{ status: 'passed' }`, or `{ status: 'skipped', reason }`.
 * @throws the case's assertion error when the store does not conform.
 * @example
 * for (const testCase of vectorStoreCases) await runVectorStoreCase(testCase, new MyVectorStore());
 */
export async function runVectorStoreCase(
  testCase: VectorStoreCase,
  store: VectorStore,
  options: RunCaseOptions = {},
): Promise<CaseOutcome> {
  const helpers = createVectorStoreHelpers(store, { ...options, namespace: options.namespace ?? createNamespace() });
  return runPrepared(testCase, store, helpers, () => store.ensureCollection({ dimensions: CONFORMANCE_DIMENSIONS }));
}
