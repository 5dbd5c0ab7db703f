import { join } from 'node:path';
import { MemError, type Filter, type MemoryRecord, type Metadata, type Scope, type VectorMatch } from '@mem/core/adapter';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { compileCacheFilter } from './sqlite-vector-cache';
import { SqliteVectorStore } from './sqlite-vector-store';
import { seededRandom } from '../test/seeded-random';
import { directory, FILTERS, notExpired, notProcedural, NOW, temporaryDirectoryPerTest, track } from '../test/store-fixtures';

temporaryDirectoryPerTest('mem-vector-sqlite-cache-');

/** Filters whose answer the cache gives (the others go to SQL). */
const CACHED_FILTERS = FILTERS.filter((filter) => compileCacheFilter(filter) !== undefined);

const SCOPES: Scope[] = [
  { userId: 'u1' },
  { userId: 'u2' },
  { userId: 'u1', agentId: 'a1' },
  { agentId: 'a1' },
  { userId: 'u1', agentId: 'a2', runId: 'r1' },
  { runId: 'r1' },
];

function randomRecord(random: () => number, id: string, dimensions: number, pool: readonly number[][]): MemoryRecord {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  // Half of the vectors come from a small pool (exact ties, which the id order breaks), a few are zero.
  const vector = random() < 0.5 ? pick(pool) : Array.from({ length: dimensions }, () => (random() < 0.05 ? 0 : random() * 2 - 1));
  const scope = pick<Scope>([
    { userId: 'u1' },
    { userId: 'u1', agentId: 'a1' },
    { userId: 'u1', agentId: 'a2', runId: 'r1' },
    { userId: 'u2' },
    { userId: 'u2', agentId: 'a1' },
    { agentId: 'a1' },
    { runId: 'r1' },
  ]);
  const metadata: Record<string, string | number | string[]> = {};
  const expiry = random();
  if (expiry < 0.2) metadata.expiresAt = NOW - 1000;
  else if (expiry < 0.3) metadata.expiresAt = NOW + 10;
  else if (expiry < 0.35) metadata.expiresAt = 'never';
  const type = random();
  if (type < 0.15) metadata.memoryType = 'procedural';
  else if (type < 0.2) metadata.memoryType = ['procedural', 'x'];
  else if (type < 0.25) metadata.memoryType = 'episodic';
  else if (type < 0.3) metadata.memoryType = [7 as unknown as string, 'episodic'];
  if (random() < 0.3) metadata.category = 'food';
  return {
    id,
    vector,
    text: `memory ${id}`,
    hash: `hash ${id}`,
    scope,
    metadata,
    createdAt: new Date(1),
    updatedAt: new Date(2),
    occurredAt: new Date(Math.floor(random() * 6)),
  };
}

/** Asserts that two answers are the same: records, order and scores (the cache's candidates are scored by sqlite-vec too). */
function expectSameAnswer(cached: VectorMatch[], plain: VectorMatch[], label: string): void {
  expect(
    cached.map((match) => match.record.id),
    label,
  ).toEqual(plain.map((match) => match.record.id));
  expect(cached, label).toEqual(plain);
}

async function compareAll(
  cached: SqliteVectorStore,
  plain: SqliteVectorStore,
  random: () => number,
  dimensions: number,
  label: string,
): Promise<void> {
  for (const scope of SCOPES) {
    for (const filter of FILTERS) {
      const topK = [1, 3, 10, 500][Math.floor(random() * 4)]!;
      const vector = Array.from({ length: dimensions }, () => random() * 2 - 1);
      const request = { scope, vector, topK, ...(filter === undefined ? {} : { filter }) };
      const where = `${label} ${JSON.stringify(scope)} ${JSON.stringify(filter)} topK ${topK}`;
      expectSameAnswer(await cached.query(request), await plain.query(request), `query ${where}`);
      const vectors = [vector, Array.from({ length: dimensions }, () => random() * 2 - 1)];
      const anyRequest = { scope, vectors, topK, ...(filter === undefined ? {} : { filter }) };
      expectSameAnswer(await cached.queryAny(anyRequest), await plain.queryAny(anyRequest), `queryAny ${where}`);
    }
  }
}

