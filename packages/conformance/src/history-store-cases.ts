import assert from 'node:assert/strict';
import type { HistoryEvent, HistoryStore, IdempotencyRecord, Scope } from '@mem/core/adapter';
import { assertRejectsWithCode } from './assertions';
import {
  baseHelpers,
  createNamespace,
  runPrepared,
  type CaseHelpers,
  type CaseOutcome,
  type ConformanceCase,
  type RunCaseOptions,
} from './case';

/** Fields of a test history event; everything left out gets a deterministic default. */
export type HistoryEventFields = { -readonly [K in keyof HistoryEvent]?: HistoryEvent[K] };

/** Helpers handed to every history store case. */
export interface HistoryStoreCaseHelpers extends CaseHelpers {
  /** A UUID-shaped id unique to this test that sorts by `n`. */
  id(n: number): string;
  /**
   * A complete {@link HistoryEvent}. Defaults: a fresh id, memoryId `helpers.id(0)`, kind `ADD`
   * with `previousText: null`, scope `{ userId: 'user-a' }`, fixed dates with milliseconds set, actor `add`.
   */
  event(fields?: HistoryEventFields): HistoryEvent;
}

/** A conformance case for a {@link HistoryStore}. */
export type HistoryStoreCase = ConformanceCase<HistoryStore, HistoryStoreCaseHelpers>;

