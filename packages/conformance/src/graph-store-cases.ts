import assert from 'node:assert/strict';
import {
  cosineSimilarity,
  scopeContains,
  type GraphEntityMatch,
  type GraphRelationInput,
  type GraphStore,
  type Scope,
} from '@mem/core/adapter';
import { assertClose, assertRejectsWithCode } from './assertions';
import { createNamespace, runPrepared, type CaseOutcome, type ConformanceCase, type RunCaseOptions } from './case';
import {
  GRAPH_ALL,
  GRAPH_SCORE_TOLERANCE,
  createGraphStoreHelpers,
  definedScope,
  expectedSignature,
  relationSignatures,
  type GraphStoreCaseHelpers,
} from './graph-store-helpers';
import { CONFORMANCE_DIMENSIONS } from './vector-store-helpers';

/** A conformance case for a {@link GraphStore}. The suite has called `ensureSchema({ dimensions: 8 })` before `run`. */
export type GraphStoreCase = ConformanceCase<GraphStore, GraphStoreCaseHelpers>;

// ---------------------------------------------------------------------------------------------
// Shared fixtures

/** Five scopes that overlap the way real callers do: a user, a user's agent, an agent alone, a run. */
const ISOLATION_SCOPES: Readonly<Record<string, Scope>> = {
  userA: { userId: 'user-a' },
  userB: { userId: 'user-b' },
  userAWithAgentX: { userId: 'user-a', agentId: 'agent-x' },
  agentX: { agentId: 'agent-x' },
  runR: { runId: 'run-r' },
};

/**
 * Names that break naive query building: quotes, backslashes, backticks, Cypher and SQL syntax,
 * LIKE wildcards, parameter sigils, other scripts and emoji. A store must round-trip each exactly.
 */
export const TRICKY_GRAPH_NAMES: readonly string[] = [
  "o'brien",
  'say "hi"',
  'back\\slash\\',
  '`backtick`',
  '})-[:X]->(',
  '; MATCH (n) DETACH DELETE n',
  "'; DROP TABLE entities; --",
  '%_wild%card_',
  '$param {name}',
  'zoë 日本語 🍣 مرحبا',
  'null',
];

/** Seeds (alice)-[knows]->(bob) in every isolation scope, same names, same embeddings; waits until each is visible. */
async function seedIsolation(store: GraphStore, helpers: GraphStoreCaseHelpers): Promise<Map<Scope, GraphRelationInput>> {
  const seeded = new Map<Scope, GraphRelationInput>();
  for (const scope of Object.values(ISOLATION_SCOPES)) {
    const relation = helpers.relation('alice', 'knows', 'bob');
    await helpers.writeEntities(scope, [helpers.entity('alice'), helpers.entity('bob', { embedding: helpers.axis(1) })]);
    await helpers.writeRelations(scope, [relation]);
    seeded.set(scope, relation);
  }
  await helpers.eventually(async () => {
    for (const scope of seeded.keys()) {
      const found = await store.neighbors({ scope, entities: ['alice'], limit: GRAPH_ALL });
      assert.ok(
        found.some((relation) => JSON.stringify(definedScope(relation.scope)) === JSON.stringify(definedScope(scope))),
        `relation written in ${JSON.stringify(scope)} is not readable there`,
      );
    }
  });
  return seeded;
}

function expectedIn(seeded: Map<Scope, GraphRelationInput>, scope: Scope): string[] {
  return [...seeded]
    .filter(([stored]) => scopeContains(scope, stored))
    .map(([stored, relation]) => expectedSignature(relation, stored))
    .sort();
}

function entityScopes(matches: readonly GraphEntityMatch[], name: string): string[] {
  return matches
    .filter((match) => match.entity.name === name)
    .map((match) => JSON.stringify(definedScope(match.entity.scope)))
    .sort();
}

function assertSortedByScore(matches: readonly GraphEntityMatch[], where: string): void {
  for (let index = 1; index < matches.length; index++) {
    assert.ok(
      matches[index - 1]!.score >= matches[index]!.score,
      `${where}: scores must be in descending order, got ${matches.map((match) => match.score).join(', ')}`,
    );
  }
}

const USER_A: Scope = { userId: 'user-a' };

// ---------------------------------------------------------------------------------------------
// The cases

