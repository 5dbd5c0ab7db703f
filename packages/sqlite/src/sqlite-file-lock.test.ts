import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteFileLock } from './sqlite-file-lock';

const directory = mkdtempSync(join(tmpdir(), 'mem-sqlite-file-lock-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Another process's view of the companion file: its own connection, as a second process would open it. */
function otherProcess(lock: SqliteFileLock): Database.Database {
  return new Database(lock.path, { timeout: 0 });
}

describe('SqliteFileLock', () => {
  it('excludes another connection while held and frees the file when the work ends', async () => {
    const lock = SqliteFileLock.for(join(directory, 'held.db'));
    const other = otherProcess(lock);
    try {
      await lock.run(async () => {
        expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      });
      other.exec('BEGIN IMMEDIATE');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
  });

  it('is released while another process is trying to take it (holds the shared lock for a moment)', async () => {
    // Every attempt of another process to take the lock holds the companion file's shared lock for a
    // moment. A release at that moment must neither fail the work (which already ran) nor stay held.
    for (const name of ['empty.db', 'used.db']) {
      const lock = SqliteFileLock.for(join(directory, name));
      await lock.run(async () => undefined);
      const other = otherProcess(lock);
      try {
        const result = await lock.run(async () => {
          other.exec('BEGIN');
          other.prepare('SELECT count(*) FROM sqlite_master').get();
          return 'written';
        });
        expect(result).toBe('written');
        other.exec('COMMIT');
        other.exec('BEGIN IMMEDIATE');
        other.exec('ROLLBACK');
        expect(await lock.run(async () => 'again')).toBe('again');
      } finally {
        other.close();
      }
    }
  });
});
