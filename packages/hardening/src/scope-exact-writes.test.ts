import { randomUUID } from 'node:crypto';
import { Memory, MemError, type AddStrategy, type MemoryRecord, type Scope } from '@mem/core';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromaBackend,
  inMemoryBackend,
  pineconeBackend,
  qdrantBackend,
  sqliteBackend,
  type Backend,
  type Stores,
} from './support/backends';
import { profile, recordFigure } from './support/figures';
import { historyViolations, sameScope } from './support/invariants';
import { FACT_POOL } from './support/model-output';

// Writes are decided by records of exactly their own scope. A read by scope returns the records of
// that scope and of every narrower one (containment); a write that trusts such a read can take
// another scope's memory for its own: "this text is already stored" (then nothing is stored for
// this scope, and the fact disappears when the other scope deletes its copy), or "this id is
// already stored here" (then the other scope's memory is overwritten or moved).
//
// For every ordered pair of scopes (the same, narrower, broader, overlapping, unrelated, another
// user) and every path that writes a text (add without inference, reconcile ADD, reconcile UPDATE,
// the additive strategy, a procedural summary, update(), importRecords) the text written to scope B while scope A holds
// it ends up stored in B exactly once, A's memory is untouched, and deleting A's copy leaves B's.
// And importRecords never takes a memory id of another scope: it is refused, nothing written.

const SCOPES: readonly Scope[] = [
  { userId: 'alice' },
  { agentId: 'shared' },
  { runId: 'r1' },
  { userId: 'alice', agentId: 'shared' },
  { userId: 'alice', runId: 'r1' },
  { agentId: 'shared', runId: 'r1' },
  { userId: 'alice', agentId: 'shared', runId: 'r1' },
  { userId: 'bob' },
  { userId: 'bob', agentId: 'shared' },
];

const PATHS = ['raw add', 'reconcile ADD', 'reconcile UPDATE', 'additive', 'procedural', 'update()', 'importRecords'] as const;
type WritePath = (typeof PATHS)[number];
/**
 * Paths that deduplicate: writing a text its own scope already holds stores nothing new. A
 * procedural summary is a memory of its own type: the ordinary memory holding its text is no copy.
 */
const DEDUPLICATING: ReadonlySet<WritePath> = new Set(['raw add', 'reconcile ADD', 'reconcile UPDATE', 'additive']);

const OLD_TEXT = 'Old fact about the weather';

/** Texts of the stress profile; the fast one rotates through them. */
const TEXTS = [...FACT_POOL.map((text) => text.trim()), 'Speaks Portuguese', 'Prefers 🍣 over 🍕'];

function describeScope(scope: Scope): string {
  return JSON.stringify(scope);
}

async function exactRecords(memory: Memory, scope: Scope): Promise<{ id: string; text: string; scope: Scope }[]> {
  const records: { id: string; text: string; scope: Scope }[] = [];
  let cursor: string | undefined;
  do {
    const page = await memory.getAll({ scope, pageSize: 500, ...(cursor ? { cursor } : {}) });
    for (const item of page.results) if (sameScope(item.scope, scope)) records.push({ id: item.id, text: item.text, scope: item.scope });
    cursor = page.nextCursor;
  } while (cursor);
  return records;
}

function memoryFor(stores: Stores, path: WritePath, text: string): { memory: Memory; llm: ScriptedLLM } {
  const llm = new ScriptedLLM([]);
  if (path === 'reconcile ADD') llm.push({ json: { operations: [{ op: 'ADD', id: null, text }] } });
  if (path === 'additive') llm.push({ json: { facts: [text] } });
  if (path === 'procedural') llm.push({ json: { summary: text } });
  if (path === 'reconcile UPDATE') {
    llm.push((request) => {
      // The alias the model was shown for the old fact of scope B.
      const prompt = request.messages.map((message) => message.content).join('\n');
      const alias = new RegExp(`^(m\\d+): ${OLD_TEXT}$`, 'm').exec(prompt)?.[1];
      return {
        text: JSON.stringify({ operations: [{ op: 'UPDATE', id: alias ?? null, text }] }),
        finishReason: 'stop',
        usage: { promptTokens: 1, completionTokens: 1 },
      };
    });
  }
  const strategy: 'reconcile' | 'additive' | AddStrategy = path === 'additive' ? 'additive' : 'reconcile';
  return {
    memory: new Memory({ embedder: new HashEmbedder(), vectorStore: stores.vectorStore, historyStore: stores.historyStore, llm, strategy }),
    llm,
  };
}

