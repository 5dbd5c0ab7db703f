import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './locks';

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order, and other keys alongside', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const step = (key: string, name: string) =>
      mutex.run(key, async () => {
        log.push(`start ${name}`);
        await Promise.resolve();
        await Promise.resolve();
        log.push(`end ${name}`);
      });
    await Promise.all([step('a', 'a1'), step('a', 'a2'), step('b', 'b1')]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });
});
