// Why a filtered HNSW search misses: for one table of the postgres bench (or any table of
// @mem/vector-postgres), runs scoped queries through the index at each setting and reports
// recall@10 against exact search, latency, and how many index tuples the scan visited (from
// EXPLAIN ANALYZE: rows returned plus rows removed by the scope filter).
//
//   npx tsx src/postgres-explain.ts --url postgres://… --table bench_u_384_100000 --scope user_id=user-7
//     [--distribution uniform --queries 20 --ef-search 40,100,400,1000 --max-scan-tuples 40000,100000 --candidates 10,100]
// (--candidates: rows a relaxed search takes from the index before it re-sorts them and keeps 10.)
import pg from 'pg';
import { summarize } from './lib/stats';
import { SyntheticMemories, type VectorDistribution } from './lib/synthetic';

const argv = process.argv.slice(2);
const value = (name: string, fallback: string) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 && argv[index + 1] ? argv[index + 1]! : fallback;
};
const url = value('url', process.env.DATABASE_URL ?? '');
const table = value('table', 'memories');
const [column, scopeValue] = value('scope', 'user_id=user-7').split('=') as [string, string];
if (!/^(user_id|agent_id|run_id)$/.test(column) || !/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error('bad --scope or --table');
const queries = Number(value('queries', '20'));
const efSearch = value('ef-search', '40,100,400,1000').split(',').map(Number);
const maxScanTuples = value('max-scan-tuples', '40000').split(',').map(Number);
const distribution = value('distribution', 'uniform') as VectorDistribution;
/** Rows a relaxed search takes from the index before re-sorting and keeping 10 (over-fetch). */
const candidates = value('candidates', '10').split(',').map(Number);

const client = new pg.Client({ connectionString: url });
await client.connect();
const dimensions = (await client.query<{ d: number }>(`SELECT vector_dims(embedding) AS d FROM "${table}" LIMIT 1`)).rows[0]!.d;
const scoped = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE ${column} = $1`, [scopeValue])).rows[0]!
  .n;
const total = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0]!.n;
console.log(`${table}: ${total} rows, ${scoped} in ${column} = ${scopeValue}, ${dimensions} dimensions, ${distribution} queries`);
const source = new SyntheticMemories(dimensions, 100, 777, undefined, distribution);
const vectors = Array.from({ length: queries }, () => `[${source.vector().join(',')}]`);
const truth: Set<string>[] = [];
for (const vector of vectors) {
  const rows = await client.query<{ id: string }>(
    `WITH c AS MATERIALIZED (SELECT id, embedding <=> $1::vector AS d FROM "${table}" WHERE ${column} = $2) SELECT id FROM c ORDER BY d LIMIT 10`,
    [vector, scopeValue],
  );
  truth.push(new Set(rows.rows.map((row) => row.id)));
}
const sql = (mode: string, fetch: number) =>
  mode === 'relaxed_order'
    ? `WITH f AS MATERIALIZED (SELECT id, embedding <=> $1::vector AS d FROM "${table}" WHERE ${column} = $2 ORDER BY embedding <=> $1::vector LIMIT ${fetch}) SELECT id FROM f ORDER BY d + 0 LIMIT 10`
    : `SELECT id FROM "${table}" WHERE ${column} = $2 ORDER BY embedding <=> $1::vector LIMIT 10`;
console.log('| efSearch | iterative scan | candidates | max scan tuples | recall@10 | ms p50 / p95 | tuples visited (mean) | index used |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |');
const settings = ['strict_order', 'relaxed_order'].flatMap((mode) =>
  (mode === 'strict_order' ? [10] : candidates).map((fetch) => [mode, fetch] as const),
);
for (const ef of efSearch)
  for (const [mode, fetch] of settings)
    for (const max of maxScanTuples) {
      await client.query('BEGIN');
      await client.query(
        "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true), set_config('hnsw.max_scan_tuples', $3, true)",
        [String(ef), mode, String(max)],
      );
      let found = 0;
      let visited = 0;
      let indexUsed = true;
      const samples: number[] = [];
      for (const [q, vector] of vectors.entries()) {
        const begin = performance.now();
        const rows = await client.query<{ id: string }>(sql(mode, fetch), [vector, scopeValue]);
        samples.push(performance.now() - begin);
        found += rows.rows.filter((row) => truth[q]!.has(row.id)).length / 10;
        const plan = (
          await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql(mode, fetch)}`, [vector, scopeValue])
        ).rows[0]!['QUERY PLAN'] as unknown;
        const scan = findNode(plan, (node) => String(node['Index Name'] ?? '').endsWith('_embedding'));
        if (!scan) indexUsed = false;
        else visited += Number(scan['Actual Rows'] ?? 0) + Number(scan['Rows Removed by Filter'] ?? 0);
      }
      await client.query('COMMIT');
      const summary = summarize(samples);
      console.log(
        `| ${ef} | ${mode.replace('_order', '')} | ${fetch} | ${max.toLocaleString('en-US')} | ${(found / queries).toFixed(3)} | ${summary.median.toFixed(1)} / ${summary.p95.toFixed(1)} | ${Math.round(visited / queries).toLocaleString('en-US')} | ${indexUsed ? 'yes' : 'no (B-tree)'} |`,
      );
    }
await client.end();

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[]; Plan?: PlanNode };
function findNode(plan: unknown, test: (node: PlanNode) => boolean): PlanNode | undefined {
  const nodes: PlanNode[] = Array.isArray(plan) ? (plan as PlanNode[]) : [plan as PlanNode];
  for (const node of nodes) {
    if (!node || typeof node !== 'object') continue;
    if (test(node)) return node;
    const inner = findNode([...(node.Plan ? [node.Plan] : []), ...(node.Plans ?? [])], test);
    if (inner) return inner;
  }
  return undefined;
}
