import { evaluateFilter, splitFilter, type Filter } from '../filter';
import type { VectorStore } from '../interfaces';
import type { MemoryRecord, Scope, VectorMatch } from '../types';
import { cosineSimilarity } from '../vector-math';

/** A search candidate with the scores it earned. */
export interface RankedMatch {
  readonly record: MemoryRecord;
  /** Cosine similarity to the query. */
  readonly score: number;
  /** Keyword relevance (BM25 from the store), when the keyword search found the record. */
  readonly keywordScore?: number;
  /** The fused rank score used for ordering (reciprocal rank fusion). */
  readonly fusedScore: number;
}

/** Reciprocal rank fusion constant: dampens the weight of the very first ranks. */
const RRF_K = 60;
/** Largest topK asked of a store while over-fetching for a filter it cannot evaluate. */
const MAX_OVERFETCH = 4_096;

/**
 * Vector query that honours every filter operator: the part the store evaluates natively is
 * pushed down; the rest is evaluated by core on an over-fetched result, doubling the fetch until
 * enough records pass or the store has no more. Past {@link MAX_OVERFETCH}, falls back to an
 * exact scan of the scope (`list`), so the answer is always exact.
 */
export async function filteredQuery(
  store: VectorStore,
  request: { scope: Scope; vector: readonly number[]; topK: number; filter?: Filter; signal?: AbortSignal },
): Promise<VectorMatch[]> {
  const { native, residual } = splitFilter(request.filter, store.capabilities.filterOperators);
  const base = {
    scope: request.scope,
    vector: request.vector,
    ...(native ? { filter: native } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  if (!residual) return store.query({ ...base, topK: request.topK });
  for (let topK = Math.max(request.topK * 4, 32); topK <= MAX_OVERFETCH; topK *= 2) {
    const matches = await store.query({ ...base, topK });
    const passing = matches.filter((match) => evaluateFilter(residual, match.record));
    if (passing.length >= request.topK || matches.length < topK) return passing.slice(0, request.topK);
  }
  const scanned: VectorMatch[] = [];
  for await (const record of store.list({
    scope: request.scope,
    ...(native ? { filter: native } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  })) {
    if (evaluateFilter(residual, record)) scanned.push({ record, score: cosineSimilarity(request.vector, record.vector) });
  }
  return scanned.sort((a, b) => b.score - a.score).slice(0, request.topK);
}

/** Keyword query with the same filter handling as {@link filteredQuery} (over-fetch, then exact). */
async function filteredKeywordQuery(
  store: VectorStore,
  request: { scope: Scope; text: string; topK: number; filter?: Filter; signal?: AbortSignal },
): Promise<VectorMatch[]> {
  const { native, residual } = splitFilter(request.filter, store.capabilities.filterOperators);
  const base = {
    scope: request.scope,
    text: request.text,
    ...(native ? { filter: native } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  if (!residual) return store.keywordQuery({ ...base, topK: request.topK });
  const matches = await store.keywordQuery({ ...base, topK: Math.min(request.topK * 8, MAX_OVERFETCH) });
  return matches.filter((match) => evaluateFilter(residual, match.record)).slice(0, request.topK);
}

/**
 * Semantic search, fused with keyword search where the store has it: both lists are merged by
 * reciprocal rank fusion; every result carries its cosine similarity as `score`, computed from
 * the stored vector when only the keyword search found it. `threshold` applies to `score`.
 */
export async function hybridSearch(
  store: VectorStore,
  request: {
    scope: Scope;
    vector: readonly number[];
    text: string;
    limit: number;
    filter?: Filter;
    threshold?: number;
    keyword: boolean;
    signal?: AbortSignal;
  },
): Promise<RankedMatch[]> {
  const candidates = Math.max(request.limit * 2, 20);
  const common = {
    scope: request.scope,
    topK: candidates,
    ...(request.filter ? { filter: request.filter } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  const useKeyword = request.keyword && store.capabilities.keywordSearch;
  const [semantic, keyword] = await Promise.all([
    filteredQuery(store, { ...common, vector: request.vector }),
    useKeyword ? filteredKeywordQuery(store, { ...common, text: request.text }) : Promise.resolve([]),
  ]);
  const merged = new Map<string, { record: MemoryRecord; score: number; keywordScore?: number; fusedScore: number }>();
  semantic.forEach((match, rank) => {
    merged.set(match.record.id, { record: match.record, score: match.score, fusedScore: 1 / (RRF_K + rank + 1) });
  });
  keyword.forEach((match, rank) => {
    const seen = merged.get(match.record.id);
    const boost = 1 / (RRF_K + rank + 1);
    if (seen) {
      seen.keywordScore = match.score;
      seen.fusedScore += boost;
    } else {
      merged.set(match.record.id, {
        record: match.record,
        score: cosineSimilarity(request.vector, match.record.vector),
        keywordScore: match.score,
        fusedScore: boost,
      });
    }
  });
  return [...merged.values()]
    .filter((match) => request.threshold === undefined || match.score >= request.threshold)
    .sort((a, b) => b.fusedScore - a.fusedScore || b.score - a.score);
}
