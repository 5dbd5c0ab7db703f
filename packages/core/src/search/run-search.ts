import type { Filter } from '../contract/filter';
import type { Embedder, Reranker, VectorStore } from '../contract/interfaces';
import { toMemoryItem, type MemoryItem } from '../contract/memory-item';
import type { Scope, Usage } from '../contract/types';
import type { GraphSettings } from '../graph/graph-options';
import { UsageMeter } from '../llm/usage-meter';
import { ensureDimensions } from '../store/readiness';
import { hybridSearch } from './hybrid-search';
import type { RankingSettings } from './ranking';
import { rerankMatches, type RerankedMatch } from './rerank';

/** The best fused candidates a reranker scores (or `limit`, when larger): a cross-encoder costs per document. */
export const RERANK_CANDIDATES = 30;
import { searchGraph, type GraphSearchEntity, type GraphSearchRelation } from './search-graph';

/** A search result. */
export interface SearchResult extends MemoryItem {
  /** Cosine similarity to the query, in [-1, 1]; higher is better. */
  readonly score: number;
  /** Keyword (BM25) relevance, when keyword search found the memory. */
  readonly keywordScore?: number;
  /** The reranker's score, when the search was reranked. */
  readonly rerankScore?: number;
}

/** What {@link Memory.search} returns. */
export interface SearchResponse {
  readonly results: SearchResult[];
  /** Graph memory: relations around the query's entities, most relevant first (present when a graph store is configured). */
  readonly relations?: GraphSearchRelation[];
  /** Graph memory: the entities that seeded `relations` (present when a graph store is configured). */
  readonly entities?: GraphSearchEntity[];
  readonly usage: Usage;
}

/** One `search` call, validated by `Memory`. */
export interface SearchRequest {
  readonly query: string;
  readonly scope: Scope;
  readonly filter: Filter | undefined;
  readonly limit: number;
  readonly threshold: number | undefined;
  /** Fuse keyword search in, where the store has it. */
  readonly keyword: boolean;
  /** The reranker, when the call asked for `rerank: true`. */
  readonly reranker: Reranker | undefined;
  readonly relationLimit: number;
  readonly includeInvalidRelations: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** The parts of a `Memory` that `search` uses. */
export interface SearchParts {
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  /** How candidates are weighed (resolved once, in the `Memory` constructor). */
  readonly ranking: RankingSettings;
  readonly graph: GraphSettings | undefined;
}

/**
 * The `search` pipeline:
 *
 * 1. embed the query (one embedding call; a second one when the query names a speaker, see
 *    `RankingOptions.semanticWithoutSpeaker`) and check the store's dimensions;
 * 2. graph ({@link searchGraph}, started alongside, reusing the query vector) when graph memory is on;
 * 3. hybrid ({@link hybridSearch}: semantic and keyword results fused, filtered, thresholded);
 * 4. rerank ({@link rerankMatches}) the best {@link RERANK_CANDIDATES} (or `limit`) when asked;
 * 5. shape: the first `limit` matches as {@link SearchResult}s, with the graph's relations and entities.
 */
export async function runSearch(request: SearchRequest, parts: SearchParts): Promise<SearchResponse> {
  const { query, scope } = request;
  const meter = new UsageMeter();
  const signal = request.signal ? { signal: request.signal } : {};
  // 1. Embed.
  const [vector] = await meter.embed(parts.embedder, { texts: [query], purpose: 'query', ...signal });
  await ensureDimensions(parts.vectorStore, vector!.length, request.signal);
  // 2. Graph: reuses the query vector, so no extra embedding call.
  const graphSearch = parts.graph
    ? searchGraph({
        settings: parts.graph,
        scope,
        query,
        vector: vector!,
        limit: request.relationLimit,
        includeInvalid: request.includeInvalidRelations,
        ...signal,
      })
    : undefined;
  // Awaited below; the handler only keeps a failure from being reported as unhandled meanwhile.
  graphSearch?.catch(() => undefined);
  // 3. Hybrid.
  const matches = await hybridSearch(parts.vectorStore, {
    scope,
    vector: vector!,
    text: query,
    limit: request.limit,
    keyword: request.keyword,
    ranking: parts.ranking,
    // A query naming a speaker is embedded again without the name (ranking.semanticWithoutSpeaker).
    embedQuery: async (text) => {
      const [restated] = await meter.embed(parts.embedder, { texts: [text], purpose: 'query', ...signal });
      return restated!;
    },
    ...(request.filter ? { filter: request.filter } : {}),
    ...(request.threshold === undefined ? {} : { threshold: request.threshold }),
    ...signal,
  });
  // 4. Rerank.
  const ranked = await rerankMatches(request.reranker, query, matches.slice(0, Math.max(request.limit, RERANK_CANDIDATES)), request.signal);
  // 5. Shape.
  const results = ranked.slice(0, request.limit).map(toSearchResult);
  const graph = graphSearch ? await graphSearch : undefined;
  return { results, ...(graph ? { relations: graph.relations, entities: graph.entities } : {}), usage: meter.usage };
}

function toSearchResult({ match, rerankScore }: RerankedMatch): SearchResult {
  return {
    ...toMemoryItem(match.record),
    score: match.score,
    ...(match.keywordScore === undefined ? {} : { keywordScore: match.keywordScore }),
    ...(rerankScore === undefined ? {} : { rerankScore }),
  };
}
