import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { SqliteVectorStore } from './sqlite-vector-store';

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
const writer = join(packageDirectory, 'test', 'sqlite-crash-writer.ts');
const directory = mkdtempSync(join(tmpdir(), 'mem-vector-sqlite-crash-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const BATCH_SIZE = 200;
const DIMENSIONS = 16;

/**
 * Starts the writer and SIGKILLs it `delayMs` after it reports `killAfter` committed batches, while
 * it writes the next ones. Returns the number of batches it reported.
 */
async function writeUntilKilled(path: string, killAfter: number, delayMs: number): Promise<number> {
  const child = fork(writer, [path, String(BATCH_SIZE), String(DIMENSIONS)], {
    cwd: packageDirectory,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let committed = 0;
    child.on('message', (message: { committed: number }) => {
      committed = message.committed;
      if (committed === killAfter) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(committed);
      else reject(new Error(`the writer exited with code ${code} before it was killed: ${stderr}`));
    });
  });
}

it('a writer killed with SIGKILL mid-stream leaves a readable database holding only whole batches', { timeout: 60_000 }, async () => {
  // Different points in the stream; a batch takes a few milliseconds, so the kill lands inside one.
  for (const [trial, [killAfter, delayMs]] of [
    [3, 0],
    [5, 2],
    [8, 5],
  ].entries()) {
    const path = join(directory, `crash-${trial}.db`);
    const reported = await writeUntilKilled(path, killAfter!, delayMs!);

    const database = new Database(path);
    expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
    // The keyword index was written in the same transactions, so it matches the table exactly.
    expect(() => database.exec("INSERT INTO memories_kw (memories_kw, rank) VALUES ('integrity-check', 1)")).not.toThrow();
    const batches = database.prepare('SELECT substr(id, 1, 12) AS batch, count(*) AS count FROM memories GROUP BY batch').all() as {
      batch: string;
      count: number;
    }[];
    database.close();

    // Every batch the writer saw committed survived; any batch cut by the kill left no record.
    expect(batches.length).toBeGreaterThanOrEqual(reported);
    expect(batches.filter((batch) => batch.count !== BATCH_SIZE)).toEqual([]);

    const store = new SqliteVectorStore({ path });
    let listed = 0;
    for (const scope of [{ userId: 'user-0' }, { userId: 'user-1' }, { userId: 'user-2' }]) {
      for await (const _ of store.list({ scope })) listed++;
    }
    await store.close();
    expect(listed % BATCH_SIZE).toBe(0);
    expect(listed).toBe(batches.length * BATCH_SIZE);
  }
});
