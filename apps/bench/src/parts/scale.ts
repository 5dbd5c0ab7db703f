// Part 2: search at scale on the embedded default (SqliteVectorStore), one child process per size.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { status } from '../lib/progress';
import type { VectorDistribution } from '../lib/synthetic';
import type { ScaleWorkerOptions, ScaleWorkerResult } from './scale-worker';

export interface ScaleOptions {
  readonly sizes: readonly number[];
  readonly dimensions: number;
  readonly scopes: number;
  readonly queries: number;
  /** Measured `Memory.add` calls per size (0 skips them). */
  readonly adds: number;
  /** LongMemEval oracle folder for real-length texts; absent: one-line synthetic texts. */
  readonly longMemEvalPath?: string;
  /** Keep each size's filled store here and reuse it in later runs (see ScaleWorkerOptions.storeDirectory). */
  readonly storeDirectory?: string;
  /** SqliteVectorStore's vectorCache for the measured stores (default true). */
  readonly vectorCache?: boolean;
  /** SqliteVectorStore's keywordIndex for the measured stores (default true). */
  readonly keywordIndex?: boolean;
  /** SqliteVectorStore's approximate search for the measured stores (default false). */
  readonly approximate?: boolean;
  /** SqliteVectorStore's approximateMinScope (default the store's own). */
  readonly approximateMinScope?: number;
  /** SqliteVectorStore's keywordIndexBytes (default the store's own, 512 MiB). */
  readonly keywordIndexBytes?: number;
  /** How the synthetic vectors are drawn (default uniform). */
  readonly vectors?: VectorDistribution;
}

export interface ScaleResult {
  readonly dimensions: number;
  readonly scopes: number;
  readonly queries: number;
  readonly rows: ScaleWorkerResult[];
}

function runWorker(options: ScaleWorkerOptions): Promise<ScaleWorkerResult> {
  const entry = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));
  const loaderGiven = process.execArgv.some((argument) => argument.includes('tsx'));
  const child = fork(entry, [JSON.stringify(options)], {
    execArgv: loaderGiven ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: ScaleWorkerResult | undefined;
    child.on('message', (message) => (result = message as ScaleWorkerResult));
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the scale worker for ${options.size} records exited with code ${code}`)),
    );
  });
}

export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const rows: ScaleWorkerResult[] = [];
  for (const size of options.sizes) {
    status(
      `  store size ${size.toLocaleString('en-US')}: ${options.dimensions} dims, ${options.scopes} scopes, ${options.queries} queries per kind`,
    );
    rows.push(
      await runWorker({
        size,
        dimensions: options.dimensions,
        scopes: options.scopes,
        queries: options.queries,
        batch: 1000,
        adds: options.adds,
        ...(options.longMemEvalPath ? { longMemEvalPath: options.longMemEvalPath } : {}),
        ...(options.storeDirectory ? { storeDirectory: options.storeDirectory } : {}),
        ...(options.vectorCache === false ? { vectorCache: false } : {}),
        ...(options.keywordIndex === false ? { keywordIndex: false } : {}),
        ...(options.approximate ? { approximate: true } : {}),
        ...(options.approximateMinScope === undefined ? {} : { approximateMinScope: options.approximateMinScope }),
        ...(options.keywordIndexBytes === undefined ? {} : { keywordIndexBytes: options.keywordIndexBytes }),
        ...(options.vectors ? { vectors: options.vectors } : {}),
      }),
    );
    const row = rows.at(-1)!;
    status(
      `    insert ${Math.round(row.insert.recordsPerSecond)} records/s, query p50 ${row.query.median.toFixed(2)} ms p95 ${row.query.p95.toFixed(2)} ms, Memory.search p95 ${row.search.p95.toFixed(2)} ms, scan lower bound ${row.scanLowerBound.median.toFixed(3)} ms, recall@10 ${row.recall?.at10.toFixed(4) ?? '–'}, 2nd query ${row.secondQueryMs?.toFixed(0) ?? '–'} ms, open → 1st query ${row.openToFirstQueryMs?.toFixed(0) ?? '–'} ms, peak RSS ${row.peakRssMiB.toFixed(0)} MiB${row.add ? `, add pipeline p50 ${row.add.median.toFixed(2)} ms` : ''}`,
    );
  }
  return { dimensions: options.dimensions, scopes: options.scopes, queries: options.queries, rows };
}
