import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type HistoryEvent, INPUT_LIMITS, Memory, type MemoryItem } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import { describe, it } from 'vitest';
import type { MultiProcessScenario, WriteOutcome, WriterCommand, WriterStart } from './multi-process-protocol';

/** Options of {@link describeMultiProcessWrites}. */
export interface MultiProcessOptions {
  /**
   * An ES module (a file URL or path, runnable by plain `node`: `.mjs` over built packages) whose
   * default export builds the stores of one process: `(context) => Promise<{ vectorStore,
   * historyStore, close?() }>`. The parent calls it too, to check the result.
   */
  readonly storesModule: string | URL;
  /**
   * Creates a fresh database (or namespace) for one scenario and returns the context every process
   * hands to the stores module; `dispose` removes it.
   */
  readonly prepare: () => Promise<{ readonly context: Readonly<Record<string, string>>; dispose(): Promise<void> }>;
  /** Registers the suite as skipped, with this reason. */
  readonly skip?: string;
  /** Writer processes. @default 2 */
  readonly processes?: number;
  /** Concurrent calls per process and scenario. @default 50 */
  readonly writers?: number;
  /** Time limit of one scenario, in milliseconds. @default 120_000 */
  readonly timeoutMs?: number;
}

const SCENARIOS: readonly MultiProcessScenario[] = [
  'distinct adds',
  'identical adds',
  'idempotent retries',
  'metadata updates',
  'updates racing a delete',
];
const USER = 'multi-process-user';

/**
 * Registers the multi-process write case: two `Memory` instances in separate processes over one
 * database, 50 concurrent writers each, for each of five patterns (distinct adds, identical adds,
 * retries of one add with one `idempotencyKey` (which need a history store that keeps idempotency
 * records), updates with distinct metadata keys on a few memories — as many as keep each within the limit of
 * a memory's metadata keys —, updates racing a delete). Afterwards, read
 * through a third `Memory`: every acknowledged write is there, nothing is stored twice, every
 * memory has one unbroken history chain (first an ADD, each event starting from the text the
 * previous one left, nothing after a DELETE), and every call that was not acknowledged failed with
 * a typed `MemError` (never an untyped error, never a silent loss).
 *
 * @example
 * describeMultiProcessWrites('SQLite stores', {
 *   storesModule: new URL('../test/multi-process-stores.mjs', import.meta.url),
 *   prepare: async () => { const dir = mkdtempSync(...); return { context: { path: join(dir, 'mem.db') }, dispose: async () => rmSync(dir, { recursive: true }) }; },
 * });
 */
export function describeMultiProcessWrites(name: string, options: MultiProcessOptions): void {
  const body = () => {
    for (const scenario of SCENARIOS) {
      it(
        `${scenario}: ${options.processes ?? 2} processes × ${options.writers ?? 50} writers lose nothing, duplicate nothing, keep one history chain`,
        {
          timeout: options.timeoutMs ?? 120_000,
        },
        async () => {
          await runScenario(scenario, options);
        },
      );
    }
  };
  if (options.skip !== undefined) describe.skip(`${name} (skipped: ${options.skip})`, body);
  else describe(`${name}: multi-process writes`, body);
}

interface Stores {
  readonly vectorStore: ConstructorParameters<typeof Memory>[0]['vectorStore'];
  readonly historyStore: ConstructorParameters<typeof Memory>[0]['historyStore'];
  close?(): Promise<void>;
}

async function runScenario(scenario: MultiProcessScenario, options: MultiProcessOptions): Promise<void> {
  const storesModule = typeof options.storesModule === 'string' ? options.storesModule : options.storesModule.href;
  const prepared = await options.prepare();
  const stores = (await (import(storesModule) as Promise<{ default: (context: Record<string, string>) => Promise<Stores> }>)).default(
    prepared.context,
  );
  const opened = await stores;
  const memory = new Memory({
    embedder: new HashEmbedder({ dimensions: 8 }),
    vectorStore: opened.vectorStore,
    historyStore: opened.historyStore,
  });
  const scope = { userId: USER };
  const children: ChildProcess[] = [];
  try {
    const processes = options.processes ?? 2;
    const writers = options.writers ?? 50;
    // Distinct metadata keys from every writer: spread over as many memories as keep each within
    // the limit of a memory's metadata keys (a merge past it is refused); a delete races on one.
    const targets =
      scenario === 'metadata updates'
        ? Math.ceil((processes * writers) / INPUT_LIMITS.maxMetadataKeys)
        : scenario === 'updates racing a delete'
          ? 1
          : 0;
    const memoryIds: string[] = [];
    for (let index = 0; index < targets; index++) {
      memoryIds.push((await memory.add(`the memory writers change, number ${index}`, { scope, infer: false })).memories[0]!.id);
    }
    for (let index = 0; index < processes; index++) {
      children.push(startWriter({ storesModule, context: prepared.context, process: index, userId: USER }));
    }
    await Promise.all(children.map((child) => message(child)));
    const command: WriterCommand = { scenario, writers, ...(memoryIds.length > 0 ? { memoryIds } : {}) };
    const rounds = await Promise.all(
      children.map(async (child) => {
        const answer = message(child);
        child.send(command);
        return ((await answer) as { results: WriteOutcome[] }).results;
      }),
    );
    const outcomes = rounds.flat();
    const untyped = outcomes.filter((outcome) => !outcome.ok && outcome.code === 'UNTYPED');
    assert.deepEqual(untyped, [], 'every failed call must fail with a typed MemError');
    const items = await listAll(memory, scope);
    await check(scenario, { memory, scope, items, outcomes, memoryIds });
  } finally {
    await Promise.all(children.map((child) => stop(child)));
    await memory.close();
    await opened.close?.();
    await prepared.dispose();
  }
}

