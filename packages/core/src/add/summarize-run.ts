import { MissingSettingError } from '../contract/errors';
import type { JsonSchema } from '../contract/interfaces';
import { memoryTextProblem, toWellFormed } from '../contract/validation';
import { conversationPrompt, proceduralSystemPrompt } from '../llm/prompts';
import { generateJson, type Validator } from '../llm/structured-output';
import type { AddContext, AddStrategy } from './add-strategy';
import { withImages } from './images';

const SUMMARY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { summary: { type: 'string' } },
  required: ['summary'],
  additionalProperties: false,
};

/** A non-empty summary within the limit of a memory's text; anything else triggers the corrective retry. */
const validateSummary: Validator<string> = (value) => {
  const summary = typeof value === 'string' ? value : (value as { summary?: unknown } | null)?.summary;
  if (typeof summary !== 'string') return { ok: false, problem: 'expected an object with a "summary" string' };
  const trimmed = toWellFormed(summary).trim();
  if (trimmed === '') return { ok: false, problem: 'the summary is empty: summarise the run' };
  const tooLong = memoryTextProblem(trimmed);
  if (tooLong) return { ok: false, problem: `summary: ${tooLong}; summarise more briefly, keeping commands, ids and values verbatim` };
  return { ok: true, value: trimmed };
};

/**
 * Summarises an agent's run (its messages, tool calls and tool results) into the text of ONE
 * procedural memory, with one LLM call. `context.prompts.extraction` holds the procedural
 * instructions in force. Images of the run are handled as in any add (`MemoryOptions.images`): seen
 * in this call when the model takes images, else described in calls of their own, else left out
 * with a note.
 * @throws {MissingSettingError} without an LLM.
 */
export async function summarizeRun(context: AddContext): Promise<string> {
  if (!context.llm) {
    throw new MissingSettingError(
      'llm',
      'A procedural memory is a summary written by an LLM: pass { llm } to new Memory() to add with memoryType: "procedural".',
    );
  }
  return generateJson({
    llm: context.llm,
    name: 'procedural_memory',
    schema: SUMMARY_SCHEMA,
    validate: validateSummary,
    meter: context.meter,
    ...(context.signal ? { signal: context.signal } : {}),
    messages: [
      { role: 'system', content: proceduralSystemPrompt(context.prompts.extraction) },
      { role: 'user', ...withImages(conversationPrompt({ occurredAt: context.occurredAt, messages: context.messages }), context.images) },
    ],
  });
}

/**
 * `add` with `memoryType: 'procedural'`: one LLM call summarises the run into one new memory. No
 * stored memory is read or changed (each run gets its own memory; an identical summary already
 * stored as a procedural memory of the scope is not stored twice).
 */
export const proceduralStrategy: AddStrategy = {
  name: 'procedural',
  needsLLM: true,
  imageInput: true,
  async plan(context) {
    return { operations: [{ kind: 'ADD', text: await summarizeRun(context) }], candidates: new Map() };
  },
};
