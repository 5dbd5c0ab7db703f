import type { MemoryRecord } from '../types';
import type { AddContext } from './strategy';

/**
 * Stage 2 of the pipeline: finds the stored memories closest to the new messages, in scope.
 * One embedding call for all messages, one query per message, merged by best score.
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
  await ensureDimensions(context, vectors[0]!.length);
  const best = new Map<string, { record: MemoryRecord; score: number }>();
  const results = await Promise.all(
    vectors.map((vector) =>
      context.vectorStore.query({
        scope: context.scope,
        vector,
        topK: context.candidateLimit,
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

/** Stores remember which dimensions they were checked against, so the check runs once per store. */
const checked = new WeakMap<object, number>();

/**
 * Checks the embedder's dimensions against the store before the first read or write:
 * creates the collection when missing, throws `DimensionMismatchError` when it holds other sizes.
 */
export async function ensureDimensions(context: Pick<AddContext, 'vectorStore' | 'signal'>, dimensions: number): Promise<void> {
  if (checked.get(context.vectorStore) === dimensions) return;
  await context.vectorStore.ensureCollection({ dimensions, ...(context.signal ? { signal: context.signal } : {}) });
  checked.set(context.vectorStore, dimensions);
}
