import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError, type HistoryEvent } from '@mem/core/adapter';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteHistoryStore } from './sqlite-history-store';

let directory: string;
const opened: { close(): unknown }[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'mem-history-sqlite-unit-'));
});
afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) await handle.close();
  rmSync(directory, { recursive: true, force: true });
});

function track<T extends { close(): unknown }>(handle: T): T {
  opened.push(handle);
  return handle;
}

function event(id: string, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    id,
    memoryId: 'memory-1',
    kind: 'ADD',
    previousText: null,
    text: `text of ${id}`,
    scope: { userId: 'u1' },
    validAt: new Date(Date.UTC(2024, 4, 17, 9, 0, 0, 1)),
    createdAt: new Date(Date.UTC(2024, 4, 17, 9, 0, 0, 2)),
    actor: 'add',
    ...fields,
  };
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

const listIds = async (store: SqliteHistoryStore, memoryId = 'memory-1') => (await store.list({ memoryId })).map((item) => item.id);

describe('one database file', () => {
  it('shares a file with other tables through separate connections', async () => {
    const path = join(directory, 'mem.db');
    const setup = track(new Database(path));
    setup.exec("CREATE TABLE memories (id TEXT); INSERT INTO memories VALUES ('kept')");
    const first = track(new SqliteHistoryStore({ path }));
    const second = track(new SqliteHistoryStore({ path, table: 'history_b' }));
    await first.append({ events: [event('a')] });
    await second.append({ events: [event('b')] });
    expect(await listIds(first)).toEqual(['a']);
    expect(await listIds(second)).toEqual(['b']);
    await first.reset();
    expect(await listIds(second)).toEqual(['b']);
    expect(setup.prepare('SELECT count(*) FROM memories').pluck().get()).toBe(1);
  });

  it('shares one connection passed as database, and leaves it open on close', async () => {
    const database = track(new Database(join(directory, 'shared.db')));
    const first = new SqliteHistoryStore({ database });
    const second = new SqliteHistoryStore({ database, table: 'audit' });
    await first.append({ events: [event('a')] });
    await second.append({ events: [event('b')] });
    await first.close();
    expect(database.open).toBe(true);
    expect(await listIds(second)).toEqual(['b']);
    await second.close();
    expect(database.prepare('SELECT id FROM memory_history').pluck().all()).toEqual(['a']);
  });

  it('keeps events and their order across close and reopen', async () => {
    const path = join(directory, 'persist.db');
    const before = new SqliteHistoryStore({ path });
    await before.append({ events: [event('z-first'), event('a-second', { kind: 'UPDATE', previousText: 'x', actor: 'update' })] });
    await before.close();
    const after = track(new SqliteHistoryStore({ path }));
    await after.append({ events: [event('m-third', { kind: 'DELETE', text: null, actor: 'delete' })] });
    expect(await listIds(after)).toEqual(['z-first', 'a-second', 'm-third']);
    // A stored id still conflicts after reopening.
    expect((await rejection(() => after.append({ events: [event('z-first')] }))).code).toBe('CONFLICT');
  });

  it('runs connections it opens in WAL mode', async () => {
    const path = join(directory, 'wal.db');
    const store = track(new SqliteHistoryStore({ path }));
    await store.append({ events: [event('a')] });
    const probe = track(new Database(path, { readonly: true }));
    expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

describe('input', () => {
  it('rejects table names that are not plain identifiers', () => {
    for (const table of ['h"; DROP TABLE memories; --', 'a-b', 'sqlite_sequence', '9x', '']) {
      expect(() => new SqliteHistoryStore({ path: ':memory:', table }), table).toThrow(/options\.table/);
    }
  });

  it('stores hostile text as plain data', async () => {
    const store = track(new SqliteHistoryStore({ path: ':memory:' }));
    const text = "'); DROP TABLE memory_history; --";
    await store.append({ events: [event("x'); DELETE FROM memory_history; --", { text, memoryId: text })] });
    const [stored] = await store.list({ memoryId: text });
    expect(stored?.text).toBe(text);
  });

  it('rejects a malformed event and stores none of the batch', async () => {
    const store = track(new SqliteHistoryStore({ path: ':memory:' }));
    const bad = { ...event('b'), kind: 'MERGE' } as unknown as HistoryEvent;
    expect((await rejection(() => store.append({ events: [event('a'), bad] }))).code).toBe('INVALID_INPUT');
    expect(await listIds(store)).toEqual([]);
  });

  it('names the conflicting id without the event text', async () => {
    const store = track(new SqliteHistoryStore({ path: ':memory:' }));
    await store.append({ events: [event('dup', { text: 'secret text' })] });
    const error = await rejection(() => store.append({ events: [event('dup', { text: 'secret text' })] }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('"dup"');
    expect(error.message).not.toContain('secret');
  });
});

describe('errors', () => {
  it('maps a busy database to a retryable ProviderRequestError', async () => {
    const path = join(directory, 'busy.db');
    const store = track(new SqliteHistoryStore({ path, busyTimeoutMs: 0 }));
    await store.append({ events: [event('a')] });
    const blocker = track(new Database(path));
    blocker.exec('BEGIN IMMEDIATE');
    const error = await rejection(() => store.append({ events: [event('b', { text: 'secret text' })] }));
    blocker.exec('ROLLBACK');
    expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', provider: 'sqlite', operation: 'append', retryable: true });
    expect(error.message).not.toMatch(/secret|INSERT/);
    expect(await listIds(store)).toEqual(['a']);
  });

  it('fails calls on a closed store with a ProviderRequestError', async () => {
    const store = new SqliteHistoryStore({ path: ':memory:' });
    await store.close();
    expect(await rejection(() => store.list({ memoryId: 'x' }))).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', retryable: false });
  });

  it('refuses a path in a missing directory with an InvalidInputError naming the folder (SQLite creates files, not folders)', () => {
    let thrown: unknown;
    try {
      new SqliteHistoryStore({ path: join(directory, 'missing', 'dir', 'mem.db') });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_INPUT', field: 'options.path' });
    expect((thrown as Error).message).toContain(`the folder ${join(directory, 'missing', 'dir')} does not exist`);
  });
});

describe('write-ahead log (pending events)', () => {
  it('adds the pending column to a table made before it existed, keeping every event committed', async () => {
    const path = join(directory, 'old.db');
    const old = new Database(path);
    // The table layout of the first release, without the pending column.
    old.exec(`CREATE TABLE memory_history (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, memory_id TEXT NOT NULL, kind TEXT NOT NULL,
      previous_text TEXT, text TEXT, user_id TEXT, agent_id TEXT, run_id TEXT, valid_at INTEGER NOT NULL, created_at INTEGER NOT NULL, actor TEXT NOT NULL)`);
    old
      .prepare(
        "INSERT INTO memory_history (id, memory_id, kind, previous_text, text, user_id, valid_at, created_at, actor) VALUES ('old-1', 'memory-1', 'ADD', NULL, 'Likes tea', 'u1', 1, 2, 'add')",
      )
      .run();
    old.close();
    // Two stores open the old file at once: the column is added once.
    const first = track(new SqliteHistoryStore({ path }));
    const second = track(new SqliteHistoryStore({ path }));
    expect((await first.list({ memoryId: 'memory-1' })).map((item) => item.id)).toEqual(['old-1']);
    expect((await second.list({ memoryId: 'memory-1' })).map((item) => item.id)).toEqual(['old-1']);
    await second.append({
      events: [event('new-1', { kind: 'UPDATE', previousText: 'Likes tea', text: 'Likes green tea' })],
      pending: true,
    });
    expect((await first.listPending({ limit: 5 })).map((item) => item.id)).toEqual(['new-1']);
    await first.settle({ commit: ['new-1'] });
    expect((await second.list({ memoryId: 'memory-1' })).map((item) => item.id)).toEqual(['old-1', 'new-1']);
  });

  it('keeps pending events across a reopen, so recovery after a crash finds them', async () => {
    const path = join(directory, 'reopen.db');
    const writer = new SqliteHistoryStore({ path });
    await writer.append({ events: [event('a')], pending: true });
    await writer.close();
    const reader = track(new SqliteHistoryStore({ path }));
    expect((await reader.listPending({ limit: 5 })).map((item) => item.id)).toEqual(['a']);
    expect(await reader.list({ memoryId: 'memory-1' })).toEqual([]);
  });

  it('rejects malformed settle and listPending requests with the field named', async () => {
    const store = track(new SqliteHistoryStore({ path: ':memory:' }));
    expect((await rejection(() => store.listPending({ limit: 0 }))).message).toContain('limit');
    expect((await rejection(() => store.settle({ commit: 'a' as unknown as string[] }))).message).toContain('commit');
    expect((await rejection(() => store.append({ events: [event('a')], pending: 'yes' as unknown as boolean }))).message).toContain(
      'pending',
    );
  });

  it('gives a file made before idempotency records their table on first use, and keeps records across a reopen', async () => {
    const path = join(directory, 'before-idempotency.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE memory_history (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, memory_id TEXT NOT NULL, kind TEXT NOT NULL,
      previous_text TEXT, text TEXT, user_id TEXT, agent_id TEXT, run_id TEXT, valid_at INTEGER NOT NULL, created_at INTEGER NOT NULL, actor TEXT NOT NULL,
      pending INTEGER NOT NULL DEFAULT 0)`);
    old.close();
    const record = {
      scope: { userId: 'u1', runId: 'r1' },
      key: 'retry-1',
      requestHash: 'a'.repeat(64),
      result: '{"format":1}',
      createdAt: new Date(Date.UTC(2024, 4, 17, 9, 0, 0, 5)),
      expiresAt: new Date(Date.UTC(2024, 4, 18, 9, 0, 0, 5)),
    };
    const writer = new SqliteHistoryStore({ path });
    await writer.putIdempotencyRecord({ record });
    await writer.close();
    const reader = track(new SqliteHistoryStore({ path }));
    expect(await reader.getIdempotencyRecord({ scope: record.scope, key: 'retry-1', now: record.createdAt })).toEqual(record);
    expect(reader.capabilities.idempotencyRecords).toBe(true);
  });

  it('rejects a malformed idempotency record with the field named, storing nothing', async () => {
    const store = track(new SqliteHistoryStore({ path: ':memory:' }));
    const record = {
      scope: { userId: 'u1' },
      key: 'k',
      requestHash: 'h',
      result: '{}',
      createdAt: new Date(1),
      expiresAt: new Date(2),
    };
    expect(
      (await rejection(() => store.putIdempotencyRecord({ record: { ...record, expiresAt: new Date(Number.NaN) } }))).message,
    ).toContain('record.expiresAt');
    expect(
      (await rejection(() => store.putIdempotencyRecord({ record: { ...record, result: 5 as unknown as string } }))).message,
    ).toContain('record.result');
    expect(await store.getIdempotencyRecord({ scope: record.scope, key: 'k', now: new Date(0) })).toBeNull();
  });
});