/** Builds the helpers for one history store case. */
export function createHistoryStoreHelpers(options: RunCaseOptions & { readonly namespace: string }): HistoryStoreCaseHelpers {
  const bytes = new Uint8Array(4);
  globalThis.crypto.getRandomValues(bytes);
  const prefix = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  const id = (n: number) => `${prefix}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
  let next = 1_000_000;
  return {
    ...baseHelpers({ ...options, consistency: 'immediate' }),
    id,
    event(fields = {}) {
      const n = next++;
      const createdAt = fields.createdAt ?? new Date(Date.UTC(2024, 4, 17, 9, 0, 0, 0) + (n - 1_000_000) * 1_001);
      return {
        id: fields.id ?? id(n),
        memoryId: fields.memoryId ?? id(0),
        kind: fields.kind ?? 'ADD',
        previousText: fields.previousText === undefined ? null : fields.previousText,
        text: fields.text === undefined ? `memory text ${n}` : fields.text,
        scope: fields.scope ?? { userId: 'user-a' },
        validAt: fields.validAt ?? new Date(createdAt.getTime() - 3_600_007),
        createdAt,
        actor: fields.actor ?? 'add',
      };
    },
  };
}

function assertEventEqual(actual: HistoryEvent | undefined, expected: HistoryEvent, where: string): void {
  assert.ok(actual, `${where}: event ${expected.id} is missing`);
  assert.equal(actual.id, expected.id, `${where}: id`);
  assert.equal(actual.memoryId, expected.memoryId, `${where}: memoryId of ${expected.id}`);
  assert.equal(actual.kind, expected.kind, `${where}: kind of ${expected.id}`);
  assert.strictEqual(actual.previousText, expected.previousText, `${where}: previousText of ${expected.id} (null must stay null)`);
  assert.strictEqual(actual.text, expected.text, `${where}: text of ${expected.id} (null must stay null)`);
  assert.deepEqual(
    Object.fromEntries(Object.entries(actual.scope).filter(([, value]) => value !== undefined)),
    expected.scope,
    `${where}: scope of ${expected.id}`,
  );
  for (const field of ['validAt', 'createdAt'] as const) {
    assert.ok(actual[field] instanceof Date, `${where}: ${field} of ${expected.id} must be a Date`);
    assert.equal(actual[field].getTime(), expected[field].getTime(), `${where}: ${field} of ${expected.id} at millisecond precision`);
  }
  assert.equal(actual.actor, expected.actor, `${where}: actor of ${expected.id}`);
}

/** `requires` of the idempotency record cases. */
const needsIdempotencyRecords = (store: HistoryStore): string | undefined =>
  store.capabilities.idempotencyRecords ? undefined : 'needs capabilities.idempotencyRecords';

const RECORD_TIME = Date.UTC(2024, 4, 17, 9, 0, 0, 123);

/** An idempotency record; `expiresAt` one hour after `createdAt` unless given. */
function idempotencyRecord(fields: Partial<IdempotencyRecord> & { readonly key: string }): IdempotencyRecord {
  const createdAt = fields.createdAt ?? new Date(RECORD_TIME);
  return {
    scope: fields.scope ?? { userId: 'user-a' },
    key: fields.key,
    requestHash: fields.requestHash ?? 'a'.repeat(64),
    result: fields.result ?? JSON.stringify({ events: [{ kind: 'ADD', id: 'm-1', text: 'Likes tea' }] }),
    createdAt,
    expiresAt: fields.expiresAt ?? new Date(createdAt.getTime() + 3_600_000),
  };
}

/** Calls a method the store declares by its capability (the cases require it). */
function idempotencyMethods(store: HistoryStore) {
  const missing = (method: string): never => assert.fail(`capabilities.idempotencyRecords is true but ${method} is missing`);
  return {
    get: (request: Parameters<NonNullable<HistoryStore['getIdempotencyRecord']>>[0]) =>
      store.getIdempotencyRecord ? store.getIdempotencyRecord(request) : missing('getIdempotencyRecord'),
    put: (request: Parameters<NonNullable<HistoryStore['putIdempotencyRecord']>>[0]) =>
      store.putIdempotencyRecord ? store.putIdempotencyRecord(request) : missing('putIdempotencyRecord'),
    purge: (request: Parameters<NonNullable<HistoryStore['purgeIdempotencyRecords']>>[0]) =>
      store.purgeIdempotencyRecords ? store.purgeIdempotencyRecords(request) : missing('purgeIdempotencyRecords'),
  };
}

function assertRecordEqual(actual: IdempotencyRecord | null, expected: IdempotencyRecord, where: string): void {
  assert.ok(actual, `${where}: the record of key ${JSON.stringify(expected.key)} is missing`);
  assert.deepEqual(
    Object.fromEntries(Object.entries(actual.scope).filter(([, value]) => value !== undefined)),
    expected.scope,
    `${where}: scope`,
  );
  assert.equal(actual.key, expected.key, `${where}: key`);
  assert.equal(actual.requestHash, expected.requestHash, `${where}: requestHash`);
  assert.equal(actual.result, expected.result, `${where}: result (stored as given, byte for byte)`);
  for (const field of ['createdAt', 'expiresAt'] as const) {
    assert.ok(actual[field] instanceof Date, `${where}: ${field} must be a Date`);
    assert.equal(actual[field].getTime(), expected[field].getTime(), `${where}: ${field} at millisecond precision`);
  }
}

/** The idempotency record cases (stores that declare `idempotencyRecords`). */
const idempotencyCases: readonly HistoryStoreCase[] = [
  {
    name: 'idempotency records: put then get round-trips every field; an unknown key is null',
    requires: needsIdempotencyRecords,
    async run(store) {
      const records = idempotencyMethods(store);
      const now = new Date(RECORD_TIME + 1);
      const record = idempotencyRecord({
        scope: { userId: 'user-a', agentId: 'agent-x', runId: 'run-r' },
        key: `retry-Zoë-🍣-'; DROP TABLE x; --`,
        requestHash: 'f'.repeat(64),
        result: JSON.stringify({ text: `日本語 "quoted" \\ back\nslash 🍣`, big: 'x'.repeat(100_000) }),
      });
      await records.put({ record });
      assertRecordEqual(await records.get({ scope: record.scope, key: record.key, now }), record, 'get after put');
      assert.equal(await records.get({ scope: record.scope, key: 'never-stored', now }), null, 'an unknown key');
    },
  },
  {
    name: 'idempotency records: exact scope (narrower, wider and other scopes see nothing) and exact keys; one key in two scopes is two records',
    requires: needsIdempotencyRecords,
    async run(store) {
      const records = idempotencyMethods(store);
      const now = new Date(RECORD_TIME + 1);
      const scope: Scope = { userId: 'user-a', agentId: 'agent-x' };
      const record = idempotencyRecord({ scope, key: 'Key-1' });
      await records.put({ record });
      for (const other of [
        { userId: 'user-a' },
        { agentId: 'agent-x' },
        { userId: 'user-a', agentId: 'agent-x', runId: 'r' },
        { userId: 'user-b', agentId: 'agent-x' },
      ]) {
        assert.equal(
          await records.get({ scope: other, key: 'Key-1', now }),
          null,
          `scope ${JSON.stringify(other)} sees no record of ${JSON.stringify(scope)}`,
        );
      }
      for (const key of ['key-1', 'Key-1 ', ' Key-1', 'Key-']) {
        assert.equal(await records.get({ scope, key, now }), null, `key ${JSON.stringify(key)} is not "Key-1"`);
      }
      const elsewhere = idempotencyRecord({ scope: { userId: 'user-a' }, key: 'Key-1', requestHash: 'b'.repeat(64), result: '"other"' });
      await records.put({ record: elsewhere });
      assertRecordEqual(await records.get({ scope, key: 'Key-1', now }), record, 'the first scope keeps its record');
      assertRecordEqual(await records.get({ scope: { userId: 'user-a' }, key: 'Key-1', now }), elsewhere, 'the second scope has its own');
    },
  },
  {
    name: 'idempotency records: a record is returned until expiresAt, null from then on; put replaces the record of the same scope and key',
    requires: needsIdempotencyRecords,
    async run(store) {
      const records = idempotencyMethods(store);
      const record = idempotencyRecord({ key: 'expiring' });
      await records.put({ record });
      const expiresAt = record.expiresAt.getTime();
      assertRecordEqual(
        await records.get({ scope: record.scope, key: record.key, now: new Date(expiresAt - 1) }),
        record,
        'one millisecond before expiresAt',
      );
      assert.equal(await records.get({ scope: record.scope, key: record.key, now: new Date(expiresAt) }), null, 'at expiresAt');
      assert.equal(await records.get({ scope: record.scope, key: record.key, now: new Date(expiresAt + 86_400_000) }), null, 'a day later');
      const replacement = idempotencyRecord({
        key: 'expiring',
        requestHash: 'c'.repeat(64),
        result: '"replaced"',
        createdAt: new Date(expiresAt + 10),
        expiresAt: new Date(expiresAt + 20),
      });
      await records.put({ record: replacement });
      assertRecordEqual(
        await records.get({ scope: record.scope, key: record.key, now: new Date(expiresAt + 11) }),
        replacement,
        'the replacement',
      );
    },
  },
  {
    name: 'idempotency records: purge deletes the records of every scope expired at `before`, counts them, and keeps the live ones',
    requires: needsIdempotencyRecords,
    async run(store) {
      const records = idempotencyMethods(store);
      const expired = [
        idempotencyRecord({ key: 'old-1', expiresAt: new Date(RECORD_TIME + 10) }),
        idempotencyRecord({ key: 'old-2', scope: { runId: 'run-r' }, expiresAt: new Date(RECORD_TIME + 20) }),
      ];
      const live = idempotencyRecord({ key: 'live', expiresAt: new Date(RECORD_TIME + 21) });
      for (const record of [...expired, live]) await records.put({ record });
      assert.deepEqual(await records.purge({ before: new Date(RECORD_TIME + 20) }), { purged: 2 }, 'records expired at or before `before`');
      assert.deepEqual(await records.purge({ before: new Date(RECORD_TIME + 20) }), { purged: 0 }, 'purging again');
      // Purged records are gone even for a `now` before their expiry.
      for (const record of expired)
        assert.equal(await records.get({ scope: record.scope, key: record.key, now: new Date(RECORD_TIME) }), null, `${record.key} purged`);
      assertRecordEqual(await records.get({ scope: live.scope, key: live.key, now: new Date(RECORD_TIME) }), live, 'the live record');
    },
  },
  {
    name: 'idempotency records: settle stores idempotencyRecord with the commit, and on its own when there is nothing to settle',
    requires: needsIdempotencyRecords,
    async run(store, helpers) {
      const records = idempotencyMethods(store);
      const now = new Date(RECORD_TIME);
      const memoryId = helpers.id(1);
      const added = helpers.event({ id: helpers.id(10), memoryId, text: 'Keeps bees' });
      await store.append({ events: [added], pending: true });
      const withCommit = idempotencyRecord({ key: 'with-commit' });
      await store.settle({ commit: [added.id], idempotencyRecord: withCommit });
      assert.deepEqual(
        (await store.list({ memoryId })).map((event) => event.id),
        [added.id],
        'the event is committed',
      );
      assertRecordEqual(await records.get({ scope: withCommit.scope, key: withCommit.key, now }), withCommit, 'the record settled with it');
      const alone = idempotencyRecord({ key: 'alone', scope: { agentId: 'agent-x' } });
      await store.settle({ idempotencyRecord: alone });
      assertRecordEqual(await records.get({ scope: alone.scope, key: alone.key, now }), alone, 'a record settled alone');
    },
  },
  {
    name: 'idempotency records: reset deletes them; an aborted signal throws ABORTED and stores nothing',
    requires: needsIdempotencyRecords,
    async run(store) {
      const records = idempotencyMethods(store);
      const now = new Date(RECORD_TIME);
      const record = idempotencyRecord({ key: 'reset-me' });
      await records.put({ record });
      await store.reset();
      assert.equal(await records.get({ scope: record.scope, key: record.key, now }), null, 'a record after reset');
      const controller = new AbortController();
      controller.abort();
      const signal = controller.signal;
      await assertRejectsWithCode(() => records.put({ record, signal }), 'ABORTED', 'putIdempotencyRecord with an aborted signal');
      await assertRejectsWithCode(
        () => records.get({ scope: record.scope, key: record.key, now, signal }),
        'ABORTED',
        'getIdempotencyRecord with an aborted signal',
      );
      await assertRejectsWithCode(
        () => records.purge({ before: now, signal }),
        'ABORTED',
        'purgeIdempotencyRecords with an aborted signal',
      );
      assert.equal(await records.get({ scope: record.scope, key: record.key, now }), null, 'nothing was stored by the aborted put');
    },
  },
];

