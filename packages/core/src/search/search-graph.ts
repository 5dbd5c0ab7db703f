import type { GraphRelation } from '../contract/interfaces';
import type { Scope } from '../contract/types';
import { USER_ENTITY, type GraphSettings } from '../graph/graph-options';
import { bm25Scores, tokenize } from '../kit/bm25';
import { ensureGraphSchema } from '../store/readiness';

/** A relation found by `search`, with its relevance to the query. */
export interface GraphSearchRelation extends GraphRelation {
  /** Fused relevance (reciprocal rank fusion of keyword and entity similarity ranks); higher is better. */
  readonly score: number;
}

/** An entity that seeded the graph search: similar to the query, or the user for first-person queries. */
export interface GraphSearchEntity {
  readonly name: string;
  readonly type: string;
  readonly scope: Scope;
  /** Cosine similarity of the entity to the query (1 for the user entity seeded by "I", "my", …). */
  readonly score: number;
}

/** Reciprocal rank fusion constant, as in the memory search. */
const RRF_K = 60;
/** First-person words: a query with one is about the user, whose entity is `user`. */
const FIRST_PERSON = /(?:^|[^\p{L}\p{N}])(?:i|me|my|mine|myself|i'm|i've|i'd)(?=$|[^\p{L}\p{N}])/iu;

/**
 * The graph stage of `search`: no embedding call (it reuses the query vector).
 * 1. Seeds: the `searchEntityLimit` entities in scope most similar to the query (at or above
 *    `searchThreshold`), plus the user's entity when the query speaks in the first person.
 * 2. Their neighbourhood: relations touching a seed, in scope (open only unless `includeInvalid`).
 * 3. Ranking: reciprocal rank fusion of BM25 over "source relation target" and the best
 *    similarity of the relation's endpoints to the query; open relations before closed ones on ties.
 */
export async function searchGraph(options: {
  readonly settings: GraphSettings;
  readonly scope: Scope;
  readonly query: string;
  readonly vector: readonly number[];
  readonly limit: number;
  readonly includeInvalid: boolean;
  readonly signal?: AbortSignal;
}): Promise<{ entities: GraphSearchEntity[]; relations: GraphSearchRelation[] }> {
  const { settings, scope, query, vector, limit } = options;
  const signal = options.signal ? { signal: options.signal } : {};
  await ensureGraphSchema(settings.store, vector.length, options.signal);
  const matches = await settings.store.searchEntities({
    scope,
    vector,
    topK: settings.searchEntityLimit,
    threshold: settings.searchThreshold,
    ...signal,
  });
  const entities: GraphSearchEntity[] = matches.map((match) => ({ ...match.entity, score: match.score }));
  const seedScores = new Map<string, number>();
  for (const entity of entities)
    seedScores.set(entity.name, Math.max(seedScores.get(entity.name) ?? Number.NEGATIVE_INFINITY, entity.score));
  if (FIRST_PERSON.test(query) && !seedScores.has(USER_ENTITY)) {
    seedScores.set(USER_ENTITY, 1);
    entities.push({ name: USER_ENTITY, type: 'person', scope, score: 1 });
  }
  if (seedScores.size === 0) return { entities, relations: [] };
  const relations = await settings.store.neighbors({
    scope,
    entities: [...seedScores.keys()],
    limit: settings.neighborLimit,
    includeInvalid: options.includeInvalid,
    ...signal,
  });
  if (relations.length === 0) return { entities, relations: [] };

  const keyword = bm25Scores(
    stemmed(query),
    relations.map((relation) => stemmed(`${relation.source} ${relation.relation.replace(/_/g, ' ')} ${relation.target}`)),
  );
  const similarity = relations.map((relation) => Math.max(seedScores.get(relation.source) ?? -1, seedScores.get(relation.target) ?? -1));
  const fused = relations.map(() => 0);
  const addRanks = (scores: readonly number[], onlyPositive: boolean) => {
    const order = scores.map((score, index) => ({ score, index })).filter((entry) => !onlyPositive || entry.score > 0);
    order.sort((a, b) => b.score - a.score);
    order.forEach((entry, rank) => (fused[entry.index]! += 1 / (RRF_K + rank + 1)));
  };
  addRanks(keyword, true);
  addRanks(similarity, false);
  return {
    entities,
    relations: relations
      .map((relation, index) => ({ ...relation, score: fused[index]! }))
      .sort((a, b) => b.score - a.score || Number(a.validTo !== null) - Number(b.validTo !== null))
      .slice(0, limit),
  };
}

/**
 * Words with common English inflections cut off, so "live" in a query meets "lives_in" and "work"
 * meets "works_at" ("lives", "lived", "living" → "liv"). Applied to the query and the relations
 * alike, so a word other languages share with nothing is merely shortened on both sides.
 */
function stemmed(text: string): string {
  return tokenize(text).map(stem).join(' ');
}

function stem(token: string): string {
  let word = token;
  if (word.length > 4 && word.endsWith('ies')) word = `${word.slice(0, -3)}y`;
  else if (word.length > 5 && word.endsWith('ing')) word = word.slice(0, -3);
  else if (word.length > 4 && word.endsWith('ed')) word = word.slice(0, -2);
  else if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) word = word.slice(0, -1);
  return word.length > 3 && word.endsWith('e') ? word.slice(0, -1) : word;
}
