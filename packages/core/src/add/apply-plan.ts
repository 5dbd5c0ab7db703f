import { withCategories, withExpiry } from '../contract/memory-item';
import { scopeKey } from '../contract/scope';
import {
  isExpired,
  memoryTypeOf,
  type HistoryEvent,
  type IdempotencyRecord,
  type MemoryRecord,
  type MemoryType,
  type Metadata,
  type Scope,
} from '../contract/types';
import { checkMemoryText, mergeMetadata } from '../contract/validation';
import { compareIds, hashText, uuidv7 } from '../kit/ids';
import { historyEvent } from '../store/history-event';
import type { WriteSession } from '../store/memory-writer';
import { ensureDimensions } from '../store/readiness';
import type { AddPlan } from './add-strategy';

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
  | { kind: 'ADD'; text: string; hash: string; categories: readonly string[] | undefined }
  | { kind: 'UPDATE'; current: MemoryRecord; text: string; hash: string; categories: readonly string[] | undefined }
  | { kind: 'DELETE'; current: MemoryRecord }
  | { kind: 'NONE'; current: MemoryRecord };

/**
 * Stage 4 of `add` (under the locks): validates a plan against the store and applies it.
 *
 * Guarantees, whatever the model answered:
 * - only records that are in `plan.candidates` AND found by a scoped `get` are updated or deleted;
 * - no fact is dropped: an UPDATE that cannot apply (unknown id, record gone, id already used in
 *   this plan) becomes an ADD of its text;
 * - no duplicate: an ADD whose text is already stored in the call's scope (same hash), or stored
 *   by another step of the plan, becomes NONE; an UPDATE to a text already stored in the
 *   memory's own scope deletes the memory it would have rewritten (the other copy stays).
 *   Duplicates are looked for in exactly the scope the text is written to: a copy held by a
 *   narrower scope (which a scoped read also returns) belongs to that scope, and taking it for
 *   this one would lose the fact here when the other scope deletes its copy;
 * - texts keep the limit of a memory's text, and merged metadata the metadata limits, whatever
 *   strategy planned them;
 * - a memory the plan rewrites or deletes never counts as the stored copy of an ADD's text, so
 *   "ADD x" next to "DELETE the memory saying x" still leaves x stored;
 * - the change is committed through the write protocol (`session.commit`): history ahead, then
 *   the vector store, so every stored memory has its history and, once settled, the history holds
 *   no change that did not happen.
 *
 * The session holds the scope's lock, so concurrent adds of one scope apply one after another.
 */
