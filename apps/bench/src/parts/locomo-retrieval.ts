// Part 3, offline: LOCOMO retrieval quality. Every turn of every conversation is stored as it is
// (`infer: false`, the turn's dia_id in metadata); each question of categories 1–4 is searched in
// its conversation and scored by whether the retrieved turns cover the gold evidence turns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LexicalEmbedder, Memory, type Embedder } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { loadAudit, loadLocomo, type AuditEntry, type LocomoConversation } from '../lib/locomo';
import { Progress } from '../lib/progress';
import { mean, median } from '../lib/stats';

export interface RetrievalOptions {
  readonly locomoPath: string;
  readonly auditPath: string;
  readonly ks: readonly number[];
  /** `lexical` (core's LexicalEmbedder, always offline) or `transformers` (a local model folder). */
  readonly embedder: 'lexical' | 'transformers';
  readonly modelPath?: string;
  readonly model?: string;
  /** Fuse keyword (BM25) search in, as Memory.search does by default. */
  readonly keyword: boolean;
}

/** Scores of one category (or all): means over the questions. */
export interface CoverageRow {
  readonly category: string;
  readonly questions: number;
  /** Per k: the mean share of gold evidence turns retrieved (evidence recall). */
  readonly recall: Record<string, number>;
  /** Per k: the share of questions whose evidence turns were all retrieved. */
  readonly fullCoverage: Record<string, number>;
}

export interface RetrievalResult {
  readonly embedder: string;
  readonly keyword: boolean;
  readonly conversations: number;
  readonly memories: number;
  readonly ks: readonly number[];
  /** Against the evidence as published in locomo10.json. */
  readonly original: CoverageRow[];
  /** Against the evidence corrected by the locomo-audit, where it has an entry for the question. */
  readonly corrected: CoverageRow[] | undefined;
  readonly auditedQuestions: number;
  readonly evidenceChanged: number;
  /** Evidence ids that name no turn of the conversation (counted as not retrieved). */
  readonly danglingEvidence: number;
  readonly questionsWithoutEvidence: number;
  readonly ingestSeconds: number;
  readonly searchMs: { readonly median: number };
}

async function createEmbedder(options: RetrievalOptions): Promise<Embedder & { dimensions?: number }> {
  if (options.embedder === 'lexical') return new LexicalEmbedder({ dimensions: 1024 });
  const module = (await import('@mem/embedder-transformers')) as {
    TransformersEmbedder: new (options: Record<string, unknown>) => Embedder;
  };
  return new module.TransformersEmbedder({
    ...(options.model ? { model: options.model } : {}),
    ...(options.modelPath ? { localModelPath: options.modelPath } : {}),
    allowRemoteModels: false,
  });
}

interface Scored {
  readonly category: number;
  readonly retrieved: Record<number, ReadonlySet<string>>;
  readonly original: readonly string[];
  readonly corrected: readonly string[];
}

function rows(scored: readonly Scored[], ks: readonly number[], which: 'original' | 'corrected'): CoverageRow[] {
  const groups: [string, Scored[]][] = [1, 2, 3, 4].map((category) => [
    String(category),
    scored.filter((entry) => entry.category === category),
  ]);
  groups.push(['all (1–4)', [...scored]]);
  return groups.map(([category, entries]) => {
    const usable = entries.filter((entry) => entry[which].length > 0);
    const recall: Record<string, number> = {};
    const fullCoverage: Record<string, number> = {};
    for (const k of ks) {
      const shares = usable.map((entry) => entry[which].filter((id) => entry.retrieved[k]!.has(id)).length / entry[which].length);
      recall[k] = mean(shares);
      fullCoverage[k] = mean(shares.map((share) => (share === 1 ? 1 : 0)));
    }
    return { category, questions: usable.length, recall, fullCoverage };
  });
}

