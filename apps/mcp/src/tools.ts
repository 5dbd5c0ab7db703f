import { InvalidInputError, NotFoundError, type ChatMessage, type FilterInput, type Memory, type MemoryItem, type Scope } from '@mem/core';
import * as z from 'zod';

/** What a tool call runs with: the server's memory and the caller's scope, never chosen by the model. */
export interface ToolContext {
  readonly memory: Memory;
  /** Whose memories the call reads and writes: fixed per server instance or per authenticated client. */
  readonly scope: Scope;
  /** Whether the server has an LLM: the default of `add_memory`'s `infer`. */
  readonly inferByDefault: boolean;
  readonly signal: AbortSignal;
}

/** One MCP tool: its schemas (zod, advertised as JSON Schema) and what it does. */
export interface MemTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly outputSchema: z.ZodObject;
  readonly annotations: {
    readonly readOnlyHint: boolean;
    readonly destructiveHint: boolean;
    readonly idempotentHint: boolean;
    readonly openWorldHint: false;
  };
  /** Runs the call on validated input; throws a `MemError` on failure. */
  run(input: Record<string, unknown>, context: ToolContext): Promise<Record<string, unknown>>;
}

const FILTER_SYNTAX =
  'Filter on metadata and dates, MongoDB style. Equality: {"category": "food"}. ' +
  'Field operators: $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $contains (substring of a string, or element of an array), ' +
  'e.g. {"rating": {"$gte": 3}}. Combine with $and, $or, $not: {"$or": [{"city": "Lisbon"}, {"tags": {"$contains": "travel"}}]}. ' +
  'createdAt, updatedAt and occurredAt take ISO dates: {"occurredAt": {"$gte": "2024-05-01"}}. ' +
  'memoryType and categories filter like metadata: {"memoryType": "procedural"}, {"categories": "food"}. Leave it out to match everything.';

const ID_SOURCE = 'Ids come from search_memories, list_memories or add_memory results; never make one up.';

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
const metadataInput = z
  .record(z.string(), metadataValue)
  .describe(
    'Tags stored with the memory, e.g. {"category": "food", "tags": ["diet"]}: short strings, numbers, booleans or string lists. Filter on them later.',
  );
// Core's parseFilter validates the syntax and names the offending path (filter.rating.$gt).
const filterInput = z.record(z.string(), z.unknown()).describe(FILTER_SYNTAX);
const idInput = z.string().min(1).max(256).describe(`The memory's id. ${ID_SOURCE}`);

const memoryOutput = z.object({
  id: z.string(),
  text: z.string(),
  metadata: z.record(z.string(), metadataValue),
  createdAt: z.string().describe('When the memory was stored (ISO 8601).'),
  updatedAt: z.string().describe('When the memory last changed (ISO 8601).'),
  occurredAt: z.string().describe('When the conversation it came from happened (ISO 8601).'),
  expiresAt: z.string().optional().describe('When the memory expires (ISO 8601): from then on search and list leave it out.'),
  memoryType: z.literal('procedural').optional().describe('procedural: the summary of how a task was done (a run); absent for facts.'),
  categories: z.array(z.string()).optional().describe('Categories the server assigned at extraction; absent when none.'),
});

function toOutput(item: MemoryItem): z.infer<typeof memoryOutput> {
  return {
    id: item.id,
    text: item.text,
    metadata: item.metadata as z.infer<typeof memoryOutput>['metadata'],
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
    occurredAt: item.occurredAt.toISOString(),
    ...(item.expiresAt ? { expiresAt: item.expiresAt.toISOString() } : {}),
    ...(item.memoryType ? { memoryType: item.memoryType } : {}),
    ...(item.categories ? { categories: [...item.categories] } : {}),
  };
}

const EXPIRES_AT =
  'ISO 8601 (e.g. "2024-06-30T23:59:59Z"). Use it for facts that stop being true on a known date (a trial, an offer, a temporary address): from then on search and list leave the memory out.';

function call(context: ToolContext): { scope: Scope; signal: AbortSignal } {
  return { scope: context.scope, signal: context.signal };
}

