import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INPUT_LIMITS, Memory, MemError, type FilterInput, type MemoryRecord, type Metadata, type Scope } from '@mem/core';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigure, scaled } from './support/figures';

// One limit per field, on every path that writes it. For each limit of INPUT_LIMITS and each path
// that writes the field (add without inference, the reconcile and additive strategies' model
// output, update(), importRecords, and the metadata merges of update() and of a reconcile UPDATE),
// values just under, at and over the limit, in characters of one and two UTF-16 units and with
// whitespace around: accepted at the limit (and the stored value can be written again through
// every other path), refused over it with the same typed error naming the field and the limit,
// the database file unchanged.
//
// And arrays with holes: every array the API takes (messages, records, vectors, metadata arrays,
// filter lists) with a hole, undefined or null at a generated index is an INVALID_INPUT naming
// that index, whichever strategy runs, with nothing written.

const directory = mkdtempSync(join(tmpdir(), 'mem-hardening-walk-'));
const path = join(directory, 'walk.db');
/** A file of its own for the arrays with holes, so its state stays small to compare. */
const sparsePath = join(directory, 'sparse.db');
const scope: Scope = { userId: 'walker' };

let plain: Memory;
let seededId = '';
let seededMetadataId = '';
let sparse: Memory;
let sparseSeededId = '';

/** A memory on the shared file with a scripted model and a strategy. */
function memoryWith(llm: ScriptedLLM | undefined, strategy: 'reconcile' | 'additive' = 'reconcile', file = path): Memory {
  return new Memory({
    embedder: new HashEmbedder(),
    vectorStore: new SqliteVectorStore({ path: file }),
    historyStore: new SqliteHistoryStore({ path: file }),
    ...(llm ? { llm } : {}),
    strategy,
  });
}

beforeAll(async () => {
  plain = memoryWith(undefined);
  seededId = (await plain.add('Seeded memory to update', { scope, infer: false })).events[0]!.id;
  seededMetadataId = (
    await plain.add('Seeded memory with metadata', {
      scope,
      infer: false,
      metadata: SEEDED_METADATA,
    })
  ).events[0]!.id;
  sparse = memoryWith(undefined, 'reconcile', sparsePath);
  sparseSeededId = (await sparse.add('Seeded memory to update', { scope, infer: false })).events[0]!.id;
});
afterAll(async () => {
  await plain.close();
  await sparse.close();
  rmSync(directory, { recursive: true, force: true });
});

/**
 * A digest of the memory and history tables: rows, text and metadata sizes, update times, the last
 * history event. Any write (an insert, a delete, a changed text, metadata or time, an event) changes it.
 */
function fileState(file = path): string {
  const database = new Database(file, { readonly: true });
  try {
    return JSON.stringify([
      database
        .prepare('SELECT count(*), total(length(text)), total(length(metadata)), total(updated_at), max(seq) FROM memories')
        .raw()
        .get(),
      database.prepare('SELECT count(*), max(seq) FROM memory_history').raw().get(),
      database.prepare('SELECT count(*), total(length(result)) FROM memory_history_idempotency').raw().get(),
    ]);
  } finally {
    database.close();
  }
}

type Unit = 'ascii' | 'two-byte' | 'astral' | 'padded';

/** A text of exactly `length` UTF-16 units once trimmed, built from one kind of character. */
function textOf(length: number, unit: Unit, seed: number): string {
  const head = `w${seed} `;
  const fill = (count: number) => {
    if (unit === 'two-byte') return 'é'.repeat(count);
    if (unit === 'astral') return '😀'.repeat(Math.floor(count / 2)) + (count % 2 === 1 ? 'x' : '');
    return 'x'.repeat(count);
  };
  const core = head + fill(Math.max(0, length - head.length));
  return unit === 'padded' ? `  ${core}\n ` : core;
}

async function vectorOf(text: string): Promise<number[]> {
  return (await new HashEmbedder().embed({ texts: [text], purpose: 'document' })).vectors[0]!;
}

async function recordOf(fields: { text?: string; metadata?: Metadata; scope?: Scope; id?: string }): Promise<MemoryRecord> {
  const text = fields.text ?? 'Imported memory';
  const now = new Date('2025-06-07T08:09:10.000Z');
  return {
    id: fields.id ?? `import-${Math.random().toString(36).slice(2)}`,
    text,
    hash: '',
    vector: await vectorOf(text),
    scope: fields.scope ?? scope,
    metadata: fields.metadata ?? {},
    createdAt: now,
    updatedAt: now,
    occurredAt: now,
  };
}

