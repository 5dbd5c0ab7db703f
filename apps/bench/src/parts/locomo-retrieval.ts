// Part 3: retrieval quality, offline. LOCOMO (categories 1–4) and the LongMemEval oracle, each turn
// stored as one memory with infer: false, searched through Memory.search, for several systems in one
// run: the no-model default (lexical embedder), all-MiniLM-L6-v2 from a registry package, the same
// with a cross-encoder reranker when one is given, beside plain BM25 and mem's own keyword leg.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LexicalEmbedder, Memory, type Embedder, type RankingOptions, type Reranker } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { coverageByGroup, type Coverage, type SearchedQuestion } from '../lib/coverage';
import type { LocomoConversation } from '../lib/locomo';
import { loadLocomo } from '../lib/locomo';
import { loadLongMemEval, type LongMemEvalQuestion } from '../lib/longmemeval';
import { PlainBm25 } from '../lib/plain-bm25';
import { Progress, status } from '../lib/progress';
import { summarize, type Summary } from '../lib/stats';

/** Where `apps/bench/scripts/install-models.sh` puts the models by default. */
export const DEFAULT_MODEL_PATH = resolve(import.meta.dirname, '../../models');
/** The embedding model the bench runs, as installed by the script. */
export const MINILM_MODEL = 'Xenova/all-MiniLM-L6-v2';

/** Conversations whose questions choose every weight and setting; the others are held out. */
export const TUNING_CONVERSATIONS: readonly number[] = [0, 1, 2, 3, 4];

export type SystemName = 'lexical' | 'minilm' | 'minilm+reranker';

export interface RetrievalOptions {
  readonly locomoPath: string;
  readonly longMemEvalPath: string;
  readonly ks: readonly number[];
  readonly systems: readonly SystemName[];
  /** Folder holding `Xenova/all-MiniLM-L6-v2/` (see scripts/install-models.sh). */
  readonly modelPath: string;
  /** Folder holding the cross-encoder for `minilm+reranker`, and its id under that folder. */
  readonly rerankerPath?: string;
  readonly rerankerModel?: string;
  /**
   * Where each system's LOCOMO store is kept (`<system>.db`): a store already there with every turn
   * is searched as it is, without adding the turns again (its ingest time is then not measured).
   * @default a temporary folder, removed at the end
   */
  readonly storeDirectory?: string;
  /** LongMemEval questions to pool (first N by id); 0 skips LongMemEval. @default all */
  readonly longMemEvalQuestions?: number;
  /** The systems that also run LongMemEval. @default every system */
  readonly longMemEvalSystems?: readonly SystemName[];
  /** Only the LOCOMO questions of one half (a quick run while tuning). @default both halves */
  readonly half?: 'tuning' | 'held-out';
  /** Ranking weights every system's `Memory` is built with (`MemoryOptions.ranking`). @default mem's defaults */
  readonly ranking?: RankingOptions;
}

/** Coverage of one system on one data set: per LOCOMO half (tuning, held-out, all) and category. */
export interface HalfCoverage {
  readonly half: 'tuning' | 'held-out' | 'all';
  readonly conversations: readonly number[];
  /** Categories 1–4, then all of them. */
  readonly rows: Coverage[];
}

export interface SystemResult {
  readonly name: string;
  readonly description: string;
  /** Why the system did not run, when it did not. */
  readonly skipped?: string;
  readonly locomo?: HalfCoverage[];
  /** By question type, then all. */
  readonly longMemEval?: Coverage[];
  /** LOCOMO ingest: every turn added with `infer: false`, one `add` per turn (absent when a kept store was reused). */
  readonly ingestSeconds?: number;
  /** The kept store searched instead of adding the turns again (`--stores`). */
  readonly reusedStore?: string;
  /** Wall time of each `Memory.search` call on LOCOMO (query embedding included). */
  readonly searchMs?: Summary;
}

