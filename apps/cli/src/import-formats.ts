import { InvalidInputError, type ChatMessage, type Metadata, type Scope } from '@mem/core';

/** One unit of work of `mem import`. */
export type ImportItem =
  | {
      /** An `add` call: a conversation (or one message). */
      readonly kind: 'add';
      /** Where it came from, for error messages: `line 3`, `conv-26 session_4`. */
      readonly source: string;
      readonly messages: string | ChatMessage[];
      readonly scope: Scope;
      /** The command's `--user` / `--agent` / `--run` replaced a scope id the line named. */
      readonly rescoped: boolean;
      readonly metadata?: Metadata;
      readonly occurredAt?: string | number;
    }
  | {
      /** A memory as `mem export` wrote it: re-embedded and stored with its id and dates. */
      readonly kind: 'record';
      readonly source: string;
      readonly id: string;
      readonly text: string;
      readonly scope: Scope;
      /** The command's `--user` / `--agent` / `--run` replaced a scope id the line named: stored as a new memory (new id). */
      readonly rescoped: boolean;
      readonly metadata: Metadata;
      readonly createdAt: string;
      readonly updatedAt: string;
      readonly occurredAt: string;
      readonly expiresAt?: string;
      readonly memoryType?: string;
      readonly categories?: readonly string[];
    };

/** Formats `mem import` reads. */
export type ImportFormat = 'jsonl' | 'locomo';

/** Picks the format: a JSON array of objects with `conversation` is LOCOMO; anything else is JSONL. */
export function detectFormat(text: string): ImportFormat {
  const start = text.trimStart();
  if (start.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.length > 0 && typeof parsed[0] === 'object' && parsed[0] !== null && 'conversation' in parsed[0])
        return 'locomo';
    } catch {
      // Not one JSON document: read it as JSONL and report the line.
    }
  }
  return 'jsonl';
}

const SCOPE_KEYS = ['userId', 'agentId', 'runId'] as const;

/**
 * The scope a line is stored under: the line's own ids, with each id the command gives
 * (`--user`, `--agent`, `--run`) put in its place. `rescoped` says whether a given id replaced a
 * different one the line named (bob's export imported with `--user carol`).
 */
function scopeOf(value: Record<string, unknown>, given: Scope, source: string): { scope: Scope; rescoped: boolean } {
  const fromLine = typeof value.scope === 'object' && value.scope !== null ? (value.scope as Record<string, unknown>) : value;
  const scope: Record<string, string> = {};
  let rescoped = false;
  for (const key of SCOPE_KEYS) {
    const id = fromLine[key];
    if (id !== undefined && typeof id !== 'string')
      throw new InvalidInputError(`${source}.${key}`, 'expected a string', 'Write scope ids as strings.');
    const override = given[key];
    if (override !== undefined) {
      rescoped ||= id !== undefined && id !== override;
      scope[key] = override;
    } else if (id !== undefined) {
      scope[key] = id;
    }
  }
  return { scope, rescoped };
}

/**
 * Reads JSONL: one JSON object per line, each one of
 * - `{ "messages": "text" | [{ "role", "content", "name"? }], "userId"?, "agentId"?, "runId"?, "scope"?, "metadata"?, "occurredAt"? }`: one `add`;
 * - `{ "role", "content", "name"? }`: one message, one `add`;
 * - `{ "id", "text", "scope", "metadata", "createdAt", "updatedAt", "occurredAt", "expiresAt"?, "memoryType"?, "categories"? }` (a line of `mem export`): the memory as it was.
 * The command's `--user`, `--agent`, `--run` re-scope: each replaces that id on every line (an
 * exported memory re-scoped this way is stored as a new memory, with a new id); ids the command does
 * not give come from the line. Blank lines are skipped.
 *
 * @throws {InvalidInputError} naming the line, for a line that is not JSON or none of the shapes.
 */