const addInput = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(100_000)
    .optional()
    .describe(
      'One statement to remember, in the user\'s words or as the fact itself, e.g. "I am vegetarian". Pass text or messages, not both.',
    ),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['user', 'assistant', 'tool']),
        content: z
          .union([
            z.string().max(100_000),
            z
              .array(
                z.object({
                  type: z.enum(['text', 'image_url']),
                  text: z.string().max(100_000).optional(),
                  image_url: z
                    .object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() })
                    .optional()
                    .describe('An https URL, or a base64 data URL of a PNG, JPEG, GIF or WebP image.'),
                }),
              )
              .max(100)
              .describe(
                'Content parts: { type: "text", text } and { type: "image_url", image_url: { url } }. Images are read when the server is set to (MEM_IMAGES=describe); otherwise the result notes them as left out.',
              ),
          ])
          .nullable()
          .describe('The text, or content parts; null only on an assistant message with toolCalls.'),
        name: z.string().min(1).max(128).optional().describe('Speaker name, when several people talk; on a tool message, the tool.'),
        toolCalls: z
          .array(
            z.strictObject({
              id: z.string().min(1).max(256).optional(),
              name: z.string().min(1).max(128),
              arguments: z.string().max(100_000).optional().describe('The arguments as JSON text.'),
            }),
          )
          .min(1)
          .max(64)
          .optional()
          .describe('On an assistant message: the tools you called (for memoryType procedural).'),
        toolCallId: z.string().min(1).max(256).optional().describe('On a tool message: the id of the call whose result it is.'),
      }),
    )
    .min(1)
    .max(200)
    .optional()
    .describe(
      "Recent conversation turns to learn from (the user's turns carry the facts; include your reply for context). Pass text or messages, not both.",
    ),
  metadata: metadataInput.optional(),
  occurredAt: z
    .string()
    .max(64)
    .optional()
    .describe(
      'When the conversation happened, ISO 8601 (e.g. "2024-06-10" or "2024-06-10T18:30:00Z"); "last month" in the text resolves against it. Default: now.',
    ),
  infer: z
    .boolean()
    .optional()
    .describe(
      'true: an LLM extracts the facts and updates or removes outdated memories. false: store the text as given. Default: true when the server has an LLM, else false.',
    ),
  expiresAt: z.string().max(64).optional().describe(`When the memories this call stores expire, ${EXPIRES_AT} Default: never.`),
  idempotencyKey: z
    .string()
    .optional()
    .describe(
      "Makes the call safe to retry: a later call with the same key (and the same text or messages and options) returns the first call's result and stores nothing again. Use a fresh key (e.g. a UUID) for each new thing to remember; 1 to 255 printable characters.",
    ),
  memoryType: z
    .enum(['semantic', 'procedural'])
    .optional()
    .describe(
      'procedural: save how you carried out a task, to repeat or continue it later. Pass your run as messages (the request, your assistant turns with toolCalls, the tool results) and mem stores ONE summary keeping commands, ids, values and errors verbatim. Needs an LLM on the server. Default: semantic (facts about the user).',
    ),
});

