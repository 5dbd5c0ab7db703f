import type { MemoryRecord, TextChatMessage } from '../contract/types';
import type { AddStrategy } from './add-strategy';
import { extractCategorizedFacts } from './extract-facts';
import { reconcile } from './reconcile';
import { retrieveCandidatesWithVectors } from './retrieve-candidates';
import { retrieveGraphContext } from './shown-relations';

const NO_CANDIDATES: ReadonlyMap<string, MemoryRecord> = new Map();

/**
 * The default strategy: retrieve the closest memories, then ONE LLM call extracts the facts and
 * decides ADD / UPDATE / DELETE / NONE for each. Two embedding calls per `add` (messages, new texts).
 * With graph memory the same call also extracts entities and relations (shown the stored relations
 * it may end); the graph adds one embedding call (entity names) and no LLM call.
 */
export const reconcileStrategy: AddStrategy = {
  name: 'reconcile',
  needsLLM: true,
  imageInput: true,
  async plan(context) {
    const { candidates, vectors } = await retrieveCandidatesWithVectors(context);
    const shown = context.graph
      ? await retrieveGraphContext({
          settings: context.graph,
          scope: context.scope,
          vectors,
          ...(context.signal ? { signal: context.signal } : {}),
        })
      : undefined;
    const { operations, graph } = await reconcile(context, candidates, shown);
    return { operations, candidates: new Map(candidates.map((record) => [record.id, record])), ...(graph ? { graph } : {}) };
  },
};

/** ADD only: one LLM call extracts facts; exact duplicates (same hash in scope) are skipped. */
export const additiveStrategy: AddStrategy = {
  name: 'additive',
  needsLLM: true,
  imageInput: true,
  async plan(context) {
    const facts = await extractCategorizedFacts(context);
    const categorized = (context.categories ?? []).length > 0;
    return {
      operations: facts.map((fact) => ({ kind: 'ADD', text: fact.text, ...(categorized ? { categories: fact.categories } : {}) })),
      candidates: NO_CANDIDATES,
    };
  },
};

/** `infer: false`: every non-empty, non-system message is stored as given ("name: content" when named). No LLM. */
export const rawStrategy: AddStrategy = {
  name: 'raw',
  needsLLM: false,
  async plan(context) {
    const operations = context.messages.flatMap((message) => {
      const text = rawMemoryText(message);
      return text === undefined ? [] : [{ kind: 'ADD' as const, text }];
    });
    return { operations, candidates: NO_CANDIDATES };
  },
};

/** The memory `infer: false` stores for a message ("name: content" when named), or undefined for a system or empty message. */
export function rawMemoryText(message: TextChatMessage): string | undefined {
  // An assistant message that only calls tools has no text to store.
  if (message.role === 'system' || message.content.trim() === '') return undefined;
  return message.name ? `${message.name}: ${message.content.trim()}` : message.content.trim();
}
