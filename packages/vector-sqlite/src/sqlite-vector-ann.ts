import usearch from 'usearch';
import type { CacheSourceRow, ScopeColumn, ScopeRun } from './sqlite-vector-cache';

/**
 * Links per node of the graph (HNSW's M). 16 keeps a build of 100k × 384 within tens of seconds on
 * two cores; more links raise recall on hard (near-uniform) data at a higher build cost.
 */
const ANN_CONNECTIVITY = 16;
/** Candidates the graph keeps while inserting (HNSW's efConstruction). */
const ANN_EXPANSION_ADD = 128;
/** Candidates the graph keeps while searching (HNSW's ef): the knob of recall against latency. */
const ANN_EXPANSION_SEARCH = 256;
/**
 * Bytes an indexed memory costs beside its int8 vector (one byte per dimension): its base-level
 * links (2 × M of 4 bytes), upper levels on average, key, level and lock. An estimate for the
 * cache's budget, not an exact count of the native allocator's bytes.
 */
export const ANN_ROW_OVERHEAD_BYTES = 2 * ANN_CONNECTIVITY * 4 + 96;

/**
 * The memories of one large scope-column value held in an approximate nearest-neighbour index (an
 * HNSW graph of usearch, vectors quantised to int8 for cosine similarity), keyed by seq. It finds
 * candidates only: the store re-reads their vectors from the file and ranks them exactly (see the
 * store's approximateQuery), so a score is never the index's. No float32 copy of the scope is kept.
 */
export class AnnScope {
  private index: InstanceType<typeof usearch.Index>;

  constructor(
    readonly column: ScopeColumn,
    readonly value: string,
    readonly dimensions: number,
  ) {
    this.index = AnnScope.newIndex(dimensions);
  }

  private static newIndex(dimensions: number): InstanceType<typeof usearch.Index> {
    return new usearch.Index({
      dimensions,
      metric: usearch.MetricKind.Cos,
      quantization: usearch.ScalarKind.I8,
      connectivity: ANN_CONNECTIVITY,
      expansion_add: ANN_EXPANSION_ADD,
      expansion_search: ANN_EXPANSION_SEARCH,
      multi: false,
    });
  }

  /** Memories indexed. */
  get count(): number {
    return this.index.size();
  }

  /** Bytes this scope is estimated to hold (see {@link ANN_ROW_OVERHEAD_BYTES}). */
  get bytes(): number {
    return this.index.size() * (this.dimensions + ANN_ROW_OVERHEAD_BYTES);
  }

  /**
   * Adds a run of the scope's memories (see the cache's ScopeRun) in one call: usearch inserts them
   * on all cores, and the call blocks the event loop until done (a 100k scope takes seconds).
   */
  appendRun(run: ScopeRun): void {
    const count = run.rows.length;
    if (count === 0) return;
    const keys = new BigUint64Array(count);
    const vectors = new Float32Array(count * this.dimensions);
    new Uint8Array(vectors.buffer).set(run.vectors.subarray(0, count * this.dimensions * 4));
    run.rows.forEach(([seq], index) => {
      keys[index] = BigInt(seq);
      normalise(vectors.subarray(index * this.dimensions, (index + 1) * this.dimensions));
    });
    this.index.add(keys, vectors, 0);
  }

  /** Adds a memory, or replaces the vector of the one with its seq. */
  put(row: CacheSourceRow): void {
    const key = BigInt(row.seq);
    if (this.index.contains(key)) this.index.remove(key);
    const vector = new Float32Array(this.dimensions);
    new Uint8Array(vector.buffer).set(row.embedding.subarray(0, this.dimensions * 4));
    normalise(vector);
    this.index.add(key, vector, 1);
  }

  /** Removes a memory if held. */
  remove(seq: number): void {
    const key = BigInt(seq);
    if (this.index.contains(key)) this.index.remove(key);
  }

  /** Drops the graph (its native memory goes with the object). */
  release(): void {
    this.index = AnnScope.newIndex(this.dimensions);
  }

  /**
   * The seqs of about the `candidates` memories nearest to each of `queries` (unit vectors), in no
   * particular order: approximate, to be ranked exactly by the caller.
   */
  candidates(queries: readonly Float32Array[], candidates: number): number[] {
    const size = this.index.size();
    if (size === 0) return [];
    const wanted = Math.min(candidates, size);
    const seqs = new Set<number>();
    for (const query of queries) {
      const matches = this.index.search(query, wanted, 1);
      for (const key of matches.keys) {
        // usearch pads missing results with the largest key.
        if (key !== 0xffff_ffff_ffff_ffffn) seqs.add(Number(key));
      }
    }
    return [...seqs];
  }
}

/**
 * Scales `vector` to length 1 in place (a zero vector stays zero): int8 quantisation maps each
 * component of a unit vector onto -127..127, so a longer vector would be clipped.
 */
function normalise(vector: Float32Array): void {
  let sum = 0;
  for (let index = 0; index < vector.length; index++) sum += vector[index]! * vector[index]!;
  if (sum === 0) return;
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < vector.length; index++) vector[index] = vector[index]! * scale;
}
