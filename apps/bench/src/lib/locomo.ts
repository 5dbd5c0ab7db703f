import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Default data locations: `../shared/data/...` beside the repository, where the project keeps them. */
export const DEFAULT_LOCOMO_PATH = resolve(import.meta.dirname, '../../../../../shared/data/locomo/locomo10.json');
export const DEFAULT_AUDIT_PATH = resolve(import.meta.dirname, '../../../../../shared/data/locomo-audit/errors.json');

export interface LocomoTurn {
  readonly speaker: string;
  readonly diaId: string;
  readonly text: string;
  /** The caption of a shared image, when the turn shared one. */
  readonly imageCaption?: string;
}

export interface LocomoSession {
  readonly index: number;
  /** As written in the data, e.g. "1:56 pm on 8 May, 2023". */
  readonly dateText: string;
  readonly date: Date;
  readonly turns: readonly LocomoTurn[];
}

export interface LocomoQuestion {
  /** `locomo_<conversation index>_qa<n>` (n: the 0-based index in `qa`), the id the locomo-audit uses. */
  readonly id: string;
  readonly question: string;
  readonly answer: string;
  readonly evidence: readonly string[];
  readonly category: number;
}

export interface LocomoConversation {
  readonly index: number;
  readonly speakerA: string;
  readonly speakerB: string;
  readonly sessions: readonly LocomoSession[];
  readonly questions: readonly LocomoQuestion[];
}

/** Reads locomo10.json. @throws with a message saying where to get the file when it is missing. */
export function loadLocomo(path: string): LocomoConversation[] {
  if (!existsSync(path)) {
    throw new Error(
      `LOCOMO not found at ${path}. Download locomo10.json from the LoCoMo project (snap-research/LoCoMo on GitHub, data/locomo10.json; CC BY-NC 4.0) and pass --locomo PATH.`,
    );
  }
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawSample[];
  return raw.map((sample, index) => {
    const conversation = sample.conversation;
    const sessions: LocomoSession[] = [];
    for (let number = 1; conversation[`session_${number}`] !== undefined; number++) {
      const turns = conversation[`session_${number}`] as RawTurn[];
      if (!Array.isArray(turns) || turns.length === 0) continue;
      const dateText = String(conversation[`session_${number}_date_time`] ?? '');
      sessions.push({
        index: number,
        dateText,
        date: parseLocomoDate(dateText),
        turns: turns.map((turn) => ({
          speaker: turn.speaker,
          diaId: turn.dia_id,
          text: turn.text,
          ...(typeof turn.blip_caption === 'string' && turn.blip_caption !== '' ? { imageCaption: turn.blip_caption } : {}),
        })),
      });
    }
    return {
      index,
      speakerA: String(conversation['speaker_a']),
      speakerB: String(conversation['speaker_b']),
      sessions,
      questions: sample.qa.map((qa, number) => ({
        id: `locomo_${index}_qa${number}`,
        question: qa.question,
        answer: String(qa.answer ?? qa.adversarial_answer ?? ''),
        evidence: normalizeEvidence(qa.evidence ?? []),
        category: qa.category,
      })),
    };
  });
}

/** Evidence ids as written are sometimes joined ("D8:6; D9:17"); split them into single `D<s>:<t>` ids. */
export function normalizeEvidence(evidence: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const entry of evidence) for (const match of String(entry).matchAll(/D\s*(\d+)\s*:\s*(\d+)/g)) ids.add(`D${match[1]}:${match[2]}`);
  return [...ids];
}

/** "1:56 pm on 8 May, 2023" → a UTC date. Unparseable text gives the epoch, so runs stay deterministic. */
export function parseLocomoDate(text: string): Date {
  const match = /(\d+):(\d+)\s*(am|pm)\s+on\s+(\d+)\s+(\w+),?\s+(\d{4})/i.exec(text);
  if (!match) return new Date(0);
  const [, hours, minutes, half, day, month, year] = match;
  const hour = (Number(hours) % 12) + (half!.toLowerCase() === 'pm' ? 12 : 0);
  const date = new Date(`${day} ${month} ${year} ${String(hour).padStart(2, '0')}:${minutes}:00 UTC`);
  return Number.isNaN(date.getTime()) ? new Date(0) : date;
}

/** One `add` of Mem0's evaluation protocol: two messages of one session, from one speaker's side. */
export interface ProtocolAdd {
  /** The speaker whose memory this is ("user" in the messages). */
  readonly self: string;
  readonly session: LocomoSession;
  /** `role` is `user` for the speaker's own turns, `assistant` for the other's; `content` is "Name: text". */
  readonly messages: readonly { readonly role: 'user' | 'assistant'; readonly name: string; readonly text: string }[];
}

/**
 * Mem0's evaluation protocol (its `evaluation/src/memzero/add.py`): for every session, each speaker's
 * memory gets the whole session, its own turns as `user` and the other's as `assistant`, added two
 * messages at a time with the session's timestamp. Returned interleaved (A's batch, then B's batch).
 */
export function protocolAdds(conversation: LocomoConversation, batchSize = 2): ProtocolAdd[] {
  const adds: ProtocolAdd[] = [];
  for (const session of conversation.sessions) {
    for (let start = 0; start < session.turns.length; start += batchSize) {
      const batch = session.turns.slice(start, start + batchSize);
      for (const self of [conversation.speakerA, conversation.speakerB]) {
        adds.push({
          self,
          session,
          messages: batch.map((turn) => ({ role: turn.speaker === self ? 'user' : 'assistant', name: turn.speaker, text: turn.text })),
        });
      }
    }
  }
  return adds;
}

/** One corrected entry of the locomo-audit (dial481/locomo-audit errors.json). */
export interface AuditEntry {
  readonly questionId: string;
  readonly category: number;
  readonly errorType: string;
  readonly citedEvidence: readonly string[];
  readonly correctEvidence: readonly string[];
  readonly correctAnswer: string;
  readonly goldenAnswer: string;
  readonly question: string;
}

export function loadAudit(path: string): Map<string, AuditEntry> | undefined {
  if (!existsSync(path)) return undefined;
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawAudit[];
  return new Map(
    raw.map((entry) => [
      entry.question_id,
      {
        questionId: entry.question_id,
        category: entry.category,
        errorType: entry.error_type,
        citedEvidence: normalizeEvidence(entry.cited_evidence ?? []),
        correctEvidence: normalizeEvidence(entry.correct_evidence ?? []),
        correctAnswer: String(entry.correct_answer ?? entry.golden_answer ?? ''),
        goldenAnswer: String(entry.golden_answer ?? ''),
        question: String(entry.question ?? ''),
      },
    ]),
  );
}

interface RawTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}
interface RawSample {
  conversation: Record<string, unknown>;
  qa: { question: string; answer?: unknown; adversarial_answer?: unknown; evidence?: string[]; category: number }[];
}
interface RawAudit {
  question?: string;
  question_id: string;
  category: number;
  error_type: string;
  cited_evidence?: string[];
  correct_evidence?: string[];
  correct_answer?: unknown;
  golden_answer?: unknown;
}
