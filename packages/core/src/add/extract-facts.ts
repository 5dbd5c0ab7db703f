import { MissingSettingError } from '../contract/errors';
import type { JsonSchema } from '../contract/interfaces';
import { memoryTextProblem, toWellFormed, type CategoryDefinition } from '../contract/validation';
import { additiveSystemPrompt, conversationPrompt } from '../llm/prompts';
import { generateJson, type Validator } from '../llm/structured-output';
import type { AddContext } from './add-strategy';
import { categoriesProperty, readCategories } from './assign-categories';
import { withImages } from './images';

const FACTS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' } } },
  required: ['facts'],
  additionalProperties: false,
};

/** The facts schema when custom categories are configured: each fact an object with its categories. */
function factsWithCategoriesSchema(categories: readonly CategoryDefinition[]): JsonSchema {
  return {
    type: 'object',
    properties: {
      facts: {
        type: 'array',
        items: {
          type: 'object',
          properties: { text: { type: 'string' }, categories: categoriesProperty(categories) },
          required: ['text', 'categories'],
          additionalProperties: false,
        },
      },
    },
    required: ['facts'],
    additionalProperties: false,
  };
}

/** One extracted fact and the categories the model gave it (read by {@link readCategories}). */
interface RawFact {
  readonly text: string;
  readonly categories: unknown;
}

const validateFacts: Validator<RawFact[]> = (value) => {
  const list = Array.isArray(value) ? value : (value as { facts?: unknown } | null)?.facts;
  if (!Array.isArray(list)) return { ok: false, problem: 'expected an object with a "facts" array' };
  const facts: RawFact[] = [];
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
    const categories = typeof fact === 'object' && fact !== null ? (fact as { categories?: unknown }).categories : undefined;
    if (trimmed !== '') facts.push({ text: trimmed, categories });
  }
  return { ok: true, value: facts };
};

/** The `additive` strategy's extraction: one LLM call, facts only. */
export async function extractFacts(context: AddContext): Promise<string[]> {
  return (await extractCategorizedFacts(context)).map((fact) => fact.text);
}

/**
 * {@link extractFacts} with the custom categories (`context.categories`) the same call assigned to
 * each fact (names of the list only; `[]` for every fact when none are configured).
 */
export async function extractCategorizedFacts(context: AddContext): Promise<{ text: string; categories: string[] }[]> {
  if (!context.llm) {
    throw new MissingSettingError(
      'llm',
      'The additive strategy extracts facts with an LLM: pass { llm } to new Memory(), or add with { infer: false }.',
    );
  }
  const categories = context.categories ?? [];
  const facts = await generateJson({
    llm: context.llm,
    name: 'memory_facts',
    schema: categories.length > 0 ? factsWithCategoriesSchema(categories) : FACTS_SCHEMA,
    validate: validateFacts,
    meter: context.meter,
    ...(context.signal ? { signal: context.signal } : {}),
    messages: [
      { role: 'system', content: additiveSystemPrompt(context.prompts.extraction, { categories }) },
      { role: 'user', ...withImages(conversationPrompt({ occurredAt: context.occurredAt, messages: context.messages }), context.images) },
    ],
  });
  return facts.map((fact) => ({ text: fact.text, categories: readCategories(fact.categories, categories) }));
}
