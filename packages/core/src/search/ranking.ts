import { InvalidInputError } from '../contract/errors';
import type { Embedder } from '../contract/interfaces';

/**
 * How `search` weighs what it knows about each candidate. The defaults were chosen on LOCOMO
 * conversations 0–4 and checked on 5–9 (`pnpm bench locomo`, apps/bench).
 */
export interface RankingOptions {
  /**
   * Weight of keyword (BM25) relevance against semantic similarity, from 0 (semantic only) to 1
   * (keyword only), after each is scaled to 0–1 over its own candidates.
   * @default 0.7; 0.9 with core's `LexicalEmbedder`, whose similarity is itself a word overlap, weaker than BM25
   */
  readonly keywordWeight?: number;
  /**
   * Share of the best score of another candidate from the same conversation (same `occurredAt`)
   * added to a candidate's own, from 0 to 1: memories learned together support each other, which
   * brings in the second and third memory a question needs.
   * @default 0.2
   */
  readonly conversationWeight?: number;
  /**
   * Share of a strong candidate's score given to the memories stored just before and after it (up to
   * two on each side) in the same conversation (same `occurredAt`), from 0 to 1. Search reads the
   * conversations of its best few candidates for them, so the turn that answers a matched question,
   * or the one it follows, comes back too even when it shares no word with the query. 0 turns it off
   * (and saves one store read per search).
   * @default 0.35
   */
  readonly neighborWeight?: number;
  /**
   * Weight, from 0 to 1, of a memory's `occurredAt` falling in a period the query names: a day
   * ("on 3 May 2023", "May 3, 2023", "2023-05-03"), a month of a year ("in July 2022"), a year
   * ("in 2021") or a month ("in June", any year). A memory from within a week after the day, or the
   * month after the month, gets half. The search also reads the best memories of that period, so one
   * that shares no word with the query still comes back. 0 turns it off.
   * @default 0.7
   */
  readonly dateWeight?: number;
  /**
   * Weight, from 0 to 1, of a memory stored as "Name: text" (what `add` with `infer: false` stores
   * for a message with a `name`) whose Name the query mentions as a word: "What instruments does
   * Melanie play?" prefers what Melanie said over what was said to her. 0 turns it off.
   * @default 0.5
   */
  readonly speakerWeight?: number;
  /**
   * When the query names the speaker of memories stored as "Name: text" (and `speakerWeight` is
   * above 0), the semantic side searches with the query's embedding without the name: "What
   * instruments does Melanie play?" is embedded as "What instruments does play?". The speaker weight
   * already prefers what Melanie said; the name in the embedded query would also pull in every memory
   * that merely mentions her ("Thanks, Melanie!") and drown the ones about the topic. Costs one more
   * embedding call and one more vector query, only for a query that names a speaker. `false` keeps
   * the whole query.
   * @default true (chosen on LOCOMO conversations 0–4, checked on 5–9: with all-MiniLM-L6-v2 every
   *   measure rose on both halves; with core's `LexicalEmbedder` it changes little)
   */
  readonly semanticWithoutSpeaker?: boolean;
}

/** {@link RankingOptions} with the defaults filled in. */
export interface RankingSettings {
  readonly keywordWeight: number;
  readonly conversationWeight: number;
  readonly neighborWeight: number;
  readonly dateWeight: number;
  readonly speakerWeight: number;
  readonly semanticWithoutSpeaker: boolean;
}

/** Keyword weight for model embedders (chosen on LOCOMO conversations 0–4 with all-MiniLM-L6-v2). */
const KEYWORD_WEIGHT = 0.7;
/** Keyword weight for core's lexical embedder (chosen on the same conversations). */
const LEXICAL_KEYWORD_WEIGHT = 0.9;
const CONVERSATION_WEIGHT = 0.2;
const NEIGHBOR_WEIGHT = 0.35;
const DATE_WEIGHT = 0.7;
const SPEAKER_WEIGHT = 0.5;

/**
 * Fills the defaults of {@link RankingOptions} for an embedder.
 * @throws {InvalidInputError} when a weight is not a number from 0 to 1, or a switch not a boolean.
 */
export function resolveRanking(options: RankingOptions | undefined, embedder: Embedder): RankingSettings {
  const weight = (value: unknown, field: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new InvalidInputError(
        `options.ranking.${field}`,
        'expected a number from 0 to 1',
        `Pass e.g. { ranking: { ${field}: ${fallback} } }.`,
      );
    }
    return value;
  };
  const flag = (value: unknown, field: string, fallback: boolean): boolean => {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      throw new InvalidInputError(
        `options.ranking.${field}`,
        'expected true or false',
        `Pass e.g. { ranking: { ${field}: ${fallback} } }.`,
      );
    }
    return value;
  };
  return {
    keywordWeight: weight(
      options?.keywordWeight,
      'keywordWeight',
      embedder.provider === 'lexical' ? LEXICAL_KEYWORD_WEIGHT : KEYWORD_WEIGHT,
    ),
    conversationWeight: weight(options?.conversationWeight, 'conversationWeight', CONVERSATION_WEIGHT),
    neighborWeight: weight(options?.neighborWeight, 'neighborWeight', NEIGHBOR_WEIGHT),
    dateWeight: weight(options?.dateWeight, 'dateWeight', DATE_WEIGHT),
    speakerWeight: weight(options?.speakerWeight, 'speakerWeight', SPEAKER_WEIGHT),
    semanticWithoutSpeaker: flag(options?.semanticWithoutSpeaker, 'semanticWithoutSpeaker', true),
  };
}
