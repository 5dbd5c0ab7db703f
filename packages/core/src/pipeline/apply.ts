import { hashText, uuidv7 } from '../ids';
import type { HistoryStore } from '../interfaces';
import type { HistoryEvent, MemoryRecord, Metadata, Scope } from '../types';
import { ensureDimensions } from './retrieve';
import { writeAhead } from './write-ahead';
import type { AddContext, AddPlan } from './strategy';

/** One change `add` made (or chose not to make). */
export interface MemoryEvent {
  readonly kind: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE';
  readonly id: string;
  /** The memory's text after the event; for DELETE, the text that was removed. */
  readonly text: string;
  /** The text before an UPDATE. */
  readonly previousText?: string;
}

type Step =
  | { kind: 'ADD'; text: string; hash: string }
  | { kind: 'UPDATE'; current: MemoryRecord; text: string; hash: string }
  | { kind: 'DELETE'; current: MemoryRecord }
  | { kind: 'NONE'; current: MemoryRecord };

/**
 * Stage 4 of the pipeline: validates a plan against the store and applies it.
 *
 * Guarantees, whatever the model answered:
 * - only records that are in `plan.candidates` AND found by a scoped `get` are updated or deleted;
 * - no fact is dropped: an UPDATE that cannot apply (unknown id, record gone, id already used in
 *   this plan) becomes an ADD of its text;
 * - no duplicate: an ADD whose text is already stored in scope (same hash), or stored by another
 *   step of the plan, becomes NONE; an UPDATE to such a text deletes the memory it would have
 *   rewritten (the other copy stays);
 * - a memory the plan rewrites or deletes never counts as the stored copy of an ADD's text, so
 *   "ADD x" next to "DELETE the memory saying x" still leaves x stored;
 * - history is the write-ahead log (see {@link writeAhead}): the events are appended as pending
 *   before the vector store is written and committed after, so every stored memory has its
 *   history and, once settled, the history holds no change that did not happen.
 *
 * Callers hold the scope's lock, so concurrent adds of one scope apply one after another.
 */
