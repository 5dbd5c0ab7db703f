import {
  InMemoryGraphStore,
  InMemoryHistoryStore,
  InMemoryVectorStore,
  Memory,
  MemError,
  type Embedder,
  type GraphStore,
  type HistoryStore,
  type LLM,
  type Reranker,
  type Scope,
  type VectorStore,
} from '@mem/core';
import { SCOPE_FIELDS } from '@mem/core/adapter';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordFigure, scaled } from './support/figures';
import { visible } from './support/invariants';

// Every result an adapter returns is checked before core uses it. The embedder, the LLM, the vector,
// history and graph stores and the reranker each get one result corrupted (a generated mutation of
// the real result: the whole value or one node replaced by null, undefined, NaN, Infinity, a wrong
// type, an invalid date, a record of another scope; a key deleted; an element dropped or repeated),
// while Memory runs add (with and without the model), search (hybrid, reranked, with the graph),
// getAll, get, update, history, delete and recover. Whatever the mutation: only typed MemErrors;
// a result this test's own reading of the contract calls invalid is refused with
// PROVIDER_RESPONSE_INVALID naming the adapter (provider) and the operation, never used.

const SCOPE: Scope = { userId: 'carla' };

type Target =
  | 'embedder.embed'
  | 'llm.generate'
  | 'vectorStore.query'
  | 'vectorStore.keywordQuery'
  | 'vectorStore.get'
  | 'vectorStore.list'
  | 'vectorStore.listKeys'
  | 'historyStore.list'
  | 'historyStore.listPending'
  | 'graphStore.neighbors'
  | 'graphStore.searchEntities'
  | 'graphStore.invalidateRelations'
  | 'reranker.rerank';

const TARGETS: readonly Target[] = [
  'embedder.embed',
  'llm.generate',
  'vectorStore.query',
  'vectorStore.keywordQuery',
  'vectorStore.get',
  'vectorStore.list',
  'vectorStore.listKeys',
  'historyStore.list',
  'historyStore.listPending',
  'graphStore.neighbors',
  'graphStore.searchEntities',
  'graphStore.invalidateRelations',
  'reranker.rerank',
];

/** How one result is corrupted: which node of the value (in walk order), and what happens to it. */
interface Mutation {
  readonly node: number;
  readonly kind: 'replace' | 'delete' | 'drop-element' | 'repeat-element' | 'extra-property';
  readonly junk: unknown;
}

const JUNK: readonly unknown[] = [
  null,
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  1.5,
  '',
  'junk',
  {},
  [],
  true,
  new Date(Number.NaN),
  { userId: 'mallory' },
  [Number.NaN],
];

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.record({
  node: fc.nat({ max: 200 }),
  kind: fc.constantFrom<Mutation['kind']>('replace', 'replace', 'replace', 'delete', 'drop-element', 'repeat-element', 'extra-property'),
  junk: fc.constantFrom(...JUNK),
});

type Container = Record<string | number, unknown>;

/** Every node of a value with its parent (the root has none), in walk order; dates and vectors' numbers included. */
function nodes(value: unknown): { parent: Container | undefined; key: string | number | undefined; value: unknown }[] {
  const found: { parent: Container | undefined; key: string | number | undefined; value: unknown }[] = [];
  const walk = (parent: Container | undefined, key: string | number | undefined, node: unknown, depth: number) => {
    found.push({ parent, key, value: node });
    if (depth > 6 || node === null || typeof node !== 'object' || node instanceof Date) return;
    const entries = Array.isArray(node) ? node.map((item, index) => [index, item] as const) : Object.entries(node);
    for (const [childKey, child] of entries) walk(node as Container, childKey, child, depth + 1);
  };
  walk(undefined, undefined, value, 0);
  return found;
}

/** A mutated deep copy of `value` (dates kept as dates). */
function mutate(value: unknown, mutation: Mutation): unknown {
  const copy = clone(value);
  const holder = { root: copy };
  const all = nodes(copy);
  const target = all[mutation.node % all.length]!;
  const parent = (target.parent ?? holder) as Container;
  const key = target.key ?? 'root';
  switch (mutation.kind) {
    case 'replace':
      parent[key] = clone(mutation.junk);
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 'drop-element':
    case 'repeat-element': {
      const array = Array.isArray(target.value) ? target.value : Array.isArray(parent) ? parent : undefined;
      if (!array || array.length === 0) parent[key] = clone(mutation.junk);
      else if (mutation.kind === 'drop-element') array.pop();
      else array.push(clone(array[0]));
      break;
    }
    case 'extra-property':
      if (target.value !== null && typeof target.value === 'object' && !Array.isArray(target.value) && !(target.value instanceof Date))
        (target.value as Container)['unexpected'] = clone(mutation.junk);
      else parent[key] = clone(mutation.junk);
      break;
  }
  return holder.root;
}