/** A path that writes a field: how to write a value of a size, and the field its error names. */
interface Probe {
  readonly limit: keyof typeof INPUT_LIMITS;
  readonly path: string;
  /** The field the InvalidInputError names, or 'model' when the value comes from the model (typed PROVIDER_RESPONSE_INVALID). */
  readonly field: string;
  /** Smallest size the probe can build. @default 8 */
  readonly minimum?: number;
  /** Runs before the database state is taken (e.g. resets what the write merges into). */
  prepare?(): Promise<void>;
  /** Writes a value of `size` (in the limit's unit); resolves to the stored text when there is one. */
  write(size: number, unit: Unit, seed: number): Promise<string | undefined>;
}

const scripted = (...answers: unknown[]) => new ScriptedLLM(answers.map((json) => ({ json })));

async function withMemory<T>(memory: Memory, action: (memory: Memory) => Promise<T>): Promise<T> {
  try {
    return await action(memory);
  } finally {
    await memory.close();
  }
}

const textProbes: Probe[] = [
  {
    limit: 'maxMemoryTextLength',
    path: 'add, infer: false (a string)',
    field: 'messages',
    write: async (size, unit, seed) => (await plain.add(textOf(size, unit, seed), { scope, infer: false })).events[0]?.text,
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'add, infer: false (a message)',
    field: 'messages[0].content',
    write: async (size, unit, seed) =>
      (await plain.add([{ role: 'user', content: textOf(size, unit, seed) }], { scope, infer: false })).events[0]?.text,
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'add, infer: false (a named message)',
    field: 'messages[0].content',
    // Stored as "name: content": the limit is on what is stored.
    write: async (size, unit, seed) =>
      (await plain.add([{ role: 'user', content: textOf(size - 5, unit, seed), name: 'Ana' }], { scope, infer: false })).events[0]?.text,
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'update()',
    field: 'change.text',
    write: async (size, unit, seed) => (await plain.update(seededId, textOf(size, unit, seed), { scope })).memory.text,
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'update() with { text }',
    field: 'change.text',
    write: async (size, unit, seed) => (await plain.update(seededId, { text: textOf(size, unit, seed) }, { scope })).memory.text,
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'importRecords',
    field: 'records[0].text',
    write: async (size, unit, seed) => {
      const record = await recordOf({ text: textOf(size, unit, seed) });
      await plain.importRecords([record]);
      return (await plain.get(record.id, { scope }))?.text;
    },
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'reconcile ADD (model output)',
    field: 'model',
    write: async (size, unit, seed) => {
      const text = textOf(size, unit, seed);
      const answer = { operations: [{ op: 'ADD', id: null, text }] };
      return withMemory(
        memoryWith(scripted(answer, answer)),
        async (memory) => (await memory.add('a conversation', { scope })).events[0]?.text,
      );
    },
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'procedural summary (model output)',
    field: 'model',
    write: async (size, unit, seed) => {
      const answer = { summary: textOf(size, unit, seed) };
      return withMemory(
        memoryWith(scripted(answer, answer)),
        async (memory) => (await memory.add('an agent run', { scope, memoryType: 'procedural' })).events[0]?.text,
      );
    },
  },
  {
    limit: 'maxMemoryTextLength',
    path: 'additive fact (model output)',
    field: 'model',
    write: async (size, unit, seed) => {
      const answer = { facts: [textOf(size, unit, seed)] };
      return withMemory(
        memoryWith(scripted(answer, answer), 'additive'),
        async (memory) => (await memory.add('a conversation', { scope })).events[0]?.text,
      );
    },
  },
];

/** Metadata of exactly `bytes` bytes of JSON (at least 16), spread over keys of at most 8,000 characters. */
function metadataOfBytes(bytes: number, prefix = 'b'): Metadata {
  const metadata: Record<string, string> = {};
  let remaining = bytes - 2; // the braces
  let index = 0;
  while (remaining > 0) {
    const key = `${prefix}${index}`;
    const overhead = key.length + 5 + (index > 0 ? 1 : 0); // "key":"" and a comma
    let length = Math.min(8_000, remaining - overhead);
    // Never leave a rest too small for one more key.
    const rest = remaining - overhead - length;
    if (rest > 0 && rest < 16) length -= 16;
    if (length < 0) throw new Error(`cannot build ${bytes} bytes of metadata`);
    metadata[key] = 'm'.repeat(length);
    remaining -= overhead + length;
    index++;
  }
  return metadata;
}

type MetadataLimit = 'maxMetadataKeys' | 'maxMetadataStringLength' | 'maxMetadataArrayLength' | 'maxMetadataBytes';

