import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { MemError, throwIfAborted } from '@mem/core/adapter';
import type pg from 'pg';
import { sqlState, toPostgresError } from './postgres-errors';
import { withTransaction } from './postgres-migrations';

/** Default of {@link PostgresAdvisoryLocks}' `timeoutMs`. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * The connection holding a write's locks ended while the write ran (server restart, network
 * failure, `pg_terminate_backend`, an idle-session timeout), so the server released the locks and
 * another process may hold them now. The write's statements that had to run under the locks
 * were refused, or rolled back with the session, instead of racing that process. Code `CONFLICT`;
 * retry the call. A change whose vector write had started may be left pending in the history:
 * `Memory.recover()` settles it by what the vector store holds.
 */
export class LockLostError extends MemError {
  constructor(options?: { cause?: unknown }) {
    super(
      'CONFLICT',
      "The PostgreSQL connection holding this write's lock ended while the write ran (server restart, network, pg_terminate_backend or a session timeout), so another writer may hold the lock now. The write was stopped before committing its history; retry the call (Memory.recover() settles anything it left pending).",
      options,
    );
  }
}

/** What one `run` holds: its connection, the lock ids taken on it, and whether the connection was lost. */
interface Holding {
  readonly owner: PostgresAdvisoryLocks;
  readonly client: pg.PoolClient;
  readonly taken: string[];
  lost: Error | undefined;
  /** Set when `run` has ended: a task `work` left running afterwards must not use the connection (back in the pool by then). */
  released: boolean;
  /** Statements of one holder run one at a time on its connection (a transaction is never interleaved). */
  tail: Promise<unknown>;
}

/** The locks the current asynchronous call chain holds (one `run`, and the `run`s nested in it). */
const holdings = new AsyncLocalStorage<Holding>();

/**
 * Exclusive locks on string keys shared by every process using one PostgreSQL database, built on
 * session-level advisory locks (`pg_advisory_lock`). A holder keeps one pooled connection for as
 * long as it holds its keys; a process that dies loses its connection, and the server releases its
 * locks at once, so a crash never leaves a key locked.
 *
 * Fencing: a write that must only happen under the locks goes through {@link transaction}, which,
 * inside `run`, executes on the holder's own connection. The session that holds the locks is the
 * one that commits, so a commit can only succeed while the locks are held; when the connection
 * ends, the server rolls the transaction back with the session and the write fails with
 * {@link LockLostError} instead of racing the process that takes the locks next. A `run` nested in
 * another of the same instance takes its extra keys on the same connection.
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
   * @throws {LockLostError} when nested in a `run` whose connection has ended (nothing ran).
   */
  async run<T>(keys: readonly string[], work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const outer = holdings.getStore();
    if (outer?.owner === this && !outer.released) return this.runNested(outer, sorted, work, signal);
    if (sorted.length === 0) return work();
    await this.takeSlot();
    let client: pg.PoolClient | undefined;
    let holding: Holding | undefined;
    // A connection that drops while it sits idle holding the locks emits 'error'; without a listener
    // that would crash the process. The server released the locks with the session.
    const onError = (error: Error) => {
      if (holding) holding.lost ??= error;
    };
    try {
      throwIfAborted(signal, 'postgres lock');
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw toPostgresError(error, 'lock');
      }
      holding = { owner: this, client, taken: [], lost: undefined, released: false, tail: Promise.resolve() };
      client.on('error', onError);
      await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(this.timeoutMs))}`).catch((error: unknown) => {
        throw toPostgresError(error, 'lock');
      });
      await this.take(client, sorted, holding.taken);
      return await holdings.run(holding, work);
    } finally {
      if (holding) {
        holding.released = true;
        // Statements `work` started on the connection without awaiting them finish before the unlock.
        await holding.tail;
      }
      let broken: Error | undefined = holding?.lost;
      if (client && broken === undefined) {
        try {
          for (const id of [...(holding?.taken ?? [])].reverse()) await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]);
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

  /**
   * Runs `work` in one transaction that commits only while this call chain's locks are held: inside
   * {@link run} (of this instance) on the holder's connection, one statement at a time; outside it,
   * on a connection of the pool. `work` must only use the client it is given.
   * @throws {LockLostError} when the holder's connection ended before or during the transaction
   * (it was not committed, or, if the connection ended while COMMIT was answered, may have been).
   */
  async transaction<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const holding = holdings.getStore();
    if (holding?.owner !== this || holding.released) return withTransaction(this.pool, work);
    return this.onHolder(holding, (client) => inTransaction(client, work));
  }

  /** Takes `ids` of `keys` on `client`, in order, adding each to `taken` once held. */
  private async take(client: pg.PoolClient, keys: readonly string[], taken: string[]): Promise<void> {
    for (const key of keys) {
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
  }

  /** A `run` inside another: its keys are taken on the outer holder's connection, and released after `work`. */
  private async runNested<T>(outer: Holding, sorted: readonly string[], work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal, 'postgres lock');
    const taken: string[] = [];
    await this.onHolder(outer, (client) => this.take(client, sorted, taken));
    try {
      return await work();
    } finally {
      if (taken.length > 0 && outer.lost === undefined) {
        // A failed unlock means the session is gone (and its locks with it); `run` discards it.
        await this.onHolder(outer, async (client) => {
          for (const id of taken.reverse()) await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]);
        }).catch(() => undefined);
      }
    }
  }

  /** Runs `work` on the holder's connection after the holder's earlier statements; a lost connection gives {@link LockLostError}. */
  private onHolder<T>(holding: Holding, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const next = holding.tail.then(async () => {
      if (holding.lost) throw new LockLostError({ cause: holding.lost });
      try {
        return await work(holding.client);
      } catch (error) {
        if (holding.lost || isConnectionLoss(error)) {
          holding.lost ??= error as Error;
          throw new LockLostError({ cause: error });
        }
        throw error;
      }
    });
    holding.tail = next.catch(() => undefined);
    return next;
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

/** BEGIN, `work`, COMMIT on the holder's `client`; ROLLBACK on failure (a lost session has rolled back already). */
async function inTransaction<T>(client: pg.ClientBase, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Whether a failure means the session ended: SQLSTATE class 08 or 57P01–57P03, or node-postgres' own connection errors (no SQLSTATE). */
function isConnectionLoss(error: unknown): boolean {
  if (MemError.is(error)) return false;
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|not queryable|ECONNRESET|EPIPE/i.test(message);
}
