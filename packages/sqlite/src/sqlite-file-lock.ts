import { AsyncLocalStorage } from 'node:async_hooks';
import { MemError, throwIfAborted } from '@mem/core/adapter';
import Database from 'better-sqlite3';

/** Default of {@link SqliteFileLock}'s `timeoutMs`. */
export const DEFAULT_FILE_LOCK_TIMEOUT_MS = 30_000;
/** How long one process keeps the lock for new callers before it lets other processes have a turn. */
const MAX_SHARED_HOLD_MS = 100;

const locks = new Map<string, SqliteFileLock>();
/** The locks the current async call chain holds: a nested `run` joins instead of waiting for itself. */
const holding = new AsyncLocalStorage<ReadonlySet<SqliteFileLock>>();

/**
 * A lock that excludes other processes using the same SQLite database file: an open `BEGIN
 * IMMEDIATE` transaction on a companion file (`<database>.lock`), which SQLite's own file locking
 * makes exclusive across processes (and the operating system releases when a process dies, so a
 * crash never leaves it held). The companion file keeps the database itself free for the stores'
 * own writes while the lock is held.
 *
 * Within a process the lock is shared: callers that hold it at the same time all run (core's
 * per-scope and per-memory locks order them); after {@link MAX_SHARED_HOLD_MS} new callers wait
 * until it is released, so another process gets its turn. One instance per file and process:
 * use {@link SqliteFileLock.for}.
 */
export class SqliteFileLock {
  private connection: Database.Database | undefined;
  private holders = 0;
  private heldSince = 0;
  private acquiring: Promise<void> | undefined;
  private released: (() => void)[] = [];

  private constructor(
    /** The companion lock file. */
    readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  /** The lock of the database file `databasePath` (absolute or relative to the working directory). */
  static for(databasePath: string, timeoutMs = DEFAULT_FILE_LOCK_TIMEOUT_MS): SqliteFileLock {
    const path = `${databasePath}.lock`;
    let lock = locks.get(path);
    if (!lock) {
      lock = new SqliteFileLock(path, timeoutMs);
      locks.set(path, lock);
    }
    return lock;
  }

  /**
   * Runs `work` while this process holds the file lock.
   * @throws {MemError} with code `CONFLICT` when another process held it for more than `timeoutMs` (nothing ran).
   */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const held = holding.getStore();
    if (held?.has(this)) return work();
    await this.acquire(signal);
    try {
      return await holding.run(new Set([...(held ?? []), this]), work);
    } finally {
      this.release();
    }
  }

  private async acquire(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      throwIfAborted(signal, 'sqlite lock');
      if (this.holders > 0 && Date.now() - this.heldSince < MAX_SHARED_HOLD_MS) {
        this.holders += 1;
        return;
      }
      if (this.holders > 0) {
        // Held too long by this process: wait for the release, then compete again.
        await new Promise<void>((resolve) => this.released.push(resolve));
        continue;
      }
      this.acquiring ??= this.take().finally(() => {
        this.acquiring = undefined;
      });
      await this.acquiring;
      if (this.holders === 0) this.heldSince = Date.now();
      this.holders += 1;
      return;
    }
  }

  /** BEGIN IMMEDIATE on the companion file, retried with a growing pause (never blocking the event loop). */
  private async take(): Promise<void> {
    this.connection ??= new Database(this.path, { timeout: 0 });
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        this.connection.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
        if (Date.now() > deadline) {
          throw new MemError(
            'CONFLICT',
            `Another process held the write lock of this SQLite database for more than ${this.timeoutMs} ms. Nothing was written; retry the call.`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(20, 1 + attempt)));
      }
    }
  }

  private release(): void {
    this.holders -= 1;
    if (this.holders > 0) return;
    // ROLLBACK, not COMMIT: the lock's transaction writes nothing, and a COMMIT answers SQLITE_BUSY
    // while another process holds the companion file's shared lock for a moment (as every `take()`
    // of theirs does), which would leave the lock held and fail a write that already happened.
    this.connection?.exec('ROLLBACK');
    const waiting = this.released;
    this.released = [];
    for (const resolve of waiting) resolve();
  }
}
