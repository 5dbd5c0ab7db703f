/**
 * Graph search latency of Neo4jGraphStore on a real Neo4j 5.26 (not a test).
 *
 *   pnpm --filter @mem/graph-neo4j bench                 # builds/starts Neo4j (@mem/test-servers, Maven)
 *   NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=… pnpm --filter @mem/graph-neo4j bench
 *   pnpm --filter @mem/graph-neo4j bench -- --sizes 1000,10000 --queries 300
 *
 * Same protocol as the SQLite figures in apps/bench (`pnpm --filter @mem/bench run graph`): 1536-dim
 * entity embeddings, all entities in the searched user's scope, 2 relations per entity, 50 on the
 * user, plus 1,000 entities of another user. One graph search = `searchEntities` (topK 5,
 * threshold 0.3) + `neighbors` of the matches and the user (limit 100). Both entity search paths are
 * timed at every size (exact scan of the scope, and the vector index with scope over-fetch), with
 * the index path's recall@5 against the exact one.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { normalize, type Scope } from '@mem/core/adapter';
import { Neo4jGraphStore } from '../src/neo4j-graph-store';
import { startNeo4jServer, type Neo4jTestServer } from '@mem/test-servers/neo4j';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    queries: { type: 'string', default: '300' },
    dimensions: { type: 'string', default: '1536' },
  },
});
const sizes = args.sizes!.split(',').map(Number);
const queries = Number(args.queries);
const dimensions = Number(args.dimensions);

let seed = 42;
const random = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const randomUnit = () => normalize(Array.from({ length: dimensions }, () => random() - 0.5));
const nudge = (vector: readonly number[]) => normalize(vector.map((value) => value + (random() - 0.5) * 0.01));
const median = (values: number[]) => quantile(values, 0.5);
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const ms = (value: number) => value.toFixed(1);

let server: Neo4jTestServer | undefined;
let connection: { uri: string; username: string; password: string; database?: string };
if (process.env.NEO4J_URI) {
  connection = {
    uri: process.env.NEO4J_URI,
    username: process.env.NEO4J_USERNAME || 'neo4j',
    password: process.env.NEO4J_PASSWORD ?? '',
    database: process.env.NEO4J_DATABASE || undefined,
  };
} else {
  const started = performance.now();
  server = await startNeo4jServer({ pageCacheMb: 512, heapMb: 2048 });
  console.log(`Started Neo4j 5.26 Community (${server.uri}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  connection = { uri: server.uri, username: server.username, password: server.password };
}

console.log(
  `\n# Graph search latency on Neo4jGraphStore (${dimensions}-dim entity embeddings, one user's scope; 2 relations per entity, 50 on the user, +1,000 entities of another user; ${queries} queries)`,
);
console.log('entities | search path | searchEntities + neighbors p50 ms (p95) | searchEntities p50 | neighbors p50 | recall@5 vs exact');
try {
  for (const size of sizes) {
    const namespace = `bench_${size}`;
    const exact = new Neo4jGraphStore({ ...connection, namespace, exactSearchLimit: 1_000_000 });
    const indexed = new Neo4jGraphStore({ ...connection, namespace, exactSearchLimit: 0 });
    try {
      await exact.dropSchema();
      await exact.ensureSchema({ dimensions });
      const scope: Scope = { userId: 'user-0' };
      const vectors: number[][] = [];
      const loadStarted = performance.now();
      for (let start = 0; start < size; start += 500) {
        const entities = Array.from({ length: Math.min(500, size - start) }, (_, index) => {
          const vector = randomUnit();
          vectors.push(vector);
          return { name: `entity ${start + index}`, type: 'thing', embedding: vector };
        });
        await exact.upsertEntities({ scope, entities });
        const relations = entities.flatMap((entity, index) => [
          {
            source: entity.name,
            relation: 'related_to',
            target: `entity ${Math.floor(random() * size)}`,
            validFrom: new Date(Date.UTC(2024, 0, 1) + (start + index) * 60_000),
          },
          {
            source: entity.name,
            relation: 'located_in',
            target: `entity ${Math.floor(random() * size)}`,
            validFrom: new Date(Date.UTC(2024, 0, 1) + (start + index) * 60_000),
          },
        ]);
        await exact.upsertRelations({ scope, relations });
      }
      await exact.upsertRelations({
        scope,
        relations: Array.from({ length: 50 }, (_, index) => ({
          source: 'user',
          relation: 'knows',
          target: `entity ${index}`,
          validFrom: new Date(Date.UTC(2024, 5, 1, 0, index)),
        })),
      });
      await exact.upsertEntities({
        scope: { userId: 'user-1' },
        entities: vectors.slice(0, 1000).map((vector, index) => ({ name: `entity ${index}`, type: 'thing', embedding: vector })),
      });
      const loadSeconds = (performance.now() - loadStarted) / 1000;

      const targets = Array.from({ length: queries }, () => nudge(vectors[Math.floor(random() * size)]!));
      const exactTop = new Map<number, string[]>();
      for (const [label, store] of [
        ['exact scan', exact],
        ['vector index', indexed],
      ] as const) {
        // Warm up the query plans and caches.
        for (const vector of targets.slice(0, 20)) await store.searchEntities({ scope, vector, topK: 5, threshold: 0.3 });
        const total: number[] = [];
        const entityTimes: number[] = [];
        const neighborTimes: number[] = [];
        let found = 0;
        let expected = 0;
        for (const [index, vector] of targets.entries()) {
          const t0 = performance.now();
          const matches = await store.searchEntities({ scope, vector, topK: 5, threshold: 0.3 });
          const t1 = performance.now();
          await store.neighbors({ scope, entities: [...matches.map((match) => match.entity.name), 'user'], limit: 100 });
          const t2 = performance.now();
          total.push(t2 - t0);
          entityTimes.push(t1 - t0);
          neighborTimes.push(t2 - t1);
          const names = matches.map((match) => match.entity.name);
          if (store === exact) exactTop.set(index, names);
          else {
            const truth = exactTop.get(index) ?? [];
            expected += truth.length;
            found += truth.filter((name) => names.includes(name)).length;
          }
        }
        const recall = store === exact ? '(reference)' : expected === 0 ? 'n/a' : (found / expected).toFixed(3);
        console.log(
          `${String(size).padStart(8)} | ${label.padEnd(12)} | ${`${ms(median(total))} (${ms(quantile(total, 0.95))})`.padStart(39)} | ${ms(median(entityTimes)).padStart(18)} | ${ms(median(neighborTimes)).padStart(13)} | ${recall}`,
        );
      }
      console.log(`         (loaded ${size + 1000} entities and ${2 * size + 50} relations in ${loadSeconds.toFixed(1)} s)`);
      await exact.dropSchema();
    } finally {
      await exact.close();
      await indexed.close();
    }
  }
  if (server) {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    console.log(`\nNeo4j server RSS at the end: ${rss.toFixed(0)} MB`);
  }
} finally {
  await server?.stop();
}
