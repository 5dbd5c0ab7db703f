import { describe, expect, it } from 'vitest';
import { bleu1, tokenF1 } from '../parts/locomo-e2e';
import { normalizeEvidence, parseLocomoDate, protocolAdds, type LocomoConversation } from './locomo';
import { quantile, summarize } from './stats';
import { groupedBars, logLineChart } from './svg';
import { keepHandWritten } from './kept-sections';
import { SyntheticMemories } from './synthetic';

describe('LOCOMO helpers', () => {
  it('parses session dates as UTC', () => {
    expect(parseLocomoDate('1:56 pm on 8 May, 2023').toISOString()).toBe('2023-05-08T13:56:00.000Z');
    expect(parseLocomoDate('12:09 am on 13 September, 2023').toISOString()).toBe('2023-09-13T00:09:00.000Z');
  });

  it('splits joined evidence ids', () => {
    expect(normalizeEvidence(['D8:6; D9:17', 'D1:3', 'D1:3'])).toEqual(['D8:6', 'D9:17', 'D1:3']);
  });

  it("builds Mem0's protocol: two messages per add, each speaker's side, within a session", () => {
    const turn = (speaker: string, n: number) => ({ speaker, diaId: `D1:${n}`, text: `text ${n}` });
    const conversation: LocomoConversation = {
      index: 0,
      speakerA: 'A',
      speakerB: 'B',
      questions: [],
      sessions: [{ index: 1, dateText: '', date: new Date(0), turns: [turn('A', 1), turn('B', 2), turn('A', 3)] }],
    };
    const adds = protocolAdds(conversation);
    expect(adds.map((add) => [add.self, add.messages.map((message) => `${message.role}:${message.name}`)])).toEqual([
      ['A', ['user:A', 'assistant:B']],
      ['B', ['assistant:A', 'user:B']],
      ['A', ['user:A']],
      ['B', ['assistant:A']],
    ]);
  });
});

describe('answer scores', () => {
  it('token F1 ignores case, punctuation and articles', () => {
    expect(tokenF1('The 7th of May, 2023', '7 May 2023')).toBeCloseTo((2 * (2 / 4) * (2 / 3)) / (2 / 4 + 2 / 3), 6);
    expect(tokenF1('Paris', 'paris')).toBe(1);
    expect(tokenF1('London', 'Paris')).toBe(0);
  });

  it('BLEU-1 clips repeated words and penalises short answers', () => {
    expect(bleu1('paris paris paris', 'paris')).toBeCloseTo(1 / 3, 6);
    expect(bleu1('May', '7 May 2023')).toBeCloseTo(Math.exp(1 - 3), 6);
  });
});

describe('statistics and charts', () => {
  it('uses nearest-rank quantiles', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(summarize([1, 2, 3, 4, 100]).p95).toBe(100);
  });

  it('draws a log-scale line chart with escaped labels', () => {
    const svg = logLineChart({
      title: 'a < b',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'mem & co',
          points: [
            { x: 1000, y: 0.5 },
            { x: 100000, y: 3 },
          ],
        },
      ],
    });
    expect(svg).toContain('<polyline');
    expect(svg).toContain('a &lt; b');
    expect(svg).toContain('mem &amp; co');
  });

  it('draws one bar per series and group', () => {
    const svg = groupedBars({
      title: 't',
      groups: ['1', '2'],
      series: [
        { name: 'k5', values: [0.1, 0.2] },
        { name: 'k10', values: [0.3, 0.4] },
      ],
      yLabel: 'recall',
    });
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width/g)?.length).toBeGreaterThanOrEqual(4);
  });
});

