import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError, compareIds, type Filter, type MemoryRecord, type Scope } from '@mem/core/adapter';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toFtsQuery, toFtsTextQuery } from './sqlite-fts-query';
import { SqliteVectorStore } from './sqlite-vector-store';

let directory: string;
const opened: { close(): unknown }[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'mem-vector-sqlite-unit-'));
});
afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) await handle.close();
  rmSync(directory, { recursive: true, force: true });
});

function track<T extends { close(): unknown }>(handle: T): T {
  opened.push(handle);
  return handle;
}

const scope: Scope = { userId: 'u1' };

function record(id: string, fields: Partial<MemoryRecord> = {}): MemoryRecord {
  return {
    id,
    vector: [1, 0, 0],
    text: `memory ${id}`,
    hash: 'hash',
    scope,
    metadata: {},
    createdAt: new Date(Date.UTC(2024, 4, 17, 9, 30, 15, 123)),
    updatedAt: new Date(Date.UTC(2024, 4, 17, 9, 31, 15, 124)),
    occurredAt: new Date(Date.UTC(2024, 4, 16, 18, 5, 59, 987)),
    ...fields,
  };
}

async function ids(iterable: AsyncIterable<MemoryRecord>): Promise<string[]> {
  const found: string[] = [];
  for await (const item of iterable) found.push(item.id);
  return found;
}

