import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Default location: `../shared/data/longmemeval-oracle/questions` beside the repository. */
export const DEFAULT_LONGMEMEVAL_PATH = resolve(import.meta.dirname, '../../../../../shared/data/longmemeval-oracle/questions');

export interface LongMemEvalTurn {
  /** `<session id>:<index in the session>`. */
  readonly id: string;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly hasAnswer: boolean;
}

export interface LongMemEvalSession {
  readonly id: string;
  readonly date: Date;
  readonly turns: readonly LongMemEvalTurn[];
}

export interface LongMemEvalQuestion {
  readonly id: string;
  readonly type: string;
  readonly question: string;
  readonly sessions: readonly LongMemEvalSession[];
  /** Ids of the turns marked `has_answer`. */
  readonly evidence: readonly string[];
}

/**
 * Reads the LongMemEval oracle questions (one JSON file per question, as in `questions/`), sorted by
 * question id so a `limit` always takes the same questions.
 * @throws with a message saying where to get the files when the folder is missing.
 */
export function loadLongMemEval(path: string): LongMemEvalQuestion[] {
  if (!existsSync(path)) {
    throw new Error(
      `LongMemEval oracle not found at ${path}. Get longmemeval_oracle.json (xiaowu0162/LongMemEval, MIT) split into one JSON file per question, and pass --longmemeval DIR.`,
    );
  }
  const questions = readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(path, name), 'utf8')) as RawQuestion)
    .map((raw) => {
      const sessions = raw.haystack_session_ids.map((id, index) => ({
        id,
        date: parseLongMemEvalDate(raw.haystack_dates[index] ?? ''),
        turns: (raw.haystack_sessions[index] ?? []).map((turn, position) => ({
          id: `${id}:${position}`,
          role: turn.role,
          content: turn.content,
          hasAnswer: turn.has_answer === true,
        })),
      }));
      return {
        id: raw.question_id,
        type: raw.question_type,
        question: raw.question,
        sessions,
        evidence: sessions.flatMap((session) => session.turns.filter((turn) => turn.hasAnswer).map((turn) => turn.id)),
      };
    });
  return questions.sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
}

/** "2023/05/21 (Sun) 19:50" → a UTC date; unparseable text gives the epoch. */
export function parseLongMemEvalDate(text: string): Date {
  const match = /(\d{4})\/(\d{2})\/(\d{2})\D+(\d{2}):(\d{2})/.exec(text);
  if (!match) return new Date(0);
  const [, year, month, day, hours, minutes] = match;
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hours), Number(minutes)));
}

interface RawQuestion {
  question_id: string;
  question_type: string;
  question: string;
  haystack_dates: string[];
  haystack_session_ids: string[];
  haystack_sessions: { role: 'user' | 'assistant'; content: string; has_answer?: boolean }[][];
}
