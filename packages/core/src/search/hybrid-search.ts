import type { Filter } from '../contract/filter';
import type { VectorStore } from '../contract/interfaces';
import type { MemoryRecord, Scope } from '../contract/types';
import { cosineSimilarity } from '../kit/vector-math';
import { filteredKeywordQuery, filteredQuery } from '../store/filtered-reads';

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
