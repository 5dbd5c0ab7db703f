import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LLMResponse } from '@mem/core/adapter';
import { LexicalEmbedder, Memory, MemError, type MemoryRecord, type Scope } from '@mem/core';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromaBackend, inMemoryBackend, pineconeBackend, qdrantBackend, sqliteBackend, type Backend } from './support/backends';
import { recordFigure, scaled } from './support/figures';
import { chainViolations, historyViolations, recordsOf } from './support/invariants';

// Concurrency: 50 concurrent adds on one scope (the LLM path: plans made in parallel, applied under
// the scope's lock), then interleaved update / delete / add / deleteAll on the same memories, on the
// embedded default and on every adapter with a real or emulated server. No lost write, no duplicate,
// history complete and ordered, every failure a typed MemError.

const SCOPE: Scope = { userId: 'carol' };

/** A model that extracts one fact per message: "Fact <n>" → ADD "Fact <n>" (several messages share a fact). */
function factModel(): ScriptedLLM {
  return new ScriptedLLM(
    [
      (request): LLMResponse => {
        const conversation = request.messages[1]!.content.split('Conversation:')[1] ?? '';
        const fact = /Fact \d+/.exec(conversation)?.[0];
        const operations = fact ? [{ op: 'ADD', id: null, text: `Likes ${fact}` }] : [];
        return { text: JSON.stringify({ operations }), finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } };
      },
    ],
    { repeatLast: true },
  );
}

async function typedOrThrow<T>(promise: Promise<T>, allowed: readonly string[]): Promise<T | MemError> {
  try {
    return await promise;
  } catch (error) {
    if (MemError.is(error) && allowed.includes(error.code)) return error;
    throw error;
  }
}

async function round(backend: Backend, rounds: number): Promise<{ cases: number; violations: string[] }> {
  const violations: string[] = [];
  let cases = 0;
  for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
    const stores = await backend.create();
    const memory = new Memory({ llm: factModel(), embedder: new HashEmbedder({ dimensions: 32 }), ...stores });
    try {
      // 1. 50 concurrent adds: 40 distinct facts, 10 of them sent twice.
      const facts = Array.from({ length: 50 }, (_, index) => `Fact ${index % 40}`);
      const added = await Promise.all(facts.map((fact) => memory.add(`Remember: ${fact}, please.`, { scope: SCOPE })));
      cases += facts.length;
      let records = await recordsOf(stores.vectorStore, [SCOPE]);
      const texts = [...records.values()].map((record) => record.text);
      const expected = [...new Set(facts)].map((fact) => `Likes ${fact}`).sort();
      if (JSON.stringify([...texts].sort()) !== JSON.stringify(expected)) {
        violations.push(
          `${backend.name}: after 50 concurrent adds the scope holds ${texts.length} memories (${new Set(texts).size} distinct), expected ${expected.length}`,
        );
      }
      const reported = new Set(added.flatMap((result) => result.events.filter((event) => event.kind === 'ADD').map((event) => event.id)));
      if (reported.size !== expected.length)
        violations.push(`${backend.name}: ${reported.size} ADD events reported for ${expected.length} distinct facts`);
      violations.push(
        ...(await historyViolations({ historyStore: stores.historyStore, records, memoryIds: reported })).map(
          (line) => `${backend.name}: ${line}`,
        ),
      );

      // 2. Interleaved on the same memories: text updates, metadata updates, deletes, new adds, a filtered deleteAll.
      const ids = [...records.keys()];
      const operations: Promise<unknown>[] = [];
      ids.forEach((id, index) => {
        operations.push(typedOrThrow(memory.update(id, `Likes Fact ${index} a lot`, { scope: SCOPE }), ['NOT_FOUND']));
        operations.push(typedOrThrow(memory.update(id, { metadata: { round: roundIndex, step: index } }, { scope: SCOPE }), ['NOT_FOUND']));
        if (index % 3 === 0) operations.push(memory.delete(id, { scope: SCOPE }));
        if (index % 4 === 0)
          operations.push(typedOrThrow(memory.update(id, `Likes Fact ${index} the most`, { scope: SCOPE }), ['NOT_FOUND']));
      });
      for (let index = 0; index < 10; index++) operations.push(memory.add(`Remember: Fact ${100 + index}, please.`, { scope: SCOPE }));
      operations.push(memory.deleteAll({ scope: SCOPE, filter: { step: 7 } }));
      await Promise.all(operations);
      cases += operations.length;

      records = await recordsOf(stores.vectorStore, [SCOPE]);
      violations.push(
        ...(await historyViolations({ historyStore: stores.historyStore, records, memoryIds: ids })).map(
          (line) => `${backend.name}: ${line}`,
        ),
      );
      for (const [index, id] of ids.entries()) {
        if (index % 3 === 0 && records.has(id)) violations.push(`${backend.name}: deleted memory ${id} is still stored`);
      }
      for (let index = 0; index < 10; index++) {
        if (![...records.values()].some((record) => record.text === `Likes Fact ${100 + index}`))
          violations.push(`${backend.name}: a concurrent add was lost (Fact ${100 + index})`);
      }
      const hashes = [...records.values()].map((record) => record.hash);
      if (new Set(hashes).size !== hashes.length) violations.push(`${backend.name}: duplicate texts after the interleaved round`);
    } finally {
      await memory.close().catch(() => undefined);
      await stores.dispose();
    }
  }
  return { cases, violations };
}