async function rejection(action: () => Promise<unknown>): Promise<MemError> {
  try {
    await action();
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected the call to reject');
}

describe('one database file', () => {
  it('holds several collections in separate tables, through separate connections', async () => {
    const path = join(directory, 'mem.db');
    const work = track(new SqliteVectorStore({ path, table: 'work' }));
    const home = track(new SqliteVectorStore({ path, table: 'home' }));
    await work.ensureCollection({ dimensions: 3 });
    await home.ensureCollection({ dimensions: 2 });
    await work.upsert({ records: [record('w1')] });
    await home.upsert({ records: [record('h1', { vector: [0, 1] })] });
    expect(await ids(work.list({ scope }))).toEqual(['w1']);
    expect(await ids(home.list({ scope }))).toEqual(['h1']);
    expect((await home.keywordQuery({ scope, text: 'memory', topK: 5 })).map((match) => match.record.id)).toEqual(['h1']);
  });

  it('shares one connection passed as database, and leaves it open on close', async () => {
    const database = track(new Database(join(directory, 'shared.db')));
    database.exec('CREATE TABLE notes (body TEXT)');
    const first = new SqliteVectorStore({ database, table: 'first' });
    const second = new SqliteVectorStore({ database, table: 'second' });
    await first.ensureCollection({ dimensions: 3 });
    await second.ensureCollection({ dimensions: 3 });
    await first.upsert({ records: [record('a')] });
    await second.upsert({ records: [record('b')] });
    await first.close();
    expect(database.open).toBe(true);
    expect(await ids(second.list({ scope }))).toEqual(['b']);
    await second.close();
    expect(database.prepare('SELECT count(*) FROM first').pluck().get()).toBe(1);
    expect(database.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'notes'").pluck().get()).toBe(1);
    // A connection the caller owns keeps the caller's journal mode.
    expect(database.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it('keeps records and dimensions across close and reopen', async () => {
    const path = join(directory, 'persist.db');
    const before = new SqliteVectorStore({ path });
    await before.ensureCollection({ dimensions: 3 });
    await before.upsert({ records: [record('kept', { metadata: { tags: ['a'] } })] });
    await before.close();
    const after = track(new SqliteVectorStore({ path }));
    // No ensureCollection: the dimensions were stored with the table.
    await after.upsert({ records: [record('added')] });
    expect(await ids(after.list({ scope }))).toEqual(['added', 'kept']);
    expect((await after.get({ scope, ids: ['kept'] }))[0]?.metadata).toEqual({ tags: ['a'] });
    const mismatch = await rejection(() => after.ensureCollection({ dimensions: 4 }));
    expect(mismatch.code).toBe('DIMENSION_MISMATCH');
    expect(mismatch.message).toMatch(/new path or table/);
  });

  it('runs connections it opens in WAL mode', async () => {
    const path = join(directory, 'wal.db');
    const store = track(new SqliteVectorStore({ path }));
    await store.ensureCollection({ dimensions: 3 });
    const probe = track(new Database(path, { readonly: true }));
    expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('reads read-only (readOnly) beside a writer: sees its commits, answers as the writer does, refuses writes', async () => {
    const path = join(directory, 'shared.db');
    const writer = track(new SqliteVectorStore({ path }));
    await writer.ensureCollection({ dimensions: 3 });
    await writer.upsert({ records: [record('a', { text: 'green tea in the morning' })] });
    const reader = track(new SqliteVectorStore({ path, readOnly: true }));
    await reader.ensureCollection({ dimensions: 3 });
    await writer.upsert({ records: [record('b', { vector: [0, 1, 0], text: 'jazz records' })] });
    for (const [store, call] of [
      [reader, 'reader'],
      [writer, 'writer'],
    ] as const) {
      expect(await ids(store.list({ scope })), call).toEqual(['a', 'b']);
    }
    expect(await reader.query({ scope, vector: [0, 1, 0], topK: 2 })).toEqual(await writer.query({ scope, vector: [0, 1, 0], topK: 2 }));
    expect(await reader.keywordQuery({ scope, text: 'tea', topK: 2 })).toEqual(await writer.keywordQuery({ scope, text: 'tea', topK: 2 }));
    const refused = await rejection(() => reader.upsert({ records: [record('c')] }));
    expect(refused.code).toBe('PROVIDER_REQUEST_FAILED');
    expect(refused.message).toMatch(/SQLITE_READONLY/);
    await writer.delete({ scope, ids: ['a'] });
    expect(await ids(reader.list({ scope }))).toEqual(['b']);
  });

  it('works on a private in-memory database', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('m')] });
    expect(await ids(store.list({ scope }))).toEqual(['m']);
  });
});

describe('options', () => {
  it('rejects table names that are not plain identifiers', () => {
    for (const table of ['x"; DROP TABLE memories; --', 'a b', 'sqlite_master', 'SQLITE_x', '1abc', '', 'a'.repeat(41), 'na\u00efve']) {
      expect(() => new SqliteVectorStore({ path: ':memory:', table }), table).toThrow(/options\.table/);
    }
  });

  it('rejects path and database together', () => {
    const database = track(new Database(':memory:'));
    expect(() => new SqliteVectorStore({ path: ':memory:', database })).toThrow(/not both/);
  });
});

describe('hostile input is stored inertly', () => {
  it('keeps metadata keys and values with quotes and SQL as plain data', async () => {
    const store = track(new SqliteVectorStore({ path: join(directory, 'inert.db') }));
    await store.ensureCollection({ dimensions: 3 });
    const metadata = { "'); DROP TABLE memories; --": 'x', 'a"b': "'; DELETE FROM memories; --", '$.x': ['"', '*'] };
    await store.upsert({ records: [record("id'); DROP TABLE memories; --", { metadata, text: "'); DROP TABLE memories_kw; --" })] });
    await store.upsert({ records: [record('other')] });
    const found = await store.get({ scope, ids: ["id'); DROP TABLE memories; --"] });
    expect(found[0]?.metadata).toEqual(metadata);
    expect(await ids(store.list({ scope, filter: { op: 'eq', field: 'category', value: "' OR 1=1 --" } }))).toEqual([]);
    expect(await ids(store.list({ scope }))).toHaveLength(2);
  });

  it('rejects a filter field that could escape the JSON path', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    const error = await rejection(() =>
      store.query({ scope, vector: [1, 0, 0], topK: 3, filter: { op: 'eq', field: 'a"] OR 1=1 --', value: 1 } }),
    );
    expect(error.code).toBe('INVALID_INPUT');
  });
});

describe('keyword search', () => {
  it('reads FTS5 syntax in the query text as plain words', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({
      records: [
        record('near', { text: 'They live NEAR the station' }),
        record('and', { text: 'Salt AND pepper' }),
        record('other', { text: 'Completely unrelated' }),
      ],
    });
    for (const text of [
      '"',
      '"unbalanced',
      'pep*',
      'NEAR(station live, 2)',
      'salt AND',
      'OR',
      '-pepper',
      'text: salt',
      '^station',
      '()',
      '*',
      "'); DROP TABLE memories; --",
    ]) {
      await expect(store.keywordQuery({ scope, text, topK: 5 }), text).resolves.toBeInstanceOf(Array);
    }
    expect((await store.keywordQuery({ scope, text: 'NEAR', topK: 5 })).map((match) => match.record.id)).toEqual(['near']);
    expect((await store.keywordQuery({ scope, text: '-pepper', topK: 5 })).map((match) => match.record.id)).toEqual(['and']);
    expect((await store.keywordQuery({ scope, text: '"salt" AND', topK: 5 })).map((match) => match.record.id)).toEqual(['and']);
    expect(await store.keywordQuery({ scope, text: '*** ""', topK: 5 })).toEqual([]);
  });

  it('quotes every word of the FTS5 query', () => {
    expect(toFtsQuery('Salt AND "pepper" NEAR*')).toBe('"salt" OR "pepper" OR "near"');
    expect(toFtsQuery(' -*"() ')).toBeUndefined();
  });

  it('narrows the keyword index by scope tokens that no scope id can break out of', () => {
    expect(toFtsQuery('tea', { userId: 'u"1', runId: 'r 1' })).toBe('scope : "u7522310" AND scope : "r7220310" AND text : ("tea")');
    expect(toFtsQuery('tea', {})).toBe('"tea"');
    expect(toFtsTextQuery('Salt AND "pepper"')).toBe('text : ("salt" OR "pepper")');
    expect(toFtsTextQuery(' -*"() ')).toBeUndefined();
  });

  it('leaves stop words out of the query unless the query has nothing else', () => {
    expect(toFtsQuery('When did Caroline go to the support group?')).toBe('"caroline" OR "go" OR "support" OR "group"');
    expect(toFtsQuery('who are you')).toBe('"who" OR "are" OR "you"');
  });

  it('stems words in the index and in the query (Porter), so inflections match', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({
      records: [
        record('researched', { text: 'Caroline researched adoption agencies' }),
        record('running', { text: 'Melanie goes running every morning' }),
        record('other', { text: 'Painting a sunset by the lake' }),
      ],
    });
    expect((await store.keywordQuery({ scope, text: 'What is Caroline researching?', topK: 5 })).map((match) => match.record.id)).toEqual([
      'researched',
    ]);
    expect((await store.keywordQuery({ scope, text: 'runs', topK: 5 })).map((match) => match.record.id)).toEqual(['running']);
    expect((await store.keywordQuery({ scope, text: 'agency', topK: 5 })).map((match) => match.record.id)).toEqual(['researched']);
  });

  it('gives the exact keyword ranking when the best BM25 matches fail a filter or tie past topK', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    // 30 strong matches of kind x, then 5 weak ones of kind y: more than 4 × topK rank above every y.
    const strong = Array.from({ length: 30 }, (_, index) =>
      record(`x${String(index).padStart(2, '0')}`, { text: 'tea tea tea', metadata: { kind: 'x' } }),
    );
    const weak = Array.from({ length: 5 }, (_, index) =>
      record(`y${index}`, { text: 'tea with a long sentence around it', metadata: { kind: 'y' } }),
    );
    await store.upsert({ records: [...strong, ...weak] });
    // A filter made only of negations takes the head-first path; this one leaves every strong match out.
    const notX: Filter = { op: 'not', filter: { op: 'eq', field: 'kind', value: 'x' } };
    expect((await store.keywordQuery({ scope, text: 'tea', topK: 3, filter: notX })).map((match) => match.record.id)).toEqual([
      'y0',
      'y1',
      'y2',
    ]);
    const kindY: Filter = { op: 'and', filters: [notX, { op: 'not', filter: { op: 'eq', field: 'kind', value: 'z' } }] };
    expect((await store.keywordQuery({ scope, text: 'tea', topK: 40, filter: kindY })).map((match) => match.record.id)).toEqual(
      weak.map((memory) => memory.id),
    );
    expect(
      (await store.keywordQuery({ scope, text: 'tea', topK: 3, filter: { op: 'eq', field: 'kind', value: 'y' } })).map(
        (match) => match.record.id,
      ),
    ).toEqual(['y0', 'y1', 'y2']);
    // Every x ties; stored in reverse id order, so FTS5's own order of the tie is not the id order.
    const tied = track(new SqliteVectorStore({ path: ':memory:' }));
    await tied.ensureCollection({ dimensions: 3 });
    await tied.upsert({ records: [...strong].reverse() });
    expect((await tied.keywordQuery({ scope, text: 'tea', topK: 3 })).map((match) => match.record.id)).toEqual(['x00', 'x01', 'x02']);
    expect((await tied.keywordQuery({ scope, text: 'tea', topK: 40 })).map((match) => match.record.id)).toEqual(
      strong.map((memory) => memory.id),
    );
  });

  it("leaves the scope's token out of the keyword match when the scope holds nearly the whole index, with the same answers (keywordIndex: false)", async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database, keywordIndex: false });
    await store.ensureCollection({ dimensions: 3 });
    // 950 memories of u1 (all also of agent x), 50 of u2 that match the query better than any of u1's.
    const own = Array.from({ length: 950 }, (_, index) =>
      record(`a${String(index).padStart(3, '0')}`, {
        scope: { userId: 'u1', agentId: 'x' },
        text: index % 3 === 0 ? `coffee note ${index} about the morning` : `tea note ${index}`,
        metadata: { group: index % 2 === 0 ? 'even' : 'odd' },
      }),
    );
    const other = Array.from({ length: 50 }, (_, index) =>
      record(`b${String(index).padStart(2, '0')}`, {
        scope: { userId: 'u2' },
        text: 'coffee coffee espresso',
        metadata: { group: 'even' },
      }),
    );
    await store.upsert({ records: [...own.slice(0, 500), ...other, ...own.slice(500)] });
    const matches = () => statements.filter((sql) => sql.includes(' MATCH '));
    const ask = async (scoped: Scope, filter?: Filter) => {
      statements.length = 0;
      const found = await store.keywordQuery({ scope: scoped, text: 'coffee espresso', topK: 10, ...(filter ? { filter } : {}) });
      return { found: found.map((match) => [match.record.id, match.score]), matches: matches() };
    };
    const notOdd: Filter = { op: 'not', filter: { op: 'eq', field: 'group', value: 'odd' } };
    const even: Filter = { op: 'eq', field: 'group', value: 'even' };
    for (const filter of [undefined, notOdd, even]) {
      // u1 holds 95% of the index: no scope token in the match (u1's hex would be 7531).
      const whole = await ask({ userId: 'u1' }, filter);
      expect(whole.matches.length).toBeGreaterThan(0);
      for (const sql of whole.matches) expect(sql).not.toContain('scope : ');
      // The same memories through a two-id scope, which keeps its tokens: the same answer, scores included.
      const narrowed = await ask({ userId: 'u1', agentId: 'x' }, filter);
      for (const sql of narrowed.matches) expect(sql).toContain('scope : "u75310"');
      expect(whole.found).toHaveLength(10);
      expect(whole.found).toEqual(narrowed.found);
      expect(whole.found.every(([id]) => String(id).startsWith('a'))).toBe(true);
      for (const sql of whole.matches) expect(sql).toContain('text : (');
      // u2 holds 5%: its token stays.
      const small = await ask({ userId: 'u2' }, filter);
      for (const sql of small.matches) expect(sql).toContain('scope : "u75320"');
      expect(small.found.every(([id]) => String(id).startsWith('b'))).toBe(true);
    }
    // The words stay in the text column: a word that is u1's own scope token matches nothing, as in the scoped match.
    expect(await store.keywordQuery({ scope: { userId: 'u1' }, text: 'u75310', topK: 5 })).toEqual([]);
    expect(await store.keywordQuery({ scope: { userId: 'u1', agentId: 'x' }, text: 'u75310', topK: 5 })).toEqual([]);
  });

  it('keeps scopes apart whose tokens the stemmer would otherwise touch', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    // hex("an") = 616E and hex("a") = 61: "e"/"ed" endings are what the Porter stemmer strips.
    const ids = ['an', 'a', 'a\u00ed', 'ne', 'n'];
    await store.upsert({ records: ids.map((userId) => record(`m-${userId}`, { text: 'likes oolong', scope: { userId } })) });
    for (const userId of ids) {
      expect((await store.keywordQuery({ scope: { userId }, text: 'oolong', topK: 5 })).map((match) => match.record.id)).toEqual([
        `m-${userId}`,
      ]);
    }
  });

  it('moves a memory between scopes in the keyword index when an upsert changes its scope', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('m', { text: 'likes oolong', scope: { userId: 'a' } })] });
    await store.upsert({ records: [record('m', { text: 'likes oolong', scope: { userId: 'b', agentId: 'x' } })] });
    expect(await store.keywordQuery({ scope: { userId: 'a' }, text: 'oolong', topK: 5 })).toEqual([]);
    expect((await store.keywordQuery({ scope: { agentId: 'x' }, text: 'oolong', topK: 5 })).map((match) => match.record.id)).toEqual(['m']);
  });

  it('migrates a layout-1 file (text-only keyword index) and keeps its memories searchable by keyword', async () => {
    const path = join(directory, 'layout1.db');
    const database = new Database(path);
    // The layout @mem/vector-sqlite 0.x wrote before the scoped keyword index.
    database.exec(`
      CREATE TABLE "memories" (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, id_order BLOB NOT NULL, user_id TEXT, agent_id TEXT, run_id TEXT,
        text TEXT NOT NULL, hash TEXT NOT NULL, metadata TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        occurred_at INTEGER NOT NULL, embedding BLOB NOT NULL);
      CREATE VIRTUAL TABLE "memories_fts" USING fts5(text, content="memories", content_rowid=seq);
      CREATE TRIGGER "memories_fts_insert" AFTER INSERT ON "memories" BEGIN INSERT INTO "memories_fts" (rowid, text) VALUES (new.seq, new.text); END;
      CREATE TABLE "memories_meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO "memories_meta" VALUES ('schema_version', '1'), ('dimensions', '3');
    `);
    database
      .prepare(
        'INSERT INTO "memories" (id, id_order, user_id, text, hash, metadata, created_at, updated_at, occurred_at, embedding) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)',
      )
      .run('old', Buffer.from('old'), 'u1', 'likes rooibos', 'h', '{}', Buffer.from(new Float32Array([1, 0, 0]).buffer));
    database.close();
    const store = track(new SqliteVectorStore({ path }));
    expect((await store.keywordQuery({ scope, text: 'rooibos', topK: 5 })).map((match) => match.record.id)).toEqual(['old']);
    await store.upsert({ records: [record('new', { text: 'likes rooibos too' })] });
    expect((await store.keywordQuery({ scope, text: 'rooibos', topK: 5 })).map((match) => match.record.id).sort()).toEqual(['new', 'old']);
  });

  it('migrates a layout-2 file (keyword index without stemming) to the stemmed index, keeping scopes apart', async () => {
    const path = join(directory, 'layout2.db');
    const database = new Database(path);
    // The layout @mem/vector-sqlite wrote before Porter stemming: unicode61, scope tokens without the final 0.
    const tokens = (row: string) =>
      `trim(coalesce('u' || hex(${row}.user_id), '') || ' ' || coalesce('a' || hex(${row}.agent_id), '') || ' ' || coalesce('r' || hex(${row}.run_id), ''))`;
    database.exec(`
      CREATE TABLE "memories" (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, id_order BLOB NOT NULL, user_id TEXT, agent_id TEXT, run_id TEXT,
        text TEXT NOT NULL, hash TEXT NOT NULL, metadata TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        occurred_at INTEGER NOT NULL, embedding BLOB NOT NULL);
      CREATE VIRTUAL TABLE "memories_kw" USING fts5(text, scope, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
      CREATE TRIGGER "memories_kw_insert" AFTER INSERT ON "memories" BEGIN
        INSERT INTO "memories_kw" (rowid, text, scope) VALUES (new.seq, new.text, ${tokens('new')});
      END;
      CREATE TABLE "memories_meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO "memories_meta" VALUES ('schema_version', '2'), ('dimensions', '3');
    `);
    const insert = database.prepare(
      'INSERT INTO "memories" (id, id_order, user_id, text, hash, metadata, created_at, updated_at, occurred_at, embedding) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)',
    );
    const vector = Buffer.from(new Float32Array([1, 0, 0]).buffer);
    insert.run('old', Buffer.from('old'), 'u1', 'went hiking in the mountains', 'h', '{}', vector);
    insert.run('theirs', Buffer.from('theirs'), 'u2', 'went hiking too', 'h', '{}', vector);
    database.close();
    const store = track(new SqliteVectorStore({ path }));
    expect((await store.keywordQuery({ scope, text: 'hikes', topK: 5 })).map((match) => match.record.id)).toEqual(['old']);
    await store.upsert({ records: [record('new', { text: 'loves hiking' })] });
    expect((await store.keywordQuery({ scope, text: 'hike', topK: 5 })).map((match) => match.record.id).sort()).toEqual(['new', 'old']);
    const reopened = new Database(path);
    expect(reopened.prepare(`SELECT value FROM "memories_meta" WHERE key = 'schema_version'`).pluck().get()).toBe('4');
    expect(reopened.prepare(`SELECT sql FROM sqlite_master WHERE name = 'memories_kw'`).pluck().get()).toContain('porter');
    reopened.close();
  });

  it('migrates a layout-3 file (vectors in the memories table) by moving every vector to its own table, once', async () => {
    const path = join(directory, 'layout3.db');
    const database = new Database(path);
    // The layout @mem/vector-sqlite wrote before vectors had a table of their own (keyword index as in layout 3).
    const tokens = (row: string) =>
      `trim(coalesce('u' || hex(${row}.user_id) || '0', '') || ' ' || coalesce('a' || hex(${row}.agent_id) || '0', '') || ' ' || coalesce('r' || hex(${row}.run_id) || '0', ''))`;
    database.exec(`
      CREATE TABLE "memories" (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, id_order BLOB NOT NULL, user_id TEXT, agent_id TEXT, run_id TEXT,
        text TEXT NOT NULL, hash TEXT NOT NULL, metadata TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        occurred_at INTEGER NOT NULL, embedding BLOB NOT NULL, CHECK (user_id IS NOT NULL OR agent_id IS NOT NULL OR run_id IS NOT NULL));
      CREATE INDEX "memories_user_id" ON "memories" (user_id, id_order);
      CREATE VIRTUAL TABLE "memories_kw" USING fts5(text, scope, content='', contentless_delete=1, tokenize='porter unicode61 remove_diacritics 0');
      CREATE TRIGGER "memories_kw_insert" AFTER INSERT ON "memories" BEGIN
        INSERT INTO "memories_kw" (rowid, text, scope) VALUES (new.seq, new.text, ${tokens('new')});
      END;
      CREATE TRIGGER "memories_kw_delete" AFTER DELETE ON "memories" BEGIN DELETE FROM "memories_kw" WHERE rowid = old.seq; END;
      CREATE TABLE "memories_meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO "memories_meta" VALUES ('schema_version', '3'), ('dimensions', '3');
    `);
    const insert = database.prepare(
      'INSERT INTO "memories" (id, id_order, user_id, text, hash, metadata, created_at, updated_at, occurred_at, embedding) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)',
    );
    const near = '{"category":"food","expiresAt":4102444800000}';
    insert.run('near', Buffer.from('near'), 'u1', 'likes green tea', 'h1', near, Buffer.from(new Float32Array([1, 0, 0]).buffer));
    const far = '{"expiresAt":1000,"memoryType":"procedural"}';
    insert.run('far', Buffer.from('far'), 'u1', 'likes black tea', 'h2', far, Buffer.from(new Float32Array([0, 1, 0]).buffer));
    const odd = '{"expiresAt":"1000","memoryType":["procedural"]}';
    insert.run('odd', Buffer.from('odd'), 'u1', 'likes odd tea', 'h4', odd, Buffer.from(new Float32Array([0, 0, 1]).buffer));
    insert.run('theirs', Buffer.from('theirs'), 'u2', 'likes tea', 'h3', '{}', Buffer.from(new Float32Array([1, 0, 0]).buffer));
    database.close();
    // Two stores open the file at once: one migrates, the other finds it done.
    const [store, other] = [track(new SqliteVectorStore({ path })), track(new SqliteVectorStore({ path }))];
    const [matches, again] = await Promise.all([
      store.query({ scope, vector: [1, 0.1, 0], topK: 5 }),
      other.query({ scope, vector: [1, 0.1, 0], topK: 5 }),
    ]);
    expect(matches.map((match) => match.record.id)).toEqual(['near', 'far', 'odd']);
    expect(again).toEqual(matches);
    // The expiry and memory type filters core adds read the copies the migration made of those keys.
    const notExpired = { op: 'not', filter: { op: 'lte', field: 'expiresAt', value: 2000 } } as const;
    const notProcedural = { op: 'not', filter: { op: 'eq', field: 'memoryType', value: 'procedural' } } as const;
    const found = async (filter: Filter) =>
      (await store.query({ scope, vector: [1, 0, 0], topK: 5, filter })).map((match) => match.record.id);
    expect(await found(notExpired)).toEqual(['near', 'odd']);
    expect(await found(notProcedural)).toEqual(['near']);
    expect(await found({ op: 'and', filters: [notExpired, { op: 'in', field: 'memoryType', values: ['procedural', 'x'] }] })).toEqual([
      'odd',
    ]);
    expect(matches[0]!.record.vector).toEqual([1, 0, 0]);
    expect(matches[0]!.record.metadata).toEqual({ category: 'food', expiresAt: 4102444800000 });
    expect((await store.keywordQuery({ scope, text: 'green', topK: 5 })).map((match) => match.record.vector)).toEqual([[1, 0, 0]]);
    await store.upsert({ records: [record('new', { vector: [0, 0, 1] })] });
    expect((await store.query({ scope, vector: [0, 0, 1], topK: 1 })).map((match) => match.record.id)).toEqual(['new']);
    const reopened = new Database(path, { readonly: true });
    expect(reopened.prepare(`SELECT value FROM "memories_meta" WHERE key = 'schema_version'`).pluck().get()).toBe('4');
    // Rebuilt in layout 4's order: the text last, so nothing a search reads sits behind its overflow pages.
    expect(reopened.prepare(`SELECT name FROM pragma_table_info('memories')`).pluck().all()).toEqual(
      'seq id id_order user_id agent_id run_id hash metadata created_at updated_at occurred_at text'.split(' '),
    );
    const indexesAndTriggers = `SELECT name FROM sqlite_master WHERE name LIKE 'memories%' AND type IN ('index', 'trigger') ORDER BY name`;
    expect(reopened.prepare(indexesAndTriggers).pluck().all()).toEqual(
      [
        'memories_agent_id',
        'memories_agent_id_occurred',
        'memories_changes_dates',
        'memories_changes_delete',
        'memories_changes_insert',
        'memories_changes_prune',
        'memories_changes_update',
        'memories_changes_vector_delete',
        'memories_changes_vector_insert',
        'memories_changes_vector_update',
        'memories_hash',
        'memories_kw_delete',
        'memories_kw_insert',
        'memories_kw_update',
        'memories_run_id',
        'memories_run_id_occurred',
        'memories_user_id',
        'memories_user_id_occurred',
        'memories_vectors_delete',
      ].sort(),
    );
    expect(reopened.prepare('SELECT count(*) FROM "memories_vectors"').pluck().get()).toBe(5);
    expect(reopened.pragma('integrity_check', { simple: true })).toBe('ok');
    reopened.close();
    // The keyword index still points at the right rows (seq kept), and deletes reach it and the vectors.
    await store.delete({ scope, ids: ['near'] });
    expect((await store.keywordQuery({ scope, text: 'tea', topK: 5 })).map((match) => match.record.id).sort()).toEqual(['far', 'odd']);
    expect((await other.keywordQuery({ scope: { userId: 'u2' }, text: 'tea', topK: 5 })).map((match) => match.record.id)).toEqual([
      'theirs',
    ]);
  });

  it('keeps one vector row per memory through upserts, deletes and reset', async () => {
    const path = join(directory, 'vectors.db');
    const store = track(new SqliteVectorStore({ path }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('a'), record('b', { vector: [0, 1, 0] }), record('c', { scope: { userId: 'u2' } })] });
    // An upsert of an existing id replaces its vector (same seq), and the search follows it.
    await store.upsert({ records: [record('a', { vector: [0, 0, 1] })] });
    expect((await store.query({ scope, vector: [0, 0, 1], topK: 1 })).map((match) => [match.record.id, match.record.vector])).toEqual([
      ['a', [0, 0, 1]],
    ]);
    const reader = new Database(path, { readonly: true });
    const orphans = () =>
      reader.prepare('SELECT count(*) FROM "memories_vectors" WHERE seq NOT IN (SELECT seq FROM "memories")').pluck().get();
    const count = () => reader.prepare('SELECT count(*) FROM "memories_vectors"').pluck().get();
    expect([count(), orphans()]).toEqual([3, 0]);
    await store.delete({ scope, ids: ['b'] });
    expect([count(), orphans()]).toEqual([2, 0]);
    await store.reset();
    expect([count(), orphans()]).toEqual([0, 0]);
    reader.close();
  });

  it("lists a scope's conversations (an occurredAt filter) through the (scope, occurred_at) index, with the same answer", async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database });
    await store.ensureCollection({ dimensions: 3 });
    const day = (n: number) => new Date(Date.UTC(2024, 0, 1 + n));
    await store.upsert({
      records: Array.from({ length: 60 }, (_, index) =>
        record(`r${String(index).padStart(2, '0')}`, {
          scope: index % 2 === 0 ? scope : { userId: 'u2', agentId: 'x' },
          occurredAt: day(index % 6),
          metadata: { even: index % 4 === 0 },
        }),
      ),
    });
    const times = [day(0).getTime(), day(2).getTime()];
    for (const [listScope, filter] of [
      [scope, { op: 'in', field: 'occurredAt', values: times }],
      [
        scope,
        {
          op: 'and',
          filters: [
            { op: 'eq', field: 'even', value: true },
            { op: 'in', field: 'occurredAt', values: times },
          ],
        },
      ],
      [{ agentId: 'x' }, { op: 'eq', field: 'occurredAt', value: day(1).getTime() }],
    ] as const) {
      statements.length = 0;
      const found = await ids(store.list({ scope: listScope, filter }));
      const newestFirst = await ids(store.listNewestFirst({ scope: listScope, filter }));
      // The same answer as the usual walk of the scope in id order (an `or` keeps the plan away from the index).
      const walked = await ids(
        store.list({ scope: listScope, filter: { op: 'or', filters: [filter, { op: 'eq', field: 'occurredAt', value: -1 }] } }),
      );
      expect(found.length).toBeGreaterThan(0);
      expect(found).toEqual(walked);
      expect(newestFirst).toEqual([...walked].reverse());
      const column = 'userId' in listScope ? 'user_id' : 'agent_id';
      expect(statements[0]).toContain(`INDEXED BY "memories_${column}_occurred"`);
      expect(statements[2]).not.toContain('INDEXED BY');
    }
  });

  it("gives a conversation's keys (listKeys) through the (scope, occurred_at) index: the ids and dates of list, cut at limit", async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database });
    await store.ensureCollection({ dimensions: 3 });
    const day = (n: number) => new Date(Date.UTC(2024, 0, 1 + n));
    await store.upsert({
      records: Array.from({ length: 40 }, (_, index) =>
        record(`k${String((index * 7) % 40).padStart(2, '0')}`, {
          scope: index % 4 === 0 ? { userId: 'u2' } : scope,
          occurredAt: day(index % 5),
          createdAt: new Date(Date.UTC(2024, 0, 1, 12, 40 - index)),
          metadata: { even: index % 2 === 0 },
        }),
      ),
    });
    const conversation: Filter = {
      op: 'and',
      filters: [
        { op: 'eq', field: 'even', value: false },
        { op: 'in', field: 'occurredAt', values: [day(1).getTime(), day(3).getTime()] },
      ],
    };
    const keysOf = (items: readonly { id: string; createdAt: Date; occurredAt: Date }[]) =>
      items.map((item) => `${item.id} ${item.createdAt.toISOString()} ${item.occurredAt.toISOString()}`);
    const listed: MemoryRecord[] = [];
    for await (const item of store.list({ scope, filter: conversation })) listed.push(item);
    expect(listed.length).toBeGreaterThan(4);
    statements.length = 0;
    expect(keysOf(await store.listKeys({ scope, filter: conversation, limit: 100 }))).toEqual(keysOf(listed));
    expect(statements.at(-1)).toContain('INDEXED BY "memories_user_id_occurred"');
    expect(keysOf(await store.listKeys({ scope, filter: conversation, limit: 3 }))).toEqual(keysOf(listed.slice(0, 3)));
    expect(await store.listKeys({ scope, limit: 0 })).toEqual([]);
    for (const limit of [-1, 1.5, '3', undefined]) {
      const error = await rejection(() => store.listKeys({ scope, limit: limit as number }));
      expect([error.code, (error as MemError & { field?: string }).field]).toEqual(['INVALID_INPUT', 'limit']);
    }
    // Unordered: SQLite stops at the limit instead of sorting every match; every match fits in 100,
    // so that answer is the ordered one, and 3 of them are any 3 matches.
    statements.length = 0;
    expect(keysOf(await store.listKeys({ scope, filter: conversation, limit: 100, unordered: true }))).toEqual(keysOf(listed));
    expect(statements.at(-1)).toContain('INDEXED BY "memories_user_id_occurred"');
    expect(statements.at(-1)).not.toContain('ORDER BY');
    const some = keysOf(await store.listKeys({ scope, filter: conversation, limit: 3, unordered: true }));
    expect(some).toHaveLength(3);
    expect(keysOf(listed)).toEqual(expect.arrayContaining(some));
    for (const unordered of ['yes', 1, null]) {
      const error = await rejection(() =>
        store.listKeys({ scope, filter: conversation, limit: 3, unordered: unordered as unknown as boolean }),
      );
      expect([error.code, (error as MemError & { field?: string }).field]).toEqual(['INVALID_INPUT', 'unordered']);
    }
  });

  it('looks ids up in the id index for get and delete, not by walking the scope', async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database });
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: Array.from({ length: 50 }, (_, index) => record(`g${index}`)) });
    const plan = (sql: string) =>
      (database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join('\n');
    statements.length = 0;
    expect((await store.get({ scope, ids: ['g3', 'g7', 'missing'] })).map((item) => item.id).sort()).toEqual(['g3', 'g7']);
    const get = statements.find((sql) => sql.includes('json_each'))!;
    statements.length = 0;
    await store.delete({ scope, ids: ['g3'] });
    const remove = statements.find((sql) => sql.includes('json_each'))!;
    expect(await ids(store.list({ scope }))).toHaveLength(49);
    for (const sql of [get, remove]) {
      const detail = plan(sql);
      expect(detail).toMatch(/SEARCH m USING INDEX sqlite_autoindex_memories_\d \(id=\?\)/);
      expect(detail).not.toMatch(/USING (COVERING )?INDEX memories_user_id/);
    }
  });

  it('follows upserts that change the text, deletes and reset', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('r', { text: 'likes espresso' }), record('s', { text: 'likes tea' })] });
    await store.upsert({ records: [record('r', { text: 'likes cappuccino' })] });
    expect(await store.keywordQuery({ scope, text: 'espresso', topK: 5 })).toEqual([]);
    expect((await store.keywordQuery({ scope, text: 'cappuccino', topK: 5 })).map((match) => match.record.id)).toEqual(['r']);
    await store.delete({ scope, ids: ['s'] });
    expect(await store.keywordQuery({ scope, text: 'tea', topK: 5 })).toEqual([]);
    await store.reset();
    expect(await store.keywordQuery({ scope, text: 'likes', topK: 5 })).toEqual([]);
  });
});

