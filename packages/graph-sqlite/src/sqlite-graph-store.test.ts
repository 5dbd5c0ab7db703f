import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError } from '@mem/core/adapter';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteGraphStore } from './sqlite-graph-store';

const directory = mkdtempSync(join(tmpdir(), 'mem-graph-sqlite-unit-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const scope = { userId: 'u1' };
const axis = (index: number) => Array.from({ length: 4 }, (_, position) => (position === index ? 1 : 0));
const validFrom = new Date('2024-05-01T10:00:00.000Z');

describe('SqliteGraphStore', () => {
  it('works on a connection it is given, next to other tables, and leaves that connection open on close', async () => {
    const database = new Database(':memory:');
    database.exec("CREATE TABLE memories (id TEXT PRIMARY KEY, text TEXT); INSERT INTO memories VALUES ('m1', 'kept');");
    const store = new SqliteGraphStore({ database });
    await store.ensureSchema({ dimensions: 4 });
    await store.upsertEntities({ scope, entities: [{ name: 'alice', type: 'person', embedding: axis(0) }] });
    await store.upsertRelations({ scope, relations: [{ source: 'alice', relation: 'works_at', target: 'acme', validFrom }] });
    await store.close();
    expect(database.open).toBe(true);
    const tables = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['graph_entities', 'graph_meta', 'graph_relations', 'memories']);
    expect(database.prepare('SELECT text FROM memories').pluck().get()).toBe('kept');
    // A second store on the same connection (sqlite-vec already loaded) reads what the first wrote.
    const again = new SqliteGraphStore({ database });
    const [relation] = await again.neighbors({ scope, entities: ['acme'], limit: 10 });
    expect(relation).toMatchObject({ source: 'alice', relation: 'works_at', target: 'acme', validTo: null });
    await again.close();
    database.close();
  });

  it('keeps the graph and its dimensions in the file across connections', async () => {
    const path = join(directory, 'persist.db');
    const writer = new SqliteGraphStore({ path });
    await writer.ensureSchema({ dimensions: 4 });
    await writer.upsertEntities({ scope, entities: [{ name: 'acme', type: 'company', embedding: axis(1) }] });
    await writer.upsertRelations({ scope, relations: [{ source: 'alice', relation: 'works_at', target: 'acme', validFrom }] });
    await writer.invalidateRelations({
      scope,
      relations: [{ source: 'alice', relation: 'works_at', target: 'acme' }],
      validTo: new Date('2024-09-01T00:00:00.000Z'),
    });
    await writer.close();

    const reader = new SqliteGraphStore({ path });
    const [match] = await reader.searchEntities({ scope, vector: axis(1), topK: 1 });
    expect(match?.entity).toEqual({ name: 'acme', type: 'company', scope });
    const [relation] = await reader.neighbors({ scope, entities: ['alice'], limit: 10, includeInvalid: true });
    expect(relation?.validTo?.toISOString()).toBe('2024-09-01T00:00:00.000Z');
    await expect(reader.ensureSchema({ dimensions: 8 })).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    await reader.close();
  });

  it('two connections upserting the same relation leave one open relation (the partial unique index)', async () => {
    const path = join(directory, 'two-connections.db');
    const first = new SqliteGraphStore({ path });
    const second = new SqliteGraphStore({ path });
    await first.ensureSchema({ dimensions: 4 });
    await second.ensureSchema({ dimensions: 4 });
    const relation = { source: 'alice', relation: 'lives_in', target: 'lisbon', validFrom };
    await Promise.all([first.upsertRelations({ scope, relations: [relation] }), second.upsertRelations({ scope, relations: [relation] })]);
    await second.upsertRelations({ scope, relations: [{ ...relation, validFrom: new Date('2025-01-01') }] });
    const found = await first.neighbors({ scope, entities: ['alice'], limit: 10, includeInvalid: true });
    expect(found).toHaveLength(1);
    expect(found[0]!.validFrom.toISOString()).toBe(validFrom.toISOString());
    await Promise.all([first.close(), second.close()]);
  });

  it('rejects invalid options and inputs with InvalidInputError naming the field', async () => {
    const database = new Database(':memory:');
    expect(() => new SqliteGraphStore({ path: ':memory:', database })).toThrow(/Invalid options: both path and database/);
    expect(() => new SqliteGraphStore({ path: ':memory:', tablePrefix: 'bad-prefix"; DROP' })).toThrow(/Invalid options.tablePrefix/);
    database.close();
    const store = new SqliteGraphStore({ path: ':memory:' });
    await store.ensureSchema({ dimensions: 4 });
    await expect(
      store.upsertEntities({ scope, entities: [{ name: 'bad\uD800name', type: 'person', embedding: axis(0) }] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'entities[0].name',
    });
    await expect(
      store.upsertRelations({ scope, relations: [{ source: 'a', relation: 'r', target: 'b', validFrom: new Date('nope') }] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'relations[0].validFrom',
    });
    await expect(store.neighbors({ scope: {}, entities: ['a'], limit: 1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'scope',
    });
    await store.close();
  });

  it('a closed store fails with a typed, non-retryable error', async () => {
    const store = new SqliteGraphStore({ path: ':memory:' });
    await store.close();
    const error = await store.neighbors({ scope, entities: ['alice'], limit: 1 }).catch((caught: unknown) => caught);
    expect(MemError.is(error, 'PROVIDER_REQUEST_FAILED')).toBe(true);
    expect(error).toMatchObject({ provider: 'sqlite', operation: 'neighbors', retryable: false });
  });
});
