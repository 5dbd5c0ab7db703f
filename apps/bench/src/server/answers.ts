/**
 * Deterministic answers of the local OpenAI-compatible server. Facts are derived from the message
 * text the same way for every caller (one fact per substantive message: "Speaker: first sentence"),
 * so mem and mem0ai store the same facts and their token counts differ only by what they send.
 */

/** What kind of request a chat completion is; the server counts each kind apart. */
export type ChatKind = 'mem.reconcile' | 'mem.additive' | 'mem0.extract' | 'bench.answer' | 'bench.judge' | 'other';

export interface ChatRequestBody {
  readonly model?: string;
  readonly messages?: readonly { readonly role: string; readonly content: unknown }[];
  readonly response_format?: { readonly type?: string; readonly json_schema?: { readonly name?: string; readonly schema?: unknown } };
  readonly tools?: readonly { readonly type?: string; readonly function?: { readonly name?: string; readonly parameters?: unknown } }[];
  readonly tool_choice?: unknown;
}

/** Marker the bench's own answer and judge prompts start with, so the server can answer them offline. */
export const ANSWER_MARKER = 'You answer questions about a conversation';
export const JUDGE_MARKER = 'You grade an answer';

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

export function classifyChat(body: ChatRequestBody): ChatKind {
  const schemaName = body.response_format?.json_schema?.name ?? body.tools?.[0]?.function?.name;
  if (schemaName === 'memory_operations') return 'mem.reconcile';
  if (schemaName === 'memory_facts') return 'mem.additive';
  const system = contentText(body.messages?.find((message) => message.role === 'system')?.content);
  if (system.includes('You are a Memory Extractor')) return 'mem0.extract';
  if (system.startsWith(ANSWER_MARKER)) return 'bench.answer';
  if (system.startsWith(JUDGE_MARKER)) return 'bench.judge';
  // A prompted JSON request of mem (json_object mode) carries the schema in its system prompt.
  if (system.includes('{"operations":[')) return 'mem.reconcile';
  if (system.includes('{"facts":[string]}')) return 'mem.additive';
  return 'other';
}

/** Messages with fewer words than this carry no fact ("Thanks!", "Wow, nice!"). */
const MIN_FACT_WORDS = 4;
const MAX_FACT_CHARS = 200;

/** The fact one message yields, or undefined for small talk. */
export function factOf(speaker: string, text: string): string | undefined {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.split(' ').filter((word) => /[a-z0-9]/i.test(word)).length < MIN_FACT_WORDS) return undefined;
  const sentence = (/^.*?[.!?](?=\s|$)/.exec(clean)?.[0] ?? clean).slice(0, MAX_FACT_CHARS);
  const words = sentence.split(' ').filter((word) => /[a-z0-9]/i.test(word)).length;
  // A short first sentence ("Hey Mel!") gives way to the whole message.
  const fact = words < MIN_FACT_WORDS ? clean.slice(0, MAX_FACT_CHARS) : sentence;
  return `${speaker}: ${fact}`;
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9']+/g) ?? []);
}

/** Jaccard similarity of the word sets. */
export function overlap(a: string, b: string): number {
  const left = words(a);
  const right = words(b);
  let shared = 0;
  for (const word of left) if (right.has(word)) shared++;
  const union = left.size + right.size - shared;
  return union === 0 ? 0 : shared / union;
}

/** At or above this word overlap with a stored memory, a fact refines it (UPDATE) instead of adding. */
const UPDATE_OVERLAP = 0.6;

/**
 * mem's `memory_operations` (reconcile): the user prompt lists `Existing memories:` as `m1: text`
 * and the messages under `Conversation:` as `role (Name): text`.
 */
export function answerMemReconcile(user: string): { operations: { op: string; id: string | null; text: string | null }[] } {
  const { existing, facts } = readMemPrompt(user);
  const operations: { op: string; id: string | null; text: string | null }[] = [];
  for (const fact of facts) {
    const same = existing.find((memory) => memory.text === fact);
    if (same) {
      operations.push({ op: 'NONE', id: same.alias, text: null });
      continue;
    }
    const close = existing.find((memory) => overlap(memory.text, fact) >= UPDATE_OVERLAP);
    operations.push(close ? { op: 'UPDATE', id: close.alias, text: fact } : { op: 'ADD', id: null, text: fact });
  }
  return { operations };
}

/** mem's `memory_facts` (additive). */
export function answerMemAdditive(user: string): { facts: string[] } {
  return { facts: readMemPrompt(user).facts };
}

