import { MissingSettingError } from '../contract/errors';
import type { JsonSchema } from '../contract/interfaces';
import { memoryTextProblem, toWellFormed } from '../contract/validation';
import { additiveSystemPrompt, conversationPrompt } from '../llm/prompts';
import { generateJson, type Validator } from '../llm/structured-output';
import type { AddContext } from './add-strategy';
import { withImages } from './images';

const FACTS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' } } },
  required: ['facts'],
  additionalProperties: false,
};

const validateFacts: Validator<string[]> = (value) => {
  const list = Array.isArray(value) ? value : (value as { facts?: unknown } | null)?.facts;
  if (!Array.isArray(list)) return { ok: false, problem: 'expected an object with a "facts" array' };
  const facts: string[] = [];
  for (const [index, fact] of list.entries()) {
    const text =
      typeof fact === 'string'
        ? fact
        : typeof fact === 'object' && fact !== null && typeof (fact as { text?: unknown }).text === 'string'
          ? (fact as { text: string }).text
          : undefined;
    if (text === undefined) return { ok: false, problem: `facts[${index}] is not a string` };
    const trimmed = toWellFormed(text).trim();
    const tooLong = memoryTextProblem(trimmed);
    if (tooLong) return { ok: false, problem: `facts[${index}]: ${tooLong}` };
    if (trimmed !== '') facts.push(trimmed);
  }
  return { ok: true, value: facts };
};

/** The `additive` strategy's extraction: one LLM call, facts only. */
export async function extractFacts(context: AddContext): Promise<string[]> {
  if (!context.llm) {
    throw new MissingSettingError(
      'llm',
      'The additive strategy extracts facts with an LLM: pass { llm } to new Memory(), or add with { infer: false }.',
    );
  }
  return generateJson({
    llm: context.llm,
    name: 'memory_facts',
    schema: FACTS_SCHEMA,
    validate: validateFacts,
    meter: context.meter,
    ...(context.signal ? { signal: context.signal } : {}),
    messages: [
      { role: 'system', content: additiveSystemPrompt(context.prompts.extraction) },
      { role: 'user', ...withImages(conversationPrompt({ occurredAt: context.occurredAt, messages: context.messages }), context.images) },
    ],
  });
}