export interface RetrievalResult {
  readonly ks: readonly number[];
  readonly locomo: {
    readonly conversations: number;
    readonly turns: number;
    readonly questions: number;
    readonly tuning: readonly number[];
    /** Set when only the questions of one half were searched (`--locomo-half`). */
    readonly half?: 'tuning' | 'held-out';
  };
  /** The ranking weights the run set (`--ranking`), when not mem's defaults. */
  readonly ranking?: RankingOptions;
  readonly longMemEval?: { readonly questions: number; readonly sessions: number; readonly turns: number; readonly evidenceTurns: number };
  /** BM25 over the raw turns, mem's FTS5 keyword leg alone, then mem's systems. */
  readonly systems: SystemResult[];
}

interface System {
  readonly name: SystemName;
  readonly description: string;
  readonly embedder: Embedder;
  readonly reranker?: Reranker;
  close(): Promise<void>;
}

const CATEGORIES = ['1', '2', '3', '4'];

async function createSystem(name: SystemName, options: RetrievalOptions): Promise<System | { skipped: string; description: string }> {
  if (name === 'lexical') {
    const embedder = new LexicalEmbedder({ dimensions: 1024 });
    return {
      name,
      description: 'mem default: lexical hashing embedder (1024 dims) + FTS5 keyword search',
      embedder,
      close: async () => {},
    };
  }
  const description =
    name === 'minilm'
      ? 'mem with all-MiniLM-L6-v2 (int8 ONNX, from PyPI packages) + FTS5 keyword search'
      : `mem with all-MiniLM-L6-v2 + FTS5, reranked by ${options.rerankerModel ?? 'a cross-encoder'}`;
  if (!existsSync(join(options.modelPath, ...MINILM_MODEL.split('/'), 'onnx', 'model.onnx'))) {
    return { skipped: `no model in ${options.modelPath}: run bash apps/bench/scripts/install-models.sh`, description };
  }
  const { TransformersEmbedder } = await import('@mem/embedder-transformers');
  const embedder = new TransformersEmbedder({ model: MINILM_MODEL, localModelPath: options.modelPath, allowRemoteModels: false });
  if (name === 'minilm') return { name, description, embedder, close: () => embedder.close() };
  if (!options.rerankerPath) {
    return {
      skipped:
        'no cross-encoder: none installs from a package registry here. Pass --reranker-path DIR (and --reranker-model ID) with a transformers.js cross-encoder folder, e.g. Xenova/ms-marco-MiniLM-L-6-v2',
      description,
    };
  }
  const { TransformersReranker } = await import('@mem/reranker-transformers');
  const reranker = new TransformersReranker({
    localModelPath: options.rerankerPath,
    allowRemoteModels: false,
    ...(options.rerankerModel ? { model: options.rerankerModel } : {}),
  });
  return {
    name,
    description,
    embedder,
    reranker,
    close: async () => {
      await embedder.close();
      await reranker.close();
    },
  };
}

interface LocomoQuestionRef {
  readonly conversation: LocomoConversation;
  readonly category: number;
  readonly question: string;
  readonly evidence: readonly string[];
}

const scopeOf = (conversation: LocomoConversation) => ({ userId: `locomo-${conversation.index}` });
const turnText = (turn: { text: string; imageCaption?: string }) =>
  turn.imageCaption ? `${turn.text} [shared an image: ${turn.imageCaption}]` : turn.text;

/** Coverage per half (tuning, held-out, all) of the searched questions; a half none of them is in is left out. */
export function locomoHalves(searched: readonly (SearchedQuestion & { conversation: number })[], ks: readonly number[]): HalfCoverage[] {
  const all = [...new Set(searched.map((question) => question.conversation))].sort((a, b) => a - b);
  const tuning = all.filter((index) => TUNING_CONVERSATIONS.includes(index));
  const heldOut = all.filter((index) => !TUNING_CONVERSATIONS.includes(index));
  return [
    { half: 'tuning' as const, conversations: tuning },
    { half: 'held-out' as const, conversations: heldOut },
    { half: 'all' as const, conversations: all },
  ]
    .filter(({ conversations }) => conversations.length > 0)
    .map(({ half, conversations }) => ({
      half,
      conversations,
      rows: coverageByGroup(
        searched.filter((question) => conversations.includes(question.conversation)),
        CATEGORIES,
        ks,
        'all (1–4)',
      ),
    }));
}

