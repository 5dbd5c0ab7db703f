// Part 3, online: Mem0's LOCOMO protocol end to end with mem. Extraction with the chosen model
// (Mem0's protocol: both speakers' memories, two messages per add, session timestamps), 30 memories
// retrieved per speaker, a short answer from the answer model, then an LLM judge (J), token F1 and
// BLEU-1 per category, the retrieved context tokens per question and the stored memory tokens per
// conversation. Needs OPENAI_API_KEY (or --fake: the local server, to exercise the code path).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memory, type LLM } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { OpenAIEmbedder, OpenAILLM } from '@mem/llm-openai';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { countTokens } from 'gpt-tokenizer';
import { loadAudit, loadLocomo, protocolAdds, type LocomoConversation } from '../lib/locomo';
import { Progress, status } from '../lib/progress';
import { mean } from '../lib/stats';
import { ANSWER_MARKER, JUDGE_MARKER } from '../server/answers';

export interface EndToEndOptions {
  readonly locomoPath: string;
  readonly auditPath: string;
  readonly extractionModel: string;
  readonly answerModel: string;
  readonly judgeModel: string;
  readonly embeddingModel: string;
  readonly perSpeaker: number;
  readonly conversations?: number;
  readonly maxQuestions?: number;
  /** Where the OpenAI-compatible API is; the key comes from OPENAI_API_KEY unless given. */
  readonly baseURL?: string;
  readonly apiKey?: string;
}

export interface EndToEndRow {
  readonly category: string;
  readonly questions: number;
  readonly j: number;
  readonly f1: number;
  readonly bleu1: number;
  /** The same scores against the locomo-audit's corrected answers (where it has one). */
  readonly jCorrected: number;
  readonly f1Corrected: number;
  readonly bleu1Corrected: number;
  readonly contextTokens: number;
}

export interface EndToEndResult {
  readonly models: { extraction: string; answer: string; judge: string; embedding: string };
  readonly perSpeaker: number;
  readonly rows: EndToEndRow[];
  readonly storedMemoryTokensPerConversation: number[];
  readonly memoriesPerConversation: number[];
  readonly addUsage: { llmCalls: number; promptTokens: number; completionTokens: number };
}

/** What the command runs, printed when no API key is set. */
export function describeEndToEnd(options: EndToEndOptions): string {
  return [
    'LOCOMO end to end (online) needs OPENAI_API_KEY; nothing was run. With a key it would:',
    `  1. ingest ${options.conversations ?? 10} LOCOMO conversations with mem (reconcile, embedded SQLite) using ${options.extractionModel} and ${options.embeddingModel}:`,
    "     Mem0's protocol: each speaker's memory gets every session, two messages per add, the session timestamp as occurredAt;",
    `  2. for each question of categories 1-4: retrieve ${options.perSpeaker} memories per speaker, answer briefly with ${options.answerModel},`,
    `     grade with ${options.judgeModel} as judge (J), and compute token F1 and BLEU-1 against the gold answer and the locomo-audit's corrected answer;`,
    '  3. record retrieved context tokens per question and stored memory tokens per conversation (o200k).',
    '  Run: OPENAI_API_KEY=... npm run bench -- locomo-e2e   (or --fake to exercise it against the local server)',
  ].join('\n');
}

function normalizeAnswer(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !['a', 'an', 'the', 'and'].includes(word));
}

/** Token F1 as in LoCoMo's and Mem0's evaluation: overlap of normalised tokens. */
export function tokenF1(prediction: string, gold: string): number {
  const predicted = normalizeAnswer(prediction);
  const expected = normalizeAnswer(gold);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1);
  let shared = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(token, left - 1);
    }
  }
  if (shared === 0) return 0;
  const precision = shared / predicted.length;
  const recall = shared / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

/** BLEU-1: clipped unigram precision times the brevity penalty. */
export function bleu1(prediction: string, gold: string): number {
  const predicted = prediction.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const expected = gold.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (predicted.length === 0 || expected.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1);
  let clipped = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      clipped++;
      counts.set(token, left - 1);
    }
  }
  const brevity = predicted.length > expected.length ? 1 : Math.exp(1 - expected.length / predicted.length);
  return brevity * (clipped / predicted.length);
}

const ANSWER_SYSTEM = `${ANSWER_MARKER} between two people, using only the memories retrieved for each of them. Memories carry the date of the conversation they came from; resolve relative dates ("last year") against it. Answer in a few words (under 10 when you can), no explanation. If the memories do not say, give your best short guess.`;
const JUDGE_SYSTEM = `${JUDGE_MARKER} to a question about a conversation against the gold answer. Be generous: the answer is CORRECT when it refers to the same thing as the gold answer (other wording, more detail, or a date in another format is fine), WRONG otherwise. Reply with JSON only: {"label":"CORRECT"} or {"label":"WRONG"}.`;