function metadataOf(limit: MetadataLimit, size: number, seed: number): Metadata {
  switch (limit) {
    case 'maxMetadataKeys':
      return Object.fromEntries(Array.from({ length: size }, (_, index) => [`k${seed}_${index}`, index]));
    case 'maxMetadataStringLength':
      return { note: 'n'.repeat(size) };
    case 'maxMetadataArrayLength':
      return { tags: Array.from({ length: size }, (_, index) => `t${index}`) };
    case 'maxMetadataBytes':
      return metadataOfBytes(size);
  }
}

/** The key an over-limit value is reported under (after the path's prefix). */
function metadataField(limit: MetadataLimit): string {
  return limit === 'maxMetadataStringLength' ? '.note' : limit === 'maxMetadataArrayLength' ? '.tags' : '';
}

const METADATA_LIMITS: readonly MetadataLimit[] = [
  'maxMetadataKeys',
  'maxMetadataStringLength',
  'maxMetadataArrayLength',
  'maxMetadataBytes',
];

const metadataProbes: Probe[] = METADATA_LIMITS.flatMap((limit): Probe[] => [
  {
    limit,
    path: 'add, infer: false',
    field: `options.metadata${metadataField(limit)}`,
    write: async (size, _unit, seed) =>
      (await plain.add(`metadata probe ${seed}`, { scope, infer: false, metadata: metadataOf(limit, size, seed) })).events[0]?.text,
  },
  {
    limit,
    path: 'add, reconcile',
    field: `options.metadata${metadataField(limit)}`,
    write: async (size, _unit, seed) =>
      withMemory(
        memoryWith(scripted({ operations: [{ op: 'ADD', id: null, text: `reconciled metadata probe ${seed}` }] })),
        async (memory) => (await memory.add('a conversation', { scope, metadata: metadataOf(limit, size, seed) })).events[0]?.text,
      ),
  },
  {
    limit,
    path: 'update()',
    field: `change.metadata${metadataField(limit)}`,
    prepare: resetSeeded,
    write: async (size, _unit, seed) => (await plain.update(seededId, { metadata: metadataOf(limit, size, seed) }, { scope })).memory.text,
  },
  {
    limit,
    path: 'importRecords',
    field: `records[0].metadata${metadataField(limit)}`,
    write: async (size, _unit, seed) => {
      const record = await recordOf({ text: `imported metadata probe ${seed}`, metadata: metadataOf(limit, size, seed) });
      await plain.importRecords([record]);
      return (await plain.get(record.id, { scope }))?.text;
    },
  },
]);

/** The memory update() probes write: back to its text and no metadata, so probes do not add up. */
async function resetSeeded(): Promise<void> {
  await plain.importRecords([await recordOf({ id: seededId, text: 'Seeded memory to update' })]);
}

const SEEDED_METADATA = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`s${index}`, 'v'.repeat(800)]));
function seededMetadataBytes(): number {
  return new TextEncoder().encode(JSON.stringify(SEEDED_METADATA)).length;
}
async function resetSeededMetadata(): Promise<void> {
  const record = await recordOf({ id: seededMetadataId, text: 'Seeded memory with metadata', metadata: SEEDED_METADATA });
  await plain.importRecords([record]);
}

/** Merges: a memory holding 40 keys (32 KB) gets more; the merged metadata must keep the limits. */
const mergeProbes: Probe[] = (['maxMetadataKeys', 'maxMetadataBytes'] as const).flatMap((limit): Probe[] => {
  // The seeded memory holds 40 keys and 32,000 characters of values; these sizes are what is added on top.
  // Merged JSON {A,B} is |{A}| + |{B}| - 1 bytes.
  const added = (size: number, seed: number): Metadata =>
    limit === 'maxMetadataKeys'
      ? Object.fromEntries(Array.from({ length: size - 40 }, (_, index) => [`k${seed}_${index}`, index]))
      : metadataOfBytes(size - seededMetadataBytes() + 1, `x${seed}_`);
  const minimum = limit === 'maxMetadataKeys' ? 41 : seededMetadataBytes() + 64;
  return [
    {
      limit,
      path: 'update() merging into stored metadata',
      field: 'change.metadata',
      minimum,
      prepare: resetSeededMetadata,
      write: async (size, _unit, seed) => {
        return (await plain.update(seededMetadataId, { metadata: added(size, seed) }, { scope })).memory.text;
      },
    },
    {
      limit,
      path: 'reconcile UPDATE merging into stored metadata',
      field: 'options.metadata',
      minimum,
      prepare: resetSeededMetadata,
      write: async (size, _unit, seed) => {
        const llm = new ScriptedLLM([
          (request) => {
            const prompt = request.messages.map((message) => message.content).join('\n');
            const alias = /^(m\d+): Seeded memory with metadata/m.exec(prompt)?.[1] ?? 'm1';
            return JSON.stringify({ operations: [{ op: 'UPDATE', id: alias, text: `Seeded memory with metadata, merged ${seed}` }] });
          },
        ]);
        return withMemory(memoryWith(llm), async (memory) => {
          const result = await memory.add('Seeded memory with metadata changed', { scope, metadata: added(size, seed) });
          return result.events.find((event) => event.kind === 'UPDATE')?.text;
        });
      },
    },
  ];
});

