import type { Scope } from '@mem/core/adapter';
import type { AddOptions, Memory, MemoryItem } from '@mem/core';
import { INPUT_LIMITS, InvalidInputError, integerOption, MemError, validateScope } from '@mem/core/adapter';
import { jsonSchema, tool, type Tool } from 'ai';

/** What the tools need of a {@link Memory}. */
export type MemoryForTools = Pick<Memory, 'search' | 'add' | 'update' | 'delete' | 'getAll'>;

/** Options of {@link memoryTools}. */
export interface MemoryToolsOptions {
  /**
   * Whose memories every tool reads and writes: fixed by the caller (e.g. from the signed-in
   * session). No tool has a scope argument, and a call naming one is rejected.
   */
  readonly scope: Scope;
  /** Options of each `memory.add` by `addMemory`: `infer` (extract and reconcile with the LLM), `metadata`. @default Memory's defaults */
  readonly addOptions?: Pick<AddOptions, 'infer' | 'metadata'>;
  /** Most results `searchMemories` returns, and its default. @default 10 */
  readonly maxSearchResults?: number;
}

/** A memory as a tool returns it to the model. */
export interface MemoryToolItem {
  readonly id: string;
  readonly text: string;
  /** When it was said, `YYYY-MM-DD`. */
  readonly date: string;
}

export interface SearchMemoriesInput {
  readonly query: string;
  readonly limit?: number;
}
export interface AddMemoryInput {
  readonly text: string;
}
export interface UpdateMemoryInput {
  readonly id: string;
  readonly text: string;
}
export interface DeleteMemoryInput {
  readonly id: string;
}
export interface ListMemoriesInput {
  readonly limit?: number;
  readonly cursor?: string;
}

/**
 * The tools {@link memoryTools} returns, by the names the model sees. A type alias, not an interface,
 * so it is assignable to the AI SDK's `ToolSet` (a record type).
 */
