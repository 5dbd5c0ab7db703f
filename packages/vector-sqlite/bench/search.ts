// Micro-benchmark of SqliteVectorStore (not a test): scoped search and upsert latency on a file on disk.
//
//   cd packages/vector-sqlite && npx tsx bench/search.ts [--records 10000] [--scopes 100] [--dimensions 1536] [--queries 1000]
//
// Prints median and p95 of: scoped query (topK 10), upsert cost per record, and the exact-scan lower
// bound: the same cosine distances computed in a tight JavaScript loop over Float32Arrays.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { MemoryRecord } from '@mem/core/adapter';
import { SqliteVectorStore } from '../src/index';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    scopes: { type: 'string', default: '100' },
    dimensions: { type: 'string', default: '1536' },
    queries: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '100' },
  },
});
const RECORDS = Number(values.records);
const SCOPES = Number(values.scopes);
const DIMENSIONS = Number(values.dimensions);
const QUERIES = Number(values.queries);
const BATCH = Number(values.batch);
const TOP_K = 10;

let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function unitVector(): number[] {
  const vector = Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return vector.map((x) => x / norm);
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function report(label: string, samples: number[], unit = 'ms'): void {
  const digits = unit === 'µs' ? 1 : 3;
  console.log(
    `${label.padEnd(46)} median ${percentile(samples, 0.5).toFixed(digits).padStart(9)} ${unit}   p95 ${percentile(samples, 0.95).toFixed(digits).padStart(9)} ${unit}`,
  );
}

const directory = mkdtempSync(join(tmpdir(), 'mem-vector-sqlite-bench-'));
const path = join(directory, 'bench.db');
const store = new SqliteVectorStore({ path });
await store.ensureCollection({ dimensions: DIMENSIONS });

// Records are spread round-robin over the scopes, so each scope holds RECORDS / SCOPES of them.
const vectorsByScope: Float32Array[][] = Array.from({ length: SCOPES }, () => []);
const perRecordUpsertUs: number[] = [];
const created = new Date();
for (let start = 0; start < RECORDS; start += BATCH) {
  const records: MemoryRecord[] = [];
  for (let index = start; index < Math.min(RECORDS, start + BATCH); index++) {
    const vector = unitVector();
    const scope = index % SCOPES;
    vectorsByScope[scope]!.push(Float32Array.from(vector));
    records.push({
      id: `00000000-0000-7000-8000-${index.toString(16).padStart(12, '0')}`,
      vector,
      text: `memory number ${index} about topic ${index % 37}`,
      hash: 'hash',
      scope: { userId: `user-${scope}` },
      metadata: { topic: index % 37, tags: ['bench'] },
      createdAt: created,
      updatedAt: created,
      occurredAt: created,
    });
  }
  const began = performance.now();
  await store.upsert({ records });
  perRecordUpsertUs.push(((performance.now() - began) * 1000) / records.length);
}

const queryMs: number[] = [];
const filteredQueryMs: number[] = [];
const scanScopeMs: number[] = [];
for (let index = 0; index < QUERIES; index++) {
  const scope = Math.floor(random() * SCOPES);
  const vector = unitVector();
  let began = performance.now();
  const matches = await store.query({ scope: { userId: `user-${scope}` }, vector, topK: TOP_K });
  queryMs.push(performance.now() - began);
  if (matches.length !== Math.min(TOP_K, vectorsByScope[scope]!.length)) throw new Error('unexpected result count');
  // Another scope, so this query does not run on pages the previous one just read.
  const otherScope = (scope + 1 + Math.floor(random() * (SCOPES - 1))) % SCOPES;
  began = performance.now();
  await store.query({ scope: { userId: `user-${otherScope}` }, vector, topK: TOP_K, filter: { op: 'lt', field: 'topic', value: 18 } });
  filteredQueryMs.push(performance.now() - began);

  // Lower bound: cosine distance over the scope's vectors, already in memory as Float32Arrays.
  const query = Float32Array.from(vector);
  began = performance.now();
  let best = -Infinity;
  for (const candidate of vectorsByScope[scope]!) {
    let dot = 0;
    let norm = 0;
    for (let position = 0; position < DIMENSIONS; position++) {
      dot += query[position]! * candidate[position]!;
      norm += candidate[position]! * candidate[position]!;
    }
    best = Math.max(best, dot / Math.sqrt(norm));
  }
  scanScopeMs.push(performance.now() - began);
  if (!Number.isFinite(best)) throw new Error('unreachable');
}

const sizeMb = (statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1e6;
console.log(
  `SqliteVectorStore: ${RECORDS} records, ${DIMENSIONS} dimensions, ${SCOPES} scopes (${RECORDS / SCOPES} per scope), file ${sizeMb.toFixed(0)} MB`,
);
console.log(`Node ${process.version}, ${QUERIES} queries, topK ${TOP_K}, upsert batches of ${BATCH}`);
report('upsert, per record', perRecordUpsertUs, 'µs');
report('scoped query (userId)', queryMs);
report('scoped query + metadata filter (topic < 18)', filteredQueryMs);
report('lower bound: JS exact scan of the scope', scanScopeMs);

await store.close();
rmSync(directory, { recursive: true, force: true });
