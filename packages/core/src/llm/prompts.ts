/**
 * The prompts of the add pipeline. Written for this project; kept short on purpose: every token
 * here is paid on every `add` (the target is at most a quarter of Mem0's ~8,300 prompt tokens).
 */

/**
 * Keeps memories in the conversation's language. Part of the default extraction and procedural
 * instructions, and repeated in every system prompt of `add` so that custom instructions (often
 * written in English) do not make the model translate.
 */
export const LANGUAGE_INSTRUCTION = `Write each memory in the language the user wrote in (a conversation in Portuguese gives memories in Portuguese, one in Japanese gives Japanese): never translate, and keep names, quotes and terms as written.`;

/** What to remember. Replace it with `prompts.extraction` (or `add(..., { prompt })`). */
export const DEFAULT_EXTRACTION_INSTRUCTIONS = `Remember durable facts about the people in the conversation, mainly the user: preferences, dislikes, plans, relationships, biography, health, work, possessions, and events with their dates. Skip greetings, small talk, questions without an answer, and anything only about the assistant.
Write each fact as one short, self-contained statement that names or implies its subject ("Is vegetarian", "Moved to Lisbon in May 2024", "Caroline's sister is a nurse"). Turn relative dates ("yesterday", "last week") into dates using the conversation date.
${LANGUAGE_INSTRUCTION}`;

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
export function reconcileSystemPrompt(
  extraction: string,
  update: string,
  options: { readonly graph?: boolean; readonly categories?: readonly CategoryPromptEntry[] } = {},
): string {
  const graph = options.graph === true;
  const categories = options.categories !== undefined && options.categories.length > 0 ? options.categories : undefined;
  return `You maintain an AI assistant's long-term memory. Read the new conversation, find the facts worth remembering, and decide how each one changes the existing memories.

${extraction}

${update}
${graph ? `\n${GRAPH_INSTRUCTIONS}\n` : ''}${categories ? `\n${categoriesInstructions(categories, 'ADD or UPDATE')}\n` : ''}${languageReminder(extraction)}
Reply with JSON only: {"operations":[{"op":"ADD"|"UPDATE"|"DELETE"|"NONE","id":string|null,"text":string|null${categories ? ',"categories":[string]' : ''}}]${graph ? `,${GRAPH_REPLY_SHAPE}` : ''}}. Reply {"operations":[]${graph ? ',"entities":[],"relations":[],"ended":[]' : ''}} when nothing is worth remembering.`;
}

/** A custom category as the prompts show it. */
export interface CategoryPromptEntry {
  readonly name: string;
  readonly description?: string;
}

/** The custom categories section: the list, and how to assign them (`which` names the items that get them). */
export function categoriesInstructions(categories: readonly CategoryPromptEntry[], which: string): string {
  const list = categories.map((category) => `- ${category.name}${category.description ? `: ${category.description}` : ''}`);
  return `Categories: give each ${which} "categories", the names (exactly as written here) of the categories below that fit it, or [] when none does:
${list.join('\n')}`;
}

/** The language rule, unless the instructions already carry it word for word. */
function languageReminder(instructions: string): string {
  return instructions.includes(LANGUAGE_INSTRUCTION) ? '' : `\n${LANGUAGE_INSTRUCTION}\n`;
}

/** The system prompt of a graph-only extraction call (strategies other than `reconcile`). */
export function graphSystemPrompt(): string {
  return `You maintain an AI assistant's long-term memory as a knowledge graph. Read the conversation and record the durable facts about the people in it, mainly the user.

${GRAPH_INSTRUCTIONS}

Reply with JSON only: {${GRAPH_REPLY_SHAPE}}. Reply {"entities":[],"relations":[],"ended":[]} when nothing is worth remembering.`;
}

/** The system prompt of the `additive` strategy: extraction only. */
export function additiveSystemPrompt(extraction: string, options: { readonly categories?: readonly CategoryPromptEntry[] } = {}): string {
  const categories = options.categories !== undefined && options.categories.length > 0 ? options.categories : undefined;
  return `You maintain an AI assistant's long-term memory. Read the conversation and list the facts worth remembering.

${extraction}
${categories ? `\n${categoriesInstructions(categories, 'fact')}\n` : ''}${languageReminder(extraction)}
Reply with JSON only: ${categories ? '{"facts":[{"text":string,"categories":[string]}]}' : '{"facts":[string]}'}. Reply {"facts":[]} when nothing is worth remembering.`;
}

/**
 * How to summarise an agent's run into one procedural memory. Replace it with
 * `prompts.procedural` (or `add(..., { memoryType: 'procedural', prompt })`).
 */
export const DEFAULT_PROCEDURAL_INSTRUCTIONS = `Summarise the agent's run so that the agent can repeat it or continue it later without the transcript:
- Start with one line: the task, and whether it was completed, failed or left unfinished.
- Then number the steps in order. For each: what the agent did and why, the tool it called with its arguments, and what came back, with the result's key data.
- Copy verbatim everything that would be needed to do it again: commands, file paths, URLs, ids, names, numbers, dates, settings and error messages. Do not round, shorten or paraphrase them.
- End with the outcome, what is still open, and what to avoid next time (a step that failed and why).
Leave out greetings and chatter. Do not invent steps or results that are not in the run.
${LANGUAGE_INSTRUCTION}`;

/** The system prompt of a procedural `add`: one summary of the run, no reconciliation. */
export function proceduralSystemPrompt(instructions: string): string {
  return `You keep the procedural memory of an AI agent: a record of how it carried out a task. Read the agent's run (its messages, tool calls and tool results).

${instructions}
${languageReminder(instructions)}
Reply with JSON only: {"summary":string}.`;
}

/**
 * English weekday names by `Date.getUTCDay()`: what `toLocaleDateString('en-US', { weekday: 'long',
 * timeZone: 'UTC' })` gives, without building an Intl formatter on every add (about 0.4 ms each).
 */
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** The user prompt: the date, the existing memories (short aliases), and the conversation. */
export function conversationPrompt(options: {
  occurredAt: Date;
  existing?: readonly { alias: string; text: string }[];
  /** Stored graph relations the conversation may end, as `g1: user lives_in lisbon` (graph memory only). */
  relations?: readonly { alias: string; text: string }[];
  messages: readonly {
    role: string;
    content: string;
    name?: string;
    toolCalls?: readonly { id?: string; name: string; arguments?: string | { readonly [key: string]: unknown } }[];
    toolCallId?: string;
  }[];
}): string {
  const date = options.occurredAt.toISOString().slice(0, 10);
  const weekday = WEEKDAYS[options.occurredAt.getUTCDay()]!;
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
    const calls = message.toolCalls ?? [];
    if (message.role === 'system' || (message.content.trim() === '' && calls.length === 0)) continue;
    const speaker = [message.name, message.toolCallId && `result of ${message.toolCallId}`].filter(Boolean).join(', ');
    const who = speaker ? `${message.role} (${speaker})` : message.role;
    if (message.content.trim() !== '') lines.push(`${who}: ${message.content}`);
    for (const call of calls) {
      const args = call.arguments === undefined ? '' : typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
      lines.push(`${who} calls ${call.name}(${args})${call.id ? ` [${call.id}]` : ''}`);
    }
  }
  return lines.join('\n');
}
