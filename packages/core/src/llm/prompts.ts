/**
 * The prompts of the add pipeline. Written for this project; kept short on purpose: every token
 * here is paid on every `add` (the target is at most a quarter of Mem0's ~8,300 prompt tokens).
 */

/** What to remember. Replace it with `prompts.extraction` (or `add(..., { prompt })`). */
export const DEFAULT_EXTRACTION_INSTRUCTIONS = `Remember durable facts about the people in the conversation, mainly the user: preferences, dislikes, plans, relationships, biography, health, work, possessions, and events with their dates. Skip greetings, small talk, questions without an answer, and anything only about the assistant.
Write each fact as one short, self-contained statement that names or implies its subject ("Is vegetarian", "Moved to Lisbon in May 2024", "Caroline's sister is a nurse"). Turn relative dates ("yesterday", "last week") into dates using the conversation date. Keep the language the user wrote in.`;

/** How to reconcile facts with what is stored. Replace it with `prompts.update`. */
export const DEFAULT_UPDATE_INSTRUCTIONS = `For each fact, pick one operation:
- ADD: a new fact. "id": null.
- UPDATE: the fact changes, corrects or adds detail to an existing memory. "id": that memory; "text": the full new statement (the old one is kept in history).
- DELETE: the conversation says an existing memory is no longer true and gives nothing to replace it, or the user asks to forget it. "id": that memory; "text": null.
- NONE: the fact is already stored as it is. "id": that memory; "text": null.
Use only ids from "Existing memories". A fact that replaces a memory is an UPDATE, never a DELETE plus nothing. Memories the conversation does not touch get no operation.`;

/**
 * How to turn the conversation into a graph, added to the system prompt when a graph store is
 * configured. Entity names are normalised by core afterwards (lower case, collapsed spaces).
 */
export const GRAPH_INSTRUCTIONS = `Also record the facts as a graph:
- "entities": the people, places, organisations, pets, things and concepts the facts are about, each with a short lower-case type (person, city, company, pet, food, hobby, ...). Call the user "user".
- "relations": the facts as (source, relation, target) between those entities. Relation names are lower snake_case and present tense: lives_in, works_at, sister_of, likes, owns.
- "ended": ids of "Existing relations" the conversation says are no longer true.`;

/** The JSON shape of the graph part of an answer. */
const GRAPH_REPLY_SHAPE = `"entities":[{"name":string,"type":string}],"relations":[{"source":string,"relation":string,"target":string}],"ended":[string]`;

/**
 * The single system prompt of the `reconcile` strategy: extraction and decision in one call. With
 * `{ graph: true }` the same call also returns entities, relations and ended relation ids.
 */
export function reconcileSystemPrompt(extraction: string, update: string, options: { readonly graph?: boolean } = {}): string {
  const graph = options.graph === true;
  return `You maintain an AI assistant's long-term memory. Read the new conversation, find the facts worth remembering, and decide how each one changes the existing memories.

${extraction}

${update}
${graph ? `\n${GRAPH_INSTRUCTIONS}\n` : ''}
Reply with JSON only: {"operations":[{"op":"ADD"|"UPDATE"|"DELETE"|"NONE","id":string|null,"text":string|null}]${graph ? `,${GRAPH_REPLY_SHAPE}` : ''}}. Reply {"operations":[]${graph ? ',"entities":[],"relations":[],"ended":[]' : ''}} when nothing is worth remembering.`;
}

/** The system prompt of a graph-only extraction call (strategies other than `reconcile`). */
export function graphSystemPrompt(): string {
  return `You maintain an AI assistant's long-term memory as a knowledge graph. Read the conversation and record the durable facts about the people in it, mainly the user.

${GRAPH_INSTRUCTIONS}

Reply with JSON only: {${GRAPH_REPLY_SHAPE}}. Reply {"entities":[],"relations":[],"ended":[]} when nothing is worth remembering.`;
}

/** The system prompt of the `additive` strategy: extraction only. */
export function additiveSystemPrompt(extraction: string): string {
  return `You maintain an AI assistant's long-term memory. Read the conversation and list the facts worth remembering.

${extraction}

Reply with JSON only: {"facts":[string]}. Reply {"facts":[]} when nothing is worth remembering.`;
}

/** The user prompt: the date, the existing memories (short aliases), and the conversation. */
export function conversationPrompt(options: {
  occurredAt: Date;
  existing?: readonly { alias: string; text: string }[];
  /** Stored graph relations the conversation may end, as `g1: user lives_in lisbon` (graph memory only). */
  relations?: readonly { alias: string; text: string }[];
  messages: readonly { role: string; content: string; name?: string }[];
}): string {
  const date = options.occurredAt.toISOString().slice(0, 10);
  const weekday = options.occurredAt.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
  const lines = [`Conversation date: ${date} (${weekday})`];
  if (options.existing) {
    lines.push('', 'Existing memories:');
    if (options.existing.length === 0) lines.push('(none)');
    for (const memory of options.existing) lines.push(`${memory.alias}: ${memory.text}`);
  }
  if (options.relations && options.relations.length > 0) {
    lines.push('', 'Existing relations:');
    for (const relation of options.relations) lines.push(`${relation.alias}: ${relation.text}`);
  }
  lines.push('', 'Conversation:');
  for (const message of options.messages) {
    if (message.role === 'system' || message.content.trim() === '') continue;
    lines.push(`${message.name ? `${message.role} (${message.name})` : message.role}: ${message.content}`);
  }
  return lines.join('\n');
}