async function check(
  scenario: MultiProcessScenario,
  state: { memory: Memory; scope: { userId: string }; items: MemoryItem[]; outcomes: WriteOutcome[]; memoryIds: readonly string[] },
): Promise<void> {
  const { memory, scope, items, outcomes, memoryIds } = state;
  const memoryId = memoryIds[0] ?? '';
  const acknowledged = outcomes.filter((outcome): outcome is Extract<WriteOutcome, { ok: true }> => outcome.ok);
  const failures = outcomes.filter((outcome): outcome is Extract<WriteOutcome, { ok: false }> => !outcome.ok);
  const texts = items.map((item) => item.text);
  const duplicates = texts.filter((text, index) => texts.indexOf(text) !== index);
  assert.deepEqual(duplicates, [], 'texts stored more than once');
  for (const item of items) assert.deepEqual(chainBreaks(item.id, await memory.history(item.id, { scope })), [], `history of ${item.id}`);
  switch (scenario) {
    case 'distinct adds': {
      assert.deepEqual(failures, [], 'distinct adds that failed');
      const stored = new Set(items.map((item) => item.id));
      const lost = acknowledged.filter((outcome) => !outcome.id || !stored.has(outcome.id));
      assert.equal(lost.length, 0, `${lost.length} acknowledged adds are not stored`);
      assert.equal(items.length, outcomes.length, 'one memory per distinct add');
      break;
    }
    case 'identical adds': {
      assert.deepEqual(failures, [], 'identical adds that failed');
      assert.equal(items.length, 1, `the same text added ${outcomes.length} times is stored ${items.length} times`);
      const events = await memory.history(items[0]!.id, { scope });
      assert.deepEqual(
        events.map((event) => event.kind),
        ['ADD'],
        'one ADD, nothing else',
      );
      break;
    }
    case 'idempotent retries': {
      assert.deepEqual(failures, [], 'retries that failed');
      assert.equal(items.length, 1, `one add retried ${outcomes.length} times with one key is stored ${items.length} times`);
      const ids = new Set(acknowledged.map((outcome) => outcome.id));
      assert.deepEqual([...ids], [items[0]!.id], "every retry returns the first call's memory (its ADD), none a NONE");
      assert.deepEqual(
        (await memory.history(items[0]!.id, { scope })).map((event) => event.kind),
        ['ADD'],
        'one ADD, nothing else',
      );
      break;
    }
    case 'metadata updates': {
      assert.deepEqual(failures, [], 'updates that failed');
      for (const id of memoryIds) {
        const item = items.find((candidate) => candidate.id === id);
        assert.ok(item, `the updated memory ${id} is stored`);
        const updates = acknowledged.filter((outcome) => outcome.id === id).length;
        const keys = Object.keys(item.metadata).filter((key) => key.startsWith('key_'));
        assert.equal(keys.length, updates, `${id}: ${updates} acknowledged metadata keys, ${keys.length} kept`);
        const events = await memory.history(id, { scope });
        assert.equal(events.filter((event) => event.kind === 'UPDATE').length, updates, `${id}: one UPDATE event per acknowledged update`);
      }
      break;
    }
    case 'updates racing a delete': {
      const unexpected = failures.filter((failure) => failure.code !== 'NOT_FOUND');
      assert.deepEqual(unexpected, [], 'only updates that came after the delete may fail, with NOT_FOUND');
      assert.ok(
        acknowledged.some((outcome) => outcome.id === `deleted:${memoryId}`),
        'the delete was acknowledged',
      );
      assert.equal(
        items.find((candidate) => candidate.id === memoryId),
        undefined,
        'the deleted memory is gone',
      );
      const events = await memory.history(memoryId, { scope });
      assert.deepEqual(chainBreaks(memoryId, events), [], 'history of the deleted memory');
      assert.equal(events.at(-1)?.kind, 'DELETE', 'the history ends with the DELETE');
      const updates = acknowledged.filter((outcome) => outcome.id === memoryId).length;
      assert.equal(events.filter((event) => event.kind === 'UPDATE').length, updates, 'one UPDATE event per acknowledged update');
      break;
    }
  }
}

/** Where a history chain breaks: it must start with an ADD, and each event must start from the text the previous one left. */
export function chainBreaks(id: string, events: readonly HistoryEvent[]): string[] {
  const breaks: string[] = [];
  if (events[0]?.kind !== 'ADD') breaks.push(`${id}: the first event is ${events[0]?.kind ?? 'missing'}, not ADD`);
  for (let index = 1; index < events.length; index++) {
    const previous = events[index - 1]!;
    const event = events[index]!;
    if (previous.kind === 'DELETE') breaks.push(`${id}: ${event.kind} after a DELETE`);
    if (event.kind === 'ADD') breaks.push(`${id}: a second ADD`);
    if (event.previousText !== previous.text)
      breaks.push(`${id}: event ${index} (${event.kind}) starts from another text than event ${index - 1} left`);
  }
  return breaks;
}

async function listAll(memory: Memory, scope: { userId: string }): Promise<MemoryItem[]> {
  const items: MemoryItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await memory.getAll({ scope, pageSize: 500, ...(cursor ? { cursor } : {}) });
    items.push(...page.results);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
}

function startWriter(start: WriterStart): ChildProcess {
  const child = fork(fileURLToPath(new URL('./multi-process-child.js', import.meta.url)), [JSON.stringify(start)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return child;
}

function message(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a writer process exited with code ${code} before answering`));
    child.once('exit', onExit);
    child.once('message', (value) => {
      child.removeListener('exit', onExit);
      resolve(value);
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send('close');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
