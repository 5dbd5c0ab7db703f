import { join } from 'node:path';
import { MemError, type MemoryRecord, type Scope, type VectorMatch } from '@mem/core/adapter';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BUILD_ROWS_PER_SEARCH, type KeywordSourceRow, ScopeKeywords } from './sqlite-keyword-index';
import { idOrderKey } from './sqlite-id-order';
import { SqliteVectorStore } from './sqlite-vector-store';
import { seededRandom } from '../test/seeded-random';
import { directory, FILTERS, notExpired, NOW, temporaryDirectoryPerTest, track } from '../test/store-fixtures';

temporaryDirectoryPerTest('mem-vector-sqlite-keywords-');

const SCOPES: Scope[] = [{ userId: 'u1' }, { userId: 'u2' }, { userId: 'u1', agentId: 'a1' }, { agentId: 'a1' }, { runId: 'r1' }];

/** Words with shared Porter stems, stop words, digits, accents, a word FTS5 splits (don't), and one it reads as several terms. */
const WORDS = (
  'run running runs ran runner research researching researched the a of and to hiking hike hiked café cafe naïve ' +
  "dog dogs 2023 may june paris trip trips tripped garden gardening don't it's x y z alpha beta gamma delta " +
  'connect connection connections connected pottery painting paint painted'
).split(' ');

function randomText(random: () => number): string {
  const length = 1 + Math.floor(random() ** 2 * 60);
  return Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(random() < 0.8 ? ' ' : ', ');
}

function randomRecord(random: () => number, id: string): MemoryRecord {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const scope = pick<Scope>([
    { userId: 'u1' },
    { userId: 'u1' },
    { userId: 'u1', agentId: 'a1' },
    { userId: 'u2' },
    { agentId: 'a1' },
    { runId: 'r1' },
  ]);
  const metadata: Record<string, string | number | string[]> = {};
  const expiry = random();
  if (expiry < 0.2) metadata.expiresAt = NOW - 1000;
  else if (expiry < 0.3) metadata.expiresAt = NOW + 10;
  const type = random();
  if (type < 0.15) metadata.memoryType = 'procedural';
  else if (type < 0.2) metadata.memoryType = ['procedural', 'x'];
  else if (type < 0.25) metadata.memoryType = 'episodic';
  if (random() < 0.3) metadata.category = 'food';
  return {
    id,
    vector: [random(), random()],
    text: randomText(random),
    hash: `hash ${id}`,
    scope,
    metadata,
    createdAt: new Date(1),
    updatedAt: new Date(2),
    occurredAt: new Date(3),
  };
}

/** Same records, order and scores (to the last bit). */
function expectSameAnswer(indexed: VectorMatch[], plain: VectorMatch[], label: string): void {
  expect(
    indexed.map((match) => `${match.record.id} ${match.score}`),
    label,
  ).toEqual(plain.map((match) => `${match.record.id} ${match.score}`));
  expect(indexed, label).toEqual(plain);
}

async function compareAll(indexed: SqliteVectorStore, plain: SqliteVectorStore, random: () => number, label: string): Promise<void> {
  for (const scope of SCOPES) {
    for (const filter of FILTERS) {
      const topK = [1, 3, 10, 500][Math.floor(random() * 4)]!;
      const text =
        random() < 0.1
          ? 'the and of'
          : Array.from({ length: 1 + Math.floor(random() * 5) }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' ');
      const request = { scope, text, topK, ...(filter === undefined ? {} : { filter }) };
      const where = `${label} ${JSON.stringify(scope)} ${JSON.stringify(filter)} "${text}" topK ${topK}`;
      expectSameAnswer(await indexed.keywordQuery(request), await plain.keywordQuery(request), where);
    }
  }
}

/** A store with the keyword index and one without on one file, `size` random memories in scope u1 (ids by `id`). */
async function largeScope(random: () => number, size: number, id: (index: number) => string) {
  const path = join(directory, 'mem.db');
  const indexed = track(new SqliteVectorStore({ path }));
  const plain = track(new SqliteVectorStore({ path, keywordIndex: false }));
  await indexed.ensureCollection({ dimensions: 2 });
  const scope = { userId: 'u1' };
  const records = Array.from({ length: size }, (_, index) => ({ ...randomRecord(random, id(index)), scope }));
  for (let start = 0; start < records.length; start += 1000) await plain.upsert({ records: records.slice(start, start + 1000) });
  return { indexed, plain, scope };
}

/** Record fields the tests below do not vary. */
const base = { hash: 'h', metadata: {}, vector: [1, 0], createdAt: new Date(1), updatedAt: new Date(1), occurredAt: new Date(1) };

