import { MemError, hashText, type MemoryRecord } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { ABSENT, decodeRecord, encodeRecord, validateRecord } from './chroma-record-codec';

function record(fields: Partial<MemoryRecord> = {}): MemoryRecord {
  return {
    id: 'id-1',
    vector: [0.6, 0.8],
    text: 'Likes green tea',
    hash: hashText('Likes green tea'),
    scope: { userId: 'u1', runId: 'r1' },
    metadata: { category: 'food', rating: 4.5, vegan: false, tags: ['tea', 'drinks'] },
    createdAt: new Date(Date.UTC(2024, 4, 17, 9, 30, 15, 123)),
    updatedAt: new Date(Date.UTC(2024, 4, 18, 9, 30, 15, 456)),
    occurredAt: new Date(Date.UTC(2024, 4, 16, 18, 5, 59, 987)),
    ...fields,
  };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return MemError.is(error) ? error.code : 'not a MemError';
  }
  return undefined;
}

describe('encodeRecord', () => {
  it('stores scalars under their own keys, arrays as JSON, mem fields under mem: keys and an absent scope id as false', () => {
    const row = encodeRecord(record());
    expect(row).toEqual({
      id: 'id-1',
      embedding: [0.6, 0.8],
      document: 'Likes green tea',
      metadata: {
        category: 'food',
        rating: 4.5,
        vegan: false,
        'mem:userId': 'u1',
        'mem:agentId': false,
        'mem:runId': 'r1',
        'mem:hash': hashText('Likes green tea'),
        'mem:createdAt': Date.UTC(2024, 4, 17, 9, 30, 15, 123),
        'mem:updatedAt': Date.UTC(2024, 4, 18, 9, 30, 15, 456),
        'mem:occurredAt': Date.UTC(2024, 4, 16, 18, 5, 59, 987),
        'mem:keys': '["category","rating","vegan"]',
        'mem:arrays': '{"tags":["tea","drinks"]}',
      },
    });
  });

  it('overwrites the user keys of the stored version that the new version lacks, since Chroma merges metadata', () => {
    const previous = encodeRecord(record({ metadata: { stale: 7, kept: 'x', list: 'now an array' } })).metadata;
    const row = encodeRecord(record({ metadata: { kept: 'y', list: ['a'] } }), previous);
    expect(row.metadata.stale).toBe(ABSENT);
    expect(row.metadata.list).toBe(ABSENT);
    expect(row.metadata.kept).toBe('y');
    expect(decodeRecord({ id: row.id, embedding: row.embedding, document: row.document, metadata: row.metadata }, 'get').metadata).toEqual({
      kept: 'y',
      list: ['a'],
    });
  });
});

describe('decodeRecord', () => {
  it('round-trips every field, including false values, empty metadata and empty text', () => {
    for (const original of [
      record(),
      record({ metadata: {}, text: '', scope: { agentId: 'a' } }),
      record({ metadata: { no: false, zero: 0, empty: '' } }),
    ]) {
      const row = encodeRecord(original);
      expect(decodeRecord({ id: row.id, embedding: row.embedding, document: row.document, metadata: row.metadata }, 'get')).toEqual(
        original,
      );
    }
  });

  it('rejects records mem did not write with PROVIDER_RESPONSE_INVALID naming the id', () => {
    const good = encodeRecord(record()).metadata;
    const broken: Record<string, unknown>[] = [
      { plain: 'foreign' },
      { ...good, 'mem:hash': undefined },
      { ...good, 'mem:createdAt': 'yesterday' },
      { ...good, 'mem:keys': 'not json' },
      { ...good, 'mem:keys': '["missing"]' },
      { ...good, 'mem:arrays': '{"tags":[1]}' },
    ];
    for (const metadata of broken) {
      const action = () => decodeRecord({ id: 'foreign-1', embedding: [1, 0], document: 'x', metadata }, 'list');
      expect(codeOf(action)).toBe('PROVIDER_RESPONSE_INVALID');
      expect(action).toThrow(/record "foreign-1"/);
    }
    expect(codeOf(() => decodeRecord({ id: 'x', embedding: [1, 0], document: 'x', metadata: null }, 'get'))).toBe(
      'PROVIDER_RESPONSE_INVALID',
    );
    expect(codeOf(() => decodeRecord({ id: 'x', embedding: undefined, document: 'x', metadata: good }, 'get'))).toBe(
      'PROVIDER_RESPONSE_INVALID',
    );
  });
});

describe('validateRecord', () => {
  it('accepts a well-formed record', () => {
    expect(codeOf(() => validateRecord(record(), 0, 2, 'The collection'))).toBeUndefined();
  });

  it('throws DIMENSION_MISMATCH for a vector of another length', () => {
    expect(codeOf(() => validateRecord(record({ vector: [1, 0, 0] }), 0, 2, 'The collection'))).toBe('DIMENSION_MISMATCH');
  });

  it('throws INVALID_INPUT naming the field for what Chroma could not store faithfully', () => {
    const cases: [Partial<MemoryRecord>, RegExp][] = [
      [{ metadata: { 'mem:userId': 'spoof' } }, /records\[3\]\.metadata\.mem:userId/],
      [{ metadata: { 'chroma:x': 1 } }, /records\[3\]\.metadata\.chroma:x/],
      [{ metadata: { n: Number.NaN } }, /records\[3\]\.metadata\.n/],
      [{ metadata: { nested: { a: 1 } as never } }, /records\[3\]\.metadata\.nested/],
      [{ vector: [1, Number.POSITIVE_INFINITY] }, /records\[3\]\.vector/],
      [{ scope: {} }, /records\[3\]\.scope/],
      [{ createdAt: new Date(Number.NaN) }, /records\[3\]\.createdAt/],
      [{ id: '' }, /records\[3\]\.id/],
    ];
    for (const [fields, message] of cases) {
      const action = () => validateRecord(record(fields), 3, 2, 'The collection');
      expect(codeOf(action)).toBe('INVALID_INPUT');
      expect(action).toThrow(message);
    }
  });
});