function clone(value: unknown): unknown {
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clone(item)]));
  return value;
}

// The contract, read independently of core: what a valid result of each method is.

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isCount = (value: unknown) => isFiniteNumber(value) && value >= 0;
const isDate = (value: unknown) => value instanceof Date && !Number.isNaN(value.getTime());
const isText = (value: unknown) => typeof value === 'string';
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

function isScope(value: unknown, call?: Scope): value is Scope {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  if (keys.length === 0 || keys.some((key) => !(SCOPE_FIELDS as readonly string[]).includes(key))) return false;
  if (keys.some((key) => typeof value[key] !== 'string' || value[key] === '')) return false;
  return call === undefined || visible(call, value as Scope);
}

function isMetadata(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  return Object.values(value).every(
    (item) =>
      typeof item === 'string' ||
      typeof item === 'boolean' ||
      isFiniteNumber(item) ||
      (Array.isArray(item) && item.every((entry) => typeof entry === 'string')),
  );
}

function isRecord(value: unknown, call: Scope): boolean {
  if (!isPlainObject(value)) return false;
  return (
    isText(value.id) &&
    value.id !== '' &&
    isText(value.text) &&
    isText(value.hash) &&
    Array.isArray(value.vector) &&
    value.vector.length > 0 &&
    value.vector.every(isFiniteNumber) &&
    isScope(value.scope, call) &&
    isMetadata(value.metadata) &&
    isDate(value.createdAt) &&
    isDate(value.updatedAt) &&
    isDate(value.occurredAt)
  );
}

function isMatch(value: unknown, call: Scope): boolean {
  return isPlainObject(value) && isFiniteNumber(value.score) && isRecord(value.record, call);
}

function isEvent(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  return (
    isText(value.id) &&
    isText(value.memoryId) &&
    isScope(value.scope) &&
    ['ADD', 'UPDATE', 'DELETE'].includes(value.kind as string) &&
    (value.previousText === null || isText(value.previousText)) &&
    (value.text === null || isText(value.text)) &&
    ['add', 'update', 'delete', 'deleteAll'].includes(value.actor as string) &&
    isDate(value.validAt) &&
    isDate(value.createdAt)
  );
}

function isRelation(value: unknown, call: Scope): boolean {
  return (
    isPlainObject(value) &&
    isText(value.source) &&
    isText(value.relation) &&
    isText(value.target) &&
    isScope(value.scope, call) &&
    isDate(value.validFrom) &&
    (value.validTo === null || isDate(value.validTo))
  );
}

/** Whether `result` is a valid answer to `request` of `target`. */
function valid(target: Target, result: unknown, request: Record<string, unknown>): boolean {
  const call = request.scope as Scope;
  switch (target) {
    case 'embedder.embed': {
      const texts = request.texts as string[];
      if (!isPlainObject(result) || !isCount(result.tokens) || !Array.isArray(result.vectors) || result.vectors.length !== texts.length)
        return false;
      // One length for all (a length the store does not hold is a DIMENSION_MISMATCH, checked apart).
      const length = Array.isArray(result.vectors[0]) ? result.vectors[0].length : 0;
      return result.vectors.every(
        (vector) => Array.isArray(vector) && vector.length === length && length > 0 && vector.every(isFiniteNumber),
      );
    }
    case 'llm.generate':
      return (
        isPlainObject(result) &&
        isText(result.text) &&
        ['stop', 'length', 'refusal', 'other'].includes(result.finishReason as string) &&
        isPlainObject(result.usage) &&
        isCount(result.usage.promptTokens) &&
        isCount(result.usage.completionTokens)
      );
    case 'vectorStore.query':
    case 'vectorStore.keywordQuery':
      return Array.isArray(result) && result.every((match) => isMatch(match, call));
    case 'vectorStore.get':
    case 'vectorStore.list':
      return (
        Array.isArray(result) &&
        result.every(
          (record) =>
            isRecord(record, call) && (target === 'vectorStore.list' || (request.ids as string[]).includes((record as { id: string }).id)),
        )
      );
    case 'vectorStore.listKeys':
      return (
        Array.isArray(result) &&
        result.length <= (request.limit as number) &&
        result.every((key) => isPlainObject(key) && isText(key.id) && key.id !== '' && isDate(key.createdAt) && isDate(key.occurredAt))
      );
    case 'historyStore.list':
      return (
        Array.isArray(result) && result.every((event) => isEvent(event) && (event as { memoryId: string }).memoryId === request.memoryId)
      );
    case 'historyStore.listPending':
      return Array.isArray(result) && result.every(isEvent);
    case 'graphStore.neighbors':
      return Array.isArray(result) && result.every((relation) => isRelation(relation, call));
    case 'graphStore.searchEntities':
      return (
        Array.isArray(result) &&
        result.every(
          (match) =>
            isPlainObject(match) &&
            isFiniteNumber(match.score) &&
            isPlainObject(match.entity) &&
            isText(match.entity.name) &&
            isText(match.entity.type) &&
            isScope(match.entity.scope, call),
        )
      );
    case 'graphStore.invalidateRelations':
      return isPlainObject(result) && isCount(result.invalidated);
    case 'reranker.rerank':
      return Array.isArray(result) && result.length === (request.documents as string[]).length && result.every(isFiniteNumber);
  }
}