describe('the scope vector cache', () => {
  it.each([
    5, 16,
  ])('answers as the ranking in SQLite does (%i dimensions): ties, zero vectors, expiry, memory types, scopes, through writes of its own and of another connection', async (dimensions) => {
    const random = seededRandom(dimensions * 7919);
    const path = join(directory, 'mem.db');
    const cached = track(new SqliteVectorStore({ path }));
    const plain = track(new SqliteVectorStore({ path, vectorCache: false }));
    const other = track(new SqliteVectorStore({ path, vectorCache: false }));
    await cached.ensureCollection({ dimensions });
    const pool = Array.from({ length: 4 }, () => Array.from({ length: dimensions }, () => random() * 2 - 1));
    let next = 0;
    const ids: string[] = [];
    const fresh = () => {
      const id = `m${String(next++).padStart(4, '0')}${random() < 0.1 ? '\u{1F600}' : ''}`;
      ids.push(id);
      return id;
    };
    await cached.upsert({ records: Array.from({ length: 300 }, () => randomRecord(random, fresh(), dimensions, pool)) });
    await compareAll(cached, plain, random, dimensions, 'after the first load');
    for (let round = 0; round < 6; round++) {
      const writer = round % 2 === 0 ? other : cached;
      const label = `round ${round} (${writer === other ? 'another connection' : 'the same store'} wrote)`;
      // New memories, updates (new vector, scope, metadata) of existing ones, and deletes.
      const updates = Array.from({ length: 20 }, () => randomRecord(random, ids[Math.floor(random() * ids.length)]!, dimensions, pool));
      const inserts = Array.from({ length: 15 }, () => randomRecord(random, fresh(), dimensions, pool));
      await writer.upsert({ records: [...new Map([...updates, ...inserts].map((record) => [record.id, record])).values()] });
      for (const scope of SCOPES.slice(0, 2)) {
        await writer.delete({ scope, ids: Array.from({ length: 8 }, () => ids[Math.floor(random() * ids.length)]!) });
      }
      await compareAll(cached, plain, random, dimensions, label);
    }
    await other.reset();
    await compareAll(cached, plain, random, dimensions, 'after another connection reset the collection');
  });

  it("lists conversations from a held scope as SQLite does (core's neighbour read), through writes and date changes of another connection", async () => {
    const random = seededRandom(4242);
    const path = join(directory, 'mem.db');
    const statements: string[] = [];
    const database = track(new Database(path, { verbose: (sql) => statements.push(String(sql)) }));
    database.pragma('journal_mode = WAL');
    const cached = new SqliteVectorStore({ database });
    const plain = track(new SqliteVectorStore({ path, vectorCache: false }));
    const other = track(new SqliteVectorStore({ path, vectorCache: false }));
    const raw = track(new Database(path));
    const dimensions = 4;
    await cached.ensureCollection({ dimensions });
    const pool = Array.from({ length: 3 }, () => Array.from({ length: dimensions }, () => random() * 2 - 1));
    const ids = Array.from({ length: 300 }, (_, index) => `m${String(index).padStart(4, '0')}${index % 17 === 0 ? '\u{1F600}' : ''}`);
    await other.upsert({ records: ids.map((id) => randomRecord(random, id, dimensions, pool)) });
    const vector = Array.from({ length: dimensions }, () => 1);
    // Two searches of each scope: the second holds it.
    for (const scope of SCOPES) for (let round = 0; round < 2; round++) await cached.query({ scope, vector, topK: 1 });
    const conversation = (times: number[]): Filter => ({ op: 'in', field: 'occurredAt', values: times });
    const filters: Filter[] = [
      conversation([1, 3]),
      { op: 'eq', field: 'occurredAt', value: 2 },
      { op: 'and', filters: [notExpired, notProcedural, conversation([0, 4, 5])] },
      { op: 'and', filters: [conversation([2]), notExpired] },
      // Listed in SQLite: a metadata key the cache does not hold.
      { op: 'and', filters: [conversation([1]), { op: 'eq', field: 'category', value: 'food' }] },
    ];
    const compare = async (label: string) => {
      for (const scope of SCOPES) {
        for (const filter of filters) {
          for (const limit of [0, 1, 7, 400]) {
            const request = { scope, filter, limit };
            expect(await cached.listKeys(request), `${label} ${JSON.stringify(request)}`).toEqual(await plain.listKeys(request));
          }
        }
      }
    };
    statements.length = 0;
    await compare('held');
    // Every scope is held: the cached store listed in SQLite only with the category filter.
    const listings = statements.filter((sql) => sql.includes('m.id, m.created_at, m.occurred_at'));
    expect(listings).toHaveLength(SCOPES.length * 4);
    expect(listings.every((sql) => sql.includes('category'))).toBe(true);
    // Another connection moves memories to other conversations: through upserts, and through SQL that writes no vector.
    const moved = ids
      .filter(() => random() < 0.2)
      .map((id) => ({ ...randomRecord(random, id, dimensions, pool), occurredAt: new Date(Math.floor(random() * 6)) }));
    await other.upsert({ records: moved });
    await compare('after upserts of another connection');
    const update = raw.prepare('UPDATE memories SET occurred_at = ?, created_at = ? WHERE id = ?');
    for (const id of ids.filter(() => random() < 0.2)) update.run(Math.floor(random() * 6), Math.floor(random() * 3), id);
    await compare('after dates changed in SQL');
    await other.delete({ scope: { userId: 'u1' }, ids: ids.slice(0, 50) });
    await compare('after deletes');
    await cached.close();
  });

  it('answers from the cache for core filters and leaves other filters to SQLite', () => {
    expect(CACHED_FILTERS).toHaveLength(6);
    expect(compileCacheFilter({ op: 'eq', field: 'category', value: 'food' })).toBeUndefined();
    expect(compileCacheFilter({ op: 'eq', field: 'memoryType', value: 3 })).toBeUndefined();
    expect(compileCacheFilter({ op: 'gte', field: 'occurredAt', value: 3 })).toBeUndefined();
    expect(compileCacheFilter({ op: 'eq', field: 'expiresAt', value: 3 })).toBeUndefined();
  });

  it('ranks without the vectors table once the scope is held, and reads the memories another connection changed', async () => {
    const statements: string[] = [];
    const path = join(directory, 'mem.db');
    const database = track(new Database(path, { verbose: (sql) => statements.push(String(sql)) }));
    database.pragma('journal_mode = WAL');
    const cached = new SqliteVectorStore({ database });
    const other = track(new SqliteVectorStore({ path, vectorCache: false }));
    await cached.ensureCollection({ dimensions: 3 });
    const base = { text: 't', hash: 'h', metadata: {}, createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };
    await other.upsert({
      records: [
        { ...base, id: 'a', vector: [1, 0, 0], scope: { userId: 'u1' } },
        { ...base, id: 'b', vector: [0, 1, 0], scope: { userId: 'u1' } },
      ],
    });
    // The first search of a scope ranks in SQLite, the second builds its cache, the next ones use it.
    expect((await cached.query({ scope: { userId: 'u1' }, vector: [0, 1, 0], topK: 1 })).map((match) => match.record.id)).toEqual(['b']);
    expect(statements.filter((sql) => sql.includes('vec_distance_cosine'))).toHaveLength(1);
    expect((await cached.query({ scope: { userId: 'u1' }, vector: [0, 1, 0], topK: 1 })).map((match) => match.record.id)).toEqual(['b']);
    statements.length = 0;
    expect(
      (await cached.query({ scope: { userId: 'u1' }, vector: [1, 0, 0], topK: 1, filter: notExpired })).map((match) => match.record.id),
    ).toEqual(['a']);
    // No ranking statement walks the scope; one reads the candidates' records and distances by seq.
    expect(statements.some((sql) => sql.includes('INDEXED BY'))).toBe(false);
    expect(statements.filter((sql) => sql.includes('"memories_vectors"'))).toEqual([expect.stringContaining('json_each')]);
    await other.upsert({ records: [{ ...base, id: 'c', vector: [1, 0.1, 0], scope: { userId: 'u1' } }] });
    await other.delete({ scope: { userId: 'u1' }, ids: ['a'] });
    expect((await cached.query({ scope: { userId: 'u1' }, vector: [1, 0, 0], topK: 2 })).map((match) => match.record.id)).toEqual([
      'c',
      'b',
    ]);
  });

  it("answers a filter on a caller's metadata key from the held scope, checking its candidates in SQL, asking for more as it needs; a narrow one in SQL", async () => {
    const statements: string[] = [];
    const path = join(directory, 'mem.db');
    const database = track(new Database(path, { verbose: (sql) => statements.push(String(sql)) }));
    database.pragma('journal_mode = WAL');
    const cached = new SqliteVectorStore({ database });
    const plain = track(new SqliteVectorStore({ path, vectorCache: false }));
    await cached.ensureCollection({ dimensions: 3 });
    const random = seededRandom(31);
    const base = { text: 't', hash: 'h', createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1), scope: { userId: 'u1' } };
    // One memory in 4 is of category "some", one in 1,000 of "rare".
    await cached.upsert({
      records: Array.from({ length: 4000 }, (_, index) => ({
        ...base,
        id: `m${String(index).padStart(4, '0')}`,
        vector: [random(), random(), random()],
        metadata: { category: index % 1000 === 7 ? 'rare' : index % 4 === 1 ? 'some' : 'common' },
      })),
    });
    const scope = { userId: 'u1' };
    for (let round = 0; round < 2; round++) await cached.query({ scope, vector: [1, 0, 0], topK: 1 });
    const filterOf = (category: string): Filter => ({ op: 'and', filters: [notExpired, { op: 'eq', field: 'category', value: category }] });
    for (const vector of [
      [1, 0, 0],
      [0.2, 0.9, 0.1],
      [0.5, 0.5, 0.5],
    ]) {
      statements.length = 0;
      const filter = filterOf('some');
      const got = await cached.query({ scope, vector, topK: 10, filter });
      expectSameAnswer(got, await plain.query({ scope, vector, topK: 10, filter }), `some, ${JSON.stringify(vector)}`);
      expect(got.every((match) => match.record.metadata.category === 'some')).toBe(true);
      // No ranking of the scope in SQL: the cache's 26 best (topK + 16) are checked by seq, about 1 in
      // 4 passes, so it asks again for about 4 times as many.
      expect(statements.some((sql) => sql.includes('INDEXED BY'))).toBe(false);
      expect(statements.filter((sql) => sql.includes('SELECT m.seq FROM json_each')).length).toBeGreaterThanOrEqual(2);
      // Four memories are "rare": checking candidates until 10 pass would read more than an eighth of
      // the scope, so the scope is ranked in SQL, as it was before the cache.
      statements.length = 0;
      const rare = await cached.query({ scope, vector, topK: 10, filter: filterOf('rare') });
      expectSameAnswer(rare, await plain.query({ scope, vector, topK: 10, filter: filterOf('rare') }), `rare, ${JSON.stringify(vector)}`);
      expect(rare).toHaveLength(4);
      expect(statements.some((sql) => sql.includes('INDEXED BY'))).toBe(true);
    }
  });

  it('rebuilds when the change log was pruned past it, and forgets everything when the tables are dropped and made again', async () => {
    const path = join(directory, 'mem.db');
    const cached = track(new SqliteVectorStore({ path }));
    const other = track(new SqliteVectorStore({ path, vectorCache: false }));
    const raw = track(new Database(path));
    const scope = { userId: 'u1' };
    const base = { text: 't', hash: 'h', metadata: {}, scope, createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };
    await cached.ensureCollection({ dimensions: 2 });
    await other.upsert({ records: [{ ...base, id: 'a', vector: [1, 0] }] });
    const top = async () => (await cached.query({ scope, vector: [0, 1], topK: 5 })).map((match) => match.record.id);
    expect(await top()).toEqual(['a']); // ranked in SQLite
    expect(await top()).toEqual(['a']); // builds the scope's cache
    await other.upsert({ records: [{ ...base, id: 'b', vector: [0, 1] }] });
    await other.upsert({ records: [{ ...base, id: 'c', vector: [1, 1] }] });
    // As if many writes had happened: only the newest row of the log is left.
    raw.exec('DELETE FROM "memories_changes" WHERE version < (SELECT max(version) FROM "memories_changes")');
    expect(await top()).toEqual(['b', 'c', 'a']);
    // Another connection drops the collection and fills it again with as many log rows as before.
    expect(await top()).toEqual(['b', 'c', 'a']);
    await other.dropCollection();
    await other.ensureCollection({ dimensions: 2 });
    const versions = raw.prepare('SELECT count(*) FROM "memories_changes"').pluck();
    expect(versions.get()).toBe(0);
    for (let index = 0; (versions.get() as number) < 12; index++) {
      await other.upsert({ records: [{ ...base, id: `n${index}`, vector: [index, 1] }] });
    }
    const expected = (await other.query({ scope, vector: [0, 1], topK: 5 })).map((match) => match.record.id);
    expect(await top()).toEqual(expected);
  });

  it('ranks in SQLite when the file has no change log (a read-only connection to a file of an older version)', async () => {
    const path = join(directory, 'mem.db');
    const writer = track(new SqliteVectorStore({ path, vectorCache: false }));
    await writer.ensureCollection({ dimensions: 2 });
    const raw = track(new Database(path));
    raw.exec('DROP TABLE "memories_changes"');
    for (const name of ['insert', 'update', 'delete', 'dates', 'vector_insert', 'vector_update', 'vector_delete']) {
      raw.exec(`DROP TRIGGER "memories_changes_${name}"`);
    }
    const reader = track(new SqliteVectorStore({ path, readOnly: true }));
    const scope = { userId: 'u1' };
    const base = { text: 't', hash: 'h', metadata: {}, scope, createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };
    const top = async () => (await reader.query({ scope, vector: [0, 1], topK: 5 })).map((match) => match.record.id);
    expect(await top()).toEqual([]);
    // Written the way an older version writes: no log row, which the reader must not need.
    await writer.upsert({ records: [{ ...base, id: 'a', vector: [0, 1] }] });
    expect(raw.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'memories_changes'`).pluck().get()).toBe(0);
    expect(await top()).toEqual(['a']);
  });

  it('keeps the scopes searched last within its byte budget, and ranks a scope larger than the budget in SQLite', async () => {
    const path = join(directory, 'mem.db');
    // 8 dimensions: 32 + 160 bytes a memory; room for 40 memories.
    const cached = track(new SqliteVectorStore({ path, vectorCacheBytes: 40 * (8 * 4 + 160) }));
    const plain = track(new SqliteVectorStore({ path, vectorCache: false }));
    await cached.ensureCollection({ dimensions: 8 });
    const random = seededRandom(7);
    const base = { text: 't', hash: 'h', metadata: {}, createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };
    const sizes: [string, number][] = [
      ['small', 10],
      ['medium', 25],
      ['large', 60],
    ];
    for (const [user, size] of sizes) {
      await plain.upsert({
        records: Array.from({ length: size }, (_, index) => ({
          ...base,
          id: `${user}${index}`,
          scope: { userId: user },
          vector: Array.from({ length: 8 }, () => random() - 0.5),
        })),
      });
    }
    for (let round = 0; round < 3; round++) {
      for (const [user] of sizes) {
        const request = { scope: { userId: user }, vector: Array.from({ length: 8 }, () => random() - 0.5), topK: 7 };
        expectSameAnswer(await cached.query(request), await plain.query(request), `${user}, round ${round}`);
      }
      await plain.upsert({ records: [{ ...base, id: `small-new${round}`, scope: { userId: 'small' }, vector: [1, 0, 0, 0, 0, 0, 0, 0] }] });
    }
  });

  it('reads a scope larger than one run of rows (4,096) whole, in id order across runs', async () => {
    const path = join(directory, 'mem.db');
    const cached = track(new SqliteVectorStore({ path }));
    const plain = track(new SqliteVectorStore({ path, vectorCache: false }));
    await cached.ensureCollection({ dimensions: 16 });
    const random = seededRandom(11);
    const pool = Array.from({ length: 3 }, () => Array.from({ length: 16 }, () => random() * 2 - 1));
    const base = { text: 't', hash: 'h', createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };
    // Ids in shuffled order, a tenth of the vectors from a few (ties across runs), some expired or procedural.
    const records = Array.from({ length: 9000 }, (_, index) => ({
      ...base,
      id: `m${String((index * 7919) % 9000).padStart(5, '0')}`,
      scope: { userId: 'u1' },
      vector: random() < 0.1 ? pool[Math.floor(random() * pool.length)]! : Array.from({ length: 16 }, () => random() * 2 - 1),
      metadata: (index % 11 === 0 ? { expiresAt: NOW - 1 } : index % 13 === 0 ? { memoryType: ['procedural'] } : {}) as Metadata,
    }));
    for (let start = 0; start < records.length; start += 1000) await plain.upsert({ records: records.slice(start, start + 1000) });
    for (let search = 0; search < 4; search++) {
      for (const filter of [undefined, { op: 'and', filters: [notExpired, notProcedural] } as Filter]) {
        const vector = search % 2 === 0 ? pool[search % 3]! : Array.from({ length: 16 }, () => random() * 2 - 1);
        const request = { scope: { userId: 'u1' }, vector, topK: 50, ...(filter ? { filter } : {}) };
        expectSameAnswer(await cached.query(request), await plain.query(request), `search ${search}`);
      }
    }
  });

  it("ranks in SQLite inside the caller's own transaction, whose changes may be rolled back", async () => {
    const path = join(directory, 'mem.db');
    const database = track(new Database(path));
    database.pragma('journal_mode = WAL');
    const cached = new SqliteVectorStore({ database });
    const plain = track(new SqliteVectorStore({ path, vectorCache: false }));
    await cached.ensureCollection({ dimensions: 2 });
    const scope = { userId: 'u1' };
    const base = { text: 't', hash: 'h', metadata: {}, scope, createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };
    await cached.upsert({ records: [{ ...base, id: 'a', vector: [1, 0] }] });
    const top = async (store: SqliteVectorStore) => (await store.query({ scope, vector: [0, 1], topK: 5 })).map((match) => match.record.id);
    expect(await top(cached)).toEqual(['a']);
    expect(await top(cached)).toEqual(['a']); // the scope is held from here on
    database.exec('BEGIN');
    await cached.upsert({ records: [{ ...base, id: 'gone', vector: [0, 1] }] });
    expect(await top(cached)).toEqual(['gone', 'a']);
    database.exec('ROLLBACK');
    // Another connection writes as many changes as were rolled back, the same log versions again.
    await plain.upsert({ records: [{ ...base, id: 'b', vector: [0.5, 0.5] }] });
    const request = { scope, vector: [0, 1], topK: 5 };
    expectSameAnswer(await cached.query(request), await plain.query(request), 'after the rollback');
    expect(await top(cached)).toEqual(['b', 'a']);
  });

  it('checks its options', () => {
    for (const [options, field] of [
      [{ vectorCache: 'yes' }, 'options.vectorCache'],
      [{ vectorCacheBytes: 0 }, 'options.vectorCacheBytes'],
      [{ vectorCacheBytes: 1.5 }, 'options.vectorCacheBytes'],
    ] as const) {
      let caught: unknown;
      try {
        new SqliteVectorStore({ path: ':memory:', ...(options as object) });
      } catch (error) {
        caught = error;
      }
      expect(MemError.is(caught) && caught.code).toBe('INVALID_INPUT');
      expect((caught as Error).message).toContain(field);
    }
  });
});