const scopeProbes: Probe[] = (['userId', 'agentId', 'runId'] as const).flatMap((key): Probe[] => [
  {
    limit: 'maxIdLength',
    path: `add, scope.${key}`,
    field: `options.scope.${key}`,
    write: async (size, unit, seed) =>
      (await plain.add(`scope probe ${seed}`, { scope: { [key]: textOf(size, unit === 'padded' ? 'ascii' : unit, seed) }, infer: false }))
        .events[0]?.text,
  },
  {
    limit: 'maxIdLength',
    path: `importRecords, scope.${key}`,
    field: `records[0].scope.${key}`,
    write: async (size, unit, seed) => {
      const recordScope = { [key]: textOf(size, unit === 'padded' ? 'ascii' : unit, seed) };
      const record = await recordOf({ text: `imported scope probe ${seed}`, scope: recordScope });
      await plain.importRecords([record]);
      return (await plain.get(record.id, { scope: recordScope }))?.text;
    },
  },
]);

const idProbes: Probe[] = [
  {
    limit: 'maxIdLength',
    path: 'importRecords, id',
    field: 'records[0].id',
    write: async (size, unit, seed) => {
      const record = await recordOf({ text: `imported id probe ${seed}`, id: textOf(size, unit === 'padded' ? 'ascii' : unit, seed) });
      await plain.importRecords([record]);
      return (await plain.get(record.id, { scope }))?.text;
    },
  },
];

const messageProbes: Probe[] = [
  {
    limit: 'maxMessages',
    path: 'add, infer: false',
    field: 'messages',
    write: async (size, _unit, seed) =>
      (
        await plain.add(
          Array.from({ length: size }, (_, index) => ({ role: 'user' as const, content: `message ${seed}.${index}` })),
          { scope, infer: false },
        )
      ).events[0]?.text,
  },
  {
    limit: 'maxMessages',
    path: 'add, reconcile',
    field: 'messages',
    write: async (size, _unit, seed) =>
      withMemory(
        memoryWith(scripted({ operations: [{ op: 'ADD', id: null, text: `many messages ${seed}` }] })),
        async (memory) =>
          (
            await memory.add(
              Array.from({ length: size }, (_, index) => ({ role: 'user' as const, content: `m${index}` })),
              { scope },
            )
          ).events[0]?.text,
      ),
  },
  {
    limit: 'maxMessageLength',
    path: 'add, reconcile',
    field: 'messages[0].content',
    // A conversation is passed as it is (not trimmed): its length counts whole.
    write: async (size, unit, seed) =>
      withMemory(
        memoryWith(scripted({ operations: [{ op: 'ADD', id: null, text: `long conversation ${seed}` }] })),
        async (memory) =>
          (await memory.add([{ role: 'user', content: textOf(size, unit === 'padded' ? 'ascii' : unit, seed) }], { scope })).events[0]
            ?.text,
      ),
  },
];

// An idempotency key is kept (with the add's result) in the history store: its limit holds on both
// kinds of add, and a refused key writes no memory, no history and no record.
const idempotencyKeyProbes: Probe[] = [
  {
    limit: 'maxIdempotencyKeyLength',
    path: 'add, infer: false, idempotencyKey',
    field: 'options.idempotencyKey',
    write: async (size, unit, seed) =>
      (
        await plain.add(`idempotent probe ${seed}`, {
          scope,
          infer: false,
          idempotencyKey: textOf(size, unit === 'padded' ? 'ascii' : unit, seed),
        })
      ).events[0]?.text,
  },
  {
    limit: 'maxIdempotencyKeyLength',
    path: 'add, reconcile, idempotencyKey',
    field: 'options.idempotencyKey',
    write: async (size, unit, seed) =>
      withMemory(
        memoryWith(scripted({ operations: [{ op: 'ADD', id: null, text: `idempotent reconcile probe ${seed}` }] })),
        async (memory) =>
          (await memory.add(`conversation ${seed}`, { scope, idempotencyKey: textOf(size, unit === 'padded' ? 'ascii' : unit, seed) }))
            .events[0]?.text,
      ),
  },
];