/**
 * On one WAL file: a store with the keyword index on a connection whose statements are recorded, and
 * another connection's store without it (the writer, and FTS5's answers).
 */
async function indexedAndOther(): Promise<{ statements: string[]; indexed: SqliteVectorStore; other: SqliteVectorStore }> {
  const statements: string[] = [];
  const path = join(directory, 'mem.db');
  const database = track(new Database(path, { verbose: (sql) => statements.push(String(sql)) }));
  database.pragma('journal_mode = WAL');
  const indexed = new SqliteVectorStore({ database });
  const other = track(new SqliteVectorStore({ path, keywordIndex: false }));
  await indexed.ensureCollection({ dimensions: 2 });
  return { statements, indexed, other };
}

describe('the scope keyword index', () => {
  it('answers as FTS5 does (records, order, scores) through writes of its own and of another connection, deletes and a reset', async () => {
    const random = seededRandom(4242);
    const path = join(directory, 'mem.db');
    const indexed = track(new SqliteVectorStore({ path }));
    const plain = track(new SqliteVectorStore({ path, keywordIndex: false }));
    const other = track(new SqliteVectorStore({ path, keywordIndex: false }));
    await indexed.ensureCollection({ dimensions: 2 });
    let next = 0;
    const ids: string[] = [];
    const fresh = () => {
      const id = `m${String(next++).padStart(4, '0')}`;
      ids.push(id);
      return id;
    };
    await indexed.upsert({ records: Array.from({ length: 300 }, () => randomRecord(random, fresh())) });
    // Twice: the first search of a scope ranks with FTS5, the second builds its index.
    await compareAll(indexed, plain, random, 'after the first load');
    await compareAll(indexed, plain, random, 'with the scopes held');
    for (let round = 0; round < 6; round++) {
      const writer = round % 2 === 0 ? other : indexed;
      const label = `round ${round} (${writer === other ? 'another connection' : 'the same store'} wrote)`;
      const updates = Array.from({ length: 20 }, () => randomRecord(random, ids[Math.floor(random() * ids.length)]!));
      const inserts = Array.from({ length: 15 }, () => randomRecord(random, fresh()));
      await writer.upsert({ records: [...new Map([...updates, ...inserts].map((record) => [record.id, record])).values()] });
      for (const scope of SCOPES.slice(0, 2)) {
        await writer.delete({ scope, ids: Array.from({ length: 8 }, () => ids[Math.floor(random() * ids.length)]!) });
      }
      await compareAll(indexed, plain, random, label);
    }
    await other.reset();
    await compareAll(indexed, plain, random, 'after another connection reset the collection');
  });

  it('answers from memory once the scope is held (no FTS5 ranking), and takes in a text another connection changed', async () => {
    const { statements, indexed, other } = await indexedAndOther();
    const scope = { userId: 'u1' };
    await other.upsert({
      records: [
        { ...base, id: 'a', text: 'we went hiking in the alps', scope },
        { ...base, id: 'b', text: 'pottery class on tuesday', scope },
      ],
    });
    const top = async (text: string) => (await indexed.keywordQuery({ scope, text, topK: 5 })).map((match) => match.record.id);
    expect(await top('hikes')).toEqual(['a']);
    expect(await top('hikes')).toEqual(['a']);
    statements.length = 0;
    // One match each: the shorter text ranks first.
    expect(await top('pottery hiked')).toEqual(['b', 'a']);
    expect(statements.some((sql) => sql.includes('bm25('))).toBe(false);
    await other.upsert({ records: [{ ...base, id: 'b', text: 'painting class', scope }] });
    expect(await top('pottery')).toEqual([]);
    expect(await top('paint')).toEqual(['b']);
    await other.delete({ scope, ids: ['a'] });
    expect(await top('hiking')).toEqual([]);
  });

  it("remembers the whole table's document counts of a scope's query terms until any connection writes", async () => {
    const { statements, indexed, other } = await indexedAndOther();
    // Two scopes: u1 is not the whole index, so its ranking takes the table's document counts from FTS5.
    await other.upsert({
      records: [
        { ...base, id: 'a', text: 'we went hiking in the alps', scope: { userId: 'u1' } },
        { ...base, id: 'b', text: 'pottery class on tuesday', scope: { userId: 'u1' } },
        { ...base, id: 'c', text: 'hiking and pottery', scope: { userId: 'u2' } },
      ],
    });
    const scope = { userId: 'u1' };
    const ask = async (text: string) => {
      statements.length = 0;
      const matches = await indexed.keywordQuery({ scope, text, topK: 5 });
      const counted = statements.filter((sql) => sql.includes('SELECT doc FROM temp.')).length;
      return { matches: matches.map((match) => [match.record.id, match.score]), counted };
    };
    const plain = async (text: string) =>
      (await other.keywordQuery({ scope, text, topK: 5 })).map((match) => [match.record.id, match.score]);
    await ask('alps');
    await ask('alps');
    // Held: the first ranking of these terms in memory counts both in FTS5, the next counts none.
    const first = await ask('pottery hiking');
    expect(first.counted).toBe(2);
    const again = await ask('pottery hiking');
    expect(again.counted).toBe(0);
    expect(again.matches).toEqual(await plain('pottery hiking'));
    // Another connection's write (in another scope) changes the counts: read again, the same scores as FTS5's.
    await other.upsert({ records: [{ ...base, id: 'd', text: 'pottery pottery', scope: { userId: 'u3' } }] });
    const after = await ask('pottery hiking');
    expect(after.counted).toBe(2);
    expect(after.matches).toEqual(await plain('pottery hiking'));
    expect(after.matches).not.toEqual(again.matches);
  });

  it("ranks with FTS5 inside the caller's own transaction, whose changes may be rolled back", async () => {
    const path = join(directory, 'mem.db');
    const database = track(new Database(path));
    database.pragma('journal_mode = WAL');
    const indexed = new SqliteVectorStore({ database });
    const plain = track(new SqliteVectorStore({ path, keywordIndex: false }));
    await indexed.ensureCollection({ dimensions: 2 });
    const scope = { userId: 'u1' };
    const base = {
      hash: 'h',
      metadata: {},
      scope,
      vector: [1, 0],
      createdAt: new Date(1),
      updatedAt: new Date(1),
      occurredAt: new Date(1),
    };
    await indexed.upsert({ records: [{ ...base, id: 'a', text: 'garden party' }] });
    const top = async () => (await indexed.keywordQuery({ scope, text: 'garden', topK: 5 })).map((match) => match.record.id);
    expect(await top()).toEqual(['a']);
    expect(await top()).toEqual(['a']);
    database.exec('BEGIN');
    await indexed.upsert({ records: [{ ...base, id: 'gone', text: 'garden garden' }] });
    expect(await top()).toEqual(['gone', 'a']);
    database.exec('ROLLBACK');
    await plain.upsert({ records: [{ ...base, id: 'b', text: 'the garden gardens' }] });
    const request = { scope, text: 'garden', topK: 5 };
    expectSameAnswer(await indexed.keywordQuery(request), await plain.keywordQuery(request), 'after the rollback');
    expect(await top()).toEqual(['b', 'a']);
  });

  it('ranks with FTS5 when the file has no change log (a read-only connection to a file of an older version)', async () => {
    const path = join(directory, 'mem.db');
    const writer = track(new SqliteVectorStore({ path, keywordIndex: false }));
    await writer.ensureCollection({ dimensions: 2 });
    const raw = track(new Database(path));
    raw.exec('DROP TABLE "memories_changes"');
    for (const name of ['insert', 'update', 'delete', 'dates', 'vector_insert', 'vector_update', 'vector_delete']) {
      raw.exec(`DROP TRIGGER "memories_changes_${name}"`);
    }
    const reader = track(new SqliteVectorStore({ path, readOnly: true }));
    const scope = { userId: 'u1' };
    const base = {
      hash: 'h',
      metadata: {},
      scope,
      vector: [1, 0],
      createdAt: new Date(1),
      updatedAt: new Date(1),
      occurredAt: new Date(1),
    };
    const top = async () => (await reader.keywordQuery({ scope, text: 'garden', topK: 5 })).map((match) => match.record.id);
    expect(await top()).toEqual([]);
    expect(await top()).toEqual([]);
    // Written the way an older version writes: no log row, which the reader must not need.
    await writer.upsert({ records: [{ ...base, id: 'a', text: 'garden' }] });
    expect(await top()).toEqual(['a']);
    await writer.upsert({ records: [{ ...base, id: 'a', text: 'pottery' }] });
    expect(await top()).toEqual([]);
  });

  it("holds a scope on a read-only connection (a server's search worker) and follows the writer's changes, characters beyond ASCII included", async () => {
    const path = join(directory, 'mem.db');
    const writer = track(new SqliteVectorStore({ path, keywordIndex: false }));
    await writer.ensureCollection({ dimensions: 2 });
    const reader = track(new SqliteVectorStore({ path, readOnly: true }));
    const scope = { userId: 'u1' };
    const base = {
      hash: 'h',
      metadata: {},
      scope,
      vector: [1, 0],
      createdAt: new Date(1),
      updatedAt: new Date(1),
      occurredAt: new Date(1),
    };
    await writer.upsert({
      records: [
        { ...base, id: 'a', text: 'Café garden 🙃 party, naïve ΟΔΟΣ' },
        { ...base, id: 'b', text: 'gardens and the café' },
        { ...base, id: 'c', text: 'nothing here', scope: { userId: 'u2' } },
      ],
    });
    for (const text of ['café gardening', 'οδος', 'garden', 'café gardening']) {
      const request = { scope, text, topK: 5 };
      expectSameAnswer(await reader.keywordQuery(request), await writer.keywordQuery(request), text);
    }
    expect((reader as unknown as { keywordIndex: { scopeCount: number } }).keywordIndex.scopeCount).toBe(1);
    await writer.upsert({ records: [{ ...base, id: 'd', text: 'a café 🧘 garden' }] });
    await writer.delete({ scope, ids: ['b'] });
    const request = { scope, text: 'café garden', topK: 5 };
    expectSameAnswer(await reader.keywordQuery(request), await writer.keywordQuery(request), 'after the writer changed the scope');
  });

  it('reads a large scope over several searches, taking in the writes made meanwhile, and then answers as FTS5 does', async () => {
    const random = seededRandom(77);
    const size = BUILD_ROWS_PER_SEARCH * 2 + 100;
    // Ids in shuffled order, so writes land both in the part already read and in the part still to read.
    const id = (index: number) => `m${String((index * 7919) % size).padStart(5, '0')}`;
    const { indexed, plain, scope } = await largeScope(random, size, id);
    const held = () => (indexed as unknown as { keywordIndex: { scopeCount: number } }).keywordIndex.scopeCount;
    let next = size;
    for (let search = 0; search < 6; search++) {
      const request = { scope, text: 'running trips gardening café', topK: 20, filter: notExpired };
      expectSameAnswer(await indexed.keywordQuery(request), await plain.keywordQuery(request), `search ${search}`);
      // First search: FTS5; then one page per search (three pages), held from the fourth on.
      expect(held(), `search ${search}`).toBe(search >= 3 ? 1 : 0);
      await plain.upsert({
        records: [
          { ...randomRecord(random, `new${next++}`), scope },
          { ...randomRecord(random, id(Math.floor(random() * size))), scope },
          { ...randomRecord(random, id(Math.floor(random() * size))), scope },
        ],
      });
      await plain.delete({ scope, ids: [id(Math.floor(random() * size)), id(Math.floor(random() * size))] });
    }
  });

  it('reads a large scope between searches, a page per turn of the event loop, taking in writes made meanwhile', async () => {
    const random = seededRandom(78);
    const size = BUILD_ROWS_PER_SEARCH * 6 + 100;
    const { indexed, plain, scope } = await largeScope(random, size, (index) => `m${index}`);
    const state = () => indexed.keywordIndexState()!;
    const request = { scope, text: 'running trips gardening café', topK: 20, filter: notExpired };
    // The first search is FTS5's; the second reads the first page and leaves the rest to the idle turns.
    for (let search = 0; search < 2; search++)
      expectSameAnswer(await indexed.keywordQuery(request), await plain.keywordQuery(request), `search ${search}`);
    expect(state()).toMatchObject({ scopes: 0, reading: true });
    let turns = 0;
    while (state().reading && turns < 100) {
      await new Promise((resolve) => setImmediate(resolve));
      turns += 1;
      if (turns % 2 === 0) await plain.upsert({ records: [{ ...randomRecord(random, `new${turns}`), scope }] });
    }
    expect(state()).toMatchObject({ scopes: 1, reading: false });
    expect(state().postings).toBeGreaterThan(size);
    expect(state().postingBytes).toBeLessThan(state().postings * 3);
    expectSameAnswer(await indexed.keywordQuery(request), await plain.keywordQuery(request), 'held');
  });

  it('keeps the scopes searched last within its byte budget, and ranks a scope larger than the budget with FTS5', async () => {
    const path = join(directory, 'mem.db');
    const indexed = track(new SqliteVectorStore({ path, keywordIndexBytes: 40_000 }));
    const plain = track(new SqliteVectorStore({ path, keywordIndex: false }));
    await indexed.ensureCollection({ dimensions: 2 });
    const random = seededRandom(9);
    for (const [user, size] of [
      ['small', 10],
      ['medium', 30],
      ['large', 200],
    ] as const) {
      await plain.upsert({
        records: Array.from({ length: size }, (_, index) => ({ ...randomRecord(random, `${user}${index}`), scope: { userId: user } })),
      });
    }
    for (let round = 0; round < 3; round++) {
      for (const user of ['small', 'medium', 'large']) {
        const request = { scope: { userId: user }, text: 'running trips to paris', topK: 7 };
        expectSameAnswer(await indexed.keywordQuery(request), await plain.keywordQuery(request), `${user}, round ${round}`);
      }
      await plain.upsert({ records: [{ ...randomRecord(random, `small-new${round}`), scope: { userId: 'small' } }] });
    }
  });

  it('checks its options', () => {
    for (const [options, field] of [
      [{ keywordIndex: 'yes' }, 'options.keywordIndex'],
      [{ keywordIndexBytes: 0 }, 'options.keywordIndexBytes'],
      [{ keywordIndexBytes: 1.5 }, 'options.keywordIndexBytes'],
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

describe('ScopeKeywords.top', () => {
  /** A memory as the keyword index reads it: ASCII words only, so ftsTerms needs no probe of FTS5. */
  function row(seq: number, text: string, expiresAt: number | null): KeywordSourceRow {
    const tokens = text.split(/\s+/).filter((word) => word.length > 0).length;
    // FTS5's size record: the text column's tokens and the scope column's one, as one-byte varints.
    return {
      seq,
      id_order: idOrderKey(`id-${String(seq % 700).padStart(4, '0')}-${seq}`),
      user_id: 'u1',
      agent_id: seq % 3 === 0 ? 'a1' : null,
      run_id: null,
      expires_at: expiresAt,
      memory_type: seq % 5 === 0 ? 'procedural' : null,
      sz: Buffer.from([tokens, 1]),
      text,
    };
  }

  it('ranks with pruning exactly as it adds up every posting (records, order, scores), across segments, rewrites and removals', () => {
    const random = seededRandom(41);
    // Zipf-like words: a few in most memories, many rare; texts repeat, so equal scores tie on ids.
    const vocabulary = Array.from({ length: 400 }, (_, index) => `w${index.toString(36)}x`);
    const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)]!;
    const texts = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(random() * 40) }, word).join(' '));
    const scope = new ScopeKeywords('user_id', 'u1');
    // The memories held, by seq: their words.
    const held = new Map<number, Set<string>>();
    const put = (seq: number, text: string) => {
      scope.put(row(seq, text, null));
      held.set(seq, new Set(text.split(' ')));
    };
    let seq = 0;
    const check = () => {
      for (const term of vocabulary.slice(0, 40)) {
        expect(scope.frequency(term), term).toBe([...held.values()].filter((words) => words.has(term)).length);
      }
      for (let query = 0; query < 60; query++) {
        const terms = Array.from({ length: 1 + Math.floor(random() * 8) }, word);
        // Ten memories in a hundred or more for the common words: idfs as FTS5 gives them (floored).
        const idfs = terms.map((term) => {
          const hits = scope.frequency(term);
          const idf = Math.log((scope.count - hits + 0.5) / (hits + 0.5));
          return idf <= 0 ? 1e-6 : idf;
        });
        const topK = [1, 5, 10, 40, 200][query % 5]!;
        const test = query % 3 === 0 ? (_: unknown, slot: number) => slot % 4 !== 1 : () => true;
        const exhaustive = scope.top(terms, idfs, 17.5, topK, test, Number.POSITIVE_INFINITY);
        const pruned = scope.top(terms, idfs, 17.5, topK, test, 0);
        expect(pruned).toEqual(exhaustive);
        expect(exhaustive.length).toBeGreaterThan(0);
      }
    };
    for (let index = 0; index < 3000; index++) {
      seq += 1;
      put(seq, texts[Math.floor(random() * texts.length)]!);
    }
    scope.seal();
    check();
    // Writes in small batches (a segment each, merged as they grow), rewrites and removals.
    for (let batch = 0; batch < 30; batch++) {
      for (let index = 0; index < 40; index++) {
        const target = 1 + Math.floor(random() * seq);
        if (random() < 0.2) {
          scope.remove(target);
          held.delete(target);
        } else if (random() < 0.5) put(target, texts[Math.floor(random() * texts.length)]!);
        else put(++seq, texts[Math.floor(random() * texts.length)]!);
      }
      scope.seal();
      if (batch % 5 === 4) check();
    }
  });
});