export async function applyPlan(options: {
  plan: AddPlan;
  context: AddContext;
  metadata: Metadata;
  historyStore: HistoryStore;
  now: Date;
  /** Ids of history events being written, which `Memory.recover()` leaves alone. */
  inFlight?: Set<string>;
}): Promise<{ events: MemoryEvent[]; records: MemoryRecord[] }> {
  const { plan, context, metadata, historyStore, now, inFlight } = options;
  const { vectorStore, scope, signal } = context;
  const call = signal ? { signal } : {};

  const wanted = new Set<string>();
  for (const operation of plan.operations) if (operation.kind !== 'ADD' && plan.candidates.has(operation.id)) wanted.add(operation.id);
  const current = new Map(
    wanted.size === 0 ? [] : (await vectorStore.get({ scope, ids: [...wanted], ...call })).map((record) => [record.id, record] as const),
  );

  const steps: Step[] = [];
  const touched = new Set<string>();
  const addedHashes = new Set<string>();
  const pushAdd = (text: string) => {
    const hash = hashText(text);
    if (addedHashes.has(hash)) return;
    addedHashes.add(hash);
    steps.push({ kind: 'ADD', text, hash });
  };
  for (const operation of plan.operations) {
    const record = operation.kind === 'ADD' ? undefined : current.get(operation.id);
    switch (operation.kind) {
      case 'ADD':
        pushAdd(operation.text);
        break;
      case 'UPDATE': {
        const hash = hashText(operation.text);
        if (!record || touched.has(record.id)) pushAdd(operation.text);
        else if (hash === record.hash) {
          // The model restated the memory: it holds, so a DELETE of it later in the answer is ignored,
          // as after any UPDATE (the fact wins over a contradictory deletion).
          touched.add(record.id);
          steps.push({ kind: 'NONE', current: record });
        } else {
          touched.add(record.id);
          steps.push({ kind: 'UPDATE', current: record, text: operation.text, hash });
        }
        break;
      }
      case 'DELETE':
        if (record && !touched.has(record.id)) {
          touched.add(record.id);
          steps.push({ kind: 'DELETE', current: record });
        }
        break;
      case 'NONE':
        if (record) steps.push({ kind: 'NONE', current: record });
        break;
    }
  }

  const texts = steps.flatMap((step) => (step.kind === 'ADD' || step.kind === 'UPDATE' ? [step.text] : []));
  const vectors = await context.meter.embed(context.embedder, { texts, purpose: 'document', ...call });
  if (vectors.length > 0) await ensureDimensions(context, vectors[0]!.length);

  const events: MemoryEvent[] = [];
  const history: HistoryEvent[] = [];
  const upserts: MemoryRecord[] = [];
  const deletes: string[] = [];
  // An event carries the scope of the memory it changes, which may be narrower than the call's
  // (a call for { userId } updates a memory stored with { userId, agentId }); history() filters by it.
  const historyEvent = (
    memoryId: string,
    kind: HistoryEvent['kind'],
    previousText: string | null,
    text: string | null,
    memoryScope: Scope,
  ): HistoryEvent => ({
    id: uuidv7(now.getTime()),
    memoryId,
    kind,
    previousText,
    text,
    scope: memoryScope,
    validAt: context.occurredAt,
    createdAt: now,
    actor: 'add',
  });
  // Memories this plan rewrites or removes: a duplicate check must not point at them, their text is going away.
  const changing = new Set(steps.flatMap((step) => (step.kind === 'UPDATE' || step.kind === 'DELETE' ? [step.current.id] : [])));
  // Texts the plan leaves in the store (by hash), with the memory holding each, so no two steps store one text twice.
  const planned = new Map<string, { id: string; text: string }>();
  let vectorIndex = 0;
  for (const step of steps) {
    if (step.kind === 'NONE') {
      events.push({ kind: 'NONE', id: step.current.id, text: step.current.text });
      continue;
    }
    if (step.kind === 'DELETE') {
      deletes.push(step.current.id);
      history.push(historyEvent(step.current.id, 'DELETE', step.current.text, null, step.current.scope));
      events.push({ kind: 'DELETE', id: step.current.id, text: step.current.text });
      continue;
    }
    const vector = vectors[vectorIndex++]!;
    const holder = planned.get(step.hash) ?? (await findByHash(context, vector, step.hash, changing));
    if (step.kind === 'ADD') {
      if (holder) {
        events.push({ kind: 'NONE', id: holder.id, text: holder.text });
        continue;
      }
      const id = uuidv7(now.getTime());
      upserts.push({
        id,
        vector,
        text: step.text,
        hash: step.hash,
        scope,
        metadata,
        createdAt: now,
        updatedAt: now,
        occurredAt: context.occurredAt,
      });
      history.push(historyEvent(id, 'ADD', null, step.text, scope));
      events.push({ kind: 'ADD', id, text: step.text });
      planned.set(step.hash, { id, text: step.text });
    } else {
      const { current: record } = step;
      if (holder) {
        // The new text is already stored (or is stored by another step of this plan): rewriting this
        // memory to it would leave two copies, so this memory goes and the other copy stays.
        deletes.push(record.id);
        history.push(historyEvent(record.id, 'DELETE', record.text, null, record.scope));
        events.push({ kind: 'DELETE', id: record.id, text: record.text }, { kind: 'NONE', id: holder.id, text: holder.text });
        continue;
      }
      upserts.push({
        ...record,
        vector,
        text: step.text,
        hash: step.hash,
        metadata: { ...record.metadata, ...metadata },
        updatedAt: now,
        occurredAt: context.occurredAt,
      });
      history.push(historyEvent(record.id, 'UPDATE', record.text, step.text, record.scope));
      events.push({ kind: 'UPDATE', id: record.id, text: step.text, previousText: record.text });
      planned.set(step.hash, { id: record.id, text: step.text });
    }
  }

  await writeAhead({ historyStore, vectorStore, events: history, ...(inFlight ? { inFlight } : {}), ...call }, async () => {
    await upsertInBatches(vectorStore, upserts, signal);
    if (deletes.length > 0) await vectorStore.delete({ scope, ids: deletes, ...call });
  });
  return { events, records: upserts };
}

/** Splits an upsert into batches of the store's `maxUpsertBatch`. */
export async function upsertInBatches(
  vectorStore: AddContext['vectorStore'],
  records: readonly MemoryRecord[],
  signal?: AbortSignal,
): Promise<void> {
  const size = vectorStore.capabilities.maxUpsertBatch;
  for (let start = 0; start < records.length; start += size) {
    await vectorStore.upsert({ records: records.slice(start, start + size), ...(signal ? { signal } : {}) });
  }
}

/**
 * A stored memory of the scope with this text hash, leaving out `exclude`. Identical texts embed to
 * identical vectors, so a duplicate is among the nearest few records.
 */
async function findByHash(
  context: AddContext,
  vector: readonly number[],
  hash: string,
  exclude: ReadonlySet<string>,
): Promise<MemoryRecord | undefined> {
  const topK = 5 + Math.min(exclude.size, 100);
  const matches = await context.vectorStore.query({
    scope: context.scope,
    vector,
    topK,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return matches.find((match) => match.record.hash === hash && !exclude.has(match.record.id))?.record;
}