const addTool: MemTool = {
  name: 'add_memory',
  title: 'Remember',
  description: [
    'Save something about the user worth remembering in future conversations.',
    'Call it when the user states a durable fact, preference, plan, relationship, constraint or correction ("I\'m vegetarian", "my daughter Ana starts school in September", "call me Sam"), or asks you to remember something.',
    'Do not save small talk, questions, one-off task details, your own guesses, or secrets such as passwords and keys.',
    'A good memory is one short, self-contained fact that still makes sense months later: "Is vegetarian", "Moved to Lisbon in May 2024" (not "he said he likes it").',
    'Pass `text` (one statement) or `messages` (recent turns).',
    'With inference on (the default when the server has an LLM) mem extracts the facts and itself updates or deletes memories they contradict, so you need not search first; with inference off the text is stored as given, so write it as the fact itself.',
    'Returns one event per fact (ADD, UPDATE, DELETE or NONE when already known) with the memory ids.',
    'After a multi-step task worth repeating, call it with memoryType "procedural" and your run as messages; find such memories later with search_memories and filter {"memoryType": "procedural"}.',
  ].join(' '),
  inputSchema: addInput,
  outputSchema: z.object({
    events: z.array(
      z.object({
        kind: z.enum(['ADD', 'UPDATE', 'DELETE', 'NONE']),
        id: z.string(),
        text: z.string(),
        previousText: z.string().optional().describe('The text before an UPDATE.'),
      }),
    ),
    memories: z.array(memoryOutput).describe('The memories created or updated, as stored.'),
    notes: z
      .array(
        z.object({
          code: z.literal('IMAGES_DROPPED'),
          reason: z.enum(['images_off', 'no_image_input', 'infer_false', 'not_described']),
          message: z.string(),
          parts: z.array(z.string()),
        }),
      )
      .optional()
      .describe('Images of the messages that were left out (their text was kept), and why.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(raw, context) {
    const input = raw as z.infer<typeof addInput>;
    if ((input.text === undefined) === (input.messages === undefined)) {
      throw new InvalidInputError(
        'text',
        'pass exactly one of text and messages',
        'Use text for one statement, or messages for conversation turns.',
      );
    }
    if (input.infer === true && !context.inferByDefault) {
      throw new InvalidInputError(
        'infer',
        'this server has no LLM configured, so it cannot extract facts',
        'Leave infer out (or pass false) and write the text as the fact itself.',
      );
    }
    const procedural = input.memoryType === 'procedural';
    const result = await context.memory.add((input.text ?? input.messages!) as string | ChatMessage[], {
      ...call(context),
      // A procedural memory is always written by the LLM: without one, core says so (MISSING_SETTING).
      infer: input.infer ?? (context.inferByDefault || procedural),
      ...(input.memoryType === undefined ? {} : { memoryType: input.memoryType }),
      ...(input.metadata ? { metadata: input.metadata } : {}),
      ...(input.occurredAt === undefined ? {} : { occurredAt: input.occurredAt }),
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
    });
    return {
      events: result.events.map((event) => ({
        kind: event.kind,
        id: event.id,
        text: event.text,
        ...(event.previousText === undefined ? {} : { previousText: event.previousText }),
      })),
      memories: result.memories.map(toOutput),
      ...(result.notes ? { notes: result.notes.map((note) => ({ ...note, parts: [...note.parts] })) } : {}),
    };
  },
};

const searchInput = z.strictObject({
  query: z
    .string()
    .min(1)
    .max(10_000)
    .describe('A short description of the information you need, e.g. "food preferences and diet", rather than the user\'s whole message.'),
  filter: filterInput.optional(),
  limit: z.number().int().min(1).max(100).optional().describe('How many memories to return, best first. Default 10.'),
  threshold: z
    .number()
    .min(-1)
    .max(1)
    .optional()
    .describe('Drop results whose score (cosine similarity) is below it, e.g. 0.3. Default: keep all.'),
});

const searchTool: MemTool = {
  name: 'search_memories',
  title: 'Recall',
  description: [
    'Find what you know about the user.',
    'Call it before answering whenever the answer could depend on the user\'s preferences, history, plans, people or earlier conversations (for "what should I cook tonight?" search "food preferences and diet"), and before saying you do not know something about them.',
    'Results are the most relevant memories, best first, each with `score` (cosine similarity, higher is better) and an `id` to pass to get_memory, update_memory or delete_memory.',
    'An empty result means nothing relevant is stored.',
    `Optional \`filter\`: ${FILTER_SYNTAX}`,
  ].join(' '),
  inputSchema: searchInput,
  outputSchema: z.object({
    results: z.array(memoryOutput.extend({ score: z.number().describe('Cosine similarity to the query, in [-1, 1]; higher is better.') })),
    relations: z
      .array(
        z.object({
          source: z.string(),
          relation: z.string(),
          target: z.string(),
          validFrom: z.string().describe('Since when it holds (ISO 8601).'),
          score: z.number(),
        }),
      )
      .optional()
      .describe('With graph memory on: facts as source —relation→ target around the entities of the query, most relevant first.'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(raw, context) {
    const input = raw as z.infer<typeof searchInput>;
    const { results, relations } = await context.memory.search(input.query, {
      ...call(context),
      ...(input.filter ? { filter: input.filter as FilterInput } : {}),
      ...(input.limit === undefined ? {} : { limit: input.limit }),
      ...(input.threshold === undefined ? {} : { threshold: input.threshold }),
    });
    return {
      results: results.map((result) => ({ ...toOutput(result), score: result.score })),
      // Only open relations are searched (the default), so none has a validTo.
      ...(relations === undefined
        ? {}
        : {
            relations: relations.map((relation) => ({
              source: relation.source,
              relation: relation.relation,
              target: relation.target,
              validFrom: relation.validFrom.toISOString(),
              score: relation.score,
            })),
          }),
    };
  },
};

const listInput = z.strictObject({
  filter: filterInput.optional(),
  pageSize: z.number().int().min(1).max(100).optional().describe('Memories per page. Default 20.'),
  cursor: z.string().min(1).max(256).optional().describe('The nextCursor of the previous page; leave it out for the first page.'),
});

const listTool: MemTool = {
  name: 'list_memories',
  title: 'List memories',
  description: [
    "List the user's memories in the order they were stored, a page at a time.",
    'Use it when the user asks what you remember about them, or to review or clean up memories; to answer a question on a topic, use search_memories instead.',
    'Pass the returned `nextCursor` as `cursor` to get the next page; no `nextCursor` means this was the last page.',
    `Optional \`filter\`: ${FILTER_SYNTAX}`,
  ].join(' '),
  inputSchema: listInput,
  outputSchema: z.object({
    memories: z.array(memoryOutput),
    nextCursor: z.string().optional().describe('Pass as cursor to get the next page; absent on the last page.'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(raw, context) {
    const input = raw as z.infer<typeof listInput>;
    const page = await context.memory.getAll({
      ...call(context),
      pageSize: input.pageSize ?? 20,
      ...(input.filter ? { filter: input.filter as FilterInput } : {}),
      ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
    });
    return { memories: page.results.map(toOutput), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
  },
};

const idOnlyInput = z.strictObject({ id: idInput });

const getTool: MemTool = {
  name: 'get_memory',
  title: 'Read a memory',
  description: `Read one memory by id: its text, metadata and timestamps. ${ID_SOURCE} Fails with NOT_FOUND when this user has no memory with that id.`,
  inputSchema: idOnlyInput,
  outputSchema: z.object({ memory: memoryOutput }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(raw, context) {
    const { id } = raw as z.infer<typeof idOnlyInput>;
    const item = await context.memory.get(id, call(context));
    if (!item) throw new NotFoundError('memory', id);
    return { memory: toOutput(item) };
  },
};

const updateInput = z.strictObject({
  id: idInput,
  text: z.string().min(1).max(10_000).optional().describe('The whole new text of the memory (not a diff), e.g. "Lives in Porto".'),
  metadata: metadataInput.optional().describe('Metadata keys to set; merged into the existing metadata.'),
  expiresAt: z.string().max(64).nullable().optional().describe(`When the memory expires, ${EXPIRES_AT} null: it never expires.`),
});

const updateTool: MemTool = {
  name: 'update_memory',
  title: 'Correct a memory',
  description: [
    'Change one memory: when the user corrects something you stored, or a fact has changed ("I moved to Porto" → change the "Lives in Lisbon" memory).',
    'Pass the whole new `text`, `metadata` keys to set (merged into the existing metadata), and/or `expiresAt` (null: never expires).',
    `${ID_SOURCE} Search first to find it.`,
    'Fails with NOT_FOUND when this user has no memory with that id. (add_memory with inference on also updates outdated memories by itself.)',
  ].join(' '),
  inputSchema: updateInput,
  outputSchema: z.object({ memory: memoryOutput.describe('The memory as stored after the change.') }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(raw, context) {
    const input = raw as z.infer<typeof updateInput>;
    if (input.text === undefined && input.metadata === undefined && input.expiresAt === undefined) {
      throw new InvalidInputError(
        'text',
        'pass a new text, metadata, expiresAt, or several',
        'E.g. { "id": "...", "text": "Lives in Porto" }.',
      );
    }
    const { memory } = await context.memory.update(
      input.id,
      {
        ...(input.text === undefined ? {} : { text: input.text }),
        ...(input.metadata ? { metadata: input.metadata } : {}),
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      },
      call(context),
    );
    return { memory: toOutput(memory) };
  },
};

const deleteTool: MemTool = {
  name: 'delete_memory',
  title: 'Forget a memory',
  description: [
    'Delete one memory: when the user asks you to forget something, or a memory is wrong and correcting it with update_memory makes no sense.',
    `${ID_SOURCE} If you are unsure which memory the user means, search and ask before deleting.`,
    'Fails with NOT_FOUND when this user has no memory with that id.',
  ].join(' '),
  inputSchema: idOnlyInput,
  outputSchema: z.object({ id: z.string(), deleted: z.literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(raw, context) {
    const { id } = raw as z.infer<typeof idOnlyInput>;
    const { deleted } = await context.memory.delete(id, call(context));
    if (!deleted) throw new NotFoundError('memory', id);
    return { id, deleted: true };
  },
};

/** The six tools, in the order `tools/list` shows them. */
export const MEM_TOOLS: readonly MemTool[] = [addTool, searchTool, listTool, getTool, updateTool, deleteTool];

/** What the server tells the model on connect: when to use which tool. */
export const SERVER_INSTRUCTIONS = [
  'Long-term memory about the user, kept across conversations.',
  'Before answering anything that may depend on what the user told you before (preferences, plans, people, history), call search_memories with a short query.',
  'When the user shares a durable fact about themselves or asks you to remember something, call add_memory.',
  'Use update_memory and delete_memory when the user corrects something or asks you to forget it; ids come from search_memories or list_memories.',
  "You only ever see this user's memories; the server decides who the user is, so never ask for or pass a user id.",
].join(' ');
