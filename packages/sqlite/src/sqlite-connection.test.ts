import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, MemError } from '@mem/core/adapter';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MMAP_SIZE_BYTES, openSqliteConnection, validateConnectionOptions } from './sqlite-connection';

const directory = mkdtempSync(join(tmpdir(), 'mem-sqlite-connection-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('openSqliteConnection', () => {
  it('refuses a path whose folder does not exist, naming the option, the folder and the fix, and creates nothing', () => {
    const missing = join(directory, 'no-such-folder', 'deeper');
    let thrown: unknown;
    try {
      openSqliteConnection({ path: join(missing, 'mem.db') });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidInputError);
    expect(MemError.is(thrown, 'INVALID_INPUT')).toBe(true);
    const error = thrown as InvalidInputError;
    expect(error.field).toBe('options.path');
    expect(error.message).toContain(`the folder ${missing} does not exist`);
    expect(error.message).toContain('Create the folder first');
    expect(readdirSync(directory)).toEqual([]);
  });

  it('creates the database file in an existing folder, and opens ":memory:"', () => {
    const opened = openSqliteConnection({ path: join(directory, 'mem.db') });
    expect(opened.owned).toBe(true);
    opened.database.close();
    expect(readdirSync(directory)).toContain('mem.db');
    const inMemory = openSqliteConnection({ path: ':memory:' });
    expect(inMemory.database.memory).toBe(true);
    inMemory.database.close();
  });

  it('maps up to 1 GiB of a file it opens for reads by default, takes mmapSizeBytes (0 turns it off), and refuses a bad value naming the option', () => {
    const opened = openSqliteConnection({ path: join(directory, 'mapped.db') });
    expect(opened.database.pragma('mmap_size', { simple: true })).toBe(DEFAULT_MMAP_SIZE_BYTES);
    opened.database.close();
    const off = openSqliteConnection({ path: join(directory, 'mapped.db'), mmapSizeBytes: 0 });
    expect(off.database.pragma('mmap_size', { simple: true })).toBe(0);
    off.database.close();
    for (const mmapSizeBytes of [-1, 1.5, '1', Number.NaN]) {
      let thrown: unknown;
      try {
        validateConnectionOptions({ mmapSizeBytes });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidInputError);
      expect((thrown as InvalidInputError).field).toBe('options.mmapSizeBytes');
    }
  });

  it('readOnly: opens an existing file for reads only, sees what the writer commits later, and refuses writes, a missing file and bad combinations', () => {
    const path = join(directory, 'shared.db');
    const writer = openSqliteConnection({ path });
    writer.database.exec('CREATE TABLE t (value INTEGER)');
    const reader = openSqliteConnection({ path, readOnly: true });
    expect(reader.owned).toBe(true);
    expect(reader.database.readonly).toBe(true);
    expect(reader.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(reader.database.pragma('mmap_size', { simple: true })).toBe(DEFAULT_MMAP_SIZE_BYTES);
    writer.database.prepare('INSERT INTO t VALUES (?)').run(7);
    expect(reader.database.prepare('SELECT value FROM t').pluck().all()).toEqual([7]);
    expect(() => reader.database.prepare('INSERT INTO t VALUES (8)').run()).toThrow(/readonly/);
    expect(writer.database.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    reader.database.close();
    writer.database.close();

    expect(() => openSqliteConnection({ path: join(directory, 'never-created.db'), readOnly: true })).toThrow(MemError);
    expect(readdirSync(directory)).not.toContain('never-created.db');
    for (const options of [{ readOnly: 'yes' }, { readOnly: true, path: ':memory:' }]) {
      let thrown: unknown;
      try {
        validateConnectionOptions(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidInputError);
      expect((thrown as InvalidInputError).field).toBe('options.readOnly');
    }
  });

  it('shares one connection between the stores of a process on one file with the same settings, closed by the last release', () => {
    const path = join(directory, 'one-connection.db');
    const first = openSqliteConnection({ path });
    const second = openSqliteConnection({ path: join(directory, '.', 'one-connection.db') }, { sqliteVec: true });
    expect(second.database).toBe(first.database);
    expect(second.owned).toBe(true);
    // Another setting, a read-only reader or a private in-memory database each get their own.
    const other = openSqliteConnection({ path, busyTimeoutMs: 10 });
    const reader = openSqliteConnection({ path, readOnly: true });
    const memoryA = openSqliteConnection({ path: ':memory:' });
    const memoryB = openSqliteConnection({ path: ':memory:' });
    expect(new Set([first.database, other.database, reader.database, memoryA.database, memoryB.database]).size).toBe(5);
    for (const opened of [other, reader, memoryA, memoryB]) opened.release();
    expect(other.database.open).toBe(false);

    first.release();
    first.release(); // a second release of one store changes nothing
    expect(second.database.open).toBe(true);
    expect(second.database.prepare('SELECT vec_version()').pluck().get()).toMatch(/^v/);
    second.release();
    expect(first.database.open).toBe(false);
    // The next store opens the file afresh.
    const again = openSqliteConnection({ path });
    expect(again.database).not.toBe(first.database);
    expect(again.database.open).toBe(true);
    again.release();
  });

  it('a connection passed as database is never closed by release', () => {
    const path = join(directory, 'yours.db');
    const yours = openSqliteConnection({ path });
    const adopted = openSqliteConnection({ database: yours.database });
    expect(adopted.owned).toBe(false);
    adopted.release();
    expect(yours.database.open).toBe(true);
    yours.release();
  });
});