/** An assistant message of a run with `count` tool calls (the arguments of the first `argumentsOf`). */
function runWithCalls(count: number, seed: number, argumentsOf = '{}') {
  return [
    { role: 'user' as const, content: `run ${seed}` },
    {
      role: 'assistant' as const,
      content: '',
      toolCalls: Array.from({ length: count }, (_, index) => ({
        id: `c${index}`,
        name: `tool_${index}`,
        arguments: index === 0 ? argumentsOf : '{}',
      })),
    },
  ];
}

const toolCallProbes: Probe[] = [
  {
    limit: 'maxToolCalls',
    path: 'add, procedural',
    field: 'messages[1].toolCalls',
    write: async (size, _unit, seed) =>
      withMemory(
        memoryWith(scripted({ summary: `procedural probe ${seed}` })),
        async (memory) => (await memory.add(runWithCalls(size, seed), { scope, memoryType: 'procedural' })).events[0]?.text,
      ),
  },
  {
    limit: 'maxToolCalls',
    path: 'add, infer: false',
    field: 'messages[1].toolCalls',
    write: async (size, _unit, seed) => (await plain.add(runWithCalls(size, seed), { scope, infer: false })).events[0]?.text,
  },
  {
    limit: 'maxMessageLength',
    path: 'add, procedural (tool call arguments)',
    field: 'messages[1].toolCalls[0].arguments',
    // Arguments are passed as they are (not trimmed): their length counts whole.
    write: async (size, unit, seed) =>
      withMemory(
        memoryWith(scripted({ summary: `long arguments ${seed}` })),
        async (memory) =>
          (
            await memory.add(runWithCalls(1, seed, textOf(size, unit === 'padded' ? 'ascii' : unit, seed)), {
              scope,
              memoryType: 'procedural',
            })
          ).events[0]?.text,
      ),
  },
];

type CategoryLimit = 'maxCategories' | 'maxCategoryNameLength' | 'maxCategoryDescriptionLength';

/** Custom categories at `size` of one limit (the others small), unique names. */
function categoriesOf(limit: CategoryLimit, size: number, unit: Unit, seed: number): { name: string; description?: string }[] {
  switch (limit) {
    case 'maxCategories':
      return Array.from({ length: size }, (_, index) => ({ name: `c${seed}_${index}` }));
    case 'maxCategoryNameLength':
      return [{ name: textOf(size, unit, seed), description: 'one category' }];
    case 'maxCategoryDescriptionLength':
      return [{ name: `c${seed}`, description: textOf(size, unit, seed) }];
  }
}

const CATEGORY_FIELDS: Record<CategoryLimit, string> = {
  maxCategories: '',
  maxCategoryNameLength: '[0].name',
  maxCategoryDescriptionLength: '[0].description',
};

const categoryProbes: Probe[] = (['maxCategories', 'maxCategoryNameLength', 'maxCategoryDescriptionLength'] as const).flatMap(
  (limit): Probe[] => [
    {
      limit,
      path: 'add, categories option',
      field: `options.categories${CATEGORY_FIELDS[limit]}`,
      write: async (size, unit, seed) =>
        withMemory(
          memoryWith(scripted({ operations: [{ op: 'ADD', id: null, text: `categorized probe ${seed}`, categories: [] }] })),
          async (memory) =>
            (await memory.add('a conversation', { scope, categories: categoriesOf(limit, size, unit, seed) })).events[0]?.text,
        ),
    },
    {
      limit,
      path: 'new Memory({ categories })',
      field: `options.categories${CATEGORY_FIELDS[limit]}`,
      write: async (size, unit, seed) => {
        const vectorStore = new SqliteVectorStore({ path });
        const historyStore = new SqliteHistoryStore({ path });
        let memory: Memory;
        try {
          memory = new Memory({
            embedder: new HashEmbedder(),
            vectorStore,
            historyStore,
            llm: scripted({ operations: [{ op: 'ADD', id: null, text: `configured categories probe ${seed}` }] }),
            categories: categoriesOf(limit, size, unit, seed),
          });
        } catch (error) {
          await Promise.all([vectorStore.close(), historyStore.close()]);
          throw error;
        }
        return withMemory(memory, async (opened) => (await opened.add('a conversation', { scope })).events[0]?.text);
      },
    },
    ...(limit === 'maxCategoryDescriptionLength'
      ? []
      : [
          {
            limit,
            path: 'importRecords, metadata.categories',
            field: `records[0].metadata.categories${limit === 'maxCategories' ? '' : '[0]'}`,
            write: async (size: number, unit: Unit, seed: number) => {
              const names = categoriesOf(limit, size, unit, seed).map((category) => category.name);
              const record = await recordOf({ text: `imported categories probe ${seed}`, metadata: { categories: names } });
              await plain.importRecords([record]);
              return (await plain.get(record.id, { scope }))?.text;
            },
          },
        ]),
  ],
);