function readMemPrompt(user: string): { existing: { alias: string; text: string }[]; facts: string[] } {
  const lines = user.split('\n');
  const existing: { alias: string; text: string }[] = [];
  const facts: string[] = [];
  let section = '';
  for (const line of lines) {
    if (line === 'Existing memories:' || line === 'Conversation:' || line === 'Existing relations:') {
      section = line;
      continue;
    }
    if (section === 'Existing memories:') {
      const match = /^(m\d+): (.*)$/.exec(line);
      if (match) existing.push({ alias: match[1]!, text: match[2]! });
    } else if (section === 'Conversation:') {
      const match = /^(\w+)(?: \((.+?)\))?: (.*)$/.exec(line);
      if (!match) continue;
      const named = /^([^:]{1,40}): (.*)$/.exec(match[3]!);
      const speaker = match[2] ?? named?.[1] ?? match[1]!;
      const fact = factOf(speaker, match[2] === undefined && named ? named[2]! : match[3]!);
      if (fact && !facts.includes(fact)) facts.push(fact);
    }
  }
  return { existing, facts };
}

/**
 * mem0ai 3.x additive extraction: the user prompt holds `## Existing Memories` as a JSON array of
 * `{id, text}` and `## New Messages` as `role: content` lines; the answer is
 * `{"memory":[{"id","text","attributed_to","linked_memory_ids"}]}` (its `AdditiveExtractionSchema`).
 */
export function answerMem0Extract(user: string): {
  memory: { id: string; text: string; attributed_to: 'user' | 'assistant'; linked_memory_ids?: string[] }[];
} {
  const sections = new Map<string, string>();
  for (const part of user.split(/^## /m)) {
    const newline = part.indexOf('\n');
    if (newline > 0) sections.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  let existing: { id: string; text: string }[] = [];
  try {
    const parsed = JSON.parse((sections.get('Existing Memories') ?? '[]').trim() || '[]');
    if (Array.isArray(parsed)) existing = parsed.filter((entry) => typeof entry?.text === 'string');
  } catch {
    existing = [];
  }
  const memory: { id: string; text: string; attributed_to: 'user' | 'assistant'; linked_memory_ids?: string[] }[] = [];
  const seen = new Set<string>();
  for (const line of (sections.get('New Messages') ?? '').split('\n')) {
    const match = /^(user|assistant): (.*)$/.exec(line.trim());
    if (!match) continue;
    const named = /^([^:]{1,40}): (.*)$/.exec(match[2]!);
    const fact = named ? factOf(named[1]!, named[2]!) : factOf(match[1]!, match[2]!);
    if (!fact || seen.has(fact) || existing.some((entry) => entry.text === fact)) continue;
    seen.add(fact);
    const linked = existing.filter((entry) => overlap(entry.text, fact) >= UPDATE_OVERLAP).map((entry) => String(entry.id));
    memory.push({
      id: String(memory.length),
      text: fact,
      attributed_to: match[1] as 'user' | 'assistant',
      ...(linked.length > 0 ? { linked_memory_ids: linked } : {}),
    });
  }
  return { memory };
}

/**
 * The bench's answer prompt, answered offline: the retrieved memory sharing the most words with
 * the question, minus its speaker prefix. A stand-in so the online protocol can be exercised here.
 */
export function answerBenchQuestion(user: string): string {
  const question = /^Question: (.*)$/m.exec(user)?.[1] ?? '';
  const memories = user
    .split('\n')
    .filter((line) => /^- /.test(line))
    .map((line) => line.replace(/^- (\[[^\]]*\] )?/, ''));
  let best = '';
  let bestScore = -1;
  for (const memory of memories) {
    const score = overlap(memory, question);
    if (score > bestScore) {
      bestScore = score;
      best = memory;
    }
  }
  return (
    best
      .replace(/^[^:]{1,40}: /, '')
      .split(' ')
      .slice(0, 12)
      .join(' ') || 'No information.'
  );
}

/** The bench's judge prompt, answered offline: CORRECT when the answers share at least half the gold words. */
export function answerBenchJudge(user: string): { label: 'CORRECT' | 'WRONG' } {
  const gold = /^Gold answer: (.*)$/m.exec(user)?.[1] ?? '';
  const generated = /^Generated answer: (.*)$/m.exec(user)?.[1] ?? '';
  const goldWords = words(gold);
  const generatedWords = words(generated);
  let shared = 0;
  for (const word of goldWords) if (generatedWords.has(word)) shared++;
  return { label: goldWords.size > 0 && shared / goldWords.size >= 0.5 ? 'CORRECT' : 'WRONG' };
}

/** The answer text for a chat request of `kind`. */
export function answerChat(kind: ChatKind, body: ChatRequestBody): string {
  const user = contentText([...(body.messages ?? [])].reverse().find((message) => message.role === 'user')?.content);
  switch (kind) {
    case 'mem.reconcile':
      return JSON.stringify(answerMemReconcile(user));
    case 'mem.additive':
      return JSON.stringify(answerMemAdditive(user));
    case 'mem0.extract':
      return JSON.stringify(answerMem0Extract(user));
    case 'bench.answer':
      return answerBenchQuestion(user);
    case 'bench.judge':
      return JSON.stringify(answerBenchJudge(user));
    case 'other':
      return body.response_format?.type === 'json_object' || body.response_format?.type === 'json_schema' ? '{}' : 'OK';
  }
}
