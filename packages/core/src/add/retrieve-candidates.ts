import { andFilters, notExpiredFilter, notProceduralFilter, splitFilter } from '../contract/filter';
import type { MemoryRecord } from '../contract/types';
import { filteredQuery } from '../store/filtered-reads';
import { ensureDimensions } from '../store/readiness';
import type { AddContext } from './add-strategy';

/**
 * The `reconcile` strategy's retrieval, also for custom strategies: finds the stored memories
 * closest to the new messages, in scope, leaving out those expired at `context.now` and procedural
 * ones. One embedding call for all messages; one `queryAny` for all of them where the store has it
 * (and evaluates the filter itself), else one query per message, merged by best score: the same
 * candidates (ties aside).
 */
export async function retrieveCandidates(context: AddContext): Promise<MemoryRecord[]> {
  return (await retrieveCandidatesWithVectors(context)).candidates;
}

/** {@link retrieveCandidates}, also returning the message vectors it computed (graph memory reuses them). */
export async function retrieveCandidatesWithVectors(context: AddContext): Promise<{ candidates: MemoryRecord[]; vectors: number[][] }> {
  const texts = context.messages
    .filter((message) => message.role !== 'system' && message.content.trim() !== '')
    .map((message) => message.content);
  if (texts.length === 0 || context.candidateLimit === 0) return { candidates: [], vectors: [] };
  const vectors = await context.meter.embed(context.embedder, {
    texts,
    purpose: 'query',
    ...(context.signal ? { signal: context.signal } : {}),
  });
  await ensureDimensions(context.vectorStore, vectors[0]!.length, context.signal);
  const best = new Map<string, { record: MemoryRecord; score: number }>();
  // Procedural memories (summaries of an agent's runs) are never reconciled with facts.
  const filter = andFilters(notExpiredFilter(context.now), notProceduralFilter());
  const { vectorStore } = context;
  if (vectorStore.queryAny && vectors.length > 1 && !splitFilter(filter, vectorStore.capabilities.filterOperators).residual) {
    const matches = await vectorStore.queryAny({
      scope: context.scope,
      vectors,
      topK: context.candidateLimit,
      filter,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    return { candidates: matches.map((match) => match.record), vectors };
  }
  const results = await Promise.all(
    vectors.map((vector) =>
      filteredQuery(context.vectorStore, {
        scope: context.scope,
        vector,
        topK: context.candidateLimit,
        filter,
        ...(context.signal ? { signal: context.signal } : {}),
      }),
    ),
  );
  for (const matches of results) {
    for (const match of matches) {
      const seen = best.get(match.record.id);
      if (!seen || seen.score < match.score) best.set(match.record.id, match);
    }
  }
  const candidates = [...best.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, context.candidateLimit)
    .map((match) => match.record);
  return { candidates, vectors };
}