/** Every history store case, in the order the suite runs them. */
export const historyStoreCases: readonly HistoryStoreCase[] = [
  {
    name: 'list returns the events of one memory oldest first, in append order',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const other = helpers.id(2);
      const createdAt = new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 500));
      // One batch with equal createdAt (mem writes several events in one millisecond), then later batches.
      const first = helpers.event({ id: helpers.id(10), memoryId, kind: 'ADD', previousText: null, text: 'Likes coffee', createdAt });
      const second = helpers.event({
        id: helpers.id(11),
        memoryId,
        kind: 'UPDATE',
        previousText: 'Likes coffee',
        text: 'Likes tea',
        createdAt,
        actor: 'update',
      });
      const foreign = helpers.event({ id: helpers.id(12), memoryId: other, text: 'Another memory' });
      // validAt may go backwards (a back-dated change); order is still the append order.
      const third = helpers.event({
        id: helpers.id(13),
        memoryId,
        kind: 'UPDATE',
        previousText: 'Likes tea',
        text: 'Likes green tea',
        createdAt: new Date(createdAt.getTime() + 1),
        validAt: new Date(Date.UTC(2020, 0, 1)),
        actor: 'update',
      });
      const fourth = helpers.event({
        id: helpers.id(14),
        memoryId,
        kind: 'DELETE',
        previousText: 'Likes green tea',
        text: null,
        createdAt: new Date(createdAt.getTime() + 2),
        actor: 'delete',
      });
      await store.append({ events: [first, second, foreign] });
      await store.append({ events: [third] });
      await store.append({ events: [fourth] });
      const listed = await store.list({ memoryId });
      assert.deepEqual(
        listed.map((event) => event.id),
        [first.id, second.id, third.id, fourth.id],
        'events of the memory, oldest first',
      );
      [first, second, third, fourth].forEach((event, index) => assertEventEqual(listed[index], event, 'list'));
      const others = await store.list({ memoryId: other });
      assert.deepEqual(
        others.map((event) => event.id),
        [foreign.id],
        'events of another memory',
      );
    },
  },
  {
    name: 'list of an unknown memoryId returns an empty array',
    async run(store, helpers) {
      await store.append({ events: [helpers.event({ memoryId: helpers.id(1) })] });
      assert.deepEqual(await store.list({ memoryId: helpers.id(404) }), [], 'events of a memory that has none');
    },
  },
  {
    name: 'round trip: every field, including nulls, unicode, scopes and dates at millisecond precision',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const events = [
        helpers.event({
          memoryId,
          kind: 'ADD',
          previousText: null,
          text: `Zoë's "favourite" 🍣; '; DROP TABLE history; --`,
          scope: { userId: 'user-a', agentId: 'agent-x', runId: 'run-r' },
          actor: 'add',
        }),
        helpers.event({
          memoryId,
          kind: 'UPDATE',
          previousText: `Zoë's "favourite" 🍣; '; DROP TABLE history; --`,
          text: '日本語\nsecond line\ttab',
          scope: { agentId: 'agent-x' },
          validAt: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
          createdAt: new Date(Date.UTC(2024, 1, 29, 0, 0, 0, 1)),
          actor: 'update',
        }),
        helpers.event({
          memoryId,
          kind: 'DELETE',
          previousText: '日本語\nsecond line\ttab',
          text: null,
          scope: { runId: 'run-r' },
          actor: 'deleteAll',
        }),
        helpers.event({ memoryId, kind: 'DELETE', previousText: '', text: null, scope: { userId: 'user-a' }, actor: 'delete' }),
      ];
      await store.append({ events });
      const listed = await store.list({ memoryId });
      assert.equal(listed.length, events.length, 'events read back');
      events.forEach((event, index) => assertEventEqual(listed[index], event, 'list'));
    },
  },
  {
    name: 'append: a batch holding an already stored id throws CONFLICT and stores none of the batch',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const stored = helpers.event({ id: helpers.id(10), memoryId, text: 'Stored first' });
      await store.append({ events: [stored] });
      const fresh = helpers.event({ id: helpers.id(11), memoryId, text: 'Fresh event before the conflict' });
      const clash = helpers.event({ id: stored.id, memoryId, text: 'Same id again' });
      const after = helpers.event({ id: helpers.id(12), memoryId: helpers.id(2), text: 'Fresh event after the conflict' });
      await assertRejectsWithCode(
        () => store.append({ events: [fresh, clash, after] }),
        'CONFLICT',
        'append of a batch holding an already stored id',
      );
      const listed = await store.list({ memoryId });
      assert.deepEqual(
        listed.map((event) => event.id),
        [stored.id],
        'events after the rejected batch',
      );
      assertEventEqual(listed[0], stored, 'the stored event is unchanged');
      assert.deepEqual(await store.list({ memoryId: helpers.id(2) }), [], 'no event of the rejected batch was stored');
    },
  },
  {
    name: 'append: a batch holding the same id twice throws CONFLICT and stores none of the batch',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const first = helpers.event({ id: helpers.id(10), memoryId, text: 'Unrelated' });
      const twice = helpers.event({ id: helpers.id(11), memoryId, text: 'Twice' });
      await assertRejectsWithCode(
        () => store.append({ events: [first, twice, { ...twice, text: 'Twice, again' }] }),
        'CONFLICT',
        'append of a batch holding one id twice',
      );
      assert.deepEqual(await store.list({ memoryId }), [], 'events after the rejected batch');
      // The ids are still free afterwards.
      await store.append({ events: [first, twice] });
      assert.deepEqual(
        (await store.list({ memoryId })).map((event) => event.id),
        [first.id, twice.id],
        'the same events appended correctly afterwards',
      );
    },
  },
  {
    name: 'append: 20 concurrent appenders lose nothing',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const events = Array.from({ length: 20 }, (_, index) =>
        helpers.event({ id: helpers.id(100 + index), memoryId, text: `writer ${index}` }),
      );
      await Promise.all(events.map((event) => store.append({ events: [event] })));
      const listed = await store.list({ memoryId });
      assert.deepEqual(
        listed.map((event) => event.id).sort(),
        events.map((event) => event.id).sort(),
        'events after 20 concurrent appends',
      );
    },
  },
  {
    name: 'append: an empty batch is accepted and stores nothing',
    async run(store, helpers) {
      await store.append({ events: [] });
      assert.deepEqual(await store.list({ memoryId: helpers.id(0) }), [], 'events after an empty append');
    },
  },
  {
    name: 'an already aborted signal: append and list throw ABORTED, nothing is stored',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const controller = new AbortController();
      controller.abort();
      await assertRejectsWithCode(
        () => store.append({ events: [helpers.event({ memoryId })], signal: controller.signal }),
        'ABORTED',
        'append with an aborted signal',
      );
      await assertRejectsWithCode(() => store.list({ memoryId, signal: controller.signal }), 'ABORTED', 'list with an aborted signal');
      assert.deepEqual(await store.list({ memoryId }), [], 'events after the aborted append');
    },
  },
  {
    name: 'pending: appended events are not listed until settle commits them, then listed in append order',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const added = helpers.event({ id: helpers.id(10), memoryId, kind: 'ADD', text: 'Likes tea' });
      await store.append({ events: [added] });
      const update = helpers.event({
        id: helpers.id(11),
        memoryId,
        kind: 'UPDATE',
        previousText: 'Likes tea',
        text: 'Likes green tea',
        actor: 'update',
      });
      const other = helpers.event({ id: helpers.id(12), memoryId: helpers.id(2), kind: 'ADD', text: 'Plays cello' });
      await store.append({ events: [update, other], pending: true });
      assert.deepEqual(
        (await store.list({ memoryId })).map((event) => event.id),
        [added.id],
        'a pending event is not listed',
      );
      assert.deepEqual(await store.list({ memoryId: helpers.id(2) }), [], 'a memory with only pending events lists nothing');
      const pending = await store.listPending({ limit: 10 });
      assert.deepEqual(
        pending.map((event) => event.id),
        [update.id, other.id],
        'listPending returns the pending events, oldest first',
      );
      assertEventEqual(pending[0], update, 'listPending');
      // A later committed event, then the pending one is committed: append order is kept.
      const later = helpers.event({
        id: helpers.id(13),
        memoryId,
        kind: 'DELETE',
        previousText: 'Likes green tea',
        text: null,
        actor: 'delete',
      });
      await store.append({ events: [later] });
      await store.settle({ commit: [update.id, other.id] });
      assert.deepEqual(
        (await store.list({ memoryId })).map((event) => event.id),
        [added.id, update.id, later.id],
        'committed events keep their append order',
      );
      assert.deepEqual(await store.listPending({ limit: 10 }), [], 'nothing is pending after the commit');
      assertEventEqual((await store.list({ memoryId: helpers.id(2) }))[0], other, 'a committed event round-trips');
    },
  },
  {
    name: 'settle: discard deletes pending events only; committed and unknown ids are left alone',
    async run(store, helpers) {
      const memoryId = helpers.id(1);
      const committed = helpers.event({ id: helpers.id(10), memoryId, text: 'Committed' });
      await store.append({ events: [committed] });
      const kept = helpers.event({ id: helpers.id(11), memoryId: helpers.id(2), text: 'Pending, then committed' });
      const dropped = helpers.event({
        id: helpers.id(12),
        memoryId,
        kind: 'UPDATE',
        previousText: 'Committed',
        text: 'Pending, then discarded',
        actor: 'update',
      });
      await store.append({ events: [kept, dropped], pending: true });
      await store.settle({ commit: [kept.id], discard: [dropped.id, committed.id, helpers.id(404)] });
      assert.deepEqual(
        (await store.list({ memoryId })).map((event) => event.id),
        [committed.id],
        'the discarded event is gone; the committed one stays',
      );
      assert.deepEqual(
        (await store.list({ memoryId: helpers.id(2) })).map((event) => event.id),
        [kept.id],
        'the committed pending event is listed',
      );
      assert.deepEqual(await store.listPending({ limit: 10 }), [], 'nothing is pending');
      // Settling again, or settling ids that are not pending, changes nothing.
      await store.settle({ commit: [dropped.id], discard: [kept.id] });
      assert.deepEqual(
        (await store.list({ memoryId: helpers.id(2) })).map((event) => event.id),
        [kept.id],
        'a committed event cannot be discarded',
      );
      assert.deepEqual(
        (await store.list({ memoryId })).map((event) => event.id),
        [committed.id],
        'a discarded event cannot be committed',
      );
    },
  },
  {
    name: 'listPending: oldest first across memories, at most limit; an aborted signal throws ABORTED',
    async run(store, helpers) {
      const events = Array.from({ length: 5 }, (_, index) =>
        helpers.event({ id: helpers.id(20 + index), memoryId: helpers.id(index % 2) }),
      );
      for (const event of events) await store.append({ events: [event], pending: true });
      assert.deepEqual(
        (await store.listPending({ limit: 3 })).map((event) => event.id),
        events.slice(0, 3).map((event) => event.id),
        'the three oldest pending events',
      );
      const controller = new AbortController();
      controller.abort();
      await assertRejectsWithCode(
        () => store.listPending({ limit: 3, signal: controller.signal }),
        'ABORTED',
        'listPending with an aborted signal',
      );
      await assertRejectsWithCode(
        () => store.settle({ commit: [events[0]!.id], signal: controller.signal }),
        'ABORTED',
        'settle with an aborted signal',
      );
      assert.equal((await store.listPending({ limit: 10 })).length, 5, 'the aborted settle changed nothing');
    },
  },
  {
    name: 'reset: deletes every event',
    async run(store, helpers) {
      const events = [
        helpers.event({ memoryId: helpers.id(1) }),
        helpers.event({ memoryId: helpers.id(2) }),
        helpers.event({ memoryId: helpers.id(2) }),
      ];
      await store.append({ events });
      await store.reset();
      assert.deepEqual(await store.list({ memoryId: helpers.id(1) }), [], 'events of the first memory after reset');
      assert.deepEqual(await store.list({ memoryId: helpers.id(2) }), [], 'events of the second memory after reset');
      // Ids are free again after a reset.
      await store.append({ events: [events[0]!] });
      assert.deepEqual(
        (await store.list({ memoryId: helpers.id(1) })).map((event) => event.id),
        [events[0]!.id],
        'an event appended again after reset',
      );
    },
  },
  ...idempotencyCases,
];

/**
 * Runs one history store case directly (outside `describeHistoryStore`).
 *
 * @returns `{ status: 'passed' }`, or `{ status: 'skipped', reason }`.
 * @throws the case's assertion error when the store does not conform.
 */
export async function runHistoryStoreCase(
  testCase: HistoryStoreCase,
  store: HistoryStore,
  options: RunCaseOptions = {},
): Promise<CaseOutcome> {
  return runPrepared(testCase, store, createHistoryStoreHelpers({ ...options, namespace: options.namespace ?? createNamespace() }));
}
