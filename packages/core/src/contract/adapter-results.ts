import { ProviderResponseInvalidError } from './errors';
import type { GraphEntityMatch, GraphRelation, LLMResponse } from './interfaces';
import { scopeContains, scopeKey } from './scope';
import {
  SCOPE_FIELDS,
  type HistoryEvent,
  type IdempotencyRecord,
  type MemoryKey,
  type MemoryRecord,
  type Scope,
  type VectorMatch,
} from './types';

// Every result an adapter returns is read against the contract before core uses it. A result that
// does not match is a ProviderResponseInvalidError naming the adapter (its provider), the operation
// and what was wrong, never a TypeError three frames later, and never data (texts, metadata) in the
// message. Records, matches, relations and entities of a scope outside the call's are refused too:
// a store that ignores the scope must not leak another user's memories through Memory.

/** Where a result came from, for the error. */
export interface ResultSource {
  readonly provider: string;
  readonly operation: string;
}

type Fail = (problem: string) => never;

function failure(source: ResultSource): Fail {
  return (problem) => {
    throw new ProviderResponseInvalidError(
      source.provider,
      source.operation,
      `${problem}. The adapter breaks its contract; @mem/conformance shows where.`,
    );
  };
}

const FINISH_REASONS = new Set(['stop', 'length', 'refusal', 'other']);
const EVENT_KINDS = new Set(['ADD', 'UPDATE', 'DELETE']);
const ACTORS = new Set(['add', 'update', 'delete', 'deleteAll']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());
const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function list(value: unknown, what: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) return fail(`expected ${what} as an array, got ${describe(value)}`);
  for (let index = 0; index < value.length; index++) if (!Object.hasOwn(value, index)) fail(`${what}[${index}] is missing`);
  return value;
}

function finiteNumbers(value: unknown, at: string, fail: Fail): number[] {
  // Every record read carries a vector (hundreds of numbers): a plain loop passes a sound one; anything
  // else (a hole, a non-number, an empty array, not an array) goes on to the checks below for the message.
  if (Array.isArray(value) && value.length > 0) {
    let index = 0;
    while (index < value.length && Number.isFinite(value[index])) index++;
    if (index === value.length) return value as number[];
  }
  const items = list(value, at, fail);
  if (items.length === 0) fail(`${at} is empty`);
  items.forEach((item, index) => {
    if (typeof item !== 'number' || !Number.isFinite(item)) fail(`${at}[${index}] is ${describe(item)}, not a finite number`);
  });
  return items as number[];
}

/** A scope of the result: only scope fields, each a non-empty string, at least one, inside the call's scope. */
function readScope(value: unknown, at: string, call: Scope | undefined, fail: Fail): Scope {
  if (!isObject(value)) return fail(`${at} is ${describe(value)}, not a scope`);
  const set = Object.keys(value).filter((key) => value[key] !== undefined);
  if (set.length === 0) fail(`${at} sets no userId, agentId or runId`);
  for (const key of set) {
    if (!(SCOPE_FIELDS as readonly string[]).includes(key)) fail(`${at} has the unknown field "${key}"`);
    if (typeof value[key] !== 'string' || value[key] === '') fail(`${at}.${key} is not a non-empty string`);
  }
  const scope = value as Scope;
  if (call && !scopeContains(call, scope)) fail(`${at} is outside the scope of the call (the store ignored the scope)`);
  return scope;
}

function readMetadata(value: unknown, at: string, fail: Fail): void {
  if (!isObject(value)) fail(`${at} is ${describe(value)}, not an object`);
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const valid =
      typeof item === 'string' ||
      typeof item === 'boolean' ||
      (typeof item === 'number' && Number.isFinite(item)) ||
      (Array.isArray(item) && item.every((entry) => typeof entry === 'string'));
    if (!valid) fail(`${at}.${key} is ${describe(item)}, not a string, finite number, boolean or string array`);
  }
}

function readRecord(value: unknown, at: string, call: Scope | undefined, fail: Fail): MemoryRecord {
  if (!isObject(value)) return fail(`${at} is ${describe(value)}, not a memory record`);
  for (const key of ['id', 'text', 'hash'] as const)
    if (typeof value[key] !== 'string') fail(`${at}.${key} is ${describe(value[key])}, not a string`);
  if (value.id === '') fail(`${at}.id is empty`);
  finiteNumbers(value.vector, `${at}.vector`, fail);
  readScope(value.scope, `${at}.scope`, call, fail);
  readMetadata(value.metadata, `${at}.metadata`, fail);
  for (const key of ['createdAt', 'updatedAt', 'occurredAt'] as const) if (!isDate(value[key])) fail(`${at}.${key} is not a valid Date`);
  return value as unknown as MemoryRecord;
}

