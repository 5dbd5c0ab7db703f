import type { Filter } from '../contract/filter';
import type { VectorStore } from '../contract/interfaces';
import type { MemoryRecord, Scope, VectorMatch } from '../contract/types';
import { cosineSimilarity } from '../kit/vector-math';
import { filteredKeywordQuery, filteredQuery } from '../store/filtered-reads';
import type { RankingSettings } from './ranking';

/** A search candidate with the scores it earned. */
export interface RankedMatch {
  readonly record: MemoryRecord;
  /** Cosine similarity to the query. */
  readonly score: number;
  /** Keyword relevance (BM25 from the store), when the keyword search found the record. */
  readonly keywordScore?: number;
  /** The score used for ordering: fused keyword and semantic relevance, plus the conversation share. */
  readonly fusedScore: number;
}

/** Fewest candidates asked of each list, however small the limit: the fusion needs a pool to compare. */
const MIN_CANDIDATES = 40;

/**
 * Semantic search fused with keyword search where the store has it, by score:
 *
 * 1. each list is scaled to 0–1 over its own candidates (min–max), so neither the cosine range of
 *    an embedder nor BM25's unbounded scale decides the mix;
 * 2. `own = (1 − keywordWeight) · semantic + keywordWeight · keyword` (0 for the list that missed
 *    it); without keyword search (store or call), `own` is the semantic score alone;
 * 3. `fused = own + conversationWeight · (best own of another candidate with the same occurredAt)`:
 *    memories learned in the same conversation support each other.
 *
 * Every result carries its cosine similarity as `score` (computed from the stored vector when only
 * the keyword search found it); `threshold` applies to it.
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
    ranking: RankingSettings;
    signal?: AbortSignal;
  },
): Promise<RankedMatch[]> {
  const common = {
    scope: request.scope,
    topK: Math.max(request.limit * 2, MIN_CANDIDATES),
    ...(request.filter ? { filter: request.filter } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  const useKeyword = request.keyword && store.capabilities.keywordSearch;
  const [semantic, keyword] = await Promise.all([
    filteredQuery(store, { ...common, vector: request.vector }),
    useKeyword ? filteredKeywordQuery(store, { ...common, text: request.text }) : Promise.resolve([]),
  ]);
  const candidates = new Map<string, { record: MemoryRecord; score: number; keywordScore?: number }>();
  for (const match of semantic) candidates.set(match.record.id, { record: match.record, score: match.score });
  for (const match of keyword) {
    const seen = candidates.get(match.record.id);
    if (seen) seen.keywordScore = match.score;
    else
      candidates.set(match.record.id, {
        record: match.record,
        score: cosineSimilarity(request.vector, match.record.vector),
        keywordScore: match.score,
      });
  }
  const semanticShare = scaled(semantic);
  const keywordShare = scaled(keyword);
  const keywordWeight = useKeyword ? request.ranking.keywordWeight : 0;
  const own = new Map<string, number>();
  for (const id of candidates.keys()) {
    own.set(id, (1 - keywordWeight) * (semanticShare.get(id) ?? 0) + keywordWeight * (keywordShare.get(id) ?? 0));
  }
  const conversationBest = bestPerConversation([...candidates.values()].map(({ record }) => ({ record, own: own.get(record.id)! })));
  return [...candidates.values()]
    .map((candidate) => {
      const mine = own.get(candidate.record.id)!;
      const others = conversationBest.get(candidate.record.occurredAt.getTime());
      // The best other member of the conversation: the runner-up when this one is the best.
      const support = others === undefined ? 0 : others.bestId === candidate.record.id ? others.second : others.best;
      return { ...candidate, fusedScore: mine + request.ranking.conversationWeight * support };
    })
    .filter((match) => request.threshold === undefined || match.score >= request.threshold)
    .sort((a, b) => b.fusedScore - a.fusedScore || b.score - a.score);
}

/** Each match's score scaled to 0–1 over its list (min–max); every score 1 when they are all equal. */
function scaled(matches: readonly VectorMatch[]): Map<string, number> {
  const scores = matches.map((match) => match.score);
  const high = Math.max(...scores);
  const low = Math.min(...scores);
  return new Map(matches.map((match) => [match.record.id, high > low ? (match.score - low) / (high - low) : 1]));
}

/** Per conversation (`occurredAt` in ms): its best and second-best own score, and the best one's id. */
function bestPerConversation(
  members: readonly { record: MemoryRecord; own: number }[],
): Map<number, { best: number; bestId: string; second: number }> {
  const groups = new Map<number, { best: number; bestId: string; second: number }>();
  for (const { record, own } of members) {
    const key = record.occurredAt.getTime();
    const group = groups.get(key);
    if (!group) groups.set(key, { best: own, bestId: record.id, second: 0 });
    else if (own > group.best) groups.set(key, { best: own, bestId: record.id, second: group.best });
    else group.second = Math.max(group.second, own);
  }
  return groups;
}