async function record(text: string, scope: Scope, id: string = randomUUID()): Promise<MemoryRecord> {
  const [vector] = (await new HashEmbedder().embed({ texts: [text], purpose: 'document' })).vectors;
  const now = new Date('2025-05-06T07:08:09.000Z');
  return { id, text, hash: '', vector: vector!, scope, metadata: {}, createdAt: now, updatedAt: now, occurredAt: now };
}

/** One case: A holds `text`; the path writes `text` into B. Returns the violations. */
async function runWrite(stores: Stores, a: Scope, b: Scope, path: WritePath, text: string): Promise<string[]> {
  const { memory } = memoryFor(stores, path, text);
  const violations: string[] = [];
  const where = `${path}: ${describeScope(a)} holds it, written to ${describeScope(b)}`;
  try {
    const seeded = await memory.add(text, { scope: a, infer: false });
    const idA = seeded.events[0]!.id;
    const old = path === 'reconcile UPDATE' || path === 'update()' ? await memory.add(OLD_TEXT, { scope: b, infer: false }) : undefined;
    const before = (await exactRecords(memory, b)).filter((item) => item.text === text).length;

    switch (path) {
      case 'raw add':
        await memory.add(text, { scope: b, infer: false });
        break;
      case 'reconcile ADD':
      case 'reconcile UPDATE':
      case 'additive':
        await memory.add(`A conversation that says: ${text}`, { scope: b });
        break;
      case 'procedural':
        await memory.add(`An agent run that found: ${text}`, { scope: b, memoryType: 'procedural' });
        break;
      case 'update()':
        await memory.update(old!.events[0]!.id, text, { scope: b });
        break;
      case 'importRecords':
        await memory.importRecords([await record(text, b)]);
        break;
    }

    const inB = (await exactRecords(memory, b)).filter((item) => item.text === text);
    const expected = DEDUPLICATING.has(path) ? 1 : before + 1;
    if (inB.length !== expected) violations.push(`${where}: ${inB.length} memories of B hold the text, expected ${expected}`);
    const aAfter = (await exactRecords(memory, a)).find((item) => item.id === idA);
    if (aAfter?.text !== text) violations.push(`${where}: A's memory changed or disappeared`);

    // A deletes its copy: B's stays (unless A and B are one scope, where they were one memory).
    await memory.delete(idA, { scope: a });
    const left = (await exactRecords(memory, b)).filter((item) => item.text === text).length;
    const stillExpected = sameScope(a, b) ? expected - 1 : expected;
    if (left !== stillExpected) violations.push(`${where}: after A deleted its copy, B holds ${left}, expected ${stillExpected}`);

    const stored = new Map<string, MemoryRecord>();
    for (const scope of [a, b]) for await (const item of stores.vectorStore.list({ scope })) stored.set(item.id, item);
    violations.push(
      ...(await historyViolations({ historyStore: stores.historyStore, records: stored })).map((line) => `${where}: history: ${line}`),
    );
  } catch (error) {
    violations.push(`${where}: ${MemError.is(error) ? `${error.code}: ${error.message}` : String(error)}`);
  } finally {
    await memory.close().catch(() => undefined);
  }
  return violations;
}

