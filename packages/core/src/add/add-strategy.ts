import type { Embedder, LLM, VectorStore } from '../contract/interfaces';
import type { MemoryRecord, Scope, TextChatMessage } from '../contract/types';
import type { CategoryDefinition } from '../contract/validation';
import type { GraphSettings } from '../graph/graph-options';
import type { UsageMeter } from '../llm/usage-meter';
import type { GraphExtraction } from './graph-answer';
import type { ConversationImage } from './images';
import type { ShownRelation } from './shown-relations';

/** Everything a strategy may use to plan one `add`. */
export interface AddContext {
  /** The conversation as text: images appear as `[image 1]` markers (see `images`) or as their descriptions. */
  readonly messages: readonly TextChatMessage[];
  /**
   * The images the markers stand for, when they go in the strategy's own LLM call: only for a
   * strategy with `imageInput`, an `llm` whose `capabilities.imageInput` is true and
   * `images.describe` on. Send them with the conversation, e.g. `withImages(prompt, context.images)`.
   */
  readonly images?: readonly ConversationImage[];
  readonly scope: Scope;
  /** When the conversation happened; relative dates resolve against it. */
  readonly occurredAt: Date;
  /** When the call started; memories that expired by then are not candidates ({@link retrieveCandidates} leaves them out). */
  readonly now: Date;
  /** The configured LLM; `undefined` when none is. */
  readonly llm: LLM | undefined;
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  /** Route every LLM and embedder call through it, so `add` reports what it spent. */
  readonly meter: UsageMeter;
  /** Extraction and update instructions in force for this call. */
  readonly prompts: { readonly extraction: string; readonly update: string };
  /** How many existing memories to show the LLM. */
  readonly candidateLimit: number;
  /**
   * Custom categories the extraction call assigns to the facts (names only, from this list), when
   * configured; the built-in strategies ask for them in the same call and put them on ADD and UPDATE.
   */
  readonly categories?: readonly CategoryDefinition[];
  /** Graph memory settings when a graph store is configured (and `infer` is not false). */
  readonly graph?: GraphSettings;
  readonly signal?: AbortSignal;
}

/** What `add` found for the graph, as it leaves the LLM: the extraction and the relations it was shown. */
export interface GraphPlan {
  readonly extraction: GraphExtraction;
  readonly shown: readonly ShownRelation[];
}

/**
 * One change a strategy wants. Ids must name records of `AddPlan.candidates`. `categories` (names
 * of `AddContext.categories`; others are dropped) replace the memory's categories; left out, an ADD
 * has none and an UPDATE keeps its memory's.
 */
export type PlannedOperation =
  | { readonly kind: 'ADD'; readonly text: string; readonly categories?: readonly string[] }
  | { readonly kind: 'UPDATE'; readonly id: string; readonly text: string; readonly categories?: readonly string[] }
  | { readonly kind: 'DELETE'; readonly id: string }
  | { readonly kind: 'NONE'; readonly id: string };

/** What a strategy returns: the operations, and the existing records they may touch. */
export interface AddPlan {
  readonly operations: readonly PlannedOperation[];
  /**
   * The records the strategy looked at, by id. The apply step touches no other record: an
   * UPDATE of an id outside this set (or outside the call's scope) becomes an ADD of its text,
   * a DELETE or NONE of such an id is ignored.
   */
  readonly candidates: ReadonlyMap<string, MemoryRecord>;
  /**
   * The graph part of the conversation, when the strategy extracted it in its own call (the
   * built-in `reconcile` strategy does, when `context.graph` is set). Left out, core extracts the
   * graph with one more LLM call.
   */
  readonly graph?: GraphPlan;
}

/**
 * How `add` turns messages into changes. Built in: {@link reconcileStrategy} (the default),
 * {@link additiveStrategy}, and {@link rawStrategy} (`infer: false`). Write your own to change
 * the pipeline; core still validates and applies the plan.
 */
export interface AddStrategy {
  readonly name: string;
  /** Whether the strategy needs `Memory`'s `llm`. */
  readonly needsLLM: boolean;
  /**
   * Whether `plan` sends `context.images` to the LLM in its own call (the built-in `reconcile` and
   * `additive` strategies do). Without it, core describes each image in a call of its own first and
   * the strategy sees the descriptions in the text. @default false
   */
  readonly imageInput?: boolean;
  plan(context: AddContext): Promise<AddPlan>;
}
