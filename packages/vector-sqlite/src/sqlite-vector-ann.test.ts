import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError, type Filter, type MemoryRecord, type Scope, type VectorMatch } from '@mem/core/adapter';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnnScope } from './sqlite-vector-ann';
import { SqliteVectorStore } from './sqlite-vector-store';
import { seededRandom } from '../test/seeded-random';

let directory: string;
const opened: { close(): unknown }[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'mem-vector-sqlite-ann-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const handle of opened.splice(0).reverse()) await handle.close();
  rmSync(directory, { recursive: true, force: true });
});

function track<T extends { close(): unknown }>(handle: T): T {
  opened.push(handle);
  return handle;
}

const DIMENSIONS = 24;
const NOW = 1_700_000_000_000;
const notExpired: Filter = { op: 'not', filter: { op: 'lte', field: 'expiresAt', value: NOW } };
/** Scopes of at least this many memories go to the index in these tests (the default is 50,000). */
const MIN_SCOPE = 500;

/** Vectors around `clusters` random centres: the shape of real embeddings, where nearest neighbours exist. */
function clusteredVectors(random: () => number, count: number, clusters: number): number[][] {
  const centres = Array.from({ length: clusters }, () => Array.from({ length: DIMENSIONS }, () => random() * 2 - 1));
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * clusters)]!;
    return centre.map((value) => value + (random() * 2 - 1) * 0.3);
  });
}

function record(id: string, vector: number[], scope: Scope, metadata: Record<string, unknown> = {}): MemoryRecord {
  return {
    id,
    vector,
    text: `memory ${id}`,
    hash: `hash ${id}`,
    scope,
    metadata: metadata as MemoryRecord['metadata'],
    createdAt: new Date(1),
    updatedAt: new Date(2),
    occurredAt: new Date(3),
  };
}

/** The store under test (approximate), an exact one on the same file, and a third connection that writes. */
async function openStores(path: string): Promise<{ approximate: SqliteVectorStore; exact: SqliteVectorStore; writer: SqliteVectorStore }> {
  const approximate = track(new SqliteVectorStore({ path, approximate: true, approximateMinScope: MIN_SCOPE }));
  const exact = track(new SqliteVectorStore({ path, vectorCache: false }));
  const writer = track(new SqliteVectorStore({ path, vectorCache: false }));
  await writer.ensureCollection({ dimensions: DIMENSIONS });
  return { approximate, exact, writer };
}

/** Two searches: the first ranks in SQLite and marks the scope, the second builds the index (see SqliteVectorCache.scope). */
async function warm(store: SqliteVectorStore, scope: Scope): Promise<void> {
  for (let round = 0; round < 2; round++) await store.query({ scope, vector: Array.from({ length: DIMENSIONS }, () => 1), topK: 1 });
}

const ids = (matches: VectorMatch[]): string[] => matches.map((match) => match.record.id);

