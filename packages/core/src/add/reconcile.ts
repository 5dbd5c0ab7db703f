import { MissingSettingError } from '../contract/errors';
import type { JsonSchema } from '../contract/interfaces';
import type { MemoryRecord } from '../contract/types';
import { memoryTextProblem, toWellFormed, type CategoryDefinition } from '../contract/validation';
import { conversationPrompt, reconcileSystemPrompt } from '../llm/prompts';
import { generateJson, type Validator } from '../llm/structured-output';
import type { AddContext, GraphPlan, PlannedOperation } from './add-strategy';
import { categoriesProperty, readCategories } from './assign-categories';
import { GRAPH_OUTPUT_PROPERTIES, readGraphExtraction } from './graph-answer';
import { withImages } from './images';
import type { ShownRelation } from './shown-relations';

const OPERATIONS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          op: { type: 'string', enum: ['ADD', 'UPDATE', 'DELETE', 'NONE'] },
          id: { type: ['string', 'null'] },
          text: { type: ['string', 'null'] },
        },
        required: ['op', 'id', 'text'],
        additionalProperties: false,
      },
    },
  },
  required: ['operations'],
  additionalProperties: false,
};

/**
 * The reconcile schema: with the graph part (entities, relations, ended) beside the operations
 * when `graph`, and a `categories` list on each operation when custom categories are configured.
 */
function operationsSchema(graph: boolean, categories: readonly CategoryDefinition[]): JsonSchema {
  const operation = (OPERATIONS_SCHEMA.properties as { operations: { items: JsonSchema } }).operations.items as {
    properties: object;
    required: string[];
  };
  const items =
    categories.length === 0
      ? operation
      : {
          ...operation,
          properties: { ...operation.properties, categories: categoriesProperty(categories) },
          required: [...operation.required, 'categories'],
        };
  return {
    ...OPERATIONS_SCHEMA,
    properties: { operations: { type: 'array', items }, ...(graph ? GRAPH_OUTPUT_PROPERTIES : {}) },
    required: ['operations', ...(graph ? Object.keys(GRAPH_OUTPUT_PROPERTIES) : [])],
  };
}

interface RawOperation {
  op: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE';
  id: string | null;
  text: string | null;
  /** What the model answered for the categories, read by {@link readCategories}. */
  categories: unknown;
}

/**
 * Accepts the operations leniently where no fact can be lost (lower-case ops, a missing `op`
 * with a text means ADD, a numeric id) and rejects what cannot be read, which triggers the
 * corrective retry: an unknown op, an ADD or UPDATE without a text, a text over the limit of a
 * memory's text, and a DELETE carrying a text whose id is not one of the memories shown (`shown`,
 * by alias): its text may be the memory to delete or a new fact, and neither can be kept safely.
 */
const validateOperations = (value: unknown, shown: ReadonlyMap<string, unknown>): ReturnType<Validator<RawOperation[]>> => {
  const list = Array.isArray(value) ? value : (value as { operations?: unknown } | null)?.operations;
  if (!Array.isArray(list)) return { ok: false, problem: 'expected an object with an "operations" array' };
  const operations: RawOperation[] = [];
  for (const [index, item] of list.entries()) {
    if (typeof item !== 'object' || item === null) return { ok: false, problem: `operations[${index}] is not an object` };
    const { op, id, text, categories } = item as Record<string, unknown>;
    const kind = typeof op === 'string' ? op.trim().toUpperCase() : op === undefined && typeof text === 'string' ? 'ADD' : undefined;
    if (kind !== 'ADD' && kind !== 'UPDATE' && kind !== 'DELETE' && kind !== 'NONE') {
      return { ok: false, problem: `operations[${index}].op must be ADD, UPDATE, DELETE or NONE` };
    }
    if (text !== undefined && text !== null && typeof text !== 'string')
      return { ok: false, problem: `operations[${index}].text must be a string or null` };
    if ((kind === 'ADD' || kind === 'UPDATE') && (typeof text !== 'string' || text.trim() === '')) {
      return { ok: false, problem: `operations[${index}] is ${kind} without a text` };
    }
    const trimmed = typeof text === 'string' && text.trim() !== '' ? toWellFormed(text).trim() : null;
    const tooLong = trimmed === null ? undefined : memoryTextProblem(trimmed);
    if (tooLong) return { ok: false, problem: `operations[${index}].text: ${tooLong}` };
    const known = typeof id === 'string' || typeof id === 'number' ? String(id) : null;
    if (kind === 'DELETE' && trimmed !== null && (known === null || !shown.has(known.trim()))) {
      return {
        ok: false,
        problem: `operations[${index}] is a DELETE with a text, but its id is not one of the existing memories shown: use an id from "Existing memories", or ADD the fact`,
      };
    }
    operations.push({ op: kind, id: known, text: trimmed, categories });
  }
  return { ok: true, value: operations };
};