export function parseJsonl(text: string, scope: Scope): ImportItem[] {
  const items: ImportItem[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const source = `line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InvalidInputError(source, 'is not valid JSON', 'Write one JSON object per line.');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(source, 'is not a JSON object', 'Write one JSON object per line.');
    }
    const object = value as Record<string, unknown>;
    const occurredAt = typeof object.occurredAt === 'string' || typeof object.occurredAt === 'number' ? object.occurredAt : undefined;
    const metadata = typeof object.metadata === 'object' && object.metadata !== null ? (object.metadata as Metadata) : undefined;
    if ('messages' in object) {
      items.push({
        kind: 'add',
        source,
        messages: object.messages as string | ChatMessage[],
        ...scopeOf(object, scope, source),
        ...(metadata ? { metadata } : {}),
        ...(occurredAt !== undefined ? { occurredAt } : {}),
      });
    } else if ('role' in object && 'content' in object) {
      items.push({
        kind: 'add',
        source,
        messages: [
          { role: object.role, content: object.content, ...(object.name === undefined ? {} : { name: object.name }) } as ChatMessage,
        ],
        ...scopeOf(object, scope, source),
      });
    } else if (typeof object.id === 'string' && typeof object.text === 'string' && typeof object.createdAt === 'string') {
      items.push({
        kind: 'record',
        source,
        id: object.id,
        text: object.text,
        ...scopeOf(object, scope, source),
        metadata: metadata ?? {},
        createdAt: object.createdAt,
        updatedAt: typeof object.updatedAt === 'string' ? object.updatedAt : object.createdAt,
        occurredAt: typeof object.occurredAt === 'string' ? object.occurredAt : object.createdAt,
        ...(typeof object.expiresAt === 'string' ? { expiresAt: object.expiresAt } : {}),
        ...(typeof object.memoryType === 'string' ? { memoryType: object.memoryType } : {}),
        ...(Array.isArray(object.categories) ? { categories: object.categories as string[] } : {}),
      });
    } else {
      throw new InvalidInputError(
        source,
        'has neither "messages", "role" and "content", nor "id", "text" and "createdAt"',
        'See `mem import --help` for the line formats.',
      );
    }
  });
  return items;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Parses LOCOMO's session dates, e.g. `1:56 pm on 8 May, 2023` (taken as UTC). */
export function parseLocomoDate(text: string): string | undefined {
  const match = /^\s*(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})\s*$/i.exec(text);
  if (!match) return undefined;
  const [, hourText, minute, meridiem, day, monthName, year] = match;
  const month = MONTHS.findIndex((name) => name.startsWith(monthName!.toLowerCase().slice(0, 3)));
  if (month < 0) return undefined;
  let hour = Number(hourText) % 12;
  if (meridiem!.toLowerCase() === 'pm') hour += 12;
  return new Date(Date.UTC(Number(year), month, Number(day), hour, Number(minute))).toISOString();
}

interface LocomoTurn {
  readonly speaker?: unknown;
  readonly text?: unknown;
  readonly blip_caption?: unknown;
}

/**
 * Reads LOCOMO conversations (a JSON array of `{ sample_id, conversation: { speaker_a, speaker_b,
 * session_N, session_N_date_time } }`): one `add` per session, in session order, each turn a user
 * message named after its speaker (a shared photo adds its caption), at the session's date. The
 * scope is `--user` (and `--agent`, `--run`) when given, else `userId` = the sample id.
 *
 * @throws {InvalidInputError} when the file is not LOCOMO-shaped.
 */
export function parseLocomo(text: string, scope: Scope): ImportItem[] {
  let samples: unknown;
  try {
    samples = JSON.parse(text);
  } catch {
    throw new InvalidInputError('file', 'is not valid JSON', 'Pass a LOCOMO file such as locomo10.json.');
  }
  if (!Array.isArray(samples))
    throw new InvalidInputError('file', 'is not a JSON array of conversations', 'Pass a LOCOMO file such as locomo10.json.');
  const items: ImportItem[] = [];
  samples.forEach((sample: unknown, sampleIndex) => {
    const record = sample as { sample_id?: unknown; conversation?: Record<string, unknown> };
    const sampleId = typeof record?.sample_id === 'string' ? record.sample_id : `sample-${sampleIndex + 1}`;
    const conversation = record?.conversation;
    if (typeof conversation !== 'object' || conversation === null) {
      throw new InvalidInputError(`[${sampleIndex}].conversation`, 'is missing', 'Each LOCOMO sample has a "conversation" object.');
    }
    const sessions = Object.keys(conversation)
      .map((key) => /^session_(\d+)$/.exec(key))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
    const itemScope: Scope = Object.keys(scope).length > 0 ? scope : { userId: sampleId };
    for (const session of sessions) {
      const turns = conversation[`session_${session}`];
      if (!Array.isArray(turns) || turns.length === 0) continue;
      const messages: ChatMessage[] = (turns as LocomoTurn[])
        .filter((turn) => typeof turn?.text === 'string')
        .map((turn) => {
          const caption =
            typeof turn.blip_caption === 'string' && turn.blip_caption.trim() !== ''
              ? ` [shares a photo: ${turn.blip_caption.trim()}]`
              : '';
          return {
            role: 'user' as const,
            content: `${turn.text as string}${caption}`,
            ...(typeof turn.speaker === 'string' && turn.speaker.trim() !== '' ? { name: turn.speaker } : {}),
          };
        });
      if (messages.length === 0) continue;
      const date = conversation[`session_${session}_date_time`];
      const occurredAt = typeof date === 'string' ? parseLocomoDate(date) : undefined;
      items.push({
        kind: 'add',
        source: `${sampleId} session_${session}`,
        messages,
        scope: itemScope,
        rescoped: false,
        metadata: { source: 'locomo', sample: sampleId, session },
        ...(occurredAt ? { occurredAt } : {}),
      });
    }
  });
  return items;
}
