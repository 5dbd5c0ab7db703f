import type { GraphStore, Scope } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import { visible } from './invariants';

/** mulberry32: a failing run names its seed. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TRICKY_IDS = [
  'u1',
  'u10',
  'U1',
  'u1 ',
  "o'brien",
  'a"b',
  '%',
  '_',
  'u%',
  'x\\y',
  'a,b',
  '*',
  '.*',
  'null',
  'ü',
  'u\u0308',
  '😀',
  'ä ö',
  'x'.repeat(256),
  '$eq',
  '{"$ne":1}',
];

export function randomScopes(random: () => number, count: number): Scope[] {
  const pick = () => TRICKY_IDS[Math.floor(random() * TRICKY_IDS.length)]!;
  const scopes = new Map<string, Scope>();
  while (scopes.size < count) {
    const roll = random();
    const scope: Scope =
      roll < 0.4
        ? { userId: pick() }
        : roll < 0.7
          ? { userId: pick(), agentId: pick() }
          : roll < 0.85
            ? { agentId: pick() }
            : { userId: pick(), agentId: pick(), runId: pick() };
    scopes.set(JSON.stringify([scope.userId ?? null, scope.agentId ?? null, scope.runId ?? null]), scope);
  }
  return [...scopes.values()];
}

const NAMES = ['user', 'alice', 'lisbon', 'acme', "o'brien", 'x}) detach delete n //', '"; drop table entities; --'];

/**
 * Identical entities and relations in random scopes; random neighbors / searchEntities reads must
 * return only what the call's scope sees; invalidation and deleteAll through one scope change
 * nothing outside it. Returns the number of calls made and the violations.
 */
export async function graphIsolation(
  name: string,
  store: GraphStore,
  queries: number,
  seed: number,
): Promise<{ queries: number; violations: string[] }> {
  const random = generator(seed);
  const violations: string[] = [];
  const scopes = randomScopes(random, 8);
  const embedder = new HashEmbedder({ dimensions: 8 });
  const { vectors } = await embedder.embed({ texts: NAMES });
  await store.ensureSchema({ dimensions: 8 });
  const validFrom = new Date(Date.UTC(2025, 0, 1));
  for (const scope of scopes) {
    await store.upsertEntities({
      scope,
      entities: NAMES.map((entity, index) => ({ name: entity, type: 'thing', embedding: vectors[index]! })),
    });
    await store.upsertRelations({
      scope,
      relations: NAMES.slice(1).map((target) => ({ source: 'user', relation: 'knows', target, validFrom })),
    });
  }
  let asked = 0;
  while (asked < queries) {
    const scope = scopes[Math.floor(random() * scopes.length)]!;
    if (random() < 0.5) {
      const relations = await store.neighbors({
        scope,
        entities: [NAMES[Math.floor(random() * NAMES.length)]!, 'user'],
        limit: 1_000,
        includeInvalid: random() < 0.5,
      });
      for (const relation of relations)
        if (!visible(scope, relation.scope))
          violations.push(
            `${name} neighbors in ${JSON.stringify(scope)} returned a relation of ${JSON.stringify(relation.scope)} (seed ${seed})`,
          );
      const expected = scopes.filter((candidate) => visible(scope, candidate)).length * (NAMES.length - 1);
      if (relations.length > expected)
        violations.push(`${name} neighbors returned ${relations.length} relations, at most ${expected} are visible (seed ${seed})`);
    } else {
      const matches = await store.searchEntities({ scope, vector: vectors[Math.floor(random() * vectors.length)]!, topK: 100 });
      for (const match of matches)
        if (!visible(scope, match.entity.scope))
          violations.push(
            `${name} searchEntities in ${JSON.stringify(scope)} returned an entity of ${JSON.stringify(match.entity.scope)} (seed ${seed})`,
          );
    }
    asked++;
  }
  // Invalidation and deletion through one scope change nothing outside it.
  const target = scopes[0]!;
  const outside = scopes.filter((scope) => !visible(target, scope));
  const openOutside = async () => {
    let count = 0;
    for (const scope of outside)
      count += (await store.neighbors({ scope, entities: ['user'], limit: 1_000 })).filter(
        (relation) => JSON.stringify(relation.scope) === JSON.stringify(scope),
      ).length;
    return count;
  };
  const before = await openOutside();
  await store.invalidateRelations({
    scope: target,
    relations: NAMES.slice(1).map((entity) => ({ source: 'user', relation: 'knows', target: entity })),
    validTo: new Date(Date.UTC(2025, 5, 1)),
  });
  await store.deleteAll({ scope: target });
  const after = await openOutside();
  if (after !== before)
    violations.push(
      `${name}: invalidate/deleteAll through ${JSON.stringify(target)} changed ${before - after} relations of other scopes (seed ${seed})`,
    );
  return { queries: asked + 2, violations };
}