describe('ordering and scoring', () => {
  it('lists ids in JavaScript string order, also for characters above U+FFFF', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    // UTF-8 byte order would put the emoji (F0 …) after U+FFFD (EF BF BD); UTF-16 order puts it before.
    const written = ['\uFFFD', '\u{1F600}', 'z', 'a', '\uE000', 'é', 'A', '\u{10000}x', 'ab', 'a\u0000'];
    await store.upsert({ records: written.map((id) => record(id)) });
    const expected = [...written].sort(compareIds);
    expect(await ids(store.list({ scope }))).toEqual(expected);
    expect(await ids(store.list({ scope, after: '\u{1F600}' }))).toEqual(expected.slice(expected.indexOf('\u{1F600}') + 1));
  });

  it('scores a zero vector 0, as core does, instead of failing', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('zero', { vector: [0, 0, 0] })] });
    const matches = await store.query({ scope, vector: [1, 0, 0], topK: 1 });
    expect(matches.map((match) => [match.record.id, match.score])).toEqual([['zero', 0]]);
  });

  it('answers a scoped query through the scope index (ranking in SQLite, vectorCache: false)', async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database, vectorCache: false });
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('a'), record('b', { scope: { userId: 'u2', agentId: 'x' } })] });
    statements.length = 0;
    await store.query({ scope: { userId: 'u1' }, vector: [1, 0, 0], topK: 5, filter: { op: 'eq', field: 'category', value: 'food' } });
    await store.query({ scope: { agentId: 'x' }, vector: [1, 0, 0], topK: 5 });
    const [userQuery, agentQuery] = statements;
    sqliteVec.load(database);
    const plan = (sql: string) =>
      (database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join('\n');
    // The (user_id, id_order) index, in write order, even when a filter needs the rows (not the occurred_at one).
    expect(plan(userQuery!)).toMatch(/SEARCH m USING INDEX memories_user_id \(user_id=\?\)/);
    // Without a filter the scope's index covers the ranking step: vectors are read by seq, rows only for the topK.
    expect(plan(agentQuery!)).toMatch(/SEARCH m USING COVERING INDEX memories_agent_id \(agent_id=\?\)/);
    expect(plan(agentQuery!)).toMatch(/SEARCH v USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(plan(userQuery!)).not.toMatch(/SCAN m\b/);
  });

  it('ranks a narrow occurredAt range through the (scope, occurred_at) index, a wide one in id order, with the same answer', async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database });
    await store.ensureCollection({ dimensions: 3 });
    const day = (n: number) => Date.UTC(2024, 0, 1 + n);
    // Six distinct vectors over 400 memories: many ties, which id order must break the same way in both plans.
    const vectors = [
      [1, 0, 0],
      [0, 1, 0],
      [1, 1, 0],
      [0, 0, 1],
      [1, 0, 1],
      [0, 0, 0],
    ];
    await store.upsert({
      records: Array.from({ length: 400 }, (_, index) =>
        record(`r${String((index * 37) % 400).padStart(3, '0')}`, {
          scope: index % 5 === 4 ? { userId: 'u2' } : scope,
          vector: vectors[index % vectors.length]!,
          occurredAt: new Date(day(index % 40) + (index % 3)),
          metadata: { expiresAt: index % 7 === 0 ? 1000 : 5000 },
        }),
      ),
    });
    const notExpired: Filter = { op: 'not', filter: { op: 'lte', field: 'expiresAt', value: 2000 } };
    const period = (from: number, to: number): Filter => ({
      op: 'and',
      filters: [
        {
          op: 'and',
          filters: [
            { op: 'gte', field: 'occurredAt', value: day(from) },
            { op: 'lt', field: 'occurredAt', value: day(to) },
          ],
        },
        notExpired,
      ],
    });
    const cases: [Filter, string][] = [
      [period(10, 12), 'memories_user_id_occurred'], // 16 of 320 rows
      [{ op: 'in', field: 'occurredAt', values: [day(3), day(3) + 1, day(3) + 2, day(4) + 1] }, 'memories_user_id_occurred'],
      [{ op: 'and', filters: [{ op: 'gt', field: 'occurredAt', value: day(37) }, notExpired] }, 'memories_user_id_occurred'],
      [period(0, 30), 'memories_user_id'], // 240 of 320 rows
      [{ op: 'lte', field: 'occurredAt', value: day(20) }, 'memories_user_id'],
    ];
    for (const [filter, index] of cases) {
      // The same filter under an `or` names no range, so it is ranked in id order.
      const walked: Filter = { op: 'or', filters: [filter, { op: 'eq', field: 'occurredAt', value: -1 }] };
      for (const topK of [5, 30, 400]) {
        statements.length = 0;
        const found = await store.query({ scope, vector: [1, 0.5, 0], topK, filter });
        const any = await store.queryAny({
          scope,
          vectors: [
            [1, 0.5, 0],
            [0, 0, 1],
          ],
          topK,
          filter,
        });
        const ranked = statements.filter((sql) => sql.includes('vec_distance_cosine'));
        expect(ranked).toHaveLength(2);
        for (const sql of ranked) expect(sql).toContain(`INDEXED BY "${index}" CROSS JOIN`);
        const expected = await store.query({ scope, vector: [1, 0.5, 0], topK, filter: walked });
        const expectedAny = await store.queryAny({
          scope,
          vectors: [
            [1, 0.5, 0],
            [0, 0, 1],
          ],
          topK,
          filter: walked,
        });
        expect(expected.length).toBeGreaterThan(0);
        expect(found).toEqual(expected);
        expect(any).toEqual(expectedAny);
        expect(
          statements
            .filter((sql) => sql.includes('vec_distance_cosine'))
            .slice(2)
            .join('\n'),
        ).toContain('INDEXED BY "memories_user_id" CROSS JOIN');
      }
    }
  });

  it("tests core's expiry and memory-type filters on the vectors table, so ranking reads no memory row (vectorCache: false)", async () => {
    const statements: string[] = [];
    const database = track(new Database(':memory:', { verbose: (sql) => statements.push(String(sql)) }));
    const store = new SqliteVectorStore({ database, vectorCache: false });
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({
      records: [
        record('plain'),
        record('expired', { metadata: { expiresAt: 1000 } }),
        record('procedural', { metadata: { memoryType: 'procedural' } }),
        record('listed', { metadata: { memoryType: ['procedural', 'x'] } }),
        record('other', { metadata: { memoryType: ['x'], expiresAt: 'never' } }),
      ],
    });
    // What core's add sends with its candidate query (and search, the first half).
    const filter: Filter = {
      op: 'and',
      filters: [
        { op: 'not', filter: { op: 'lte', field: 'expiresAt', value: 2000 } },
        { op: 'not', filter: { op: 'eq', field: 'memoryType', value: 'procedural' } },
      ],
    };
    statements.length = 0;
    const found = await store.queryAny({
      scope,
      vectors: [
        [1, 0, 0],
        [0, 1, 0],
      ],
      topK: 10,
      filter,
    });
    expect(found.map((match) => match.record.id).sort()).toEqual(['other', 'plain']);
    sqliteVec.load(database);
    const plan = (database.prepare(`EXPLAIN QUERY PLAN ${statements[0]}`).all() as { detail: string }[])
      .map((row) => row.detail)
      .join('\n');
    const ranking = plan.slice(0, plan.indexOf('SCAN top'));
    // Covering: the scope's index alone (with the vectors table), not one memory row per candidate.
    expect(ranking).toMatch(/SEARCH m USING COVERING INDEX memories_user_id \(user_id=\?\)/);
  });
});