describe('SqliteVectorStore approximate search', () => {
  it('finds nearly every true neighbour on clustered data, with exact scores, through the index', async () => {
    const random = seededRandom(20);
    const { approximate, exact, writer } = await openStores(join(directory, 'recall.db'));
    const scope = { userId: 'u1' };
    const vectors = clusteredVectors(random, 3000, 30);
    await writer.upsert({ records: vectors.map((vector, index) => record(`m${index}`, vector, scope)) });
    // Another user's memories near the same centres never enter u1's answers.
    await writer.upsert({ records: vectors.slice(0, 200).map((vector, index) => record(`other${index}`, vector, { userId: 'u2' })) });
    await warm(approximate, scope);
    const candidates = vi.spyOn(AnnScope.prototype, 'candidates');
    let found = 0;
    const queries = 40;
    for (let query = 0; query < queries; query++) {
      const vector = vectors[Math.floor(random() * vectors.length)]!.map((value) => value + (random() * 2 - 1) * 0.2);
      const request = { scope, vector, topK: 10 };
      const got = await approximate.query(request);
      const truth = await exact.query(request);
      expect(got).toHaveLength(10);
      const truthIds = new Set(ids(truth));
      found += ids(got).filter((id) => truthIds.has(id)).length;
      // Every score is the exact one, and the order is the exact order of what was found.
      const exactScores = new Map((await exact.query({ ...request, topK: 3200 })).map((match) => [match.record.id, match.score]));
      for (const match of got) expect(match.score).toBe(exactScores.get(match.record.id));
      expect(got.map((match) => match.score)).toEqual([...got.map((match) => match.score)].sort((a, b) => b - a));
      expect(got.every((match) => match.record.scope.userId === 'u1')).toBe(true);
    }
    expect(candidates).toHaveBeenCalledTimes(queries);
    // Small and clustered: the index should miss at most 2 of the 400 (it missed none when written).
    expect(found / (queries * 10)).toBeGreaterThanOrEqual(0.995);
  });

  it('follows another connection’s inserts, updates and deletes', async () => {
    const random = seededRandom(21);
    const { approximate, writer } = await openStores(join(directory, 'writes.db'));
    const scope = { userId: 'u1' };
    const vectors = clusteredVectors(random, 800, 8);
    await writer.upsert({ records: vectors.map((vector, index) => record(`m${index}`, vector, scope)) });
    await warm(approximate, scope);
    const candidates = vi.spyOn(AnnScope.prototype, 'candidates');
    const probe = Array.from({ length: DIMENSIONS }, (_, index) => (index % 2 === 0 ? 5 : -5));
    const top = async () => ids(await approximate.query({ scope, vector: probe, topK: 10 }))[0];
    expect(await top()).not.toBe('new');
    await writer.upsert({ records: [record('new', probe, scope)] });
    expect(await top()).toBe('new');
    // An existing memory moved onto the probe: its new vector is indexed, not its old one.
    await writer.upsert({ records: [record('m5', probe.map((value) => value * 2), scope)] });
    const both = ids(await approximate.query({ scope, vector: probe, topK: 2 }));
    expect(both.sort()).toEqual(['m5', 'new']);
    await writer.delete({ scope, ids: ['new', 'm5'] });
    expect(ids(await approximate.query({ scope, vector: probe, topK: 10 }))).not.toContain('new');
    expect(ids(await approximate.query({ scope, vector: probe, topK: 10 }))).not.toContain('m5');
    // A memory moved to another user leaves u1's index.
    await writer.upsert({ records: [record('m7', probe, { userId: 'u2' })] });
    expect(ids(await approximate.query({ scope, vector: probe, topK: 10 }))).not.toContain('m7');
    expect(candidates.mock.calls.length).toBeGreaterThanOrEqual(6);
  });

  it('applies the scope and filter exactly: expired memories, memory types, the other scope ids', async () => {
    const random = seededRandom(22);
    const { approximate, exact, writer } = await openStores(join(directory, 'filters.db'));
    const scope = { userId: 'u1' };
    const vectors = clusteredVectors(random, 1200, 10);
    await writer.upsert({
      records: vectors.map((vector, index) =>
        record(`m${index}`, vector, index % 3 === 0 ? { userId: 'u1', agentId: 'a1' } : scope, {
          ...(index % 4 === 0 ? { expiresAt: NOW - 1 } : {}),
          ...(index % 5 === 0 ? { memoryType: 'procedural' } : {}),
          ...(index % 97 === 0 ? { category: 'rare' } : {}),
        }),
      ),
    });
    await warm(approximate, scope);
    const candidates = vi.spyOn(AnnScope.prototype, 'candidates');
    const filters: Filter[] = [
      notExpired,
      { op: 'and', filters: [notExpired, { op: 'not', filter: { op: 'eq', field: 'memoryType', value: 'procedural' } }] },
      // A narrow filter: too few candidates pass, so the answer comes from the exact path.
      { op: 'eq', field: 'category', value: 'rare' },
    ];
    for (const filter of filters) {
      for (let query = 0; query < 10; query++) {
        const vector = vectors[Math.floor(random() * vectors.length)]!;
        for (const requestScope of [scope, { userId: 'u1', agentId: 'a1' }]) {
          const request = { scope: requestScope, vector, topK: 10, filter };
          const got = await approximate.query(request);
          const truth = await exact.query(request);
          const allowed = new Set(ids(await exact.query({ ...request, topK: 5000 })));
          expect(got.every((match) => allowed.has(match.record.id))).toBe(true);
          expect(got).toHaveLength(Math.min(10, allowed.size));
          if (filter.op === 'eq') expect(got).toEqual(truth);
        }
      }
    }
    expect(candidates).toHaveBeenCalled();
  });

  it('answers queryAny through the index, exact scores from the nearest of the vectors', async () => {
    const random = seededRandom(23);
    const { approximate, exact, writer } = await openStores(join(directory, 'any.db'));
    const scope = { agentId: 'a1' };
    const vectors = clusteredVectors(random, 1000, 10);
    await writer.upsert({ records: vectors.map((vector, index) => record(`m${index}`, vector, scope)) });
    await warm(approximate, scope);
    const candidates = vi.spyOn(AnnScope.prototype, 'candidates');
    let found = 0;
    for (let query = 0; query < 10; query++) {
      const request = { scope, vectors: [vectors[query * 7]!, vectors[query * 13 + 1]!], topK: 5 };
      const got = await approximate.queryAny(request);
      const truth = new Set(ids(await exact.queryAny(request)));
      found += ids(got).filter((id) => truth.has(id)).length;
    }
    expect(candidates).toHaveBeenCalledTimes(10);
    expect(found / 50).toBeGreaterThanOrEqual(0.95);
  });

  it('leaves scopes below approximateMinScope, and every scope with approximate off, exact', async () => {
    const random = seededRandom(24);
    const path = join(directory, 'off.db');
    const { approximate, exact, writer } = await openStores(path);
    const off = track(new SqliteVectorStore({ path, approximateMinScope: MIN_SCOPE }));
    const vectors = clusteredVectors(random, 700, 5);
    await writer.upsert({ records: vectors.map((vector, index) => record(`m${index}`, vector, index < 100 ? { userId: 'small' } : { userId: 'big' })) });
    for (const scope of [{ userId: 'small' }, { userId: 'big' }]) {
      await warm(approximate, scope);
      await warm(off, scope);
    }
    const candidates = vi.spyOn(AnnScope.prototype, 'candidates');
    for (let query = 0; query < 10; query++) {
      const vector = Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
      const small = { scope: { userId: 'small' }, vector, topK: 10 };
      expect(await approximate.query(small)).toEqual(await exact.query(small));
      const big = { scope: { userId: 'big' }, vector, topK: 10, filter: notExpired };
      expect(await off.query(big)).toEqual(await exact.query(big));
    }
    expect(candidates).not.toHaveBeenCalled();
  });

  it('checks its options', () => {
    for (const [options, field] of [
      [{ approximate: 'yes' }, 'options.approximate'],
      [{ approximateMinScope: 0 }, 'options.approximateMinScope'],
      [{ approximateMinScope: 2.5 }, 'options.approximateMinScope'],
      [{ approximateMinScope: '50000' }, 'options.approximateMinScope'],
    ] as const) {
      let caught: unknown;
      try {
        new SqliteVectorStore({ path: ':memory:', ...(options as object) });
      } catch (error) {
        caught = error;
      }
      expect(MemError.is(caught) && caught.code).toBe('INVALID_INPUT');
      expect((caught as Error).message).toContain(field);
    }
  });
});
