import type { Embedder, LLM } from '../contract/interfaces';
import { toMemoryItem, withMemoryType, type MemoryItem } from '../contract/memory-item';
import type { ChatMessage, IdempotencyRecord, MemoryRecord, MemoryType, Metadata, Scope, Usage } from '../contract/types';
import type { CategoryDefinition } from '../contract/validation';
import type { GraphSettings } from '../graph/graph-options';
import { UsageMeter } from '../llm/usage-meter';
import type { MemoryWriter } from '../store/memory-writer';
import type { AddContext, AddPlan, AddStrategy } from './add-strategy';
import { readCategories } from './assign-categories';
import { applyGraph, type GraphAddResult } from './apply-graph';
import { applyPlan, planTargets, type MemoryEvent } from './apply-plan';
import { extractGraph } from './extract-graph';
import { prepareImages, type AddNote, type ImageSettings } from './images';
import { prepareGraph } from './prepare-graph';

/** One `add` call, validated by `Memory`. */
export interface AddRequest {
  readonly messages: readonly ChatMessage[];
  readonly scope: Scope;
  /** Stored on every memory the call creates (and merged into updated ones). */
  readonly metadata: Metadata;
  readonly occurredAt: Date;
  /** When the memories the call creates or updates expire (epoch ms); `undefined` leaves updated ones as they were. */
  readonly expiresAt: number | undefined;
  /** The configured strategy, or `rawStrategy` for `infer: false`. */
  readonly strategy: AddStrategy;
  /** Extraction and update instructions in force for this call. */
  readonly prompts: { readonly extraction: string; readonly update: string };
  /** Graph memory settings, when a graph store is configured and the call infers. */
  readonly graph: GraphSettings | undefined;
  /** With an `idempotencyKey`: the first call's result is looked up under the scope's lock, and this call's recorded there. */
  readonly idempotency?: IdempotencyHooks | undefined;
  /** The type of the memories the call creates: `procedural` for the summary of an agent's run. @default 'semantic' */
  readonly memoryType?: MemoryType;
  /** Custom categories extraction assigns (empty or absent: none). */
  readonly categories?: readonly CategoryDefinition[];
  /** What to do with the images of the messages (`infer: false` leaves them out). */
  readonly images: ImageSettings;
  readonly infer: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** The parts of a `Memory` that `add` uses. */
export interface AddParts {
  readonly llm: LLM | undefined;
  readonly embedder: Embedder;
  readonly writer: MemoryWriter;
  readonly candidateLimit: number;
  readonly now: () => Date;
}

/** How an add with a key looks its key up and records its result; handed to `runAdd`. */
export interface IdempotencyHooks {
  /** The first call's result when the key is recorded (same request), `undefined` when it is not. */
  replay(): Promise<AddResult | undefined>;
  /** The record of `result` under the call's key, to store with the add's writes. */
  recordOf(result: AddResult): IdempotencyRecord;
  /** Stores a record on its own (after a graph write, which comes after the memories' commit). */
  store(record: IdempotencyRecord): Promise<void>;
}

/** What {@link Memory.add} did. */
export interface AddResult {
  /** One event per fact: ADD, UPDATE (with `previousText`), DELETE, or NONE (already known). */
  readonly events: MemoryEvent[];
  /** The memories created or updated, as stored. */
  readonly memories: MemoryItem[];
  readonly usage: Usage;
  /** What the conversation changed in the graph; present when a graph store is configured and `infer` is not false. */
  readonly graph?: GraphAddResult;
  /** What the caller should know though the call succeeded, e.g. images left out; present when there is something. */
  readonly notes?: AddNote[];
}

/**
 * The `add` pipeline. Each stage takes what it needs and returns what the next one takes:
 *
 * 0. images ({@link prepareImages}: left out with a note, kept for the strategy's call, or
 *    described in calls of their own) → the messages as text
 * 1. plan (`AddStrategy.plan`, outside the locks: the LLM call) → `AddPlan`
 * 2. prepare graph ({@link extractGraph} when the strategy left the graph out, then
 *    {@link prepareGraph}: names normalised and embedded, outside the locks) → `PreparedGraph`
 * 3. lock (`MemoryWriter.locked`: the scope and the memories the plan may change) → `WriteSession`
 * 4. apply ({@link applyPlan}: the plan checked against the store, committed write-ahead) → events and records
 * 5. apply graph ({@link applyGraph}, still under the locks, after the memories) → `GraphAddResult`
 *
 * With an idempotency key, a result recorded for it is looked up under the locks before stage 4
 * (and returned instead of writing), and the call's result is recorded under them: with the
 * commit of stage 4 (the same settle of the history store), or after stage 5 when the graph is
 * written, so a call that fails records nothing.
 */
export async function runAdd(request: AddRequest, parts: AddParts): Promise<AddResult> {
  const { scope, signal, graph } = request;
  const meter = new UsageMeter();
  const embedDocuments = (texts: readonly string[]) =>
    meter.embed(parts.embedder, { texts, purpose: 'document', ...(signal ? { signal } : {}) });
  // 0. Images: what the model sees of them is decided (and any description call made) before planning.
  const conversation = await prepareImages({
    messages: request.messages,
    settings: request.images,
    infer: request.infer,
    strategyTakesImages: request.strategy.imageInput === true,
    llm: parts.llm,
    meter,
    signal,
  });
  const context: AddContext = {
    messages: conversation.messages,
    ...(conversation.images ? { images: conversation.images } : {}),
    scope,
    occurredAt: request.occurredAt,
    now: parts.now(),
    llm: parts.llm,
    embedder: parts.embedder,
    vectorStore: parts.writer.vectorStore,
    meter,
    prompts: request.prompts,
    candidateLimit: parts.candidateLimit,
    ...(request.categories && request.categories.length > 0 ? { categories: request.categories } : {}),
    ...(graph ? { graph } : {}),
    ...(signal ? { signal } : {}),
  };
  // 1. Plan: the strategy's LLM call runs outside the locks; stage 4 re-reads the records under them.
  const plan = knownCategories(await request.strategy.plan(context), request.categories ?? []);
  // 2. Prepare graph: extracted in the strategy's call when it can (reconcile), else in one more call.
  const preparedGraph = graph ? await prepareGraph(plan.graph ?? (await extractGraph(context, graph)), embedDocuments) : undefined;
  // 3. Lock: the scope's lock serialises adds (no duplicates); the locks of the memories the plan may
  // change serialise it with update/delete calls made through another, overlapping scope.
  // With an idempotency key, the key is looked up again under the scope's lock (another process may
  // have finished the same request meanwhile: its result is returned, nothing is written), and this
  // call's result is recorded under the same lock, with its writes.
  const { idempotency } = request;
  const writesGraph = graph !== undefined && preparedGraph !== undefined;
  return parts.writer.locked({ scope, ids: planTargets(plan), signal }, async (session): Promise<AddResult> => {
    const replayed = await idempotency?.replay();
    if (replayed) return replayed;
    const resultOf = (applied: { events: MemoryEvent[]; records: MemoryRecord[] }, graphResult?: GraphAddResult): AddResult => ({
      events: applied.events,
      memories: applied.records.map(toMemoryItem),
      usage: { ...meter.usage },
      ...(graphResult ? { graph: graphResult } : {}),
      ...(conversation.notes.length > 0 ? { notes: [...conversation.notes] } : {}),
    });
    // 4. Apply. Without a graph to write, the result is complete here: recorded in the commit itself.
    const applied = await applyPlan({
      plan,
      session,
      embed: embedDocuments,
      metadata: withMemoryType(request.metadata, request.memoryType ?? 'semantic'),
      occurredAt: request.occurredAt,
      expiresAt: request.expiresAt,
      now: parts.now(),
      idempotencyRecord: idempotency && !writesGraph ? (done) => idempotency.recordOf(resultOf(done)) : undefined,
    });
    if (!writesGraph) return resultOf(applied);
    // 5. Apply graph: after the memories; a graph store failure leaves the memories written.
    const graphResult = await applyGraph({
      settings: graph,
      scope,
      occurredAt: request.occurredAt,
      prepared: preparedGraph,
      ...(signal ? { signal } : {}),
    });
    const result = resultOf(applied, graphResult);
    if (idempotency) await idempotency.store(idempotency.recordOf(result));
    return result;
  });
}

/**
 * The plan with each operation's categories narrowed to the configured ones (a custom strategy may
 * name others; they are dropped like a model's); without configured categories, none are stored.
 */
function knownCategories(plan: AddPlan, categories: readonly CategoryDefinition[]): AddPlan {
  if (!plan.operations.some((operation) => (operation.kind === 'ADD' || operation.kind === 'UPDATE') && operation.categories)) return plan;
  return {
    ...plan,
    operations: plan.operations.map((operation) => {
      if ((operation.kind !== 'ADD' && operation.kind !== 'UPDATE') || operation.categories === undefined) return operation;
      const { categories: given, ...rest } = operation;
      return categories.length === 0 ? rest : { ...rest, categories: readCategories(given, categories) };
    }),
  };
}