/** Wraps `adapter` so the `nth` result of `method` is mutated; records what happened. */
function corrupt<T extends object>(
  adapter: T,
  method: string,
  nth: number,
  mutation: Mutation,
  seen: { calls: number; mutated?: { valid: boolean } },
  target: Target,
): T {
  return new Proxy(adapter, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (property !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(object) : value;
      if (method === 'list' && target === 'vectorStore.list') {
        // An async iterable: the nth listing has its records (as one page) mutated.
        return (request: Record<string, unknown>) => {
          const index = seen.calls++;
          const source = (value as (request: unknown) => AsyncIterable<unknown>).call(object, request);
          if (index !== nth) return source;
          return (async function* () {
            const records: unknown[] = [];
            for await (const record of source) records.push(record);
            const mutated = mutate(records, mutation);
            seen.mutated = { valid: valid(target, mutated, request) };
            if (Array.isArray(mutated)) yield* mutated;
            else yield mutated;
          })();
        };
      }
      return async (request: Record<string, unknown>) => {
        const result = await (value as (request: unknown) => Promise<unknown>).call(object, request);
        if (seen.calls++ !== nth) return result;
        const mutated = mutate(result, mutation);
        seen.mutated = { valid: valid(target, mutated, request) };
        return mutated;
      };
    },
  });
}

const reranker: Reranker = {
  provider: 'test-reranker',
  async rerank({ documents }) {
    return documents.map((document) => document.length / 1000);
  },
};

interface Parts {
  embedder: Embedder;
  llm: LLM;
  vectorStore: VectorStore;
  historyStore: HistoryStore;
  graphStore: GraphStore;
  reranker: Reranker;
}

const PROVIDERS: Record<keyof Parts, string> = {
  embedder: 'hash',
  llm: 'scripted',
  vectorStore: 'in-memory',
  historyStore: 'in-memory',
  graphStore: 'in-memory',
  reranker: 'test-reranker',
};

const answer = (facts: readonly string[], city: string, ended: readonly string[] = []) =>
  JSON.stringify({
    operations: facts.map((text) => ({ op: 'ADD', id: null, text })),
    entities: [{ name: city, type: 'city' }],
    relations: [{ source: 'user', relation: 'lives_in', target: city }],
    ended,
  });

