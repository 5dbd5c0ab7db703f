/**
 * Checks that SqliteVectorStore's scope keyword index answers keyword queries exactly as FTS5 does
 * (same records, order and scores to the last bit) on real texts: every LOCOMO turn (one scope per
 * conversation, so document frequencies come from FTS5's vocabulary), every LongMemEval oracle
 * turn (one scope of its own) and those turns three times over (a scope ranked with pruning),
 * searched with every LOCOMO and LongMemEval question.
 *
 *   tsx src/keyword-index-check.ts [--locomo PATH] [--longmemeval DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Filter, MemoryRecord, VectorMatch } from '@mem/core/adapter';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { DEFAULT_LOCOMO_PATH, loadLocomo } from './lib/locomo';
import { DEFAULT_LONGMEMEVAL_PATH, loadLongMemEval } from './lib/longmemeval';

const { values } = parseArgs({
  options: { locomo: { type: 'string', default: DEFAULT_LOCOMO_PATH }, longmemeval: { type: 'string', default: DEFAULT_LONGMEMEVAL_PATH } },
});

const directory = mkdtempSync(join(tmpdir(), 'mem-keyword-check-'));
const path = join(directory, 'check.db');
const indexed = new SqliteVectorStore({ path });
const plain = new SqliteVectorStore({ path, keywordIndex: false });
await indexed.ensureCollection({ dimensions: 1 });

const record = (id: string, text: string, userId: string): MemoryRecord => ({
  id,
  vector: [1],
  text,
  hash: id,
  scope: { userId },
  metadata: {},
  createdAt: new Date(1),
  updatedAt: new Date(1),
  occurredAt: new Date(1),
});

const records: MemoryRecord[] = [];
const queries: { userId: string; text: string }[] = [];
for (const conversation of loadLocomo(values.locomo!)) {
  const userId = `locomo-${conversation.index}`;
  for (const session of conversation.sessions) {
    for (const turn of session.turns) {
      records.push(
        record(`${userId}:${turn.diaId}`, `${turn.speaker}: ${turn.text}${turn.imageCaption ? ` [${turn.imageCaption}]` : ''}`, userId),
      );
    }
  }
  for (const question of conversation.questions) queries.push({ userId, text: question.question });
}
const seen = new Set<string>();
const longMemEval = loadLongMemEval(values.longmemeval!);
for (const question of longMemEval) {
  for (const session of question.sessions) {
    for (const turn of session.turns) {
      if (seen.has(turn.id)) continue;
      seen.add(turn.id);
      records.push(record(`lme:${turn.id}`, turn.content, 'longmemeval'));
    }
  }
  queries.push({ userId: 'longmemeval', text: question.question });
  queries.push({ userId: 'longmemeval-3x', text: question.question });
}
// The LongMemEval turns three times in one scope: 32,880 memories, whose common words' lists are long
// enough that the index ranks with pruning (PRUNED_MIN_POSTINGS), and whose repeated texts tie on scores.
const turns = records.filter((memory) => memory.scope.userId === 'longmemeval');
for (const copy of [0, 1, 2]) {
  for (const turn of turns) records.push(record(`lme${copy}:${turn.id.slice(4)}`, turn.text, 'longmemeval-3x'));
}
for (let start = 0; start < records.length; start += 1000) await plain.upsert({ records: records.slice(start, start + 1000) });

const notExpired: Filter = { op: 'not', filter: { op: 'lte', field: 'expiresAt', value: Date.now() } };
const key = (matches: VectorMatch[]) => matches.map((match) => `${match.record.id} ${match.score}`).join('\n');
let compared = 0;
let different = 0;
// Each scope's first search is FTS5's (the index is built on the second): search every query twice.
for (const round of [0, 1]) {
  for (const query of queries) {
    for (const topK of [10, 40]) {
      const request = { scope: { userId: query.userId }, text: query.text, topK, filter: notExpired };
      const got = key(await indexed.keywordQuery(request));
      const expected = key(await plain.keywordQuery(request));
      if (round === 0) continue;
      compared += 1;
      if (got !== expected) {
        different += 1;
        if (different <= 5)
          process.stderr.write(`different: ${JSON.stringify(query)} topK ${topK}\n--- index\n${got}\n--- FTS5\n${expected}\n`);
      }
    }
  }
}
await indexed.close();
await plain.close();
rmSync(directory, { recursive: true, force: true });
process.stdout.write(`${records.length} memories, ${compared} keyword queries compared, ${different} different\n`);
process.exit(different === 0 ? 0 : 1);