/** A PNG data URL of exactly `bytes` decoded bytes (at least 8): the PNG signature, then zeros. */
function pngOfBytes(bytes: number): string {
  const data = Buffer.alloc(bytes);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(data);
  return `data:image/png;base64,${data.toString('base64')}`;
}

/** Messages holding `count` image parts, 50 per message after a text part. */
function messagesWithImages(count: number, seed: number) {
  const messages = [];
  for (let start = 0; start < count; start += 50) {
    messages.push({
      role: 'user' as const,
      content: [
        { type: 'text' as const, text: `image probe ${seed}.${start}` },
        ...Array.from({ length: Math.min(50, count - start) }, () => ({
          type: 'image_url' as const,
          image_url: { url: 'https://example.com/photo.jpg' },
        })),
      ],
    });
  }
  return messages;
}

/** The part that holds the first image over the limit (image `limit + 1` of the call). */
const firstImageOver = `messages[${Math.floor(INPUT_LIMITS.maxImages / 50)}].content[${(INPUT_LIMITS.maxImages % 50) + 1}]`;

/** Images: their count per call and the bytes of one, whichever path writes the message (the default images option). */
const imageProbes: Probe[] = (['infer: false', 'reconcile', 'procedural'] as const).flatMap((mode): Probe[] => {
  const add = (messages: Parameters<Memory['add']>[0], seed: number) =>
    mode === 'infer: false'
      ? plain.add(messages, { scope, infer: false })
      : mode === 'procedural'
        ? withMemory(memoryWith(scripted({ summary: `image run ${seed}` })), (memory) =>
            memory.add(messages, { scope, memoryType: 'procedural' }),
          )
        : withMemory(memoryWith(scripted({ operations: [{ op: 'ADD', id: null, text: `image conversation ${seed}` }] })), (memory) =>
            memory.add(messages, { scope }),
          );
  return [
    {
      limit: 'maxImages',
      path: `add, ${mode}`,
      field: firstImageOver,
      minimum: 1,
      write: async (size, _unit, seed) => (await add(messagesWithImages(size, seed), seed)).events[0]?.text,
    },
    {
      limit: 'maxImageBytes',
      path: `add, ${mode}`,
      field: 'messages[0].content[1].image_url.url',
      write: async (size, _unit, seed) =>
        (
          await add(
            [
              {
                role: 'user',
                content: [
                  { type: 'text', text: `image bytes probe ${seed}` },
                  { type: 'image_url', image_url: { url: pngOfBytes(size) } },
                ],
              },
            ],
            seed,
          )
        ).events[0]?.text,
    },
  ];
});

const PROBES: readonly Probe[] = [
  ...textProbes,
  ...metadataProbes,
  ...mergeProbes,
  ...scopeProbes,
  ...idProbes,
  ...messageProbes,
  ...idempotencyKeyProbes,
  ...toolCallProbes,
  ...categoryProbes,
  ...imageProbes,
];

/** Every limit of INPUT_LIMITS that bounds a stored field or the add input has probes: a new limit without them fails here. */
const READ_ONLY_LIMITS = new Set(['maxQueryLength', 'maxLimit']);

