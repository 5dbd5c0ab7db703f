import { evaluateFilter, splitFilter, type Filter } from '../contract/filter';
import type { VectorStore } from '../contract/interfaces';
import type { MemoryRecord, Scope, VectorMatch } from '../contract/types';
import { cosineSimilarity } from '../kit/vector-math';

// Reads of the vector store that honour every filter operator: the part of a filter the store
// evaluates natively is pushed down, core evaluates the rest itself, exactly.

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
export async function filteredKeywordQuery(
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
 * Every record of a scope, in id order from `after` on, that matches `filter`: the part the store
 * evaluates natively is pushed down, core evaluates the rest on each record.
 */
export async function* scanScope(
  store: VectorStore,
  request: { scope: Scope; filter?: Filter | undefined; after?: string | undefined; signal?: AbortSignal | undefined },
): AsyncIterable<MemoryRecord> {
  const { native, residual } = splitFilter(request.filter, store.capabilities.filterOperators);
  for await (const record of store.list({
    scope: request.scope,
    ...(native ? { filter: native } : {}),
    ...(request.after === undefined ? {} : { after: request.after }),
    ...(request.signal ? { signal: request.signal } : {}),
  })) {
    if (!residual || evaluateFilter(residual, record)) yield record;
  }
}