describe('retrieval coverage', () => {
  it('counts any@k and all@k per group and overall', async () => {
    const { coverageByGroup } = await import('./coverage');
    const rows = coverageByGroup(
      [
        { group: '1', evidence: ['a', 'b'], retrieved: { 1: ['a'], 2: ['a', 'b'] } },
        { group: '1', evidence: ['c'], retrieved: { 1: ['x'], 2: ['x', 'y'] } },
        { group: '2', evidence: ['d'], retrieved: { 1: ['d'], 2: ['d', 'e'] } },
      ],
      ['1', '2'],
      [1, 2],
    );
    expect(rows.map((row) => [row.group, row.questions, row.any['1'], row.all['1'], row.any['2'], row.all['2']])).toEqual([
      ['1', 2, 0.5, 0, 0.5, 0.5],
      ['2', 1, 1, 1, 1, 1],
      ['all', 3, 2 / 3, 1 / 3, 2 / 3, 2 / 3],
    ]);
  });

  it('plain BM25 ranks the document sharing the rare word first and ignores stop words', async () => {
    const { PlainBm25 } = await import('./plain-bm25');
    const bm25 = new PlainBm25(['the cat sat on the mat', 'what is the time', 'a dog chased the cat', 'pottery class on monday']);
    expect(bm25.top('What did she do on Monday?', 1)).toEqual([3]);
    expect(bm25.top('the dog', 1)).toEqual([2]);
  });

  it('splits LOCOMO coverage into the halves that were searched', async () => {
    const { locomoHalves } = await import('../parts/locomo-retrieval');
    const question = (conversation: number, found: boolean) => ({
      group: '1',
      evidence: ['a'],
      retrieved: { 10: found ? ['a'] : ['b'] },
      conversation,
    });
    const both = locomoHalves([question(0, true), question(4, false), question(7, true)], [10]);
    expect(both.map((half) => [half.half, half.conversations, half.rows.at(-1)!.questions, half.rows.at(-1)!.any['10']])).toEqual([
      ['tuning', [0, 4], 2, 0.5],
      ['held-out', [7], 1, 1],
      ['all', [0, 4, 7], 3, 2 / 3],
    ]);
    // A tuning-only run (--locomo-half tuning) has no held-out half, rather than one of no questions.
    const tuningOnly = locomoHalves([question(1, true), question(3, true)], [10]);
    expect(tuningOnly.map((half) => [half.half, half.conversations])).toEqual([
      ['tuning', [1, 3]],
      ['all', [1, 3]],
    ]);
  });

  it('reads LongMemEval dates', async () => {
    const { parseLongMemEvalDate } = await import('./longmemeval');
    expect(parseLongMemEvalDate('2023/05/21 (Sun) 19:50').toISOString()).toBe('2023-05-21T19:50:00.000Z');
    expect(parseLongMemEvalDate('soon').getTime()).toBe(0);
  });
});

describe('synthetic vectors', () => {
  const cosine = (a: readonly number[], b: readonly number[]) => a.reduce((total, value, k) => total + value * b[k]!, 0);
  const nearest = (distribution: 'uniform' | 'clustered') => {
    const data = new SyntheticMemories(64, 10, 11, undefined, distribution);
    const vectors = Array.from({ length: 300 }, () => data.vector());
    const queries = new SyntheticMemories(64, 10, 99, undefined, distribution);
    let best = 0;
    for (let q = 0; q < 20; q++) {
      const query = queries.vector();
      best += Math.max(...vectors.map((vector) => cosine(vector, query))) / 20;
    }
    return best;
  };

  it('clustered vectors are unit length, the same for one seed, and have near neighbours that uniform ones lack', () => {
    const a = new SyntheticMemories(64, 10, 5, undefined, 'clustered').vector();
    expect(new SyntheticMemories(64, 10, 5, undefined, 'clustered').vector()).toEqual(a);
    expect(Math.hypot(...a)).toBeCloseTo(1, 9);
    expect(nearest('clustered')).toBeGreaterThan(0.7);
    expect(nearest('uniform')).toBeLessThan(0.5);
  });
});

describe('keepHandWritten', () => {
  const generated = [
    '# Benchmark results',
    '',
    '## 1. Cost',
    '',
    '### Table A (428 adds)',
    '',
    '| a |',
    '',
    '## 2. Scale',
    '',
    '### Table B',
    '',
    '| b |',
    '![chart](b.svg)',
    '',
    '',
  ].join('\n');

  it('returns the generated text as it is when nothing was written by hand', () => {
    expect(keepHandWritten(generated, undefined)).toBe(generated);
    expect(keepHandWritten(generated, generated)).toBe(generated);
  });

  it('keeps subsections under headings it does not write, after the generated part of their section', () => {
    const previous = [
      '# Benchmark results',
      '',
      '## 1. Cost',
      '',
      '### Table A (300 adds)',
      '',
      '| old a |',
      '',
      '## 2. Scale',
      '',
      '### Table B',
      '',
      '| old b |',
      '![chart](b.svg)',
      '',
      '### 1M by hand (2026-12-08)',
      '',
      'measured with approximate.ts',
      '',
      '## 4. Gone from the results',
      '',
      'kept whole',
      '',
    ].join('\n');
    const merged = keepHandWritten(generated, previous);
    // The generated tables are the new ones (a title whose figures changed is still the generator's).
    expect(merged).not.toContain('old a');
    expect(merged).not.toContain('old b');
    expect(merged).toContain('| a |');
    expect(merged.indexOf('![chart](b.svg)')).toBeLessThan(merged.indexOf('### 1M by hand'));
    expect(merged).toContain('### 1M by hand (2026-12-08)\n\nmeasured with approximate.ts\n\n## 4. Gone from the results\n\nkept whole\n');
    expect(merged.endsWith('kept whole\n\n')).toBe(true);
    // Rewriting again changes nothing.
    expect(keepHandWritten(generated, merged)).toBe(merged);
  });
});