export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const conversations = loadLocomo(options.locomoPath).slice(0, options.conversations ?? 10);
  const audit = loadAudit(options.auditPath);
  const connection = { apiKey: options.apiKey, ...(options.baseURL ? { baseURL: options.baseURL } : {}) };
  const extraction = new OpenAILLM({ ...connection, model: options.extractionModel });
  const answerer = new OpenAILLM({ ...connection, model: options.answerModel });
  const judge = new OpenAILLM({ ...connection, model: options.judgeModel });
  const embedder = new OpenAIEmbedder({ ...connection, model: options.embeddingModel });
  const directory = mkdtempSync(join(tmpdir(), 'mem-bench-e2e-'));
  const path = join(directory, 'e2e.db');
  const memory = new Memory({
    llm: extraction,
    embedder,
    vectorStore: new SqliteVectorStore({ path }),
    historyStore: new SqliteHistoryStore({ path }),
  });
  const addUsage = { llmCalls: 0, promptTokens: 0, completionTokens: 0 };
  const perQuestion: {
    category: number;
    j: number;
    f1: number;
    bleu1: number;
    jCorrected: number;
    f1Corrected: number;
    bleu1Corrected: number;
    contextTokens: number;
  }[] = [];
  const storedTokens: number[] = [];
  const memoryCounts: number[] = [];
  try {
    for (const conversation of conversations) {
      const adds = protocolAdds(conversation);
      const progress = new Progress(`conversation ${conversation.index}: add`, adds.length);
      for (const [index, add] of adds.entries()) {
        const { usage } = await memory.add(
          add.messages.map((message) => ({ role: message.role, content: message.text, name: message.name })),
          { scope: { userId: userOf(conversation, add.self) }, occurredAt: add.session.date },
        );
        addUsage.llmCalls += usage.llmCalls;
        addUsage.promptTokens += usage.promptTokens;
        addUsage.completionTokens += usage.completionTokens;
        if (index % 20 === 19) progress.tick(index + 1);
      }
      progress.done();
      let tokens = 0;
      let count = 0;
      for (const self of [conversation.speakerA, conversation.speakerB]) {
        let cursor: string | undefined;
        do {
          const page = await memory.getAll({ scope: { userId: userOf(conversation, self) }, pageSize: 500, ...(cursor ? { cursor } : {}) });
          for (const item of page.results) {
            tokens += countTokens(item.text);
            count++;
          }
          cursor = page.nextCursor;
        } while (cursor);
      }
      storedTokens.push(tokens);
      memoryCounts.push(count);
      const questions = conversation.questions
        .filter((question) => question.category >= 1 && question.category <= 4)
        .slice(0, options.maxQuestions);
      const answering = new Progress(`conversation ${conversation.index}: questions`, questions.length);
      for (const [index, question] of questions.entries()) {
        const sections: string[] = [];
        let contextTokens = 0;
        for (const self of [conversation.speakerA, conversation.speakerB]) {
          const { results } = await memory.search(question.question, {
            scope: { userId: userOf(conversation, self) },
            limit: options.perSpeaker,
          });
          const lines = results.map((result) => `- [${result.occurredAt.toISOString().slice(0, 10)}] ${result.text}`);
          contextTokens += countTokens(lines.join('\n'));
          sections.push(`Memories of ${self}:\n${lines.join('\n') || '(none)'}`);
        }
        const answer = (await ask(answerer, ANSWER_SYSTEM, `${sections.join('\n\n')}\n\nQuestion: ${question.question}\nAnswer:`)).trim();
        const fix = audit?.get(question.id);
        const correctedGold = fix && fix.question.trim() === question.question.trim() ? fix.correctAnswer : question.answer;
        const grade = async (gold: string) => {
          const text = await ask(
            judge,
            JUDGE_SYSTEM,
            `Question: ${question.question}\nGold answer: ${gold}\nGenerated answer: ${answer}`,
            true,
          );
          return /"label"\s*:\s*"CORRECT"/i.test(text) ? 1 : 0;
        };
        const j = await grade(question.answer);
        const jCorrected = correctedGold === question.answer ? j : await grade(correctedGold);
        perQuestion.push({
          category: question.category,
          j,
          f1: tokenF1(answer, question.answer),
          bleu1: bleu1(answer, question.answer),
          jCorrected,
          f1Corrected: tokenF1(answer, correctedGold),
          bleu1Corrected: bleu1(answer, correctedGold),
          contextTokens,
        });
        if (index % 20 === 19) answering.tick(index + 1);
      }
      answering.done();
      status(
        `  conversation ${conversation.index}: ${count} memories, ${tokens} stored memory tokens, J so far ${mean(perQuestion.map((entry) => entry.j)).toFixed(3)}`,
      );
    }
    const groups: [string, typeof perQuestion][] = [1, 2, 3, 4].map((category) => [
      String(category),
      perQuestion.filter((entry) => entry.category === category),
    ]);
    groups.push(['all (1–4)', perQuestion]);
    return {
      models: {
        extraction: options.extractionModel,
        answer: options.answerModel,
        judge: options.judgeModel,
        embedding: options.embeddingModel,
      },
      perSpeaker: options.perSpeaker,
      rows: groups.map(([category, entries]) => ({
        category,
        questions: entries.length,
        j: mean(entries.map((entry) => entry.j)),
        f1: mean(entries.map((entry) => entry.f1)),
        bleu1: mean(entries.map((entry) => entry.bleu1)),
        jCorrected: mean(entries.map((entry) => entry.jCorrected)),
        f1Corrected: mean(entries.map((entry) => entry.f1Corrected)),
        bleu1Corrected: mean(entries.map((entry) => entry.bleu1Corrected)),
        contextTokens: mean(entries.map((entry) => entry.contextTokens)),
      })),
      storedMemoryTokensPerConversation: storedTokens,
      memoriesPerConversation: memoryCounts,
      addUsage,
    };
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function ask(llm: LLM, system: string, user: string, json = false): Promise<string> {
  const response = await llm.generate({
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    temperature: 0,
    ...(json
      ? {
          responseFormat: {
            type: 'json',
            name: 'judgement',
            schema: {
              type: 'object',
              properties: { label: { type: 'string', enum: ['CORRECT', 'WRONG'] } },
              required: ['label'],
              additionalProperties: false,
            },
          },
        }
      : {}),
  });
  return response.text;
}

const userOf = (conversation: LocomoConversation, self: string) => `${self}_${conversation.index}`;