const backends: Backend[] = [];
beforeAll(async () => {
  backends.push(inMemoryBackend(), sqliteBackend(), chromaBackend(), await qdrantBackend(), await pineconeBackend());
});
afterAll(async () => {
  for (const backend of backends) await backend.close();
});

describe('concurrency on one scope', () => {
  for (const name of ['in-memory', 'sqlite (embedded default)', 'chroma (real server)', 'qdrant (emulator)', 'pinecone (emulator)']) {
    it(`${name}: 50 concurrent adds, then interleaved update / delete / add / deleteAll`, async (context) => {
      const backend = backends.find((candidate) => candidate.name === name)!;
      if (backend.skip) context.skip(backend.skip);
      const { cases, violations } = await round(backend, scaled(1, name === 'in-memory' || name.startsWith('sqlite') ? 20 : 5));
      recordFigure({ category: 'concurrency (one scope, one process)', backend: name, cases, violations: violations.length });
      expect(violations.slice(0, 10)).toEqual([]);
    });
  }

  it('in-memory: updates through two overlapping scopes ({ userId } and { userId, agentId }) keep one ordered history', async () => {
    const backend = backends[0]!;
    const stores = await backend.create();
    const memory = new Memory({ embedder: new HashEmbedder({ dimensions: 32 }), ...stores });
    const narrow: Scope = { userId: 'carol', agentId: 'planner' };
    const { events } = await memory.add('Likes tea', { scope: narrow, infer: false });
    const id = events[0]!.id;
    const updates = Array.from({ length: scaled(20, 200) }, (_, index) =>
      memory.update(id, `Likes tea, version ${index}`, { scope: index % 2 === 0 ? SCOPE : narrow }),
    );
    await Promise.all(updates);
    const history = await stores.historyStore.list({ memoryId: id });
    const violations = [
      ...chainViolations(id, history),
      ...(await historyViolations({ historyStore: stores.historyStore, records: await recordsOf(stores.vectorStore, [narrow]) })),
    ];
    recordFigure({
      category: 'concurrency (overlapping scopes)',
      backend: 'in-memory',
      cases: updates.length,
      violations: violations.length,
    });
    expect(violations.slice(0, 5)).toEqual([]);
    await stores.dispose();
  });
});

describe('concurrency across processes on one SQLite file', () => {
  const writer = join(dirname(dirname(fileURLToPath(import.meta.url))), 'test', 'concurrent-writer.mjs');
  const directory = mkdtempSync(join(tmpdir(), 'mem-hardening-processes-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('4 processes adding at once: no write lost, no "database is locked", history complete', async () => {
    const path = join(directory, 'shared.db');
    const processes = 4;
    const perProcess = scaled(25, 250);
    const exits = await Promise.all(
      Array.from({ length: processes }, (_, index) => {
        const child = fork(writer, [path, String(index), String(perProcess)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
      }),
    );
    const failures = exits.filter((exit) => exit.code !== 0).map((exit) => exit.stderr.slice(-500));
    const vectorStore = new SqliteVectorStore({ path });
    const historyStore = new SqliteHistoryStore({ path });
    const memory = new Memory({ embedder: new LexicalEmbedder({ dimensions: 32 }), vectorStore, historyStore });
    expect(await memory.recover()).toEqual({ committed: 0, discarded: 0, completed: 0 });
    const records = new Map<string, MemoryRecord>();
    for (let index = 0; index < processes; index++)
      for (const [id, record] of await recordsOf(vectorStore, [{ userId: `writer-${index}` }, { userId: 'shared' }]))
        records.set(id, record);
    const shared = [...records.values()].filter((record) => record.scope.userId === 'shared').map((record) => record.text);
    const violations = [
      ...failures.map((failure) => `a writer failed: ${failure}`),
      ...(await historyViolations({ historyStore, records })),
      ...(records.size === processes * perProcess * 2 ? [] : [`${records.size} memories stored, expected ${processes * perProcess * 2}`]),
      ...(new Set(shared).size === shared.length ? [] : ['duplicate texts in the shared scope']),
    ];
    await memory.close();
    recordFigure({
      category: 'concurrency (4 processes, one SQLite file)',
      backend: 'sqlite (embedded default)',
      cases: processes * perProcess * 2,
      violations: violations.length,
    });
    expect(violations.slice(0, 10)).toEqual([]);
  });
});