/** Equal up to case and runs of whitespace: the model repeating a memory's text. */
function sameWords(text: string, other: string | undefined): boolean {
  const words = (value: string) => value.trim().replace(/\s+/g, ' ').toLowerCase();
  return other !== undefined && words(text) === words(other);
}

/**
 * The `reconcile` strategy's decision: ONE LLM call that extracts the facts and
 * decides, per fact, ADD / UPDATE / DELETE / NONE against the candidates. Candidates are shown as
 * short aliases (`m1`, `m2`, …) and mapped back; an alias the model invents touches nothing.
 */
export async function resolveOperations(context: AddContext, candidates: readonly MemoryRecord[]): Promise<PlannedOperation[]> {
  return (await reconcile(context, candidates)).operations;
}

/**
 * {@link resolveOperations}; given `shownRelations` (graph memory), the SAME call also extracts
 * entities and relations and says which shown relations have ended, returned as `graph`.
 */
export async function reconcile(
  context: AddContext,
  candidates: readonly MemoryRecord[],
  shownRelations?: readonly ShownRelation[],
): Promise<{ operations: PlannedOperation[]; graph?: GraphPlan }> {
  if (!context.llm) {
    throw new MissingSettingError(
      'llm',
      'The reconcile strategy extracts facts with an LLM: pass { llm } to new Memory(), or add with { infer: false }.',
    );
  }
  const aliases = new Map<string, string>();
  const existing = candidates.map((record, index) => {
    const alias = `m${index + 1}`;
    aliases.set(alias, record.id);
    return { alias, text: record.text };
  });
  const graph = shownRelations !== undefined;
  const categories = context.categories ?? [];
  const answer = await generateJson({
    llm: context.llm,
    name: 'memory_operations',
    schema: graph || categories.length > 0 ? operationsSchema(graph, categories) : OPERATIONS_SCHEMA,
    validate: (value) => {
      const checked = validateOperations(value, aliases);
      return checked.ok
        ? { ok: true as const, value: { operations: checked.value, graph: graph ? readGraphExtraction(value) : undefined } }
        : checked;
    },
    meter: context.meter,
    ...(context.signal ? { signal: context.signal } : {}),
    messages: [
      { role: 'system', content: reconcileSystemPrompt(context.prompts.extraction, context.prompts.update, { graph, categories }) },
      {
        role: 'user',
        ...withImages(
          conversationPrompt({
            occurredAt: context.occurredAt,
            existing,
            ...(graph ? { relations: shownRelations } : {}),
            messages: context.messages,
          }),
          context.images,
        ),
      },
    ],
  });
  const shownText = new Map(existing.map((memory) => [memory.alias, memory.text]));
  const operations = answer.operations.flatMap((operation): PlannedOperation[] => {
    const alias = operation.id?.trim();
    const id = alias === undefined ? undefined : aliases.get(alias);
    const { text } = operation;
    // A text that only repeats the memory named by the id is no new fact.
    const newText = text !== null && !(alias !== undefined && sameWords(text, shownText.get(alias))) ? text : null;
    const assigned = categories.length === 0 ? {} : { categories: readCategories(operation.categories, categories) };
    switch (operation.op) {
      case 'ADD':
        return [{ kind: 'ADD', text: text!, ...assigned }];
      case 'UPDATE':
        // An unknown id must not lose the fact: the apply step turns it into an ADD.
        return [id ? { kind: 'UPDATE', id, text: text!, ...assigned } : { kind: 'ADD', text: text!, ...assigned }];
      case 'DELETE':
        // A DELETE that carries a new fact replaces the memory: an UPDATE, so the old text stays in
        // history and the new one is stored (dropping it is how contradictions lose facts). A DELETE
        // of an unknown id with a text was refused by the validator; without a text it touches nothing.
        if (!id) return [];
        return newText === null ? [{ kind: 'DELETE', id }] : [{ kind: 'UPDATE', id, text: newText, ...assigned }];
      case 'NONE':
        // "Already stored" with another text: the memory stays as it is and the text is added too
        // (an exact duplicate becomes NONE when applied), so neither is lost.
        if (newText !== null)
          return id
            ? [
                { kind: 'NONE', id },
                { kind: 'ADD', text: newText, ...assigned },
              ]
            : [{ kind: 'ADD', text: newText, ...assigned }];
        return id ? [{ kind: 'NONE', id }] : [];
    }
  });
  return { operations, ...(answer.graph && shownRelations ? { graph: { extraction: answer.graph, shown: shownRelations } } : {}) };
}
