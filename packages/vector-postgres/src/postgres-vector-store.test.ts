import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemError, type MemoryRecord, type Scope, hashText } from '@mem/core/adapter';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PostgresVectorStore } from './postgres-vector-store';

const url = inject('postgresUrl');
const skip = inject('postgresSkip');

function unitVector(seed: number, dimensions: number): number[] {
  let state = seed >>> 0;
  const values = Array.from({ length: dimensions }, () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

function record(n: number, scope: Scope, dimensions: number, fields: Partial<MemoryRecord> = {}): MemoryRecord {
  const text = fields.text ?? `memory ${n}`;
  return {
    id: `id-${String(n).padStart(6, '0')}`,
    vector: unitVector(n, dimensions),
    text,
    hash: hashText(text),
    scope,
    metadata: {},
    createdAt: new Date(Date.UTC(2024, 0, 1) + n),
    updatedAt: new Date(Date.UTC(2024, 0, 2) + n),
    occurredAt: new Date(Date.UTC(2024, 0, 3) + n),
    ...fields,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

function table(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

describe('PostgresVectorStore options (no server)', () => {
  it('refuses both a connection string and a pool, bad names and bad numbers, naming the option', () => {
    const pool = new pg.Pool();
    const cases: [Record<string, unknown>, string][] = [
      [{ connectionString: 'postgres://x', pool }, 'options'],
      [{ connectionString: '' }, 'options.connectionString'],
      [{ pool: {} }, 'options.pool'],
      [{ pool, maxConnections: 3 }, 'options.maxConnections'],
      [{ connectionString: 'postgres://x', table: 'memories"; DROP TABLE x; --' }, 'options.table'],
      [{ connectionString: 'postgres://x', table: 'pg_memories' }, 'options.table'],
      [{ connectionString: 'postgres://x', schema: 'a b' }, 'options.schema'],
      [{ connectionString: 'postgres://x', textSearchConfig: "english'); DROP TABLE x; --" }, 'options.textSearchConfig'],
      [{ connectionString: 'postgres://x', exactSearchLimit: -1 }, 'options.exactSearchLimit'],
      [{ connectionString: 'postgres://x', efSearch: 0 }, 'options.efSearch'],
      [{ connectionString: 'postgres://x', iterativeScan: 'off' }, 'options.iterativeScan'],
      [{ connectionString: 'postgres://x', maxScanTuples: 0 }, 'options.maxScanTuples'],
      [{ connectionString: 'postgres://x', hnswM: 16, hnswEfConstruction: 20 }, 'options.hnswEfConstruction'],
    ];
    for (const [options, field] of cases) {
      assert.throws(
        () => new PostgresVectorStore(options),
        (error: unknown) => MemError.is(error, 'INVALID_INPUT') && (error as { field?: string }).field === field,
        `options ${JSON.stringify(Object.keys(options))} should be refused naming ${field}`,
      );
    }
    void pool.end();
  });

  it('a server that is not listening: a retryable ProviderRequestError that does not show the password', async () => {
    const store = new PostgresVectorStore({ connectionString: 'postgres://mem:sup3r-secret@127.0.0.1:1/mem' });
    try {
      await store.ensureCollection({ dimensions: 8 });
      assert.fail('ensureCollection should have failed');
    } catch (error) {
      assert.ok(MemError.is(error, 'PROVIDER_REQUEST_FAILED'), String(error));
      assert.equal((error as { retryable?: boolean }).retryable, true);
      assert.doesNotMatch((error as Error).message, /sup3r-secret/);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(skip !== '')(`PostgresVectorStore on a real PostgreSQL 15 + pgvector 0.8.6${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let admin: pg.Pool;
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await admin.end();
  });

  async function indexScans(name: string): Promise<number> {
    const result = await admin.query<{ scans: string }>('SELECT idx_scan AS scans FROM pg_stat_user_indexes WHERE indexrelname = $1', [
      name,
    ]);
    return Number(result.rows[0]?.scans ?? 0);
  }

  /** The index's scan count after the backend of `pool` (one connection) has flushed its statistics (PostgreSQL 15+). */
  async function flushedIndexScans(pool: pg.Pool, name: string): Promise<number> {
    await pool.query('SELECT pg_stat_force_next_flush()');
    await pool.query('SELECT 1');
    return indexScans(name);
  }

  it('eight stores on separate pools create one table at once: one layout version, every index, no error', async () => {
    const name = table();
    const stores = Array.from({ length: 8 }, () => new PostgresVectorStore({ connectionString: url, table: name, maxConnections: 2 }));
    try {
      await Promise.all(stores.map((store) => store.ensureCollection({ dimensions: 16 })));
      const versions = await admin.query('SELECT version, settings FROM mem_schema_versions WHERE component = $1', [`vector:${name}`]);
      assert.deepEqual(versions.rows, [{ version: 1, settings: { dimensions: 16, textSearchConfig: 'simple' } }]);
      const indexes = await admin.query<{ indexname: string; indexdef: string }>(
        'SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
        [name],
      );
      const definitions = new Map(indexes.rows.map((row) => [row.indexname, row.indexdef]));
      assert.match(definitions.get(`${name}_embedding`) ?? '', /USING hnsw \(embedding vector_cosine_ops\)/);
      assert.match(definitions.get(`${name}_metadata`) ?? '', /USING gin \(metadata jsonb_path_ops\)/);
      assert.match(definitions.get(`${name}_text_search`) ?? '', /USING gin \(text_search\)/);
      for (const column of ['user_id', 'agent_id', 'run_id']) assert.ok(definitions.has(`${name}_${column}`), `index on ${column}`);
      const column = await admin.query<{ type: string }>(
        "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'",
        [name],
      );
      assert.equal(column.rows[0]?.type, 'vector(16)');
      // A store for another embedder is refused, and the table is left as it was.
      const other = new PostgresVectorStore({ connectionString: url, table: name });
      await expect(other.ensureCollection({ dimensions: 32 })).rejects.toSatisfy((error: unknown) =>
        MemError.is(error, 'DIMENSION_MISMATCH'),
      );
      await other.close();
    } finally {
      await stores[0]!.dropCollection();
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('the keyword language is fixed at creation: english stems words; a store asking for another is refused', async () => {
    const name = table();
    const english = new PostgresVectorStore({ connectionString: url, table: name, textSearchConfig: 'english' });
    try {
      await english.ensureCollection({ dimensions: 8 });
      const scope = { userId: 'u1' };
      await english.upsert({
        records: [record(1, scope, 8, { text: 'Goes running every morning' }), record(2, scope, 8, { text: 'Plays the cello' })],
      });
      const matches = await english.keywordQuery({ scope, text: 'runs', topK: 5 });
      assert.deepEqual(
        matches.map((match) => match.record.text),
        ['Goes running every morning'],
      );
      const simple = new PostgresVectorStore({ connectionString: url, table: name, textSearchConfig: 'simple' });
      await expect(simple.ensureCollection({ dimensions: 8 })).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'INVALID_INPUT') && (error as { field?: string }).field === 'options.textSearchConfig',
      );
      await simple.close();
      const missing = new PostgresVectorStore({ connectionString: url, table: table(), textSearchConfig: 'klingon' });
      await expect(missing.ensureCollection({ dimensions: 8 })).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'INVALID_INPUT') && /klingon/.test((error as Error).message),
      );
      await missing.close();
    } finally {
      await english.dropCollection();
      await english.close();
    }
  });

  it(
    'a large scope is searched through the HNSW index (recall@10 against exact ≥ 0.9), a small one exactly, without the index',
    { timeout: 120_000 },
    async () => {
      const name = table();
      const dimensions = 32;
      // One connection, so the test can flush its statistics (index scans) when it needs to read them.
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const store = new PostgresVectorStore({ pool, table: name, exactSearchLimit: 200 });
      try {
        await store.ensureCollection({ dimensions });
        const large = { userId: 'large' };
        const small = { userId: 'small' };
        const records = [
          ...Array.from({ length: 3_000 }, (_, n) => record(n, large, dimensions)),
          ...Array.from({ length: 50 }, (_, n) => record(10_000 + n, small, dimensions)),
        ];
        for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch) {
          await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
        }
        await admin.query(`ANALYZE "${name}"`);
        const exact = (scope: Scope, query: number[]) =>
          records
            .filter((candidate) => candidate.scope.userId === scope.userId)
            .map((candidate) => ({
              id: candidate.id,
              score: candidate.vector.reduce((sum, value, index) => sum + value * query[index]!, 0),
            }))
            .sort((a, b) => b.score - a.score)
            .slice(0, 10)
            .map((match) => match.id);
        const before = await flushedIndexScans(pool, `${name}_embedding`);
        let found = 0;
        for (let q = 0; q < 20; q++) {
          const query = unitVector(50_000 + q, dimensions);
          const matches = await store.query({ scope: large, vector: query, topK: 10 });
          assert.equal(matches.length, 10);
          // relaxed_order (the default): the index may return rows out of order; the store re-sorts them.
          for (let i = 1; i < matches.length; i++) assert.ok(matches[i - 1]!.score >= matches[i]!.score, 'results come best first');
          const truth = new Set(exact(large, query));
          found += matches.filter((match) => truth.has(match.record.id)).length;
        }
        assert.ok(found / 200 >= 0.9, `recall@10 through the index: ${found / 200}`);
        const afterLarge = await flushedIndexScans(pool, `${name}_embedding`);
        assert.ok(afterLarge > before, `the large scope was searched through the HNSW index (index scans ${before} → ${afterLarge})`);
        for (let q = 0; q < 5; q++) {
          const query = unitVector(60_000 + q, dimensions);
          const matches = await store.query({ scope: small, vector: query, topK: 10 });
          assert.deepEqual(
            matches.map((match) => match.record.id),
            exact(small, query),
            'a small scope is ranked exactly',
          );
        }
        assert.equal(await flushedIndexScans(pool, `${name}_embedding`), afterLarge, 'the small scope did not use the HNSW index');
        // A filter on the large scope: the iterative scan keeps going until enough records match.
        const filtered = await store.query({
          scope: large,
          vector: unitVector(70_000, dimensions),
          topK: 10,
          filter: { op: 'lt', field: 'createdAt', value: Date.UTC(2024, 0, 1) + 300 },
        });
        assert.equal(filtered.length, 10, 'a filter matching 10% of the scope still fills topK');
        assert.ok(filtered.every((match) => match.record.createdAt.getTime() < Date.UTC(2024, 0, 1) + 300));

        // strict_order (the default is relaxed_order, re-sorted by the store): rows come from the index in distance order.
        const strict = new PostgresVectorStore({ pool, table: name, exactSearchLimit: 200, iterativeScan: 'strict_order' });
        let strictFound = 0;
        for (let q = 0; q < 20; q++) {
          const query = unitVector(50_000 + q, dimensions);
          const matches = await strict.query({ scope: large, vector: query, topK: 10 });
          assert.equal(matches.length, 10);
          for (let i = 1; i < matches.length; i++) assert.ok(matches[i - 1]!.score >= matches[i]!.score, 'strict results come best first');
          const truth = new Set(exact(large, query));
          strictFound += matches.filter((match) => truth.has(match.record.id)).length;
        }
        assert.ok(strictFound / 200 >= 0.9, `recall@10 through the index, strict order: ${strictFound / 200}`);
        const afterStrict = await flushedIndexScans(pool, `${name}_embedding`);
        assert.ok(afterStrict > afterLarge, 'strict searches went through the HNSW index');
        const strictFiltered = await strict.query({
          scope: large,
          vector: unitVector(70_000, dimensions),
          topK: 10,
          filter: { op: 'lt', field: 'createdAt', value: Date.UTC(2024, 0, 1) + 300 },
        });
        assert.equal(strictFiltered.length, 10, 'a strict filtered search still fills topK');
        await strict.close();
        // maxScanTuples bounds the iterative scan: a filter matching 1% of the scope, with a tiny bound, comes back short.
        const bounded = new PostgresVectorStore({ pool, table: name, exactSearchLimit: 200, efSearch: 10, maxScanTuples: 1 });
        const rare = { op: 'lt', field: 'createdAt', value: Date.UTC(2024, 0, 1) + 30 } as const;
        const short = await bounded.query({ scope: large, vector: unitVector(70_001, dimensions), topK: 10, filter: rare });
        assert.ok(short.length < 10, `max_scan_tuples 1 stops the scan early (${short.length} found)`);
        const full = await store.query({ scope: large, vector: unitVector(70_001, dimensions), topK: 10, filter: rare });
        assert.equal(full.length, 10, 'the default bound finds them');
        await bounded.close();
      } finally {
        await store.dropCollection();
        await store.close();
        await pool.end();
      }
    },
  );

  it("a caller's pool is shared by two stores and left open by close()", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    const name = table();
    const first = new PostgresVectorStore({ pool, table: name });
    const second = new PostgresVectorStore({ pool, table: name });
    try {
      await first.ensureCollection({ dimensions: 8 });
      await first.upsert({ records: [record(1, { userId: 'u1' }, 8)] });
      await first.close();
      assert.equal((await second.get({ scope: { userId: 'u1' }, ids: ['id-000001'] })).length, 1);
      assert.equal((await pool.query('SELECT 1 AS one')).rows[0]?.one, 1, 'the pool is still open');
      await expect(first.get({ scope: { userId: 'u1' }, ids: ['id-000001'] })).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'PROVIDER_REQUEST_FAILED') && /closed/.test((error as Error).message),
      );
      await second.dropCollection();
    } finally {
      await second.close();
      await pool.end();
    }
  });

  it('text PostgreSQL cannot store (U+0000) is refused with INVALID_INPUT naming the field, and the batch writes nothing', async () => {
    const name = table();
    const store = new PostgresVectorStore({ connectionString: url, table: name });
    try {
      await store.ensureCollection({ dimensions: 8 });
      const scope = { userId: 'u1' };
      const good = record(1, scope, 8);
      const cases: [MemoryRecord, string][] = [
        [record(2, scope, 8, { text: 'nul\u0000inside' }), 'records[1].text'],
        [record(3, scope, 8, { metadata: { note: 'a\u0000b' } }), 'records[1].metadata.note'],
        [record(4, scope, 8, { metadata: { tags: ['ok', '\u0000'] } }), 'records[1].metadata.tags'],
        [{ ...record(5, scope, 8), id: 'id\u0000x' }, 'records[1].id'],
        [{ ...record(6, scope, 8), vector: [Number.NaN, 0, 0, 0, 0, 0, 0, 1] }, 'records[1].vector[0]'],
        [{ ...record(7, scope, 8), vector: [1e39, 0, 0, 0, 0, 0, 0, 1] }, 'records[1].vector[0]'],
      ];
      for (const [bad, field] of cases) {
        await expect(store.upsert({ records: [good, bad] })).rejects.toSatisfy(
          (error: unknown) => MemError.is(error, 'INVALID_INPUT') && (error as { field?: string }).field === field,
        );
      }
      assert.deepEqual(await collect(store.list({ scope })), [], 'nothing was written');
      // Filters with such strings are refused too, before any query.
      await expect(collect(store.list({ scope, filter: { op: 'eq', field: 'note', value: 'a\u0000b' } }))).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'INVALID_INPUT'),
      );
    } finally {
      await store.dropCollection();
      await store.close();
    }
  });

  it('before ensureCollection: reads find nothing, writes and searches ask for ensureCollection (CONFLICT)', async () => {
    const store = new PostgresVectorStore({ connectionString: url, table: table() });
    try {
      const scope = { userId: 'u1' };
      assert.deepEqual(await store.get({ scope, ids: ['a'] }), []);
      assert.deepEqual(await collect(store.list({ scope })), []);
      assert.deepEqual(await store.keywordQuery({ scope, text: 'tea', topK: 3 }), []);
      await store.delete({ scope, ids: ['a'] });
      await store.reset();
      await expect(store.upsert({ records: [record(1, scope, 8)] })).rejects.toSatisfy(
        (error: unknown) => MemError.is(error, 'CONFLICT') && /ensureCollection/.test((error as Error).message),
      );
      await expect(store.query({ scope, vector: unitVector(1, 8), topK: 3 })).rejects.toSatisfy((error: unknown) =>
        MemError.is(error, 'CONFLICT'),
      );
    } finally {
      await store.close();
    }
  });

  it('a second store on the table finds its dimensions without ensureCollection, and a schema of its own keeps tables apart', async () => {
    const name = table();
    const schema = `s_${randomBytes(4).toString('hex')}`;
    const first = new PostgresVectorStore({ connectionString: url, table: name, schema });
    const second = new PostgresVectorStore({ connectionString: url, table: name, schema });
    const publicStore = new PostgresVectorStore({ connectionString: url, table: name });
    try {
      await first.ensureCollection({ dimensions: 8 });
      await publicStore.ensureCollection({ dimensions: 8 });
      const scope = { userId: 'u1' };
      await second.upsert({ records: [record(1, scope, 8)] });
      assert.equal((await first.query({ scope, vector: unitVector(1, 8), topK: 1 }))[0]?.record.id, 'id-000001');
      assert.deepEqual(await publicStore.get({ scope, ids: ['id-000001'] }), [], 'another schema holds other memories');
    } finally {
      await first.dropCollection();
      await publicStore.dropCollection();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all([first.close(), second.close(), publicStore.close()]);
    }
  });
});