describe('one limit per field, on every write path', () => {
  it('every limit that bounds a write has a probe on each path that writes it', () => {
    const probed = new Set(PROBES.map((probe) => probe.limit));
    expect(
      Object.keys(INPUT_LIMITS).filter((limit) => !READ_ONLY_LIMITS.has(limit) && !probed.has(limit as keyof typeof INPUT_LIMITS)),
    ).toEqual([]);
  });

  it('under, at and over each limit, on each path: accepted up to the limit (and writable again), refused above it with the same typed error', async () => {
    const violations: string[] = [];
    let cases = 0;
    let seed = 0;
    const units: readonly Unit[] = ['ascii', 'two-byte', 'astral', 'padded'];
    const details = await fc.check(
      fc.asyncProperty(
        fc.nat({ max: PROBES.length * 20 }),
        fc.constantFrom(...units),
        fc.oneof(fc.constantFrom(-1, 0, 0, 1, 1), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 2, max: 5_000 })),
        async (index, unit, offset) => {
          const probe = PROBES[index % PROBES.length]!;
          const limit = INPUT_LIMITS[probe.limit];
          const size = Math.max(probe.minimum ?? 8, limit + offset);
          const over = size > limit;
          await probe.prepare?.();
          const before = over ? fileState() : '';
          const where = `${probe.limit} via ${probe.path}, ${size} (${unit})`;
          cases++;
          let stored: string | undefined;
          let thrown: unknown;
          try {
            stored = await probe.write(size, unit, seed++);
          } catch (error) {
            thrown = error;
          }
          if (!over) {
            if (thrown !== undefined) violations.push(`${where}: refused at or under the limit: ${String(thrown)}`);
            else if (probe.limit === 'maxMemoryTextLength' && stored !== undefined) {
              // What one path stored, every other path accepts as it is (here: update() with its own text).
              const written = await typedOrNull(() => plain.update(seededId, stored!, { scope }));
              if (written) violations.push(`${where}: the stored text is refused by update(): ${written}`);
            }
          } else {
            const expectedCode = probe.field === 'model' ? 'PROVIDER_RESPONSE_INVALID' : 'INVALID_INPUT';
            if (!MemError.is(thrown, expectedCode)) {
              violations.push(`${where}: expected ${expectedCode}, got ${thrown === undefined ? 'success' : String(thrown)}`);
            } else {
              const field = (thrown as { field?: string }).field;
              if (probe.field !== 'model' && field !== probe.field)
                violations.push(`${where}: the error names ${String(field)}, expected ${probe.field}`);
              if (!thrown.message.includes(String(limit)))
                violations.push(`${where}: the message does not state the limit ${limit}: ${thrown.message}`);
            }
            if (fileState() !== before) violations.push(`${where}: the database changed`);
          }
          if (violations.length > 0) throw new Error(violations.slice(0, 5).join('\n'));
        },
      ),
      { numRuns: scaled(400, 4_000), endOnFailure: true },
    );
    if (details.failed && violations.length === 0) throw details.errorInstance;
    recordFigure({
      category: 'input limits (every limit × every write path)',
      backend: 'sqlite (embedded default)',
      cases,
      violations: violations.length,
    });
    expect(violations.slice(0, 10)).toEqual([]);
  });
});

async function typedOrNull(action: () => Promise<unknown>): Promise<string | null> {
  try {
    await action();
    return null;
  } catch (error) {
    return String(error);
  }
}

/** An array input of the API, and the field its error names for an index. */
interface ArrayInput {
  readonly name: string;
  /** Calls the API with `items` (which may hold a hole) in the array. */
  call(items: unknown[]): Promise<unknown>;
  /** A valid item at `index`. */
  item(index: number): unknown | Promise<unknown>;
  field(index: number): string;
}

