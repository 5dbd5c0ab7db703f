import { randomUUID } from 'node:crypto';
import { compareIds } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { firstUuidAfter, isNativePointId, toPointId } from './qdrant-point-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('toPointId', () => {
  it('keeps canonical UUIDs (any version) as the point id', () => {
    for (const id of ['018f0001-0000-7000-8000-000000000001', '00000000-0000-0000-0000-000000000000', randomUUID()]) {
      expect(isNativePointId(id)).toBe(true);
      expect(toPointId(id)).toBe(id);
    }
  });

  it('derives a stable version-5-layout UUID for every other id, distinct per id', () => {
    const others = ['a', 'A', 'note-1', '018F0001-0000-7000-8000-000000000001', '{018f0001-0000-7000-8000-000000000001}', '42', '😀', ' '];
    const derived = others.map(toPointId);
    for (const [index, id] of others.entries()) {
      expect(isNativePointId(id)).toBe(false);
      expect(derived[index]).toMatch(UUID);
      expect(derived[index]![14]).toBe('5');
      expect(toPointId(id)).toBe(derived[index]);
    }
    expect(new Set(derived).size).toBe(others.length);
    // Pinned: a changed derivation would orphan every stored point with a non-UUID id. The value is
    // a standard UUID v5 (Python: uuid.uuid5(UUID('6b1f7c2e-94d5-4a0f-b8e3-5d6a0c4f2e91'), 'note-1')).
    expect(toPointId('note-1')).toBe('f387c958-9cc8-59dc-b75c-ff24de55050d');
  });
});

describe('firstUuidAfter', () => {
  it('is the smallest canonical UUID greater than the cursor, for any cursor string', () => {
    const uuids = Array.from({ length: 300 }, (_, index) =>
      index % 3 === 0 ? randomUUID() : `${'0123456789abcdef'[index % 16]}${randomUUID().slice(1, 30)}${'0'.repeat(6)}`,
    );
    uuids.push('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    uuids.sort(compareIds);
    const cursors = [
      '',
      '-',
      '0',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      'ffffffff-ffff-ffff-ffff-fffffffffffg',
      'g',
      'A',
      '~',
      ...uuids.slice(0, 40),
      ...uuids.slice(0, 40).map((id) => `${id}x`),
      ...uuids.slice(0, 40).map((id) => id.slice(0, 1 + (id.charCodeAt(5) % 35))),
      ...uuids.slice(0, 40).map((id) => `${id.slice(0, 10)}z`),
      ...uuids.slice(0, 40).map((id) => `${id.slice(0, 8)}_`),
    ];
    for (const cursor of cursors) {
      const bound = firstUuidAfter(cursor);
      if (bound === undefined) {
        expect(cursor >= 'ffffffff-ffff-ffff-ffff-ffffffffffff', `no UUID after ${cursor}`).toBe(true);
        continue;
      }
      expect(bound).toMatch(UUID);
      expect(compareIds(bound, cursor), `bound ${bound} after ${cursor}`).toBe(1);
      // Every stored UUID after the cursor is at or after the bound, and none between them is skipped.
      expect(uuids.filter((id) => compareIds(id, cursor) > 0)).toEqual(uuids.filter((id) => compareIds(id, bound) >= 0));
    }
  });
});
