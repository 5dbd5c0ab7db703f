import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, MemError } from '@mem/core/adapter';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteConnection } from './sqlite-connection';

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
});