/** One case; returns the violations. */
async function runCase(target: Target, nth: number, mutation: Mutation): Promise<{ violations: string[]; reached: boolean }> {
  const embedder = new HashEmbedder();
  const lisbon = answer(['Drinks green tea', 'Lives in Lisbon'], 'Lisbon');
  // The second add moves the user: the relation to Lisbon is ended (invalidateRelations).
  const porto = answer(['Lives in Porto'], 'Porto', ['g1']);
  const llm = new ScriptedLLM(
    [
      (request) => {
        return request.messages.some((message) => message.content.includes('moved to Porto')) ? porto : lisbon;
      },
    ],
    { repeatLast: true },
  );
  const parts: Parts = {
    embedder,
    llm,
    vectorStore: new InMemoryVectorStore(),
    historyStore: new InMemoryHistoryStore(),
    graphStore: new InMemoryGraphStore(),
    reranker,
  };
  const [part, method] = target.split('.') as [keyof Parts, string];
  const seen: { calls: number; mutated?: { valid: boolean } } = { calls: 0 };
  const wrapped = { ...parts, [part]: corrupt(parts[part], method, nth, mutation, seen, target) } as Parts;
  const memory = new Memory(wrapped);
  const violations: string[] = [];
  const steps: [string, () => Promise<unknown>][] = [
    ['add (model)', () => memory.add('I drink green tea and I live in Lisbon.', { scope: SCOPE })],
    ['add (model, ends a relation)', () => memory.add('I moved to Porto.', { scope: SCOPE })],
    ['add (infer: false)', () => memory.add('Has a cat named Miso', { scope: SCOPE, infer: false, metadata: { topic: 'pets' } })],
    ['search (hybrid, graph)', () => memory.search('green tea', { scope: SCOPE })],
    ['search (reranked, filtered)', () => memory.search('cat', { scope: SCOPE, rerank: true, filter: { topic: 'pets' } })],
    ['getAll', () => memory.getAll({ scope: SCOPE })],
    [
      'get, update, history, delete',
      async () => {
        const { results } = await memory.getAll({ scope: SCOPE });
        const id = results[0]?.id;
        if (!id) return;
        await memory.get(id, { scope: SCOPE });
        await memory.update(id, 'Drinks black tea', { scope: SCOPE });
        await memory.history(id, { scope: SCOPE });
        await memory.delete(id, { scope: SCOPE });
      },
    ],
    ['recover', () => memory.recover()],
  ];
  try {
    for (const [name, step] of steps) {
      const mutatedBefore = seen.mutated;
      try {
        await step();
      } catch (error) {
        if (!MemError.is(error)) {
          violations.push(`${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
          break;
        }
        const now = seen.mutated;
        if (now && !mutatedBefore) {
          if (!now.valid) {
            const provider = (error as { provider?: string }).provider;
            const operation = (error as { operation?: string }).operation;
            if (error.code !== 'PROVIDER_RESPONSE_INVALID' || provider !== PROVIDERS[part] || operation !== method)
              violations.push(
                `${name}: an invalid ${target} result gave ${error.code} (${String(provider)} ${String(operation)}): ${error.message}`,
              );
          }
          break; // the world after a refused result is not this case's concern
        }
        violations.push(`${name}: failed before the corrupted result: ${error.code}: ${error.message}`);
        break;
      }
      const now = seen.mutated;
      if (now && !mutatedBefore && !now.valid) {
        violations.push(`${name}: an invalid ${target} result was used without an error`);
        break;
      }
    }
  } finally {
    await memory.close().catch(() => undefined);
  }
  return { violations, reached: seen.mutated !== undefined };
}

describe('adapter results are checked before use', () => {
  it('a corrupted result of any adapter method: typed errors only, an invalid one refused with PROVIDER_RESPONSE_INVALID naming the adapter', async () => {
    let cases = 0;
    let reached = 0;
    const reachedByTarget = new Map<Target, number>();
    let failure = '';
    const details = await fc.check(
      fc.asyncProperty(fc.constantFrom(...TARGETS), fc.nat({ max: 3 }), mutationArbitrary, async (target, nth, mutation) => {
        cases++;
        const result = await runCase(target, nth, mutation);
        if (result.reached) {
          reached++;
          reachedByTarget.set(target, (reachedByTarget.get(target) ?? 0) + 1);
        }
        if (result.violations.length > 0) {
          failure = `${target} #${nth} ${JSON.stringify(mutation, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value))}: ${result.violations.join('; ')}`;
          throw new Error(failure);
        }
      }),
      { numRuns: scaled(400, 8_000), endOnFailure: true },
    );
    recordFigure({
      category: 'adapter results (corrupted, checked before use)',
      backend: 'in-memory parts',
      cases,
      violations: details.failed ? 1 : 0,
    });
    if (details.failed) throw new Error(failure || String(details.errorInstance));
    // Every method's results were really corrupted in some cases.
    expect(TARGETS.filter((target) => (reachedByTarget.get(target) ?? 0) === 0)).toEqual([]);
    expect(reached).toBeGreaterThan(cases / 3);
  });
});