export type MemoryTools = {
  readonly searchMemories: Tool<SearchMemoriesInput, { memories: (MemoryToolItem & { score: number })[] }>;
  readonly addMemory: Tool<AddMemoryInput, { events: { kind: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE'; id: string; text: string }[] }>;
  readonly updateMemory: Tool<UpdateMemoryInput, { updated: true; memory: MemoryToolItem } | { updated: false; reason: string }>;
  readonly deleteMemory: Tool<DeleteMemoryInput, { deleted: boolean }>;
  readonly listMemories: Tool<ListMemoriesInput, { memories: MemoryToolItem[]; nextCursor?: string }>;
};

const SCOPE_NOTE = 'The user is fixed by the application: no argument can name another user.';

/**
 * Memory as AI SDK tools, for agents that decide when to remember: `searchMemories`, `addMemory`,
 * `updateMemory`, `deleteMemory` and `listMemories`, each with a JSON input schema the model sees and
 * a validator the AI SDK runs before `execute`. Every call is bound to `scope`: the schemas have no
 * scope field, an argument outside the schema (a `userId`, say) is rejected as invalid input, and ids
 * of memories outside the scope are not found, so a model or a prompt injection cannot reach another
 * user's memories.
 *
 * @throws {InvalidInputError} for an invalid scope or option.
 * @example
 * const { text } = await generateText({
 *   model: openai('gpt-4.1-mini'),
 *   tools: memoryTools(memory, { scope: { userId: session.userId } }),
 *   stopWhen: stepCountIs(5),
 *   prompt: 'Remember that I am vegetarian.',
 * });
 */
export function memoryTools(memory: MemoryForTools, options: MemoryToolsOptions): MemoryTools {
  for (const method of ['search', 'add', 'update', 'delete', 'getAll'] as const) {
    if (typeof memory?.[method] !== 'function') {
      throw new InvalidInputError('memory', `is not a mem Memory (no ${method} method)`, 'Pass the Memory the tools work on.');
    }
  }
  const scope = Object.freeze(validateScope(options?.scope, 'options.scope'));
  const maxResults = integerOption(options.maxSearchResults, 'options.maxSearchResults', 10, 1, 100);
  const addOptions = options.addOptions ?? {};
  const signalOf = (execution: { abortSignal?: AbortSignal } | undefined) =>
    execution?.abortSignal ? { signal: execution.abortSignal } : {};

  const text = (description: string, max: number) => ({ type: 'string', minLength: 1, maxLength: max, description }) as const;
  const id = {
    type: 'string',
    minLength: 1,
    maxLength: INPUT_LIMITS.maxIdLength,
    description: 'The id of a memory, as a tool returned it.',
  };

  return {
    searchMemories: tool({
      description: `Search the user's long-term memories for facts relevant to a query (preferences, plans, people, past events). ${SCOPE_NOTE}`,
      inputSchema: jsonSchema<SearchMemoriesInput>(
        {
          type: 'object',
          properties: {
            query: text('What to look for, in plain words.', INPUT_LIMITS.maxQueryLength),
            limit: { type: 'integer', minimum: 1, maximum: maxResults, description: `Most memories to return (default ${maxResults}).` },
          },
          required: ['query'],
          additionalProperties: false,
        },
        { validate: validator(['query'], ['limit'], { query: 'text', limit: ['integer', 1, maxResults] }) },
      ),
      execute: async (input, execution) => {
        const { results } = await memory.search(input.query, { scope, limit: input.limit ?? maxResults, ...signalOf(execution) });
        return { memories: results.map((result) => ({ ...item(result), score: Math.round(result.score * 1000) / 1000 })) };
      },
    }),
    addMemory: tool({
      description: `Remember a durable fact about the user for later conversations, in one short sentence. ${SCOPE_NOTE}`,
      inputSchema: jsonSchema<AddMemoryInput>(
        {
          type: 'object',
          properties: { text: text('The fact, e.g. "Is vegetarian".', INPUT_LIMITS.maxMemoryTextLength) },
          required: ['text'],
          additionalProperties: false,
        },
        { validate: validator(['text'], [], { text: 'text' }) },
      ),
      execute: async (input, execution) => {
        const result = await memory.add([{ role: 'user', content: input.text }], { ...addOptions, scope, ...signalOf(execution) });
        return { events: result.events.map((event) => ({ kind: event.kind, id: event.id, text: event.text })) };
      },
    }),
    updateMemory: tool({
      description: `Replace the text of one of the user's memories, e.g. when a fact changed. ${SCOPE_NOTE}`,
      inputSchema: jsonSchema<UpdateMemoryInput>(
        {
          type: 'object',
          properties: { id, text: text('The new text of the memory.', INPUT_LIMITS.maxMemoryTextLength) },
          required: ['id', 'text'],
          additionalProperties: false,
        },
        { validate: validator(['id', 'text'], [], { id: 'text', text: 'text' }) },
      ),
      execute: async (input, execution) => {
        try {
          const { memory: updated } = await memory.update(input.id, input.text, { scope, ...signalOf(execution) });
          return { updated: true as const, memory: item(updated) };
        } catch (error) {
          if (MemError.is(error, 'NOT_FOUND')) return { updated: false as const, reason: 'The user has no memory with this id.' };
          throw error;
        }
      },
    }),
    deleteMemory: tool({
      description: `Forget one of the user's memories, e.g. when the user asks to or it is no longer true. ${SCOPE_NOTE}`,
      inputSchema: jsonSchema<DeleteMemoryInput>(
        { type: 'object', properties: { id }, required: ['id'], additionalProperties: false },
        { validate: validator(['id'], [], { id: 'text' }) },
      ),
      execute: async (input, execution) => memory.delete(input.id, { scope, ...signalOf(execution) }),
    }),
    listMemories: tool({
      description: `List the user's memories, oldest first, a page at a time. ${SCOPE_NOTE}`,
      inputSchema: jsonSchema<ListMemoriesInput>(
        {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100, description: 'Most memories in this page (default 20).' },
            cursor: { type: 'string', minLength: 1, maxLength: INPUT_LIMITS.maxIdLength, description: 'nextCursor of the previous page.' },
          },
          additionalProperties: false,
        },
        { validate: validator([], ['limit', 'cursor'], { limit: ['integer', 1, 100], cursor: 'text' }) },
      ),
      execute: async (input, execution) => {
        const page = await memory.getAll({
          scope,
          pageSize: input.limit ?? 20,
          ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
          ...signalOf(execution),
        });
        return { memories: page.results.map(item), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
      },
    }),
  };
}

function item(memory: MemoryItem): MemoryToolItem {
  return { id: memory.id, text: memory.text, date: memory.occurredAt.toISOString().slice(0, 10) };
}

type FieldRule = 'text' | readonly ['integer', number, number];

/**
 * A validator for the AI SDK's `jsonSchema`: the model's arguments must have exactly the schema's
 * fields with the right types. An extra field (a `userId`, a `scope`) is rejected with a message the
 * model reads, instead of being silently ignored.
 */
function validator<T>(required: readonly string[], optional: readonly string[], rules: { readonly [field: string]: FieldRule }) {
  return (value: unknown): { success: true; value: T } | { success: false; error: Error } => {
    const fail = (problem: string) => ({ success: false as const, error: new Error(`Invalid tool input: ${problem}`) });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a JSON object.');
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!required.includes(key) && !optional.includes(key)) {
        return fail(
          `unknown field "${key.slice(0, 64)}". ${SCOPE_NOTE} Allowed fields: ${[...required, ...optional].join(', ') || 'none'}.`,
        );
      }
    }
    for (const key of [...required, ...optional]) {
      const field = record[key];
      if (field === undefined) {
        if (required.includes(key)) return fail(`"${key}" is required.`);
        continue;
      }
      const rule = rules[key];
      if (rule === 'text' && (typeof field !== 'string' || field.trim().length === 0)) return fail(`"${key}" must be a non-empty string.`);
      if (Array.isArray(rule) && (!Number.isInteger(field) || (field as number) < rule[1] || (field as number) > rule[2])) {
        return fail(`"${key}" must be an integer from ${rule[1]} to ${rule[2]}.`);
      }
    }
    return { success: true, value: value as T };
  };
}
