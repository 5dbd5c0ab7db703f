import { createHash } from 'node:crypto';
import { MemError, throwIfAborted } from '@mem/core/adapter';
import type pg from 'pg';
import { sqlState, toPostgresError } from './postgres-errors';

/** Default of {@link PostgresAdvisoryLocks}' `timeoutMs`. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * Exclusive locks on string keys shared by every process using one PostgreSQL database, built on
 * session-level advisory locks (`pg_advisory_lock`). A holder keeps one pooled connection for as
 * long as it holds its keys; a process that dies loses its connection, and the server releases its
 * locks at once, so a crash never leaves a key locked.
 *
 * Keys are hashed to 64 bits with the `namespace` (e.g. the history table), taken in sorted order
 * (callers that need overlapping sets never wait on each other in a cycle; PostgreSQL's deadlock
 * detector is the backstop), and released in reverse. At most half the pool's connections hold
 * locks at once, so holders always find connections for the work they lock.
 */
export class PostgresAdvisoryLocks {
  private readonly slots: number;
  private held = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly namespace: string,
    private readonly timeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
  ) {
    const max = (pool as { options?: { max?: unknown } }).options?.max;
    this.slots = Math.max(1, Math.floor((typeof max === 'number' && max > 0 ? max : 10) / 2));
  }

  /**
   * Runs `work` holding every key, in every process on the database.
   * @throws {MemError} with code `CONFLICT` when the keys are not free within `timeoutMs` (nothing ran).
   */
  async run<T>(keys: readonly string[], work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    if (sorted.length === 0) return work();
    await this.takeSlot();
    let client: pg.PoolClient | undefined;
    let lost: Error | undefined;
    // A connection that drops while it sits idle holding the locks emits 'error'; without a listener
    // that would crash the process. The server released the locks with the session.
    const onError = (error: Error) => {
      lost = error;
    };
    const taken: string[] = [];
    try {
      throwIfAborted(signal, 'postgres lock');
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw toPostgresError(error, 'lock');
      }
      client.on('error', onError);
      await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(this.timeoutMs))}`).catch((error: unknown) => {
        throw toPostgresError(error, 'lock');
      });
      for (const key of sorted) {
        const id = this.lockId(key);
        try {
          await client.query('SELECT pg_advisory_lock($1::bigint)', [id]);
        } catch (error) {
          if (sqlState(error) === '55P03' || sqlState(error) === '40P01') {
            throw new MemError(
              'CONFLICT',
              `Another writer held a lock of this memory for more than ${this.timeoutMs} ms (another process on the same database, or a stuck call). Nothing was written; retry the call.`,
              { cause: error },
            );
          }
          throw toPostgresError(error, 'lock');
        }
        taken.push(id);
      }
      return await work();
    } finally {
      let broken: Error | undefined = lost;
      if (client && broken === undefined) {
        try {
          for (const id of taken.reverse()) await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]);
          await client.query('RESET lock_timeout');
        } catch (error) {
          // The session is unusable: discarding the connection ends it, which releases its locks.
          broken = error as Error;
        }
      }
      if (client) {
        client.removeListener('error', onError);
        client.release(broken);
      }
      this.releaseSlot();
    }
  }

  /** The advisory lock id of a key: the first 64 bits of SHA-256 over the namespace and the key, signed. */
  lockId(key: string): string {
    const digest = createHash('sha256').update(this.namespace).update('\u0000').update(key).digest();
    return digest.readBigInt64BE(0).toString();
  }

  private takeSlot(): Promise<void> {
    if (this.held < this.slots) {
      this.held += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.held -= 1;
  }
}
