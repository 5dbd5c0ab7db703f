import { describe, expect, it } from 'vitest';
import { hashText, uuidv7 } from './ids';
import { KeyedMutex } from './lock';

describe('uuidv7', () => {
  it('makes valid version 7 UUIDs that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('hashText', () => {
  it('ignores surrounding whitespace and Unicode normalisation form', () => {
    expect(hashText(' Café ')).toBe(hashText('Cafe\u0301'));
    expect(hashText('a')).not.toBe(hashText('b'));
  });
});

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
