import { scopeKey } from '../contract/scope';
import type { Scope } from '../contract/types';

/**
 * Serialises async work per key within this process: callers with the same key run one after
 * another, in arrival order; different keys run concurrently. Keys are dropped when idle.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Runs `work` holding every key. Keys are taken in sorted order, so callers that need
   * overlapping sets never wait on each other in a cycle; a caller holding keys may take more
   * only if they sort after every key it holds.
   */
  async runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const take = (index: number): Promise<T> => (index === sorted.length ? work() : this.run(sorted[index]!, () => take(index + 1)));
    return take(0);
  }
}

/** Lock of a scope: adds and deleteAlls of one scope run one at a time. Sorts before every record lock. */
export function scopeLock(scope: Scope): string {
  return `0|${scopeKey(scope)}`;
}

/** Lock of one memory: changes to it run one at a time, whatever scope they come through. */
export function recordLock(id: string): string {
  return `1|${id}`;
}
