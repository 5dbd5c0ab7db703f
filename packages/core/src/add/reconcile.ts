import { MissingSettingError } from '../contract/errors';
import type { JsonSchema } from '../contract/interfaces';
import type { MemoryRecord } from '../contract/types';
import { memoryTextProblem, toWellFormed } from '../contract/validation';
import { conversationPrompt, reconcileSystemPrompt } from '../llm/prompts';
import { generateJson, type Validator } from '../llm/structured-output';
import type { AddContext, GraphPlan, PlannedOperation } from './add-strategy';
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

/** The reconcile schema with the graph part (entities, relations, ended) beside the operations. */
const OPERATIONS_WITH_GRAPH_SCHEMA: JsonSchema = {
  ...OPERATIONS_SCHEMA,
  properties: { ...(OPERATIONS_SCHEMA.properties as object), ...GRAPH_OUTPUT_PROPERTIES },
  required: ['operations', ...Object.keys(GRAPH_OUTPUT_PROPERTIES)],
};

interface RawOperation {
  op: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE';
  id: string | null;
  text: string | null;
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
    const { op, id, text } = item as Record<string, unknown>;
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
    operations.push({ op: kind, id: known, text: trimmed });
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
  const answer = await generateJson({
    llm: context.llm,
    name: 'memory_operations',
    schema: graph ? OPERATIONS_WITH_GRAPH_SCHEMA : OPERATIONS_SCHEMA,
    validate: (value) => {
      const checked = validateOperations(value, aliases);
      return checked.ok
        ? { ok: true as const, value: { operations: checked.value, graph: graph ? readGraphExtraction(value) : undefined } }
        : checked;
    },
    meter: context.meter,
    ...(context.signal ? { signal: context.signal } : {}),
    messages: [
      { role: 'system', content: reconcileSystemPrompt(context.prompts.extraction, context.prompts.update, { graph }) },
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
    switch (operation.op) {
      case 'ADD':
        return [{ kind: 'ADD', text: text! }];
      case 'UPDATE':
        // An unknown id must not lose the fact: the apply step turns it into an ADD.
        return [id ? { kind: 'UPDATE', id, text: text! } : { kind: 'ADD', text: text! }];
      case 'DELETE':
        // A DELETE that carries a new fact replaces the memory: an UPDATE, so the old text stays in
        // history and the new one is stored (dropping it is how contradictions lose facts). A DELETE
        // of an unknown id with a text was refused by the validator; without a text it touches nothing.
        if (!id) return [];
        return newText === null ? [{ kind: 'DELETE', id }] : [{ kind: 'UPDATE', id, text: newText }];
      case 'NONE':
        // "Already stored" with another text: the memory stays as it is and the text is added too
        // (an exact duplicate becomes NONE when applied), so neither is lost.
        if (newText !== null)
          return id
            ? [
                { kind: 'NONE', id },
                { kind: 'ADD', text: newText },
              ]
            : [{ kind: 'ADD', text: newText }];
        return id ? [{ kind: 'NONE', id }] : [];
    }
  });
  return { operations, ...(answer.graph && shownRelations ? { graph: { extraction: answer.graph, shown: shownRelations } } : {}) };
}
