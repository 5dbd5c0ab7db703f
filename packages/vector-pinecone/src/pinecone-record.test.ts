import { MemError, type MemoryRecord } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { MAX_METADATA_BYTES, decodeRecord, encodeRecord, fromStoredId, storedScope, toStoredId } from './pinecone-record';

const record: MemoryRecord = {
  id: 'mem-1',
  vector: [0.5, -0.25, 1],
  text: 'Is vegetarian',
  hash: 'a1b2',
  scope: { userId: 'u1', runId: 'r1' },
  metadata: { category: 'food', rating: 4.5, vegan: true, tags: ['diet'], _mem_text: 'user key that looks reserved' },
  createdAt: new Date(Date.UTC(2024, 4, 17, 9, 30, 15, 123)),
  updatedAt: new Date(Date.UTC(2024, 4, 18, 9, 30, 15, 124)),
  occurredAt: new Date(Date.UTC(2024, 4, 16, 18, 5, 59, 987)),
};

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return MemError.is(error) ? error.code : 'NOT_A_MEM_ERROR';
  }
  return undefined;
}

describe('encodeRecord', () => {
  it('stores text, hash, scope ids and epoch-ms dates under _mem_ keys beside the user keys', () => {
    expect(encodeRecord(record, 'records[0]', 3)).toMatchInlineSnapshot(`
      {
        "id": "mem-1",
        "metadata": {
          "_mem__mem_text": "user key that looks reserved",
          "_mem_createdAt": 1715938215123,
          "_mem_hash": "a1b2",
          "_mem_occurredAt": 1715882759987,
          "_mem_runId": "r1",
          "_mem_text": "Is vegetarian",
          "_mem_updatedAt": 1716024615124,
          "_mem_userId": "u1",
          "category": "food",
          "rating": 4.5,
          "tags": [
            "diet",
          ],
          "vegan": true,
        },
        "values": [
          0.5,
          -0.25,
          1,
        ],
      }
    `);
  });

  it('round-trips through decodeRecord, including a user key that starts with _mem_', () => {
    const stored = encodeRecord(record, 'records[0]', 3);
    expect(decodeRecord(stored, 'get')).toEqual(record);
    expect(storedScope(stored.metadata)).toEqual({ userId: 'u1', runId: 'r1' });
  });

  it('rejects what Pinecone cannot store, naming the field, before anything is sent', () => {
    expect(codeOf(() => encodeRecord({ ...record, vector: [1, 2] }, 'records[0]', 3))).toBe('DIMENSION_MISMATCH');
    expect(codeOf(() => encodeRecord({ ...record, vector: [1, Number.NaN, 0] }, 'records[0]', 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => encodeRecord({ ...record, vector: [1, 1e39, 0] }, 'records[0]', 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => encodeRecord({ ...record, id: 'x'.repeat(513) }, 'records[0]', 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => encodeRecord({ ...record, scope: {} }, 'records[0]', 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => encodeRecord({ ...record, metadata: { 'bad key': 1 } }, 'records[0]', 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => encodeRecord({ ...record, metadata: { nested: { a: 1 } as never } }, 'records[0]', 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => encodeRecord({ ...record, createdAt: new Date(Number.NaN) }, 'records[0]', 3))).toBe('INVALID_INPUT');
  });

  it("enforces Pinecone's 40 KB metadata limit on everything stored, with a message naming the fix", () => {
    const fits = { ...record, text: 'x'.repeat(MAX_METADATA_BYTES - 600) };
    expect(() => encodeRecord(fits, 'records[2]', 3)).not.toThrow();
    let thrown: unknown;
    try {
      encodeRecord({ ...record, text: 'é'.repeat(MAX_METADATA_BYTES / 2) }, 'records[2]', 3);
    } catch (error) {
      thrown = error;
    }
    expect(MemError.is(thrown, 'INVALID_INPUT')).toBe(true);
    expect((thrown as Error).message).toMatch(
      /^Invalid records\[2\]\.metadata: .* more than Pinecone's limit of 40960 per record\. Shorten the memory text or the metadata values\.$/,
    );
    // The memory text itself never appears in the message.
    expect((thrown as Error).message).not.toContain('éé');
  });
});

describe('stored ids', () => {
  it('leave printable ASCII ids alone and percent-encode the rest, reversibly', () => {
    for (const id of [
      '0190a1b2-0000-7000-8000-00000000002a',
      'mem_1',
      'it\'s "quoted"',
      'with space',
      '100%',
      '%41',
      'Zoë',
      '🍣',
      'tab\there',
      'x'.repeat(512),
    ]) {
      const stored = toStoredId(id)!;
      expect(stored).toMatch(/^[!-~]+$/);
      expect(fromStoredId(stored)).toBe(id);
    }
    expect(toStoredId('0190a1b2-0000-7000-8000-00000000002a')).toBe('0190a1b2-0000-7000-8000-00000000002a');
    expect(toStoredId('with space')).toBe('with%20space');
  });

  it('refuse ids Pinecone cannot hold: empty, lone surrogates, over 512 characters once encoded', () => {
    expect(toStoredId('')).toBeUndefined();
    expect(toStoredId('\uD800')).toBeUndefined();
    expect(toStoredId('é'.repeat(100))).toBeUndefined();
    expect(codeOf(() => encodeRecord({ ...record, id: 'é'.repeat(100) }, 'records[0]', 3))).toBe('INVALID_INPUT');
  });
});

describe('decodeRecord', () => {
  it('treats a record without mem fields as an unusable answer, not a TypeError', () => {
    expect(codeOf(() => decodeRecord({ id: 'foreign', values: [1, 0, 0], metadata: { genre: 'drama' } }, 'get'))).toBe(
      'PROVIDER_RESPONSE_INVALID',
    );
    expect(codeOf(() => decodeRecord({ id: 'no-values', metadata: {} }, 'get'))).toBe('PROVIDER_RESPONSE_INVALID');
    const stored = encodeRecord(record, 'r', 3);
    expect(codeOf(() => decodeRecord({ ...stored, metadata: { ...stored.metadata, _mem_createdAt: 'yesterday' } }, 'get'))).toBe(
      'PROVIDER_RESPONSE_INVALID',
    );
  });
});