export async function applyPlan(options: {
  readonly plan: AddPlan;
  /** Holds the locks of the scope and of {@link planTargets}. */
  readonly session: WriteSession;
  /** Embeds documents through the call's usage meter. */
  readonly embed: (texts: readonly string[]) => Promise<number[][]>;
  readonly metadata: Metadata;
  readonly occurredAt: Date;
  /** When created and updated memories expire (epoch ms); `undefined`: new ones never do, updated ones keep theirs. */
  readonly expiresAt?: number | undefined;
  readonly now: Date;
  /** An idempotent add's record of what it did, committed with the change (see `writeAhead`). */
  readonly idempotencyRecord?: ((applied: { events: MemoryEvent[]; records: MemoryRecord[] }) => IdempotencyRecord) | undefined;
}): Promise<{ events: MemoryEvent[]; records: MemoryRecord[] }> {
  const { plan, session, embed, occurredAt, now, expiresAt } = options;
  const metadata = withExpiry(options.metadata, expiresAt);
  const { scope } = session;
  const current = await session.read(planTargets(plan));

  const steps: Step[] = [];
  const touched = new Set<string>();
  const addedHashes = new Set<string>();
  const pushAdd = (text: string, categories: readonly string[] | undefined) => {
    const hash = hashText(text);
    if (addedHashes.has(hash)) return;
    addedHashes.add(hash);
    steps.push({ kind: 'ADD', text, hash, categories });
  };
  for (const [index, operation] of plan.operations.entries()) {
    const record = operation.kind === 'ADD' ? undefined : current.get(operation.id);
    switch (operation.kind) {
      case 'ADD':
        pushAdd(checkMemoryText(operation.text, `plan.operations[${index}].text`), operation.categories);
        break;
      case 'UPDATE': {
        const text = checkMemoryText(operation.text, `plan.operations[${index}].text`);
        const hash = hashText(text);
        if (!record || touched.has(record.id)) pushAdd(text, operation.categories);
        else if (hash === record.hash) {
          // The model restated the memory: it holds, so a DELETE of it later in the answer is ignored,
          // as after any UPDATE (the fact wins over a contradictory deletion).
          touched.add(record.id);
          steps.push({ kind: 'NONE', current: record });
        } else {
          touched.add(record.id);
          steps.push({ kind: 'UPDATE', current: record, text, hash, categories: operation.categories });
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

  // Metadata an UPDATE leaves on its memory, checked (limits) before anything is embedded or written.
  const mergedMetadata = new Map(
    steps.flatMap((step) =>
      step.kind === 'UPDATE'
        ? [[step.current.id, withCategories(mergeMetadata(step.current.metadata, metadata, 'options.metadata'), step.categories)] as const]
        : [],
    ),
  );
  const texts = steps.flatMap((step) => (step.kind === 'ADD' || step.kind === 'UPDATE' ? [step.text] : []));
  const vectors = await embed(texts);
  if (vectors.length > 0) await ensureDimensions(session.vectorStore, vectors[0]!.length, session.signal);

  const events: MemoryEvent[] = [];
  const history: HistoryEvent[] = [];
  const upserts: MemoryRecord[] = [];
  const deletes: string[] = [];
  // An event carries the scope of the memory it changes, which may be narrower than the call's
  // (a call for { userId } updates a memory stored with { userId, agentId }); history() filters by it.
  const event = (memoryId: string, kind: HistoryEvent['kind'], previousText: string | null, text: string | null, memoryScope: Scope) =>
    historyEvent({ memoryId, scope: memoryScope, kind, previousText, text, actor: 'add', now, validAt: occurredAt });
  // Memories this plan rewrites or removes: a duplicate check must not point at them, their text is going away.
  const changing = new Set(steps.flatMap((step) => (step.kind === 'UPDATE' || step.kind === 'DELETE' ? [step.current.id] : [])));
  // Texts the plan leaves in the store (by scope and hash), with the memory holding each, so no two
  // steps store one text twice in one scope.
  const planned = new Map<string, { id: string; text: string }>();
  const plannedKey = (target: Scope, hash: string) => `${scopeKey(target)}\u0000${hash}`;
  // With findByHash, the stored copies of every text the plan writes, in one call per scope written to.
  const stored = await storedCopies(session, steps, plannedKey);
  let vectorIndex = 0;
  for (const step of steps) {
    if (step.kind === 'NONE') {
      events.push({ kind: 'NONE', id: step.current.id, text: step.current.text });
      continue;
    }
    if (step.kind === 'DELETE') {
      deletes.push(step.current.id);
      history.push(event(step.current.id, 'DELETE', step.current.text, null, step.current.scope));
      events.push({ kind: 'DELETE', id: step.current.id, text: step.current.text });
      continue;
    }
    const vector = vectors[vectorIndex++]!;
    // The scope the text is written to: the call's for an ADD, the memory's own for an UPDATE.
    const target = step.kind === 'ADD' ? scope : step.current.scope;
    // A copy counts only if it is of the same type: a procedural summary is never matched to a fact.
    const type = memoryTypeOf(step.kind === 'ADD' ? { metadata } : step.current);
    const holder =
      planned.get(plannedKey(target, step.hash)) ??
      (stored
        ? oldestCopy(stored.get(plannedKey(target, step.hash)) ?? [], target, step.hash, changing, now, type)
        : await findCopyByQuery(session, target, vector, step.hash, changing, now, type));
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
        metadata: withCategories(metadata, step.categories),
        createdAt: now,
        updatedAt: now,
        occurredAt,
      });
      history.push(event(id, 'ADD', null, step.text, scope));
      events.push({ kind: 'ADD', id, text: step.text });
      planned.set(plannedKey(scope, step.hash), { id, text: step.text });
    } else {
      const { current: record } = step;
      if (holder) {
        // The new text is already stored (or is stored by another step of this plan): rewriting this
        // memory to it would leave two copies, so this memory goes and the other copy stays.
        deletes.push(record.id);
        history.push(event(record.id, 'DELETE', record.text, null, record.scope));
        events.push({ kind: 'DELETE', id: record.id, text: record.text }, { kind: 'NONE', id: holder.id, text: holder.text });
        continue;
      }
      upserts.push({
        ...record,
        vector,
        text: step.text,
        hash: step.hash,
        metadata: mergedMetadata.get(record.id)!,
        updatedAt: now,
        occurredAt,
      });
      history.push(event(record.id, 'UPDATE', record.text, step.text, record.scope));
      events.push({ kind: 'UPDATE', id: record.id, text: step.text, previousText: record.text });
      planned.set(plannedKey(record.scope, step.hash), { id: record.id, text: step.text });
    }
  }

  const idempotencyRecord = options.idempotencyRecord?.({ events, records: upserts });
  await session.commit({ events: history, upserts, deletes, ...(idempotencyRecord ? { idempotencyRecord } : {}) });
  return { events, records: upserts };
}

/**
 * The stored memories a plan may change: ids of its UPDATE, DELETE and NONE operations that are
 * among its candidates. Stage 3 locks them (with the scope), stage 4 re-reads them under the locks.
 */
export function planTargets(plan: AddPlan): string[] {
  const targets = new Set<string>();
  for (const operation of plan.operations) if (operation.kind !== 'ADD' && plan.candidates.has(operation.id)) targets.add(operation.id);
  return [...targets];
}

/**
 * For a store with `findByHash`: the stored records holding the text of each ADD and UPDATE step, by
 * `key(scope written to, hash)`, from one call per scope (an ADD writes to the call's scope, an
 * UPDATE to its memory's own). Read under the locks before the plan writes anything, so it is what
 * a lookup per step would find. `undefined` for a store without it (see {@link findCopyByQuery}).
 */
async function storedCopies(
  session: WriteSession,
  steps: readonly Step[],
  key: (scope: Scope, hash: string) => string,
): Promise<Map<string, MemoryRecord[]> | undefined> {
  const { vectorStore, signal } = session;
  if (!vectorStore.findByHash) return undefined;
  const byScope = new Map<string, { scope: Scope; hashes: Set<string> }>();
  for (const step of steps) {
    if (step.kind !== 'ADD' && step.kind !== 'UPDATE') continue;
    const target = step.kind === 'ADD' ? session.scope : step.current.scope;
    const group = byScope.get(scopeKey(target)) ?? { scope: target, hashes: new Set<string>() };
    group.hashes.add(step.hash);
    byScope.set(scopeKey(target), group);
  }
  const copies = new Map<string, MemoryRecord[]>();
  for (const { scope, hashes } of byScope.values()) {
    const records = await vectorStore.findByHash({ scope, hashes: [...hashes], ...(signal ? { signal } : {}) });
    for (const record of records) {
      if (!hashes.has(record.hash)) continue;
      const found = copies.get(key(scope, record.hash));
      if (found) found.push(record);
      else copies.set(key(scope, record.hash), [record]);
    }
  }
  return copies;
}

/** Whether `record` is a stored copy of a text the plan writes: exactly `scope` and `type`, this hash, not excluded, not expired. */
function holdsCopy(record: MemoryRecord, scope: Scope, hash: string, exclude: ReadonlySet<string>, now: Date, type: MemoryType): boolean {
  return (
    record.hash === hash &&
    !exclude.has(record.id) &&
    scopeKey(record.scope) === scopeKey(scope) &&
    !isExpired(record, now) &&
    memoryTypeOf(record) === type
  );
}

/** The oldest of `records` that is a copy {@link holdsCopy} accepts, as the vector query (ties by id) would find it. */
function oldestCopy(
  records: readonly MemoryRecord[],
  scope: Scope,
  hash: string,
  exclude: ReadonlySet<string>,
  now: Date,
  type: MemoryType,
): MemoryRecord | undefined {
  return records.filter((record) => holdsCopy(record, scope, hash, exclude, now, type)).sort((a, b) => compareIds(a.id, b.id))[0];
}

/** Widest query {@link findCopyByQuery} makes before it stops looking (then, at worst, a text is stored twice, never lost). */
const MAX_HASH_QUERY = 10_000;

/**
 * A stored memory of exactly `scope` and `type` with this text hash, leaving out `exclude` and memories
 * expired at `now` (a fact stated again is stored again, not matched to a hidden copy), for a store
 * without `findByHash` (one with it is read by {@link storedCopies}): a vector query. Identical texts
 * embed to identical vectors, so copies rank first; copies held by narrower scopes (which a query of
 * `scope` also returns) may fill the first places, so the query widens until a match of another text
 * shows every copy was seen, or the store has no more.
 */
async function findCopyByQuery(
  session: WriteSession,
  scope: Scope,
  vector: readonly number[],
  hash: string,
  exclude: ReadonlySet<string>,
  now: Date,
  type: MemoryType,
): Promise<MemoryRecord | undefined> {
  const holds = (record: MemoryRecord) => holdsCopy(record, scope, hash, exclude, now, type);
  for (let topK = 5 + Math.min(exclude.size, 100); ; topK *= 4) {
    const matches = await session.vectorStore.query({ scope, vector, topK, ...(session.signal ? { signal: session.signal } : {}) });
    const found = matches.find((match) => holds(match.record));
    if (found) return found.record;
    const onlyCopies = matches.every((match) => match.record.hash === hash || exclude.has(match.record.id));
    if (!onlyCopies || matches.length < topK || topK >= MAX_HASH_QUERY) return undefined;
  }
}