/** A memory of A, imported into B under its own id: refused unless A and B are one scope (then it is replaced). */
async function runImportCollision(stores: Stores, a: Scope, b: Scope, text: string): Promise<string[]> {
  const memory = new Memory({ embedder: new HashEmbedder(), vectorStore: stores.vectorStore, historyStore: stores.historyStore });
  const where = `importRecords of ${describeScope(a)}'s memory id into ${describeScope(b)}`;
  const violations: string[] = [];
  try {
    const idA = (await memory.add(text, { scope: a, infer: false })).events[0]!.id;
    const historyBefore = await stores.historyStore.list({ memoryId: idA });
    let thrown: unknown;
    try {
      await memory.importRecords([await record('Imported over it', b, idA)]);
    } catch (error) {
      thrown = error;
    }
    const aAfter = (await exactRecords(memory, a)).find((item) => item.id === idA);
    const inB = (await exactRecords(memory, b)).filter((item) => item.id === idA);
    if (sameScope(a, b)) {
      if (thrown !== undefined) violations.push(`${where}: the same scope must replace, got ${String(thrown)}`);
      if (aAfter?.text !== 'Imported over it') violations.push(`${where}: the same scope's memory was not replaced`);
    } else {
      if (!MemError.is(thrown, 'CONFLICT') || (thrown as { field?: string }).field !== 'records[0].id')
        violations.push(`${where}: expected CONFLICT naming records[0].id, got ${thrown === undefined ? 'success' : String(thrown)}`);
      if (aAfter?.text !== text) violations.push(`${where}: A's memory was overwritten, moved or deleted`);
      if (inB.length > 0) violations.push(`${where}: B now holds A's id`);
      const historyAfter = await stores.historyStore.list({ memoryId: idA });
      if (historyAfter.length !== historyBefore.length) violations.push(`${where}: A's history changed`);
    }
  } finally {
    await memory.close().catch(() => undefined);
  }
  return violations;
}

const backends: Backend[] = [];
beforeAll(async () => {
  backends.push(inMemoryBackend(), sqliteBackend());
  if (profile() === 'stress') backends.push(chromaBackend(), await qdrantBackend(), await pineconeBackend());
});
afterAll(async () => {
  for (const backend of backends) await backend.close();
});

describe('writes are decided by records of exactly their own scope', () => {
  it('a text written to scope B while scope A holds it: stored in B exactly once, A untouched, for every pair of scopes and every write path', async (context) => {
    const textsPerCase = profile() === 'stress' ? 3 : 1;
    const violations: string[] = [];
    for (const backend of backends) {
      if (backend.skip) {
        context.annotate(`${backend.name} skipped: ${backend.skip}`);
        continue;
      }
      let cases = 0;
      let rotation = 0;
      const found: string[] = [];
      // The fast profile walks every path on the in-memory stores and one path per pair (in turn) on the others.
      const every = profile() === 'stress' || backend.name === 'in-memory';
      let pair = 0;
      for (const a of SCOPES)
        for (const b of SCOPES)
          for (const path of every ? PATHS : [PATHS[pair++ % PATHS.length]!])
            for (let index = 0; index < textsPerCase; index++) {
              const text = TEXTS[rotation++ % TEXTS.length]!;
              const stores = await backend.create();
              try {
                found.push(...(await runWrite(stores, a, b, path, text)));
              } finally {
                await stores.dispose();
              }
              cases++;
            }
      recordFigure({ category: 'exact-scope writes (text in another scope)', backend: backend.name, cases, violations: found.length });
      violations.push(...found.map((line) => `${backend.name}: ${line}`));
    }
    expect(violations.slice(0, 20)).toEqual([]);
  });

  it("importRecords never takes another scope's memory id: refused with nothing written, for every pair of scopes", async (context) => {
    const violations: string[] = [];
    for (const backend of backends) {
      if (backend.skip) {
        context.annotate(`${backend.name} skipped: ${backend.skip}`);
        continue;
      }
      let cases = 0;
      const found: string[] = [];
      for (const a of SCOPES)
        for (const b of SCOPES) {
          const stores = await backend.create();
          try {
            found.push(...(await runImportCollision(stores, a, b, TEXTS[cases % TEXTS.length]!)));
          } finally {
            await stores.dispose();
          }
          cases++;
        }
      recordFigure({ category: 'exact-scope writes (import id of another scope)', backend: backend.name, cases, violations: found.length });
      violations.push(...found.map((line) => `${backend.name}: ${line}`));
    }
    expect(violations.slice(0, 20)).toEqual([]);
  });
});
