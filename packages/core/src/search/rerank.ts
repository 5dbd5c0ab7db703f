import { readScores } from '../contract/adapter-results';
import type { Reranker } from '../contract/interfaces';
import type { RankedMatch } from './hybrid-search';

/** A ranked match, with the reranker's score when the search was reranked. */
export interface RerankedMatch {
  readonly match: RankedMatch;
  readonly rerankScore?: number;
}

/**
 * The rerank stage of `search`: re-orders the fused matches by the reranker's scores (one finite
 * score per match, checked). Without a reranker, or with nothing to rerank, the order stays.
 */
export async function rerankMatches(
  reranker: Reranker | undefined,
  query: string,
  matches: readonly RankedMatch[],
  signal?: AbortSignal,
): Promise<RerankedMatch[]> {
  const ranked: RerankedMatch[] = matches.map((match) => ({ match }));
  if (!reranker || ranked.length === 0) return ranked;
  const documents = ranked.map(({ match }) => match.record.text);
  const scores = readScores(await reranker.rerank({ query, documents, ...(signal ? { signal } : {}) }), documents.length, {
    provider: reranker.provider,
    operation: 'rerank',
  });
  const reranked = ranked.map((entry, index) => ({ ...entry, rerankScore: scores[index]! }));
  return reranked.sort((a, b) => b.rerankScore - a.rerankScore);
}