export async function runRetrieval(options: RetrievalOptions): Promise<RetrievalResult> {
  const conversations = loadLocomo(options.locomoPath);
  const audit = loadAudit(options.auditPath);
  const embedder = await createEmbedder(options);
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-locomo-'));
  const path = join(directory, 'locomo.db');
  const memory = new Memory({ embedder, vectorStore: new SqliteVectorStore({ path }), historyStore: new SqliteHistoryStore({ path }) });
  const ks = [...options.ks].sort((a, b) => a - b);
  try {
    const totalTurns = conversations.reduce(
      (count, conversation) => count + conversation.sessions.reduce((sum, session) => sum + session.turns.length, 0),
      0,
    );
    const ingest = new Progress('ingest LOCOMO turns (infer: false)', totalTurns);
    const ingestStart = performance.now();
    let stored = 0;
    for (const conversation of conversations) {
      for (const session of conversation.sessions) {
        for (const turn of session.turns) {
          const text = turn.imageCaption ? `${turn.text} [shared an image: ${turn.imageCaption}]` : turn.text;
          await memory.add([{ role: 'user', content: text, name: turn.speaker }], {
            scope: { userId: scopeOf(conversation) },
            infer: false,
            occurredAt: session.date,
            metadata: { dia_id: turn.diaId, session: session.index },
          });
          stored++;
          if (stored % 200 === 0) ingest.tick(stored);
        }
      }
    }
    ingest.done();
    const ingestSeconds = (performance.now() - ingestStart) / 1000;

    const scored: Scored[] = [];
    let auditedQuestions = 0;
    let evidenceChanged = 0;
    let danglingEvidence = 0;
    let questionsWithoutEvidence = 0;
    const searchTimes: number[] = [];
    const questions = conversations.flatMap((conversation) =>
      conversation.questions
        .filter((question) => question.category >= 1 && question.category <= 4)
        .map((question) => ({ conversation, question })),
    );
    const progress = new Progress('search LOCOMO questions (categories 1–4)', questions.length);
    for (const [index, { conversation, question }] of questions.entries()) {
      const turnIds = new Set(conversation.sessions.flatMap((session) => session.turns.map((turn) => turn.diaId)));
      const fix: AuditEntry | undefined = audit?.get(question.id);
      const sameQuestion = fix && fix.question.trim() === question.question.trim() ? fix : undefined;
      if (sameQuestion) auditedQuestions++;
      const corrected = sameQuestion && sameQuestion.correctEvidence.length > 0 ? sameQuestion.correctEvidence : question.evidence;
      if (sameQuestion && corrected.join(',') !== question.evidence.join(',')) evidenceChanged++;
      danglingEvidence += question.evidence.filter((id) => !turnIds.has(id)).length;
      if (question.evidence.length === 0) questionsWithoutEvidence++;
      const retrieved: Record<number, Set<string>> = {};
      for (const k of ks) {
        const start = performance.now();
        const { results } = await memory.search(question.question, {
          scope: { userId: scopeOf(conversation) },
          limit: k,
          keyword: options.keyword,
        });
        searchTimes.push(performance.now() - start);
        retrieved[k] = new Set(results.map((result) => String(result.metadata['dia_id'])));
      }
      scored.push({ category: question.category, retrieved, original: question.evidence, corrected });
      if (index % 100 === 99) progress.tick(index + 1);
    }
    progress.done();
    return {
      embedder: `${embedder.provider}/${embedder.model}`,
      keyword: options.keyword,
      conversations: conversations.length,
      memories: stored,
      ks,
      original: rows(scored, ks, 'original'),
      corrected: audit ? rows(scored, ks, 'corrected') : undefined,
      auditedQuestions,
      evidenceChanged,
      danglingEvidence,
      questionsWithoutEvidence,
      ingestSeconds,
      searchMs: { median: median(searchTimes) },
    };
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const scopeOf = (conversation: LocomoConversation) => `locomo-${conversation.index}`;