/** An LLM's answer: text, a known finish reason, token counts, an optional positive limit. */
export function readLLMResponse(value: unknown, source: ResultSource): LLMResponse {
  const fail = failure(source);
  if (!isObject(value)) return fail(`expected { text, finishReason, usage }, got ${describe(value)}`);
  if (typeof value.text !== 'string') fail(`text is ${describe(value.text)}, not a string`);
  if (!FINISH_REASONS.has(value.finishReason as string)) fail('finishReason is not one of stop, length, refusal, other');
  if (!isObject(value.usage)) fail(`usage is ${describe(value.usage)}, not { promptTokens, completionTokens }`);
  const usage = value.usage as Record<string, unknown>;
  for (const key of ['promptTokens', 'completionTokens'] as const) if (!isCount(usage[key])) fail(`usage.${key} is not a number ≥ 0`);
  if (value.maxTokens !== undefined && !(Number.isInteger(value.maxTokens) && (value.maxTokens as number) > 0))
    fail('maxTokens is not a positive integer');
  return value as unknown as LLMResponse;
}

/** An embedder's result: one vector of finite numbers per text, all of one length, and a token count. */
export function readEmbedding(value: unknown, texts: number, source: ResultSource): { vectors: number[][]; tokens: number } {
  const fail = failure(source);
  if (!isObject(value)) return fail(`expected { vectors, tokens }, got ${describe(value)}`);
  if (!isCount(value.tokens)) fail('tokens is not a number ≥ 0');
  const vectors = list(value.vectors, 'vectors', fail);
  if (vectors.length !== texts) fail(`expected ${texts} vectors, got ${vectors.length}`);
  const dimensions = Array.isArray(vectors[0]) ? vectors[0].length : 0;
  vectors.forEach((vector, index) => {
    finiteNumbers(vector, `vectors[${index}]`, fail);
    if ((vector as number[]).length !== dimensions)
      fail(`vectors[${index}] has ${(vector as number[]).length} numbers, vectors[0] ${dimensions}`);
  });
  return { vectors: vectors as number[][], tokens: value.tokens as number };
}

/** A reranker's scores: one finite number per document. */
export function readScores(value: unknown, documents: number, source: ResultSource): number[] {
  const fail = failure(source);
  const scores = list(value, 'scores', fail);
  if (scores.length !== documents) fail(`expected ${documents} scores, got ${scores.length}`);
  scores.forEach((score, index) => {
    if (typeof score !== 'number' || !Number.isFinite(score)) fail(`scores[${index}] is ${describe(score)}, not a finite number`);
  });
  return scores as number[];
}

/** Records of `get` (only the ids asked for) or of one page of `list`, all inside the call's scope. */
export function readRecords(
  value: unknown,
  source: ResultSource & { readonly scope: Scope; readonly ids?: readonly string[] },
): MemoryRecord[] {
  const fail = failure(source);
  const asked = source.ids ? new Set(source.ids) : undefined;
  return list(value, 'records', fail).map((item, index) => {
    const record = readRecord(item, `records[${index}]`, source.scope, fail);
    if (asked && !asked.has(record.id)) fail(`records[${index}] has an id that was not asked for`);
    return record;
  });
}

/** One record of a listing, inside the call's scope. */
export function readListedRecord(value: unknown, index: number, source: ResultSource & { readonly scope: Scope }): MemoryRecord {
  return readRecord(value, `records[${index}]`, source.scope, failure(source));
}

/** Keys of `listKeys`: a non-empty id and valid dates each, no more than the call's `limit`. */
export function readKeys(value: unknown, source: ResultSource & { readonly limit: number }): MemoryKey[] {
  const fail = failure(source);
  const keys = list(value, 'keys', fail);
  if (keys.length > source.limit) fail(`keys holds ${keys.length} keys, more than the limit of ${source.limit}`);
  keys.forEach((item, index) => {
    if (!isObject(item)) return fail(`keys[${index}] is ${describe(item)}, not { id, createdAt, occurredAt }`);
    if (typeof item.id !== 'string' || item.id === '') fail(`keys[${index}].id is not a non-empty string`);
    for (const key of ['createdAt', 'occurredAt'] as const) if (!isDate(item[key])) fail(`keys[${index}].${key} is not a valid Date`);
  });
  return keys as MemoryKey[];
}

/** Matches of `query` or `keywordQuery`: a finite score and a record inside the call's scope. */
export function readMatches(value: unknown, source: ResultSource & { readonly scope: Scope }): VectorMatch[] {
  const fail = failure(source);
  return list(value, 'matches', fail).map((item, index) => {
    if (!isObject(item)) return fail(`matches[${index}] is ${describe(item)}, not { record, score }`);
    if (typeof item.score !== 'number' || !Number.isFinite(item.score)) fail(`matches[${index}].score is not a finite number`);
    readRecord(item.record, `matches[${index}].record`, source.scope, fail);
    return item as unknown as VectorMatch;
  });
}