/** Every graph store case, in the order the suite runs them. */
export const graphStoreCases: readonly GraphStoreCase[] = [
  // Scope isolation ---------------------------------------------------------------------------
  {
    name: 'scope: neighbors returns only relations inside the call scope (identical names in five scopes)',
    async run(store, helpers) {
      const seeded = await seedIsolation(store, helpers);
      for (const [label, scope] of Object.entries(ISOLATION_SCOPES)) {
        for (const name of ['alice', 'bob']) {
          const found = await store.neighbors({ scope, entities: [name], limit: GRAPH_ALL, includeInvalid: true });
          assert.deepEqual(
            relationSignatures(found),
            expectedIn(seeded, scope),
            `neighbors of ${name} in scope ${label} ${JSON.stringify(scope)}`,
          );
        }
      }
    },
  },
  {
    name: 'scope: searchEntities returns only entities inside the call scope (identical embeddings)',
    async run(store, helpers) {
      const seeded = await seedIsolation(store, helpers);
      for (const [label, scope] of Object.entries(ISOLATION_SCOPES)) {
        const matches = await store.searchEntities({ scope, vector: helpers.axis(0), topK: GRAPH_ALL });
        const expected = [...seeded.keys()]
          .filter((stored) => scopeContains(scope, stored))
          .map((stored) => JSON.stringify(definedScope(stored)))
          .sort();
        assert.deepEqual(
          entityScopes(matches, 'alice'),
          expected,
          `scopes of the "alice" entities found in scope ${label} ${JSON.stringify(scope)}`,
        );
        assert.ok(
          matches.every((match) => scopeContains(scope, match.entity.scope)),
          `searchEntities in scope ${label} returned an entity of another scope`,
        );
      }
    },
  },
  {
    name: 'scope: one name in two scopes is two entities (an upsert in one leaves the other unchanged)',
    async run(store, helpers) {
      const agentScope: Scope = { userId: 'user-a', agentId: 'agent-x' };
      await helpers.writeEntities(USER_A, [helpers.entity('acme', { type: 'company' })]);
      await helpers.writeEntities(agentScope, [helpers.entity('acme', { type: 'company' })]);
      await helpers.writeEntities(agentScope, [helpers.entity('acme', { type: 'band', embedding: helpers.axis(2) })]);
      await helpers.eventually(async () => {
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL });
        const byScope = new Map(matches.map((match) => [JSON.stringify(definedScope(match.entity.scope)), match]));
        assert.equal(byScope.get(JSON.stringify(USER_A))?.entity.type, 'company', 'the entity of { userId } keeps its type');
        assertClose(byScope.get(JSON.stringify(USER_A))!.score, 1, GRAPH_SCORE_TOLERANCE, 'the entity of { userId } keeps its embedding');
        const moved = await store.searchEntities({ scope: agentScope, vector: helpers.axis(2), topK: 1 });
        assert.equal(moved[0]?.entity.type, 'band', 'the entity of { userId, agentId } has the new type');
        assertClose(moved[0]!.score, 1, GRAPH_SCORE_TOLERANCE, 'the entity of { userId, agentId } has the new embedding');
      });
    },
  },

  // Entities ----------------------------------------------------------------------------------
  {
    name: 'upsertEntities: idempotent by exact scope and name; a later upsert replaces type and embedding',
    async run(store, helpers) {
      await helpers.writeEntities(USER_A, [helpers.entity('alice', { type: 'person' })]);
      await helpers.writeEntities(USER_A, [helpers.entity('alice', { type: 'person' })]);
      await helpers.eventually(async () => {
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL });
        assert.deepEqual(
          matches.map((match) => match.entity.name),
          ['alice'],
          'entities after the same upsert twice',
        );
      });
      await helpers.writeEntities(USER_A, [helpers.entity('alice', { type: 'manager', embedding: helpers.axis(3) })]);
      await helpers.eventually(async () => {
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(3), topK: GRAPH_ALL });
        assert.equal(matches.length, 1, 'still one entity after changing type and embedding');
        assert.equal(matches[0]!.entity.type, 'manager', 'type after the second upsert');
        assertClose(matches[0]!.score, 1, GRAPH_SCORE_TOLERANCE, 'the new embedding is searched');
      });
    },
  },
  {
    name: 'upsertEntities: the same name twice in one request leaves one entity, the last one',
    async run(store, helpers) {
      await store.upsertEntities({
        scope: USER_A,
        entities: [
          helpers.entity('alice', { type: 'first', embedding: helpers.axis(1) }),
          helpers.entity('alice', { type: 'last', embedding: helpers.axis(2) }),
        ],
      });
      await helpers.eventually(async () => {
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(2), topK: GRAPH_ALL });
        assert.equal(matches.length, 1, 'entities after one request naming alice twice');
        assert.equal(matches[0]!.entity.type, 'last', 'the last entity of the request wins');
        assertClose(matches[0]!.score, 1, GRAPH_SCORE_TOLERANCE, 'the last embedding of the request wins');
      });
    },
  },
  {
    name: 'upsertEntities: names are compared exactly ("Alice", "alice" and "alice " are three entities)',
    async run(store, helpers) {
      const names = ['Alice', 'alice', 'alice ', 'ALICE'];
      await helpers.writeEntities(
        USER_A,
        names.map((name) => helpers.entity(name)),
      );
      await helpers.eventually(async () => {
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL });
        assert.deepEqual(
          matches.map((match) => match.entity.name).sort(),
          [...names].sort(),
          'entity names read back exactly, none folded or trimmed',
        );
      });
    },
  },
  {
    name: 'upsertEntities: a batch with a wrong-length embedding throws DIMENSION_MISMATCH and changes nothing',
    async run(store, helpers) {
      await helpers.writeEntities(USER_A, [helpers.entity('alice', { type: 'person' })]);
      await helpers.eventually(async () =>
        assert.equal(
          (await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL })).length,
          1,
          'alice is stored',
        ),
      );
      const batch = [
        helpers.entity('alice', { type: 'changed', embedding: helpers.axis(4) }),
        helpers.entity('bob', { embedding: new Array(CONFORMANCE_DIMENSIONS + 3).fill(0.25) }),
        helpers.entity('carol'),
      ].slice(0, Math.max(2, Math.min(3, store.capabilities.maxBatchSize)));
      await assertRejectsWithCode(
        () => store.upsertEntities({ scope: USER_A, entities: batch }),
        'DIMENSION_MISMATCH',
        'upsertEntities with one wrong-length embedding',
      );
      const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL });
      assert.deepEqual(
        matches.map((match) => [match.entity.name, match.entity.type]),
        [['alice', 'person']],
        'entities after the rejected batch',
      );
    },
  },

  // Relations ---------------------------------------------------------------------------------
  {
    name: 'upsertRelations: idempotent; the same open relation twice (across and within requests) is stored once, first validFrom kept',
    async run(store, helpers) {
      const first = helpers.relation('alice', 'works_at', 'acme', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)));
      const later = helpers.relation('alice', 'works_at', 'acme', new Date(Date.UTC(2024, 6, 1)));
      await helpers.writeEntities(USER_A, [helpers.entity('alice'), helpers.entity('acme', { type: 'company' })]);
      await helpers.writeRelations(USER_A, [first]);
      await helpers.writeRelations(USER_A, [later]);
      await store.upsertRelations({ scope: USER_A, relations: [later, later] });
      await helpers.eventually(async () => {
        const found = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(found),
          [expectedSignature(first, USER_A)],
          'relations after upserting one open relation four times',
        );
      });
    },
  },
  {
    name: 'upsertRelations: relations differing in source, relation or target are distinct',
    async run(store, helpers) {
      const relations = [
        helpers.relation('alice', 'works_at', 'acme'),
        helpers.relation('alice', 'works_at', 'globex'),
        helpers.relation('alice', 'owns', 'acme'),
        helpers.relation('acme', 'works_at', 'alice'),
        helpers.relation('Alice', 'works_at', 'acme'),
      ];
      await helpers.writeRelations(USER_A, relations);
      await helpers.eventually(async () => {
        const found = await store.neighbors({ scope: USER_A, entities: ['alice', 'Alice'], limit: GRAPH_ALL });
        assert.deepEqual(
          relationSignatures(found),
          relations.map((relation) => expectedSignature(relation, USER_A)).sort(),
          'five distinct relations',
        );
      });
    },
  },
  {
    name: 'upsertRelations: a missing endpoint is created as an entity without embedding (not searchable until given one)',
    async run(store, helpers) {
      await helpers.writeEntities(USER_A, [helpers.entity('alice')]);
      await helpers.writeRelations(USER_A, [helpers.relation('alice', 'lives_in', 'lisbon')]);
      await helpers.eventually(async () => {
        const found = await store.neighbors({ scope: USER_A, entities: ['lisbon'], limit: GRAPH_ALL });
        assert.equal(found.length, 1, 'the relation is found from its auto-created target');
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL, threshold: -1 });
        assert.deepEqual(
          matches.map((match) => match.entity.name),
          ['alice'],
          'an entity without embedding is never returned by searchEntities',
        );
      });
      await helpers.writeEntities(USER_A, [helpers.entity('lisbon', { type: 'city', embedding: helpers.axis(5) })]);
      await helpers.eventually(async () => {
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(5), topK: 1 });
        assert.equal(matches[0]?.entity.name, 'lisbon', 'the endpoint is searchable once upserted with an embedding');
        assert.equal(matches[0]!.entity.type, 'city', 'type of the endpoint after upsertEntities');
        const found = await store.neighbors({ scope: USER_A, entities: ['lisbon'], limit: GRAPH_ALL });
        assert.equal(found.length, 1, 'the relation is still there after the endpoint was upserted');
      });
    },
  },

  // Invalidation and history ------------------------------------------------------------------
  {
    name: 'invalidateRelations: closes the open relation with validTo, keeps it (includeInvalid), never deletes',
    async run(store, helpers) {
      const worksAt = helpers.relation('alice', 'works_at', 'acme', new Date(Date.UTC(2023, 0, 1)));
      const livesIn = helpers.relation('alice', 'lives_in', 'lisbon', new Date(Date.UTC(2023, 0, 2)));
      const worksAtOther = helpers.relation('alice', 'works_at', 'globex', new Date(Date.UTC(2023, 0, 3)));
      await helpers.writeRelations(USER_A, [worksAt, livesIn, worksAtOther]);
      const validTo = new Date(Date.UTC(2024, 5, 30, 12, 0, 0, 321));
      await helpers.eventually(async () =>
        assert.equal((await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL })).length, 3, 'three relations stored'),
      );
      const result = await store.invalidateRelations({
        scope: USER_A,
        relations: [{ source: 'alice', relation: 'works_at', target: 'acme' }],
        validTo,
      });
      assert.equal(result.invalidated, 1, 'invalidateRelations reports one closed relation');
      await helpers.eventually(async () => {
        const open = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL });
        assert.deepEqual(
          relationSignatures(open),
          [expectedSignature(livesIn, USER_A), expectedSignature(worksAtOther, USER_A)].sort(),
          'open relations: the closed one is left out',
        );
        const all = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(all),
          [expectedSignature(worksAt, USER_A, validTo), expectedSignature(livesIn, USER_A), expectedSignature(worksAtOther, USER_A)].sort(),
          'with includeInvalid: the closed relation with its validTo, and the others untouched',
        );
      });
      const again = await store.invalidateRelations({
        scope: USER_A,
        relations: [{ source: 'alice', relation: 'works_at', target: 'acme' }],
        validTo: new Date(Date.UTC(2025, 0, 1)),
      });
      assert.equal(again.invalidated, 0, 'invalidating an already closed relation closes nothing');
      const none = await store.invalidateRelations({
        scope: USER_A,
        relations: [{ source: 'nobody', relation: 'works_at', target: 'acme' }],
        validTo,
      });
      assert.equal(none.invalidated, 0, 'a key that matches nothing closes nothing');
      await helpers.eventually(async () => {
        const all = await store.neighbors({ scope: USER_A, entities: ['acme'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(all),
          [expectedSignature(worksAt, USER_A, validTo)],
          'a closed relation keeps its first validTo',
        );
      });
    },
  },
  {
    name: 'history: a relation that becomes true again starts a new period; the closed one stays',
    async run(store, helpers) {
      const first = helpers.relation('alice', 'lives_in', 'lisbon', new Date(Date.UTC(2020, 0, 1)));
      const movedAway = new Date(Date.UTC(2021, 6, 1));
      const back = helpers.relation('alice', 'lives_in', 'lisbon', new Date(Date.UTC(2023, 2, 15, 8, 0, 0, 5)));
      await helpers.writeRelations(USER_A, [first]);
      await helpers.eventually(async () =>
        assert.equal((await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL })).length, 1, 'relation stored'),
      );
      assert.equal(
        (await store.invalidateRelations({ scope: USER_A, relations: [first], validTo: movedAway })).invalidated,
        1,
        'closed the first period',
      );
      await helpers.writeRelations(USER_A, [back]);
      await helpers.eventually(async () => {
        const all = await store.neighbors({ scope: USER_A, entities: ['lisbon'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(all),
          [expectedSignature(first, USER_A, movedAway), expectedSignature(back, USER_A)].sort(),
          'two periods of the same relation',
        );
        const open = await store.neighbors({ scope: USER_A, entities: ['lisbon'], limit: GRAPH_ALL });
        assert.deepEqual(relationSignatures(open), [expectedSignature(back, USER_A)], 'only the new period is open');
      });
    },
  },
  {
    name: 'invalidateRelations: a validTo before validFrom is stored as validFrom',
    async run(store, helpers) {
      const relation = helpers.relation('alice', 'likes', 'jazz', new Date(Date.UTC(2024, 3, 1, 10, 0, 0, 250)));
      await helpers.writeRelations(USER_A, [relation]);
      await helpers.eventually(async () =>
        assert.equal((await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL })).length, 1, 'relation stored'),
      );
      await store.invalidateRelations({ scope: USER_A, relations: [relation], validTo: new Date(Date.UTC(2020, 0, 1)) });
      await helpers.eventually(async () => {
        const all = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(all),
          [expectedSignature(relation, USER_A, relation.validFrom)],
          'validTo clamped to validFrom',
        );
      });
    },
  },
  {
    name: "invalidateRelations: matches by scope containment and never closes another scope's relation",
    async run(store, helpers) {
      const seeded = await seedIsolation(store, helpers);
      const validTo = new Date(Date.UTC(2024, 11, 24, 18, 0, 0, 1));
      // user-a + agent-x closes only its own; user-a then closes the rest of user-a's.
      const narrow = await store.invalidateRelations({
        scope: ISOLATION_SCOPES.userAWithAgentX!,
        relations: [{ source: 'alice', relation: 'knows', target: 'bob' }],
        validTo,
      });
      assert.equal(narrow.invalidated, 1, 'invalidate in { userId, agentId } closes one relation');
      const wide = await store.invalidateRelations({
        scope: USER_A,
        relations: [{ source: 'alice', relation: 'knows', target: 'bob' }],
        validTo,
      });
      assert.equal(wide.invalidated, 1, 'invalidate in { userId } closes the one still open in its scope');
      await helpers.eventually(async () => {
        for (const [stored, relation] of seeded) {
          const found = await store.neighbors({ scope: stored, entities: ['alice'], limit: GRAPH_ALL, includeInvalid: true });
          const own = relationSignatures(
            found.filter((item) => JSON.stringify(definedScope(item.scope)) === JSON.stringify(definedScope(stored))),
          );
          const closed = scopeContains(USER_A, stored);
          assert.deepEqual(
            own,
            [expectedSignature(relation, stored, closed ? validTo : null)],
            `relation of scope ${JSON.stringify(stored)} is ${closed ? 'closed' : 'still open'}`,
          );
        }
      });
    },
  },

  // Neighbourhood -----------------------------------------------------------------------------
  {
    name: 'neighbors: relations with the entity as source or target, one hop, union over names; unknown names give none',
    async run(store, helpers) {
      const chain = [
        helpers.relation('alice', 'manages', 'bob'),
        helpers.relation('bob', 'manages', 'carol'),
        helpers.relation('dave', 'reports_to', 'alice'),
        helpers.relation('erin', 'knows', 'frank'),
      ];
      await helpers.writeRelations(USER_A, chain);
      await helpers.eventually(async () => {
        const ofAlice = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL });
        assert.deepEqual(
          relationSignatures(ofAlice),
          [chain[0]!, chain[2]!].map((relation) => expectedSignature(relation, USER_A)).sort(),
          'neighbors of alice: as source and as target, not bob -> carol',
        );
        const ofTwo = await store.neighbors({ scope: USER_A, entities: ['carol', 'frank'], limit: GRAPH_ALL });
        assert.deepEqual(
          relationSignatures(ofTwo),
          [chain[1]!, chain[3]!].map((relation) => expectedSignature(relation, USER_A)).sort(),
          'neighbors of carol and frank',
        );
        assert.deepEqual(
          await store.neighbors({ scope: USER_A, entities: ['nobody'], limit: GRAPH_ALL }),
          [],
          'neighbors of an unknown name',
        );
        assert.deepEqual(await store.neighbors({ scope: USER_A, entities: [], limit: GRAPH_ALL }), [], 'neighbors of no names');
      });
    },
  },
  {
    name: 'neighbors: sorted by validFrom newest first; limit keeps the newest',
    async run(store, helpers) {
      const relations = Array.from({ length: 12 }, (_, index) =>
        helpers.relation('alice', 'visited', `city ${index}`, new Date(Date.UTC(2024, 0, 1 + ((index * 7) % 12), 0, 0, 0, index))),
      );
      await helpers.writeRelations(USER_A, relations);
      const newestFirst = [...relations].sort((a, b) => b.validFrom.getTime() - a.validFrom.getTime());
      await helpers.eventually(async () => {
        const all = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL });
        assert.deepEqual(
          all.map((relation) => relation.target),
          newestFirst.map((relation) => relation.target),
          'order of neighbors: validFrom descending',
        );
        const limited = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: 5 });
        assert.deepEqual(
          limited.map((relation) => relation.target),
          newestFirst.slice(0, 5).map((relation) => relation.target),
          'limit 5 keeps the five newest',
        );
      });
    },
  },

  // Entity similarity search ------------------------------------------------------------------
  {
    name: 'searchEntities: cosine scores, best first, topK and threshold respected',
    async run(store, helpers) {
      const angles = [0, 10, 25, 40, 60, 90, 120, 180];
      await helpers.writeEntities(
        USER_A,
        angles.map((angle) => helpers.entity(`entity at ${angle}`, { type: 'thing', embedding: helpers.angled(angle) })),
      );
      await helpers.eventually(async () => {
        const all = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL });
        assert.deepEqual(
          all.map((match) => match.entity.name),
          angles.map((angle) => `entity at ${angle}`),
          'every entity, by descending similarity',
        );
        assertSortedByScore(all, 'searchEntities');
        all.forEach((match, index) =>
          assertClose(
            match.score,
            cosineSimilarity(helpers.axis(0), helpers.angled(angles[index]!)),
            GRAPH_SCORE_TOLERANCE,
            `score of ${match.entity.name} (cosine similarity)`,
          ),
        );
        const top3 = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: 3 });
        assert.deepEqual(
          top3.map((match) => match.entity.name),
          ['entity at 0', 'entity at 10', 'entity at 25'],
          'topK 3',
        );
        const above = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL, threshold: 0.7 });
        assert.deepEqual(
          above.map((match) => match.entity.name),
          ['entity at 0', 'entity at 10', 'entity at 25', 'entity at 40'],
          'threshold 0.7 (cos 40° = 0.766, cos 60° = 0.5)',
        );
        const negative = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL, threshold: -0.6 });
        assert.deepEqual(
          negative.map((match) => match.entity.name),
          angles.slice(0, 7).map((angle) => `entity at ${angle}`),
          'threshold -0.6 keeps negative scores above it (cos 120° = -0.5) and drops cos 180° = -1',
        );
        assert.deepEqual(
          await store.searchEntities({ scope: { userId: 'user-nobody' }, vector: helpers.axis(0), topK: GRAPH_ALL }),
          [],
          'an empty scope',
        );
      });
    },
  },

  // Tricky names ------------------------------------------------------------------------------
  {
    name: 'names: quotes, backslashes, backticks, Cypher/SQL syntax, unicode round-trip exactly and inject nothing',
    async run(store, helpers) {
      const bystander = { userId: 'user-b' };
      const bystanderRelation = helpers.relation('bystander', 'knows', 'nobody else');
      await helpers.writeEntities(bystander, [helpers.entity('bystander')]);
      await helpers.writeRelations(bystander, [bystanderRelation]);
      const trickyScope: Scope = { userId: `u'1"})-[:X]->(\\`, agentId: '; MATCH (n) DETACH DELETE n', runId: 'ラン 🏃' };
      for (const scope of [USER_A, trickyScope]) {
        await helpers.writeEntities(
          scope,
          TRICKY_GRAPH_NAMES.map((name, index) => helpers.entity(name, { type: `type ${name}`, embedding: helpers.angled(index * 8) })),
        );
        const relations = TRICKY_GRAPH_NAMES.map((name, index) =>
          helpers.relation(
            name,
            `rel ${name}`,
            TRICKY_GRAPH_NAMES[(index + 1) % TRICKY_GRAPH_NAMES.length]!,
            new Date(Date.UTC(2024, 0, 1, 0, 0, index)),
          ),
        );
        await helpers.writeRelations(scope, relations);
        await helpers.eventually(async () => {
          for (const [index, name] of TRICKY_GRAPH_NAMES.entries()) {
            const found = await store.neighbors({ scope, entities: [name], limit: GRAPH_ALL });
            const previous = relations[(index + TRICKY_GRAPH_NAMES.length - 1) % TRICKY_GRAPH_NAMES.length]!;
            assert.deepEqual(
              relationSignatures(found),
              [expectedSignature(relations[index]!, scope), expectedSignature(previous, scope)].sort(),
              `neighbors of ${JSON.stringify(name)} in ${JSON.stringify(scope)}`,
            );
            const [match] = await store.searchEntities({ scope, vector: helpers.angled(index * 8), topK: 1 });
            assert.equal(match?.entity.name, name, `searchEntities finds ${JSON.stringify(name)} by its embedding`);
            assert.equal(match!.entity.type, `type ${name}`, `type of ${JSON.stringify(name)}`);
            assert.deepEqual(definedScope(match!.entity.scope), definedScope(scope), `scope of ${JSON.stringify(name)}`);
          }
        });
        const closed = await store.invalidateRelations({ scope, relations: [relations[5]!], validTo: new Date(Date.UTC(2024, 6, 1)) });
        assert.equal(closed.invalidated, 1, `invalidate the relation named ${JSON.stringify(relations[5]!.relation)}`);
      }
      await helpers.eventually(async () => {
        const found = await store.neighbors({ scope: bystander, entities: ['bystander'], limit: GRAPH_ALL });
        assert.deepEqual(
          relationSignatures(found),
          [expectedSignature(bystanderRelation, bystander)],
          "another scope's relation survives every tricky name",
        );
        const own = await store.neighbors({ scope: trickyScope, entities: TRICKY_GRAPH_NAMES, limit: GRAPH_ALL });
        assert.equal(own.length, TRICKY_GRAPH_NAMES.length - 1, 'the tricky scope sees only its own open relations');
      });
    },
  },
  {
    name: 'round trip: validFrom and validTo at millisecond precision, before 1970 and far ahead',
    async run(store, helpers) {
      const dates = [
        new Date(Date.UTC(1969, 6, 20, 20, 17, 40, 999)),
        new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 1)),
        new Date(Date.UTC(2999, 11, 31, 0, 0, 0, 7)),
      ];
      const relations = dates.map((date, index) => helpers.relation('alice', `event_${index}`, 'moon', date));
      await helpers.writeRelations(USER_A, relations);
      await helpers.eventually(async () =>
        assert.equal((await store.neighbors({ scope: USER_A, entities: ['moon'], limit: GRAPH_ALL })).length, 3, 'relations stored'),
      );
      const validTo = new Date(Date.UTC(2030, 4, 5, 6, 7, 8, 909));
      await store.invalidateRelations({ scope: USER_A, relations: [relations[0]!], validTo });
      await helpers.eventually(async () => {
        const all = await store.neighbors({ scope: USER_A, entities: ['moon'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(all),
          [
            expectedSignature(relations[0]!, USER_A, validTo),
            expectedSignature(relations[1]!, USER_A),
            expectedSignature(relations[2]!, USER_A),
          ].sort(),
          'dates read back at millisecond precision',
        );
      });
    },
  },

  // Concurrency -------------------------------------------------------------------------------
  {
    name: 'concurrency: 20 concurrent writers of distinct relations and entities lose nothing',
    async run(store, helpers) {
      const relations = Array.from({ length: 20 }, (_, index) => helpers.relation('alice', 'knows', `friend ${index}`));
      await Promise.all(
        relations.map(async (relation, index) => {
          await store.upsertEntities({
            scope: USER_A,
            entities: [helpers.entity(relation.target, { embedding: helpers.angled(index * 4) })],
          });
          await store.upsertRelations({ scope: USER_A, relations: [relation] });
        }),
      );
      await helpers.eventually(async () => {
        const found = await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL });
        assert.deepEqual(
          relationSignatures(found),
          relations.map((relation) => expectedSignature(relation, USER_A)).sort(),
          'relations after 20 concurrent writers',
        );
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL, threshold: -1 });
        assert.equal(matches.length, 20, 'entities after 20 concurrent writers');
      });
    },
  },
  {
    name: 'concurrency: 20 concurrent upserts of one relation and one entity leave one of each',
    async run(store, helpers) {
      const relation = helpers.relation('alice', 'works_at', 'acme');
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          await store.upsertEntities({ scope: USER_A, entities: [helpers.entity('acme', { type: 'company' })] });
          await store.upsertRelations({ scope: USER_A, relations: [relation] });
        }),
      );
      await helpers.eventually(async () => {
        const found = await store.neighbors({ scope: USER_A, entities: ['acme'], limit: GRAPH_ALL, includeInvalid: true });
        assert.deepEqual(
          relationSignatures(found),
          [expectedSignature(relation, USER_A)],
          'one open relation after 20 concurrent identical upserts',
        );
        const matches = await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL });
        assert.deepEqual(
          matches.map((match) => match.entity.name),
          ['acme'],
          'one entity after 20 concurrent identical upserts',
        );
      });
    },
  },

  // Deleting ----------------------------------------------------------------------------------
  {
    name: 'deleteAll: deletes the entities and relations (open and closed) inside the call scope only',
    async run(store, helpers) {
      const seeded = await seedIsolation(store, helpers);
      await store.invalidateRelations({
        scope: ISOLATION_SCOPES.userAWithAgentX!,
        relations: [{ source: 'alice', relation: 'knows', target: 'bob' }],
        validTo: new Date(Date.UTC(2025, 0, 1)),
      });
      await store.deleteAll({ scope: USER_A });
      await helpers.eventually(async () => {
        for (const [stored, relation] of seeded) {
          const found = await store.neighbors({ scope: stored, entities: ['alice', 'bob'], limit: GRAPH_ALL, includeInvalid: true });
          const gone = scopeContains(USER_A, stored);
          const own = relationSignatures(
            found.filter((item) => JSON.stringify(definedScope(item.scope)) === JSON.stringify(definedScope(stored))),
          );
          assert.deepEqual(
            own,
            gone ? [] : [expectedSignature(relation, stored)],
            `relations of ${JSON.stringify(stored)} after deleteAll({ userId: 'user-a' })`,
          );
          const matches = await store.searchEntities({ scope: stored, vector: helpers.axis(0), topK: GRAPH_ALL });
          assert.deepEqual(
            entityScopes(matches, 'alice').filter((key) => key === JSON.stringify(definedScope(stored))),
            gone ? [] : [JSON.stringify(definedScope(stored))],
            `entity alice of ${JSON.stringify(stored)} after deleteAll`,
          );
        }
      });
    },
  },
  {
    name: 'reset: deletes everything in every scope; the store stays usable without ensureSchema',
    async run(store, helpers) {
      const seeded = await seedIsolation(store, helpers);
      await store.reset();
      await helpers.eventually(async () => {
        for (const stored of seeded.keys()) {
          assert.deepEqual(
            await store.neighbors({ scope: stored, entities: ['alice', 'bob'], limit: GRAPH_ALL, includeInvalid: true }),
            [],
            `relations of ${JSON.stringify(stored)} after reset`,
          );
          assert.deepEqual(
            await store.searchEntities({ scope: stored, vector: helpers.axis(0), topK: GRAPH_ALL, threshold: -1 }),
            [],
            `entities of ${JSON.stringify(stored)} after reset`,
          );
        }
      });
      const relation = helpers.relation('alice', 'knows', 'bob');
      await helpers.writeEntities(USER_A, [helpers.entity('alice')]);
      await helpers.writeRelations(USER_A, [relation]);
      await helpers.eventually(async () => {
        assert.deepEqual(
          relationSignatures(await store.neighbors({ scope: USER_A, entities: ['alice'], limit: GRAPH_ALL })),
          [expectedSignature(relation, USER_A)],
          'a relation written after reset',
        );
        assert.equal(
          (await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL })).length,
          1,
          'an entity written after reset',
        );
      });
    },
  },
  {
    name: 'ensureSchema: idempotent with the same dimensions (keeps data), DIMENSION_MISMATCH with others',
    async run(store, helpers) {
      await helpers.writeEntities(USER_A, [helpers.entity('alice')]);
      await store.ensureSchema({ dimensions: CONFORMANCE_DIMENSIONS });
      await helpers.eventually(async () =>
        assert.equal(
          (await store.searchEntities({ scope: USER_A, vector: helpers.axis(0), topK: GRAPH_ALL })).length,
          1,
          'the entity survives a second ensureSchema',
        ),
      );
      await assertRejectsWithCode(
        () => store.ensureSchema({ dimensions: CONFORMANCE_DIMENSIONS + 8 }),
        'DIMENSION_MISMATCH',
        'ensureSchema with other dimensions',
      );
    },
  },
];

/**
 * Runs one graph store case directly (outside `describeGraphStore`): calls
 * `ensureSchema({ dimensions: 8 })`, then the case.
 *
 * @returns `{ status: 'passed' }`, or `{ status: 'skipped', reason }`.
 * @throws the case's assertion error when the store does not conform.
 * @example
 * for (const testCase of graphStoreCases) await runGraphStoreCase(testCase, new MyGraphStore());
 */
export async function runGraphStoreCase(testCase: GraphStoreCase, store: GraphStore, options: RunCaseOptions = {}): Promise<CaseOutcome> {
  const helpers = createGraphStoreHelpers(store, { ...options, namespace: options.namespace ?? createNamespace() });
  return runPrepared(testCase, store, helpers, () => store.ensureSchema({ dimensions: CONFORMANCE_DIMENSIONS }));
}
