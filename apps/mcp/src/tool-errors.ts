import { SCOPE_FIELDS } from '@mem/core/adapter';
import { InvalidInputError, MemError } from '@mem/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type * as z from 'zod';

/**
 * Turns invalid tool arguments into an {@link InvalidInputError} naming the offending argument
 * (`limit`, `messages[0].role`), in the same words as core's own validation. Zod's messages name
 * types and bounds, never the value passed.
 */
export function invalidArguments(error: z.ZodError): InvalidInputError {
  const issue = error.issues[0];
  if (!issue) return new InvalidInputError('arguments', 'they do not match the input schema', "Check the tool's input schema.");
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const field = formatPath([...issue.path, key]);
    const fix = (SCOPE_FIELDS as readonly string[]).includes(key)
      ? 'The server decides whose memories you see; leave it out.'
      : "Leave it out; the tool's input schema lists the arguments.";
    return new InvalidInputError(field, 'is not an argument of this tool', fix);
  }
  const field = formatPath(issue.path) || 'arguments';
  let problem = issue.message.replace(/^Invalid input(: |$)/, '');
  if (/received undefined$/.test(problem)) problem = 'is required';
  if (problem === '') problem = 'has an unsupported type or shape';
  const argument = typeof issue.path[0] === 'string' ? issue.path[0] : '';
  const fix = FIXES[argument] ?? "Check the tool's input schema.";
  return new InvalidInputError(field, problem.charAt(0).toLowerCase() + problem.slice(1), fix);
}

/** What to do instead, per argument: the model reads these to retry. */
const FIXES: { readonly [argument: string]: string } = {
  query: 'Pass a short description of what you need, e.g. "food preferences".',
  limit: 'Pass an integer from 1 to 100, e.g. 10, or leave it out.',
  pageSize: 'Pass an integer from 1 to 100, e.g. 20, or leave it out.',
  threshold: 'Pass a number from -1 to 1, e.g. 0.3, or leave it out.',
  metadata: 'Metadata values are strings, numbers, booleans or lists of strings, e.g. {"category": "food"}.',
  messages: 'Pass e.g. [{"role": "user", "content": "I am vegetarian"}].',
  id: 'Pass an id from search_memories or list_memories results.',
  cursor: 'Pass the nextCursor of the previous page, or leave it out for the first page.',
  text: 'Pass the fact as plain text, e.g. "Is vegetarian".',
  infer: 'Pass true or false, or leave it out.',
  occurredAt: 'Pass an ISO 8601 date such as "2024-06-10", or leave it out.',
  filter: 'Write filters like {"category": "food"}.',
  idempotencyKey: 'Pass a fresh key such as a UUID, or leave it out.',
};

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : `${text === '' ? '' : '.'}${String(part)}`;
  }
  return text;
}

/** A tool error result: `isError` with one text, `CODE: message`. */
export function toolError(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] };
}

/**
 * Turns a failure into a tool error the model can act on. A {@link MemError} keeps its code and
 * message (core and the adapters keep secrets, bodies and memory text out of them); core's option
 * paths (`options.limit`, `change.text`) are renamed to the tool's arguments (`limit`, `text`).
 * Anything else becomes a generic `INTERNAL` error: its message and stack stay on the server.
 */
export function toToolError(error: unknown): CallToolResult {
  if (MemError.is(error)) {
    let message = error.message;
    if (MemError.is(error, 'INVALID_INPUT')) {
      const field = (error as InvalidInputError).field;
      const argument = typeof field === 'string' ? field.replace(/^(options|change)\./, '') : field;
      if (argument !== field) message = message.replace(`Invalid ${field}`, `Invalid ${argument}`);
    }
    return toolError(error.code, message);
  }
  return toolError('INTERNAL', 'the memory server failed unexpectedly; the details are in its log. Retrying may help.');
}