function openMemory(
  directory: string,
  name: string,
  system: Pick<System, 'embedder' | 'reranker'>,
  ranking: RankingOptions | undefined,
): Memory {
  const path = join(directory, `${name.replace('+', '-')}.db`);
  return new Memory({
    embedder: system.embedder,
    vectorStore: new SqliteVectorStore({ path }),
    historyStore: new SqliteHistoryStore({ path }),
    ...(system.reranker ? { reranker: system.reranker } : {}),
    ...(ranking ? { ranking } : {}),
  });
}

export async function runRetrieval(options: RetrievalOptions): Promise<RetrievalResult> {
  const conversations = loadLocomo(options.locomoPath);
  const ks = [...options.ks].sort((a, b) => a - b);
  const maxK = ks[ks.length - 1]!;
  const questions: LocomoQuestionRef[] = conversations.flatMap((conversation) =>
    conversation.questions
      .filter((question) => question.category >= 1 && question.category <= 4 && question.evidence.length > 0)
      .filter(() => options.half === undefined || TUNING_CONVERSATIONS.includes(conversation.index) === (options.half === 'tuning'))
      .map((question) => ({ conversation, category: question.category, question: question.question, evidence: question.evidence })),
  );
  const turns = conversations.reduce(
    (count, conversation) => count + conversation.sessions.reduce((sum, session) => sum + session.turns.length, 0),
    0,
  );
  const lmeLimit = options.longMemEvalQuestions;
  const lme =
    lmeLimit === 0
      ? []
      : loadLongMemEval(options.longMemEvalPath)
          .filter((question) => question.evidence.length > 0)
          .slice(0, lmeLimit ?? Number.POSITIVE_INFINITY);
  const systems: SystemResult[] = [plainBm25(conversations, questions, ks)];
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-retrieval-'));
  const locomoDirectory = options.storeDirectory ?? directory;
  if (options.storeDirectory) mkdirSync(options.storeDirectory, { recursive: true });
  try {
    let keywordLeg: SystemResult | undefined;
    for (const name of options.systems) {
      const created = await createSystem(name, options);
      if ('skipped' in created) {
        status(`${name}: skipped (${created.skipped})`);
        systems.push({ name, description: created.description, skipped: created.skipped });
        continue;
      }
      try {
        const storePath = join(locomoDirectory, `${name.replace('+', '-')}.db`);
        const memory = openMemory(locomoDirectory, name, created, options.ranking);
        const kept = options.storeDirectory === undefined ? 0 : await storedTurns(storePath, conversations);
        // add skips a turn whose text its scope already holds, so a complete store has one memory per distinct text.
        const expected = conversations.reduce(
          (sum, conversation) =>
            sum +
            new Set(conversation.sessions.flatMap((session) => session.turns.map((turn) => `${turn.speaker}: ${turnText(turn).trim()}`)))
              .size,
          0,
        );
        if (kept > 0 && kept !== expected) {
          throw new Error(`${storePath} holds ${kept} of the ${expected} LOCOMO memories (an interrupted run?): delete it and run again.`);
        }
        const reused = kept === expected;
        if (reused) status(`${name}: searching the kept store ${storePath} (all ${expected} memories already added)`);
        const ingestSeconds = reused ? undefined : await ingestLocomo(memory, conversations, `${name}: add LOCOMO turns (infer: false)`);
        const searchTimes: number[] = [];
        const searched: (SearchedQuestion & { conversation: number })[] = [];
        const progress = new Progress(`${name}: search LOCOMO questions (categories 1–4)`, questions.length);
        for (const [index, question] of questions.entries()) {
          const retrieved: Record<number, string[]> = {};
          for (const k of ks) {
            const start = performance.now();
            const { results } = await memory.search(question.question, {
              scope: scopeOf(question.conversation),
              limit: k,
              ...(created.reranker ? { rerank: true } : {}),
            });
            searchTimes.push(performance.now() - start);
            retrieved[k] = results.map((result) => String(result.metadata['dia_id']));
          }
          searched.push({
            group: String(question.category),
            evidence: question.evidence,
            retrieved,
            conversation: question.conversation.index,
          });
          if (index % 100 === 99) progress.tick(index + 1);
        }
        progress.done();
        // mem's keyword leg alone (the store's FTS5 search), from the first store: it is the same for every embedder.
        keywordLeg ??= await keywordLegOf(storePath, questions, ks);
        const runsLongMemEval = lme.length > 0 && (options.longMemEvalSystems ?? options.systems).includes(name);
        const longMemEval = runsLongMemEval ? await searchLongMemEval(directory, created, lme, maxK, ks, options.ranking) : undefined;
        systems.push({
          name,
          description: created.description,
          locomo: locomoHalves(searched, ks),
          ...(longMemEval ? { longMemEval } : {}),
          ...(ingestSeconds === undefined ? { reusedStore: storePath } : { ingestSeconds }),
          searchMs: summarize(searchTimes),
        });
        await memory.close();
      } finally {
        await created.close();
      }
    }
    if (keywordLeg) systems.splice(1, 0, keywordLeg);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return {
    ks,
    locomo: {
      conversations: conversations.length,
      turns,
      questions: questions.length,
      tuning: TUNING_CONVERSATIONS,
      ...(options.half ? { half: options.half } : {}),
    },
    ...(options.ranking ? { ranking: options.ranking } : {}),
    ...(lme.length > 0
      ? {
          longMemEval: {
            questions: lme.length,
            sessions: new Set(lme.flatMap((question) => question.sessions.map((session) => session.id))).size,
            turns: pooledSessions(lme).reduce((sum, session) => sum + session.turns.length, 0),
            evidenceTurns: lme.reduce((sum, question) => sum + question.evidence.length, 0),
          },
        }
      : {}),
    systems,
  };
}

/** How many memories a kept store holds over the LOCOMO scopes (0 when there is no store yet). */
async function storedTurns(path: string, conversations: readonly LocomoConversation[]): Promise<number> {
  if (!existsSync(path)) return 0;
  const store = new SqliteVectorStore({ path });
  try {
    let count = 0;
    for (const conversation of conversations) for await (const _ of store.list({ scope: scopeOf(conversation) })) count++;
    return count;
  } finally {
    await store.close();
  }
}

async function ingestLocomo(memory: Memory, conversations: readonly LocomoConversation[], label: string): Promise<number> {
  const total = conversations.reduce(
    (count, conversation) => count + conversation.sessions.reduce((sum, session) => sum + session.turns.length, 0),
    0,
  );
  const progress = new Progress(label, total);
  const start = performance.now();
  let stored = 0;
  for (const conversation of conversations) {
    for (const session of conversation.sessions) {
      for (const turn of session.turns) {
        await memory.add([{ role: 'user', content: turnText(turn), name: turn.speaker }], {
          scope: scopeOf(conversation),
          infer: false,
          occurredAt: session.date,
          metadata: { dia_id: turn.diaId, session: session.index },
        });
        if (++stored % 200 === 0) progress.tick(stored);
      }
    }
  }
  progress.done();
  return (performance.now() - start) / 1000;
}

function plainBm25(
  conversations: readonly LocomoConversation[],
  questions: readonly LocomoQuestionRef[],
  ks: readonly number[],
): SystemResult {
  const maxK = Math.max(...ks);
  const indexes = new Map(
    conversations.map((conversation) => {
      const all = conversation.sessions.flatMap((session) => session.turns);
      return [conversation.index, { turns: all, bm25: new PlainBm25(all.map((turn) => `${turn.speaker}: ${turnText(turn)}`)) }] as const;
    }),
  );
  const searched = questions.map((question) => {
    const { turns, bm25 } = indexes.get(question.conversation.index)!;
    const top = bm25.top(question.question, maxK).map((index) => turns[index]!.diaId);
    return {
      group: String(question.category),
      evidence: question.evidence,
      retrieved: Object.fromEntries(ks.map((k) => [k, top.slice(0, k)])),
      conversation: question.conversation.index,
    };
  });
  return {
    name: 'bm25',
    description:
      'plain BM25 (BM25Okapi) over the raw turns: speaker + text + caption, 40 stop words, no stemming, one index per conversation',
    locomo: locomoHalves(searched, ks),
  };
}

async function keywordLegOf(path: string, questions: readonly LocomoQuestionRef[], ks: readonly number[]): Promise<SystemResult> {
  const store = new SqliteVectorStore({ path });
  try {
    const maxK = Math.max(...ks);
    const searched: (SearchedQuestion & { conversation: number })[] = [];
    for (const question of questions) {
      const matches = await store.keywordQuery({ scope: scopeOf(question.conversation), text: question.question, topK: maxK });
      const top = matches.map((match) => String(match.record.metadata['dia_id']));
      searched.push({
        group: String(question.category),
        evidence: question.evidence,
        retrieved: Object.fromEntries(ks.map((k) => [k, top.slice(0, k)])),
        conversation: question.conversation.index,
      });
    }
    return {
      name: 'keyword leg',
      description: "mem's FTS5 keyword search alone (SqliteVectorStore.keywordQuery: Porter stemming, stop words left out of the query)",
      locomo: locomoHalves(searched, ks),
    };
  } finally {
    await store.close();
  }
}

/** Every session of the pooled questions, once each (sessions shared by several questions are stored once). */
function pooledSessions(questions: readonly LongMemEvalQuestion[]) {
  const sessions = new Map<string, LongMemEvalQuestion['sessions'][number]>();
  for (const question of questions) for (const session of question.sessions) sessions.set(session.id, session);
  return [...sessions.values()];
}

/**
 * LongMemEval, pooled: the evidence sessions of every question in the run go into ONE scope, so each
 * question searches all the pooled turns (about 11k for the 500 questions) instead of its own 1–6
 * sessions. One search per question with the largest k; any@k / all@k read its first k results.
 */
async function searchLongMemEval(
  directory: string,
  system: System,
  questions: readonly LongMemEvalQuestion[],
  maxK: number,
  ks: readonly number[],
  ranking: RankingOptions | undefined,
): Promise<Coverage[]> {
  const memory = openMemory(directory, `${system.name}-longmemeval`, system, ranking);
  const scope = { userId: 'longmemeval' };
  try {
    const sessions = pooledSessions(questions);
    const progress = new Progress(
      `${system.name}: add LongMemEval turns (pooled)`,
      sessions.reduce((sum, session) => sum + session.turns.length, 0),
    );
    let stored = 0;
    for (const session of sessions) {
      for (const turn of session.turns) {
        if (turn.content.trim() === '') continue;
        await memory.add([{ role: 'user', content: turn.content, name: turn.role }], {
          scope,
          infer: false,
          occurredAt: session.date,
          metadata: { turn: turn.id },
        });
        if (++stored % 200 === 0) progress.tick(stored);
      }
    }
    progress.done();
    const searched: SearchedQuestion[] = [];
    for (const question of questions) {
      const { results } = await memory.search(question.question, {
        scope,
        limit: maxK,
        ...(system.reranker ? { rerank: true } : {}),
      });
      const top = results.map((result) => String(result.metadata['turn']));
      searched.push({
        group: question.type,
        evidence: question.evidence,
        retrieved: Object.fromEntries(ks.map((k) => [k, top.slice(0, k)])),
      });
    }
    const types = [...new Set(questions.map((question) => question.type))].sort();
    return coverageByGroup(searched, types, ks);
  } finally {
    await memory.close();
  }
}
