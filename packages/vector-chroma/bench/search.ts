/**
 * Scoped search latency of ChromaVectorStore on a real Chroma server (not a test).
 *
 *   pnpm --filter @mem/vector-chroma bench            # starts `chroma run` from the npm CLI
 *   CHROMA_URL=http://localhost:8000 pnpm --filter @mem/vector-chroma bench
 *
 * Inserts 10,000 records (1536 dimensions, 100 scopes of 100), then times scoped top-10 queries,
 * with and without a native date-range filter, and reports recall@10 against an exact scan.
 */
import { randomUUID } from 'node:crypto';
import { cosineSimilarity, hashText, type MemoryRecord, type Scope } from '@mem/core/adapter';
import { ChromaVectorStore } from '../src/chroma-vector-store';
import { startChromaServer } from '@mem/test-servers/chroma';

const RECORDS = 10_000;
const DIMENSIONS = 1_536;
const SCOPES = 100;
const QUERIES = 500;
const TOP_K = 10;

function unitVector(seed: number): number[] {
  let state = (seed * 0x9e3779b1 + 0x6d2b79f5) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const vector = Array.from({ length: DIMENSIONS }, next);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${label.padEnd(44)} median ${percentile(sorted, 50).toFixed(2).padStart(7)} ms   p95 ${percentile(sorted, 95).toFixed(2).padStart(7)} ms   (n=${samples.length})`;
}

async function main(): Promise<void> {
  const server = process.env.CHROMA_URL ? undefined : await startChromaServer();
  const url = process.env.CHROMA_URL ?? server!.url;
  const store = new ChromaVectorStore({ url, collection: `bench_${randomUUID().slice(0, 8)}` });
  try {
    await store.ensureCollection({ dimensions: DIMENSIONS });
    const scopeOf = (n: number): Scope => ({ userId: `user-${n % SCOPES}` });
    const base = Date.UTC(2024, 0, 1);
    const records: MemoryRecord[] = Array.from({ length: RECORDS }, (_, n) => ({
      id: `m-${String(n).padStart(6, '0')}`,
      vector: unitVector(n + 1),
      text: `memory ${n}`,
      hash: hashText(`memory ${n}`),
      scope: scopeOf(n),
      metadata: { n, kind: n % 3 === 0 ? 'fact' : 'preference' },
      createdAt: new Date(base + n * 60_000),
      updatedAt: new Date(base + n * 60_000),
      occurredAt: new Date(base + n * 60_000),
    }));

    const insertStart = performance.now();
    for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch) {
      await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
    }
    const insertMs = performance.now() - insertStart;

    const plain: number[] = [];
    const ranged: number[] = [];
    let hits = 0;
    let expectedHits = 0;
    const since = base + (RECORDS / 2) * 60_000;
    for (let q = 0; q < QUERIES; q++) {
      const scope = scopeOf(q);
      const vector = unitVector(1_000_000 + q);
      let started = performance.now();
      const matches = await store.query({ scope, vector, topK: TOP_K });
      plain.push(performance.now() - started);
      started = performance.now();
      await store.query({ scope, vector, topK: TOP_K, filter: { op: 'gte', field: 'occurredAt', value: since } });
      ranged.push(performance.now() - started);
      // Exact answer for recall: the scope holds RECORDS / SCOPES records.
      const exact = records
        .filter((record) => record.scope.userId === scope.userId)
        .map((record) => ({ id: record.id, score: cosineSimilarity(vector, record.vector) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, TOP_K)
        .map((item) => item.id);
      const found = new Set(matches.map((match) => match.record.id));
      hits += exact.filter((id) => found.has(id)).length;
      expectedHits += exact.length;
    }

    const listStart = performance.now();
    let listed = 0;
    for await (const record of store.list({ scope: scopeOf(7) })) if (record) listed++;
    const listMs = performance.now() - listStart;

    console.log(`Chroma server ${url} (chroma 1.0.0 via chromadb ${'3.5.0'}), node ${process.version}`);
    console.log(`${RECORDS} records, ${DIMENSIONS} dimensions, ${SCOPES} scopes of ${RECORDS / SCOPES}; ${QUERIES} queries, topK ${TOP_K}`);
    console.log(
      `insert (batches of ${store.capabilities.maxUpsertBatch})`.padEnd(44),
      `${(insertMs / 1000).toFixed(1)} s   ${Math.round(RECORDS / (insertMs / 1000))} records/s`,
    );
    console.log(summary('scoped query', plain));
    console.log(summary('scoped query + native occurredAt range', ranged));
    console.log(`recall@${TOP_K} of the scoped query vs exact scan`.padEnd(44), (hits / expectedHits).toFixed(4));
    console.log(`list one scope (${listed} records)`.padEnd(44), `${listMs.toFixed(1)} ms`);
  } finally {
    await store.dropCollection().catch(() => undefined);
    await server?.stop();
  }
}

await main();