const arrayInputs: ArrayInput[] = [
  ...(['infer: false', 'reconcile', 'additive'] as const).map(
    (mode): ArrayInput => ({
      name: `add messages (${mode})`,
      call: (items) =>
        mode === 'infer: false'
          ? sparse.add(items as never, { scope, infer: false })
          : withMemory(memoryWith(new ScriptedLLM([]), mode === 'additive' ? 'additive' : 'reconcile', sparsePath), (memory) =>
              memory.add(items as never, { scope }),
            ),
      item: (index) => ({ role: 'user', content: `message ${index}` }),
      field: (index) => `messages[${index}]`,
    }),
  ),
  {
    name: 'add toolCalls (infer: false)',
    call: (items) => sparse.add([{ role: 'assistant', content: '', toolCalls: items as never }], { scope, infer: false }),
    item: (index) => ({ id: `c${index}`, name: `tool_${index}` }),
    field: (index) => `messages[0].toolCalls[${index}]`,
  },
  {
    name: 'add categories',
    call: (items) =>
      withMemory(memoryWith(new ScriptedLLM([]), 'reconcile', sparsePath), (memory) =>
        memory.add('sparse categories', { scope, categories: items as never }),
      ),
    item: (index) => ({ name: `c${index}` }),
    field: (index) => `options.categories[${index}]`,
  },
  {
    name: 'importRecords metadata.categories',
    call: async (items) =>
      sparse.importRecords([await recordOf({ text: 'sparse import categories', metadata: { categories: items as string[] } })]),
    item: (index) => `c${index}`,
    field: (index) => `records[0].metadata.categories[${index}]`,
  },
  {
    name: 'add content parts',
    call: (items) => sparse.add([{ role: 'user', content: items as never }], { scope, infer: false }),
    item: (index) => ({ type: 'text', text: `part ${index}` }),
    field: (index) => `messages[0].content[${index}]`,
  },
  {
    name: 'importRecords records',
    call: (items) => sparse.importRecords(items as MemoryRecord[]),
    item: (index) => recordOf({ text: `sparse import ${index}` }),
    field: (index) => `records[${index}]`,
  },
  {
    name: 'importRecords vector',
    call: async (items) => sparse.importRecords([{ ...(await recordOf({ text: 'sparse vector' })), vector: items as number[] }]),
    item: (index) => 0.1 + index / 100,
    field: (index) => `records[0].vector[${index}]`,
  },
  {
    name: 'add metadata array',
    call: (items) => sparse.add('sparse metadata', { scope, infer: false, metadata: { tags: items as string[] } }),
    item: (index) => `tag${index}`,
    field: (index) => `options.metadata.tags[${index}]`,
  },
  {
    name: 'update metadata array',
    call: (items) => sparse.update(sparseSeededId, { metadata: { tags: items as string[] } }, { scope }),
    item: (index) => `tag${index}`,
    field: (index) => `change.metadata.tags[${index}]`,
  },
  {
    name: 'importRecords metadata array',
    call: async (items) =>
      sparse.importRecords([await recordOf({ text: 'sparse import metadata', metadata: { tags: items as string[] } })]),
    item: (index) => `tag${index}`,
    field: (index) => `records[0].metadata.tags[${index}]`,
  },
  ...(['search', 'getAll', 'deleteAll'] as const).flatMap((method): ArrayInput[] => {
    const run = (filter: FilterInput) =>
      method === 'search'
        ? sparse.search('tea', { scope, filter })
        : method === 'getAll'
          ? sparse.getAll({ scope, filter })
          : sparse.deleteAll({ scope, filter });
    return [
      {
        name: `${method} filter $in`,
        call: (items) => run({ note: { $in: items as string[] } }),
        item: (index) => `v${index}`,
        field: (index) => `options.filter.note.$in[${index}]`,
      },
      {
        name: `${method} filter $and`,
        call: (items) => run({ $and: items as FilterInput[] }),
        item: (index) => ({ [`k${index}`]: index }),
        field: (index) => `options.filter.$and[${index}]`,
      },
      {
        name: `${method} filter $or`,
        call: (items) => run({ $or: items as FilterInput[] }),
        item: (index) => ({ [`k${index}`]: index }),
        field: (index) => `options.filter.$or[${index}]`,
      },
    ];
  }),
];

describe('arrays with holes', () => {
  it('a hole, undefined or null at any index of any array the API takes: INVALID_INPUT naming the index, nothing written', async () => {
    const violations: string[] = [];
    let cases = 0;
    const details = await fc.check(
      fc.asyncProperty(
        fc.nat({ max: arrayInputs.length * 10 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        fc.constantFrom('hole', 'undefined', 'null'),
        async (which, length, position, kind) => {
          const input = arrayInputs[which % arrayInputs.length]!;
          const at = position % length;
          const items: unknown[] = [];
          for (let index = 0; index < length; index++) items[index] = await input.item(index);
          if (kind === 'hole') delete items[at];
          else items[at] = kind === 'null' ? null : undefined;
          cases++;
          const before = fileState(sparsePath);
          let thrown: unknown;
          try {
            await input.call(items);
          } catch (error) {
            thrown = error;
          }
          const where = `${input.name}, ${kind} at ${at} of ${length}`;
          if (!MemError.is(thrown, 'INVALID_INPUT'))
            violations.push(`${where}: expected INVALID_INPUT, got ${thrown === undefined ? 'success' : String(thrown)}`);
          else if ((thrown as { field?: string }).field !== input.field(at))
            violations.push(`${where}: the error names ${String((thrown as { field?: string }).field)}, expected ${input.field(at)}`);
          if (fileState(sparsePath) !== before) violations.push(`${where}: the database changed`);
          if (violations.length > 0) throw new Error(violations.slice(0, 5).join('\n'));
        },
      ),
      { numRuns: scaled(300, 3_000), endOnFailure: true },
    );
    if (details.failed && violations.length === 0) throw details.errorInstance;
    recordFigure({
      category: 'input limits (arrays with holes)',
      backend: 'sqlite (embedded default)',
      cases,
      violations: violations.length,
    });
    expect(violations.slice(0, 10)).toEqual([]);
  });
});
