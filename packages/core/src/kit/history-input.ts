import { InvalidInputError } from '../contract/errors';
import { type HistoryEvent, type HistoryEventKind, type IdempotencyRecord, SCOPE_FIELDS, type Scope } from '../contract/types';

const KINDS: readonly HistoryEventKind[] = ['ADD', 'UPDATE', 'DELETE'];
const ACTORS: readonly HistoryEvent['actor'][] = ['add', 'update', 'delete', 'deleteAll'];

/** A store's own rule for the strings it keeps (e.g. PostgreSQL's text refuses NUL); throws naming `field`. */
export type StorableTextCheck = (text: string, field: string) => void;

const anyText: StorableTextCheck = () => {};

/** The fields of a checked history event a store writes: its scope ids (null when absent) and dates in epoch ms. */
export interface CheckedHistoryEvent {
  readonly userId: string | null;
  readonly agentId: string | null;
  readonly runId: string | null;
  readonly validAt: number;
  readonly createdAt: number;
}

/**
 * Checks one event handed to `HistoryStore.append` (or `settle`) before anything is written, naming
 * the field (`events[2].kind`): ids, kind, actor, texts, scope ids and dates. `checkText` adds the
 * store's own rule for every string it keeps.
 * @throws {InvalidInputError} naming the field.
 */
export function checkHistoryEvent(event: HistoryEvent, at: string, checkText: StorableTextCheck = anyText): CheckedHistoryEvent {
  if (typeof event !== 'object' || event === null) {
    throw new InvalidInputError(at, 'expected a history event', 'Pass objects with id, memoryId, kind, texts, scope, dates and actor.');
  }
  for (const field of ['id', 'memoryId'] as const) {
    if (typeof event[field] !== 'string' || event[field].length === 0) {
      throw new InvalidInputError(`${at}.${field}`, 'expected a non-empty string', 'Use the ids mem created.');
    }
    checkText(event[field], `${at}.${field}`);
  }
  if (!KINDS.includes(event.kind))
    throw new InvalidInputError(`${at}.kind`, 'expected ADD, UPDATE or DELETE', 'Pass one of the three kinds.');
  if (!ACTORS.includes(event.actor)) {
    throw new InvalidInputError(`${at}.actor`, 'expected add, update, delete or deleteAll', 'Pass one of the four actors.');
  }
  for (const field of ['previousText', 'text'] as const) {
    const value = event[field];
    if (value !== null && typeof value !== 'string') {
      throw new InvalidInputError(`${at}.${field}`, 'expected a string or null', 'Pass null when there is no text.');
    }
    if (value !== null) checkText(value, `${at}.${field}`);
  }
  const scope = checkScopeIds(event.scope, `${at}.scope`, 'Pass the scope of the memory.', checkText);
  return {
    ...scope,
    validAt: historyEpochMs(event.validAt, `${at}.validAt`),
    createdAt: historyEpochMs(event.createdAt, `${at}.createdAt`),
  };
}

/**
 * Checks an idempotency record handed to `putIdempotencyRecord` (or `settle`), naming the field
 * (`record.requestHash`); returns its dates in epoch ms.
 * @throws {InvalidInputError} naming the field.
 */
export function checkIdempotencyRecord(
  record: IdempotencyRecord,
  checkText: StorableTextCheck = anyText,
): { readonly createdAt: number; readonly expiresAt: number } {
  if (typeof record !== 'object' || record === null) {
    throw new InvalidInputError(
      'record',
      'expected an idempotency record',
      'Pass { scope, key, requestHash, result, createdAt, expiresAt }.',
    );
  }
  for (const field of ['key', 'requestHash', 'result'] as const) {
    if (typeof record[field] !== 'string')
      throw new InvalidInputError(`record.${field}`, 'expected a string', 'Pass the record core built.');
    checkText(record[field], `record.${field}`);
  }
  checkScopeIds(record.scope, 'record.scope', 'Pass the scope of the add.', checkText);
  return {
    createdAt: historyEpochMs(record.createdAt, 'record.createdAt'),
    expiresAt: historyEpochMs(record.expiresAt, 'record.expiresAt'),
  };
}

/** The scope a store keeps as `scopeKey(scope)` (a JSON array of the three ids, null when absent), read back. */
export function scopeFromKey(key: string): Scope {
  const ids = JSON.parse(key) as (string | null)[];
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  SCOPE_FIELDS.forEach((field, index) => {
    const id = ids[index];
    if (typeof id === 'string') scope[field] = id;
  });
  return scope;
}

/** A Date as epoch ms. @throws {InvalidInputError} naming `field` for anything but a valid Date. */
export function historyEpochMs(date: unknown, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidInputError(field, 'expected a valid Date', 'Pass a Date such as new Date().');
  return ms;
}

function checkScopeIds(
  value: unknown,
  at: string,
  fix: string,
  checkText: StorableTextCheck,
): { userId: string | null; agentId: string | null; runId: string | null } {
  const scope = value as Record<string, unknown> | null;
  if (typeof scope !== 'object' || scope === null) throw new InvalidInputError(at, 'expected an object', fix);
  for (const field of SCOPE_FIELDS) {
    const id = scope[field];
    if (id !== undefined && typeof id !== 'string')
      throw new InvalidInputError(`${at}.${field}`, 'expected a string', 'Pass ids as strings.');
    if (typeof id === 'string') checkText(id, `${at}.${field}`);
  }
  return {
    userId: (scope.userId as string | undefined) ?? null,
    agentId: (scope.agentId as string | undefined) ?? null,
    runId: (scope.runId as string | undefined) ?? null,
  };
}
