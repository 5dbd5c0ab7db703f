import { InvalidInputError } from '../contract/errors';
import type { GraphStore } from '../contract/interfaces';
import { checkInteger } from '../contract/validation';
import { normalizeRelationName } from './graph-names';

/**
 * Relations a source holds with one target at a time: a new (user, lives_in, porto) closes an open
 * (user, lives_in, lisbon). Override with `graph.singleValuedRelations`.
 */
export const DEFAULT_SINGLE_VALUED_RELATIONS: readonly string[] = Object.freeze([
  'lives_in',
  'resides_in',
  'works_at',
  'works_for',
  'employed_by',
  'works_as',
  'job_title',
  'married_to',
  'spouse_of',
  'engaged_to',
  'dating',
  'in_relationship_with',
  'reports_to',
  'managed_by',
  'studies_at',
  'age',
  'born_in',
  'born_on',
  'birthday',
  'name',
  'named',
]);

/** Settings of graph memory (`new Memory({ graphStore, graph })`). */
export interface GraphOptions {
  /**
   * Cosine similarity at or above which an extracted entity is taken to be a stored one (or an
   * earlier one of the same `add`), so "Alice Smith" and "alice  smith" become one entity. Names
   * equal after normalisation always merge. @default 0.9
   */
  readonly entityThreshold?: number;
  /** Relation names (lower snake_case) whose source holds one target at a time. @default DEFAULT_SINGLE_VALUED_RELATIONS */
  readonly singleValuedRelations?: readonly string[];
  /** Cosine similarity of an entity to the search query at or above which it seeds graph search. @default 0.3 */
  readonly searchThreshold?: number;
  /** How many entities most similar to the query seed graph search. @default 5 */
  readonly searchEntityLimit?: number;
  /** How many relations around the seed entities are fetched and ranked per search. @default 100 */
  readonly neighborLimit?: number;
  /** How many stored relations `add` shows the LLM so it can end them. @default 10 */
  readonly contextLimit?: number;
}

/** {@link GraphOptions} with every default filled, and the store. */
export interface GraphSettings {
  readonly store: GraphStore;
  readonly entityThreshold: number;
  readonly singleValuedRelations: ReadonlySet<string>;
  readonly searchThreshold: number;
  readonly searchEntityLimit: number;
  readonly neighborLimit: number;
  readonly contextLimit: number;
}

/** The entity every conversation's speaking user becomes (the prompt tells the model to use it). */
export const USER_ENTITY = 'user';

/**
 * Validates graph options and fills the defaults.
 * @throws {InvalidInputError} for an option out of range, or a store that is not a GraphStore.
 */
export function resolveGraphSettings(store: GraphStore, options: GraphOptions = {}): GraphSettings {
  for (const method of [
    'ensureSchema',
    'upsertEntities',
    'upsertRelations',
    'invalidateRelations',
    'neighbors',
    'searchEntities',
    'deleteAll',
    'reset',
    'close',
  ] as const) {
    if (typeof (store as unknown as Record<string, unknown>)[method] !== 'function') {
      throw new InvalidInputError(
        'options.graphStore',
        `expected a GraphStore, but ${method}() is missing`,
        'Pass e.g. new SqliteGraphStore() from @mem/graph-sqlite, or InMemoryGraphStore.',
      );
    }
  }
  const similarity = (value: unknown, field: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= -1 && value <= 1)) {
      throw new InvalidInputError(field, 'expected a cosine similarity from -1 to 1', `Pass e.g. ${fallback}.`);
    }
    return value;
  };
  if (
    options.singleValuedRelations !== undefined &&
    (!Array.isArray(options.singleValuedRelations) || options.singleValuedRelations.some((name) => typeof name !== 'string'))
  ) {
    throw new InvalidInputError(
      'options.graph.singleValuedRelations',
      'expected an array of relation names',
      'Pass e.g. ["lives_in", "works_at"], or [] for none.',
    );
  }
  return {
    store,
    entityThreshold: similarity(options.entityThreshold, 'options.graph.entityThreshold', 0.9),
    singleValuedRelations: new Set((options.singleValuedRelations ?? DEFAULT_SINGLE_VALUED_RELATIONS).map(normalizeRelationName)),
    searchThreshold: similarity(options.searchThreshold, 'options.graph.searchThreshold', 0.3),
    searchEntityLimit: checkInteger(options.searchEntityLimit, 'options.graph.searchEntityLimit', 1, 100, 5),
    neighborLimit: checkInteger(options.neighborLimit, 'options.graph.neighborLimit', 1, 10_000, 100),
    contextLimit: checkInteger(options.contextLimit, 'options.graph.contextLimit', 0, 100, 10),
  };
}