describe('at scale: rows of a scope side by side, copies found by hash', () => {
  it("gives each user's new rows neighbouring seqs in a block of their own, and keeps working on rows from before blocks", async () => {
    const path = join(directory, 'blocks.db');
    const legacy = track(new SqliteVectorStore({ path }));
    await legacy.ensureCollection({ dimensions: 3 });
    await legacy.close();
    // A row as earlier versions wrote it: seq chosen by SQLite, in block 0.
    const database = new Database(path);
    database
      .prepare(
        'INSERT INTO "memories" (seq, id, id_order, user_id, text, hash, metadata, created_at, updated_at, occurred_at) VALUES (7, ?, ?, ?, ?, ?, ?, 0, 0, 0)',
      )
      .run('old', Buffer.from('old'), 'u0', 'likes rooibos', 'h', '{}');
    database.prepare('INSERT INTO "memories_vectors" (seq, embedding) VALUES (7, ?)').run(Buffer.from(new Float32Array([1, 0, 0]).buffer));
    database.close();
    const store = track(new SqliteVectorStore({ path }));
    const users = ['u0', 'u1', 'u2', 'u3'];
    // Interleaved, as a server writes for many users at once, and in several transactions.
    for (let batch = 0; batch < 3; batch++) {
      await store.upsert({
        records: Array.from({ length: 20 }, (_, index) => {
          const n = batch * 20 + index;
          return record(`r${String(n).padStart(3, '0')}`, { scope: { userId: users[n % 4]! }, text: `fact ${n} rooibos`, hash: `h${n}` });
        }),
      });
    }
    const reader = new Database(path, { readonly: true });
    const rows = reader.prepare('SELECT seq, user_id, id FROM "memories" ORDER BY seq').all() as {
      seq: number;
      user_id: string;
      id: string;
    }[];
    reader.close();
    expect(rows[0]).toEqual({ seq: 7, user_id: 'u0', id: 'old' });
    const blocks = new Set<number>();
    for (const user of users) {
      const seqs = rows.filter((row) => row.user_id === user && row.id !== 'old').map((row) => row.seq);
      expect(seqs).toHaveLength(15);
      const block = Math.floor(seqs[0]! / 2 ** 32);
      expect(block).toBeGreaterThan(0);
      blocks.add(block);
      // Consecutive, in the order written: the user's rows fill one run of the table.
      expect(seqs).toEqual(seqs.map((_, index) => seqs[0]! + index));
      expect(seqs.every((seq) => Number.isSafeInteger(seq) && Math.floor(seq / 2 ** 32) === block)).toBe(true);
    }
    expect(blocks.size).toBe(4);
    // Reads, keyword search, updates (which keep their seq) and deletes work across old and new rows.
    expect((await store.keywordQuery({ scope: { userId: 'u0' }, text: 'rooibos', topK: 30 })).map((match) => match.record.id)).toHaveLength(
      16,
    );
    await store.upsert({ records: [record('r000', { scope: { userId: 'u0' }, text: 'now likes mate', hash: 'h0b' })] });
    expect((await store.keywordQuery({ scope: { userId: 'u0' }, text: 'mate', topK: 5 })).map((match) => match.record.id)).toEqual([
      'r000',
    ]);
    await store.delete({ scope: { userId: 'u0' }, ids: ['old', 'r004'] });
    expect(await ids(store.list({ scope: { userId: 'u0' } }))).toHaveLength(14);
  });

  it('finds the records in scope holding a hash through its index, narrower scopes included, other scopes not', async () => {
    const path = join(directory, 'hash.db');
    const store = track(new SqliteVectorStore({ path }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({
      records: [
        record('b', { hash: 'tea' }),
        record('a', { hash: 'tea', scope: { userId: 'u1', agentId: 'x' } }),
        record('c', { hash: 'coffee' }),
        record('d', { hash: 'tea', scope: { userId: 'u2' } }),
      ],
    });
    const found = (hashes: string[], within: Scope = scope) =>
      store.findByHash({ scope: within, hashes }).then((records) => records.map((r) => r.id));
    expect(await found(['tea'])).toEqual(['a', 'b']);
    expect(await found(['tea', 'coffee', 'tea'])).toEqual(['a', 'b', 'c']);
    expect(await found(['tea'], { userId: 'u1', agentId: 'x' })).toEqual(['a']);
    expect(await found(['milk'])).toEqual([]);
    expect(await found([])).toEqual([]);
    const [record0] = await store.findByHash({ scope, hashes: ['coffee'] });
    expect(record0).toEqual((await store.get({ scope, ids: ['c'] }))[0]);
    expect((await rejection(() => store.findByHash({ scope, hashes: 'tea' as never }))).code).toBe('INVALID_INPUT');
    const reader = new Database(path, { readonly: true });
    const plan = reader
      .prepare(`EXPLAIN QUERY PLAN SELECT id FROM "memories" AS m INDEXED BY "memories_hash" WHERE m.hash IN ('tea') AND m.user_id = 'u1'`)
      .all() as { detail: string }[];
    reader.close();
    expect(plan.map((step) => step.detail).join(' ')).toContain('memories_hash');
  });

  it.each([
    true,
    false,
  ])('answers queryAny with the records one query per vector would find, merged by best score, in one pass over the scope (vectorCache: %s)', async (vectorCache) => {
    const store = track(new SqliteVectorStore({ path: join(directory, 'any.db'), vectorCache }));
    await store.ensureCollection({ dimensions: 4 });
    let seed = 3;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const vector = () => [random(), random(), random(), random()];
    await store.upsert({
      records: Array.from({ length: 120 }, (_, index) =>
        record(`r${String(index).padStart(3, '0')}`, {
          vector: vector(),
          scope: { userId: index % 3 === 0 ? 'other' : 'u1' },
          metadata: { even: index % 2 === 0 },
        }),
      ),
    });
    const filter = { op: 'eq', field: 'even', value: true } as const;
    // A scope's second search builds its vector cache: from then on query and queryAny both rank on it.
    for (let search = 0; search < 2; search++) await store.query({ scope, vector: vector(), topK: 1 });
    for (let trial = 0; trial < 20; trial++) {
      const vectors = Array.from({ length: 1 + (trial % 4) }, vector);
      const filtered = trial % 2 === 0 ? { filter } : {};
      const merged = new Map<string, number>();
      for (const one of vectors) {
        for (const match of await store.query({ scope, vector: one, topK: 7, ...filtered })) {
          merged.set(match.record.id, Math.max(merged.get(match.record.id) ?? -2, match.score));
        }
      }
      const expected = [...merged].sort((a, b) => b[1] - a[1] || compareIds(a[0], b[0])).slice(0, 7);
      const any = await store.queryAny({ scope, vectors, topK: 7, ...filtered });
      expect(any.map((match) => [match.record.id, match.score])).toEqual(expected);
      expect(any.every((match) => match.record.scope.userId === 'u1' && (trial % 2 === 1 || match.record.metadata['even'] === true))).toBe(
        true,
      );
    }
    // Past the 127 arguments of SQLite's min(): 250 vectors, the first one the best match of record r005.
    const target = (await store.get({ scope, ids: ['r005'] }))[0]!.vector;
    const many = [target, ...Array.from({ length: 249 }, vector)];
    const manyMerged = new Map<string, number>();
    for (const one of many)
      for (const match of await store.query({ scope, vector: one, topK: 3 }))
        manyMerged.set(match.record.id, Math.max(manyMerged.get(match.record.id) ?? -2, match.score));
    const manyExpected = [...manyMerged].sort((a, b) => b[1] - a[1] || compareIds(a[0], b[0])).slice(0, 3);
    expect((await store.queryAny({ scope, vectors: many, topK: 3 })).map((match) => [match.record.id, match.score])).toEqual(manyExpected);
    expect(manyExpected.map(([id]) => id)).toContain('r005');
    expect((await rejection(() => store.queryAny({ scope, vectors: [], topK: 3 }))).code).toBe('INVALID_INPUT');
    expect((await rejection(() => store.queryAny({ scope, vectors: [[1, 0, 0]], topK: 3 }))).code).toBe('DIMENSION_MISMATCH');
  });

  it('adds the hash index to a file made without it, once, with two stores opening the file at the same time', async () => {
    const path = join(directory, 'no-hash-index.db');
    const first = track(new SqliteVectorStore({ path }));
    await first.ensureCollection({ dimensions: 3 });
    await first.upsert({ records: [record('x', { hash: 'tea' })] });
    await first.close();
    const database = new Database(path);
    database.exec('DROP INDEX "memories_hash"');
    database.close();
    const [left, right] = [track(new SqliteVectorStore({ path })), track(new SqliteVectorStore({ path }))];
    const [a, b] = await Promise.all([left.findByHash({ scope, hashes: ['tea'] }), right.findByHash({ scope, hashes: ['tea'] })]);
    expect([a.map((r) => r.id), b.map((r) => r.id)]).toEqual([['x'], ['x']]);
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'memories_hash'`).pluck().get()).toBe(1);
    expect(reader.prepare(`SELECT value FROM "memories_meta" WHERE key = 'schema_version'`).pluck().get()).toBe('4');
    reader.close();
  });
});

describe('errors', () => {
  it('refuses writes before ensureCollection', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    expect((await rejection(() => store.upsert({ records: [record('a')] }))).code).toBe('CONFLICT');
    expect(await store.get({ scope, ids: ['a'] })).toEqual([]);
  });

  it('writes nothing of a batch holding one malformed record', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    const error = await rejection(() => store.upsert({ records: [record('ok'), record('bad', { vector: [1, Number.NaN, 0] })] }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(await ids(store.list({ scope }))).toEqual([]);
  });

  it('maps a busy database to a retryable ProviderRequestError without memory text', async () => {
    const path = join(directory, 'busy.db');
    const store = track(new SqliteVectorStore({ path, busyTimeoutMs: 0 }));
    await store.ensureCollection({ dimensions: 3 });
    const blocker = track(new Database(path));
    blocker.exec('BEGIN IMMEDIATE');
    const error = await rejection(() => store.upsert({ records: [record('a', { text: 'secret text' })] }));
    blocker.exec('ROLLBACK');
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', provider: 'sqlite', operation: 'upsert', retryable: true });
    expect(error.message).toMatch(/SQLITE_BUSY/);
    expect(error.message).not.toMatch(/secret|INSERT/);
  });

  it('fails calls on a closed store with a ProviderRequestError', async () => {
    const store = new SqliteVectorStore({ path: ':memory:' });
    await store.close();
    await store.close();
    expect(await rejection(() => store.get({ scope, ids: ['a'] }))).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', retryable: false });
  });

  it('stops at an aborted signal before touching the database', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(() => store.upsert({ records: [record('a')], signal: controller.signal }))).code).toBe('ABORTED');
    expect(await ids(store.list({ scope }))).toEqual([]);
  });
});

describe('for the memory browser: newest first, and the scopes with their counts', () => {
  it('lists newest first (descending id order), before a cursor, with the filter and scope applied, across pages', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    // More than one page of 500 rows, so the backwards keyset pagination is exercised.
    const written = Array.from({ length: 1203 }, (_, index) => `id-${String(index).padStart(5, '0')}`);
    await store.upsert({
      records: written.map((id, index) => record(id, { metadata: { even: index % 2 === 0 } })),
    });
    await store.upsert({ records: [record('id-99999', { scope: { userId: 'u2' } })] });
    const descending = [...written].reverse();
    expect(await ids(store.listNewestFirst({ scope }))).toEqual(descending);
    expect(await ids(store.listNewestFirst({ scope, before: 'id-00700' }))).toEqual(descending.slice(descending.indexOf('id-00700') + 1));
    expect(await ids(store.listNewestFirst({ scope, before: 'id-00000' }))).toEqual([]);
    const even = await ids(store.listNewestFirst({ scope, filter: { op: 'eq', field: 'even', value: true } }));
    expect(even).toEqual(descending.filter((id) => Number(id.slice(3)) % 2 === 0));
    expect(await ids(store.listNewestFirst({ scope: { userId: 'u2' } }))).toEqual(['id-99999']);
  });

  it('counts the memories of every exact scope, restricted to allowed ids, and says when the list was cut', async () => {
    const store = track(new SqliteVectorStore({ path: ':memory:' }));
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({
      records: [
        record('a1', { scope: { userId: 'alice' } }),
        record('a2', { scope: { userId: 'alice' } }),
        record('a3', { scope: { userId: 'alice', agentId: 'helper' } }),
        record('b1', { scope: { userId: 'bob', agentId: 'helper', runId: 'r1' } }),
        record('h1', { scope: { agentId: 'helper' } }),
      ],
    });
    expect(await store.scopes({ limit: 100 })).toEqual({
      scopes: [
        { scope: { agentId: 'helper' }, count: 1 },
        { scope: { userId: 'alice' }, count: 2 },
        { scope: { userId: 'alice', agentId: 'helper' }, count: 1 },
        { scope: { userId: 'bob', agentId: 'helper', runId: 'r1' }, count: 1 },
      ],
      truncated: false,
    });
    expect(await store.scopes({ limit: 100, only: { userIds: ['alice'] } })).toEqual({
      scopes: [
        { scope: { userId: 'alice' }, count: 2 },
        { scope: { userId: 'alice', agentId: 'helper' }, count: 1 },
      ],
      truncated: false,
    });
    // A restricted field must be set: agent-only memories are not "alice's".
    expect((await store.scopes({ limit: 100, only: { agentIds: ['helper'], userIds: ['alice', 'bob'] } })).scopes).toEqual([
      { scope: { userId: 'alice', agentId: 'helper' }, count: 1 },
      { scope: { userId: 'bob', agentId: 'helper', runId: 'r1' }, count: 1 },
    ]);
    expect(await store.scopes({ limit: 2 })).toMatchObject({ truncated: true, scopes: [{ count: 1 }, { count: 2 }] });
    expect((await rejection(() => store.scopes({ limit: 0 }))).message).toContain('Invalid limit');
  });
});
