import { extractFacts } from './extract';
import { resolveOperations } from './resolve';
import { retrieveCandidates } from './retrieve';
import type { MemoryRecord } from '../types';
import type { AddStrategy } from './strategy';

const NO_CANDIDATES: ReadonlyMap<string, MemoryRecord> = new Map();

/**
 * The default strategy: retrieve the closest memories, then ONE LLM call extracts the facts and
 * decides ADD / UPDATE / DELETE / NONE for each. Two embedding calls per `add` (messages, new texts).
 */
export const reconcileStrategy: AddStrategy = {
  name: 'reconcile',
  needsLLM: true,
  async plan(context) {
    const candidates = await retrieveCandidates(context);
    const operations = await resolveOperations(context, candidates);
    return { operations, candidates: new Map(candidates.map((record) => [record.id, record])) };
  },
};

/** ADD only: one LLM call extracts facts; exact duplicates (same hash in scope) are skipped. */
export const additiveStrategy: AddStrategy = {
  name: 'additive',
  needsLLM: true,
  async plan(context) {
    const facts = await extractFacts(context);
    return { operations: facts.map((text) => ({ kind: 'ADD', text })), candidates: NO_CANDIDATES };
  },
};

/** `infer: false`: every non-empty, non-system message is stored as given ("name: content" when named). No LLM. */
export const rawStrategy: AddStrategy = {
  name: 'raw',
  needsLLM: false,
  async plan(context) {
    const operations = context.messages
      .filter((message) => message.role !== 'system' && message.content.trim() !== '')
      .map((message) => ({ kind: 'ADD' as const, text: message.name ? `${message.name}: ${message.content.trim()}` : message.content.trim() }));
    return { operations, candidates: NO_CANDIDATES };
  },
};