/** History events (of `memoryId` when given). */
export function readEvents(value: unknown, source: ResultSource & { readonly memoryId?: string }): HistoryEvent[] {
  const fail = failure(source);
  return list(value, 'events', fail).map((item, index) => {
    const at = `events[${index}]`;
    if (!isObject(item)) return fail(`${at} is ${describe(item)}, not a history event`);
    for (const key of ['id', 'memoryId'] as const)
      if (typeof item[key] !== 'string' || item[key] === '') fail(`${at}.${key} is not a non-empty string`);
    if (source.memoryId !== undefined && item.memoryId !== source.memoryId) fail(`${at} belongs to another memory`);
    if (!EVENT_KINDS.has(item.kind as string)) fail(`${at}.kind is not ADD, UPDATE or DELETE`);
    for (const key of ['previousText', 'text'] as const)
      if (item[key] !== null && typeof item[key] !== 'string') fail(`${at}.${key} is ${describe(item[key])}, not a string or null`);
    readScope(item.scope, `${at}.scope`, undefined, fail);
    for (const key of ['validAt', 'createdAt'] as const) if (!isDate(item[key])) fail(`${at}.${key} is not a valid Date`);
    if (!ACTORS.has(item.actor as string)) fail(`${at}.actor is not add, update, delete or deleteAll`);
    return item as unknown as HistoryEvent;
  });
}

/** The idempotency record of `getIdempotencyRecord`: `null`, or a record of exactly the call's scope and key, not expired at `now`. */
export function readIdempotencyRecord(
  value: unknown,
  source: ResultSource & { readonly scope: Scope; readonly key: string; readonly now: Date },
): IdempotencyRecord | null {
  if (value === null) return null;
  const fail = failure(source);
  if (!isObject(value)) return fail(`expected an idempotency record or null, got ${describe(value)}`);
  const scope = readScope(value.scope, 'record.scope', undefined, fail);
  if (scopeKey(scope) !== scopeKey(source.scope)) fail('record.scope is not the exact scope of the call (the store ignored the scope)');
  if (value.key !== source.key) fail('record.key is not the key asked for');
  for (const key of ['requestHash', 'result'] as const) if (typeof value[key] !== 'string') fail(`record.${key} is not a string`);
  for (const key of ['createdAt', 'expiresAt'] as const) if (!isDate(value[key])) fail(`record.${key} is not a valid Date`);
  if ((value.expiresAt as Date).getTime() <= source.now.getTime()) fail('record.expiresAt has passed (expired records are not returned)');
  return value as unknown as IdempotencyRecord;
}

/** The count of `purgeIdempotencyRecords`. */
export function readPurged(value: unknown, source: ResultSource): { purged: number } {
  const fail = failure(source);
  if (!isObject(value) || !Number.isInteger(value.purged) || !isCount(value.purged)) return fail('expected { purged } with an integer ≥ 0');
  return { purged: value.purged as number };
}

/** Relations of `neighbors`, inside the call's scope. */
export function readRelations(value: unknown, source: ResultSource & { readonly scope: Scope }): GraphRelation[] {
  const fail = failure(source);
  return list(value, 'relations', fail).map((item, index) => {
    const at = `relations[${index}]`;
    if (!isObject(item)) return fail(`${at} is ${describe(item)}, not a relation`);
    for (const key of ['source', 'relation', 'target'] as const) if (typeof item[key] !== 'string') fail(`${at}.${key} is not a string`);
    readScope(item.scope, `${at}.scope`, source.scope, fail);
    if (!isDate(item.validFrom)) fail(`${at}.validFrom is not a valid Date`);
    if (item.validTo !== null && !isDate(item.validTo)) fail(`${at}.validTo is neither null nor a valid Date`);
    return item as unknown as GraphRelation;
  });
}

/** Entity matches of `searchEntities`, inside the call's scope. */
export function readEntityMatches(value: unknown, source: ResultSource & { readonly scope: Scope }): GraphEntityMatch[] {
  const fail = failure(source);
  return list(value, 'matches', fail).map((item, index) => {
    const at = `matches[${index}]`;
    if (!isObject(item)) return fail(`${at} is ${describe(item)}, not { entity, score }`);
    if (typeof item.score !== 'number' || !Number.isFinite(item.score)) fail(`${at}.score is not a finite number`);
    if (!isObject(item.entity)) return fail(`${at}.entity is ${describe(item.entity)}, not an entity`);
    for (const key of ['name', 'type'] as const) if (typeof item.entity[key] !== 'string') fail(`${at}.entity.${key} is not a string`);
    readScope(item.entity.scope, `${at}.entity.scope`, source.scope, fail);
    return item as unknown as GraphEntityMatch;
  });
}

/** The result of `invalidateRelations`: how many relations were closed. */
export function readInvalidated(value: unknown, source: ResultSource): { invalidated: number } {
  const fail = failure(source);
  if (!isObject(value) || !isCount(value.invalidated)) fail('expected { invalidated: a number ≥ 0 }');
  return value as { invalidated: number };
}
