import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ftsTerms, learnCharacters, type CharacterProbe } from './sqlite-fts-tokenizer';
import { seededRandom } from '../test/seeded-random';

const database = new Database(':memory:');
database.exec(`
  CREATE VIRTUAL TABLE tokens USING fts5(text, content='', tokenize='porter unicode61 remove_diacritics 0');
  CREATE VIRTUAL TABLE instances USING fts5vocab(tokens, instance);
`);
afterAll(() => database.close());

/** FTS5's terms of each text, in order: the keyword index's tokenizer itself. */
function fts5Terms(texts: readonly string[]): string[][] {
  const insert = database.prepare('INSERT INTO tokens (rowid, text) VALUES (?, ?)');
  texts.forEach((text, index) => insert.run(index + 1, text));
  const terms = texts.map((): string[] => []);
  for (const [doc, term] of database.prepare('SELECT doc, term FROM instances ORDER BY doc, offset').raw().all() as [number, string][]) {
    terms[doc - 1]!.push(term);
  }
  database.exec(`INSERT INTO tokens (tokens) VALUES ('delete-all')`);
  return terms;
}

const STEMS = [
  'relat',
  'hop',
  'connect',
  'generat',
  'sens',
  'agree',
  'troubl',
  'rat',
  'conflat',
  'fil',
  'siz',
  'tann',
  'fail',
  'feud',
  'cr',
  'sky',
  'happ',
  'formal',
  'electr',
  'adjust',
  'depend',
  'activ',
  'effect',
  'bowdler',
  'radic',
  'hope',
  'goodn',
  'decis',
  'homolog',
  'triplic',
  'us',
  'b',
  'y',
  'oy',
  'ee',
  'ss',
  'abl',
  'ion',
  'tion',
];
const SUFFIXES = [
  '',
  's',
  'es',
  'sses',
  'ies',
  'ss',
  'ed',
  'eed',
  'ing',
  'ings',
  'at',
  'bl',
  'iz',
  'y',
  'ational',
  'tional',
  'enci',
  'anci',
  'izer',
  'logi',
  'bli',
  'alli',
  'entli',
  'eli',
  'ousli',
  'ization',
  'ation',
  'ator',
  'alism',
  'iveness',
  'fulness',
  'ousness',
  'aliti',
  'iviti',
  'biliti',
  'icate',
  'ative',
  'alize',
  'iciti',
  'ical',
  'ful',
  'ness',
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'sion',
  'tion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
  'e',
  'll',
  'le',
  'ying',
  'yed',
];
/** Letters and marks beyond ASCII: accents (composed and combining), Greek with its final sigma, Cyrillic, CJK, digits of other scripts, emoji, apostrophes. */
const OTHER = [
  '🙃',
  '🤔',
  '🧘',
  'café',
  'cafe\u0301',
  'naïve',
  'ΟΔΟΣ',
  'Σοφία',
  'Привет',
  'Straße',
  'İstanbul',
  '東京',
  '١٢٣',
  '½',
  '²',
  '😀',
  "don't",
  'it’s',
  'x_y',
  'a-b',
  'ǅ',
  'Ⅻ',
  'ﬁ',
  '\u{10400}',
  'e\u0302\u0323',
  'a\u0335b',
  'ÀÉÎÕÜ',
  'Ωmega',
];

/** How FTS5 reads each character: tokenises "x" + c + "x" and c + "x". */
const probe: CharacterProbe = (characters) => {
  const terms = fts5Terms(characters.flatMap((character) => [`x${character}x`, `${character}x`]));
  return characters.map((_, index) => {
    const inside = terms[index * 2]!;
    const leading = terms[index * 2 + 1]!;
    return {
      continues: inside.length === 1,
      starts: leading.length === 1 && leading[0] !== 'x',
      fold: inside.length === 1 ? inside[0]!.slice(1, -1) : '',
    };
  });
};

function termsOf(text: string): string[] {
  learnCharacters([text], probe);
  return ftsTerms(text);
}

describe('ftsTerms', () => {
  it("gives FTS5's terms (porter unicode61 remove_diacritics 0) for every stem and suffix of the Porter steps, cased and not", () => {
    const words = STEMS.flatMap((stem) => SUFFIXES.map((suffix) => stem + suffix));
    const texts = [
      words.join(' '),
      words.map((word) => word.toUpperCase()).join(', '),
      words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('.'),
    ];
    const expected = fts5Terms(texts);
    texts.forEach((text, index) => expect(termsOf(text)).toEqual(expected[index]));
  });

  it("gives FTS5's terms for random texts mixing English words, other scripts, marks, symbols and long tokens", () => {
    const random = seededRandom(31);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
    const texts = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + Math.floor(random() * 30) }, () => {
        const roll = random();
        if (roll < 0.5) return pick(STEMS) + pick(SUFFIXES);
        if (roll < 0.75) return pick(OTHER);
        if (roll < 0.8) return 'x'.repeat(60 + Math.floor(random() * 10)) + pick(SUFFIXES);
        // Any code point but a lone surrogate (the store refuses those), assigned or not.
        if (roll < 0.9) {
          const code = Math.floor(random() * 0x30000);
          return code >= 0xd800 && code <= 0xdfff ? 'z' : String.fromCodePoint(code);
        }
        return pick(STEMS) + pick(OTHER) + pick(SUFFIXES);
      }).join(pick([' ', '', '\n', ' - ', '_'])),
    );
    const expected = fts5Terms(texts);
    texts.forEach((text, index) => expect(termsOf(text), JSON.stringify(text)).toEqual(expected[index]));
  });

  /** The shared data beside the repository (../shared/data), or MEM_SHARED_DATA. */
  const data = process.env.MEM_SHARED_DATA ?? join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data');
  const locomo = join(data, 'locomo', 'locomo10.json');
  const longMemEval = join(data, 'longmemeval-oracle', 'questions');
  it.skipIf(!existsSync(locomo) || !existsSync(longMemEval))(
    "gives FTS5's terms for every LOCOMO turn and LongMemEval oracle turn (skipped when ../shared/data is absent)",
    () => {
      const texts: string[] = [];
      type LocomoTurn = { text?: string; blip_caption?: string };
      for (const sample of JSON.parse(readFileSync(locomo, 'utf8')) as { conversation: Record<string, unknown> }[]) {
        for (const [key, turns] of Object.entries(sample.conversation)) {
          if (!/^session_\d+$/.test(key) || !Array.isArray(turns)) continue;
          for (const turn of turns as LocomoTurn[]) texts.push(`${turn.text ?? ''} ${turn.blip_caption ?? ''}`);
        }
      }
      const seen = new Set<string>();
      for (const name of readdirSync(longMemEval).filter((file) => file.endsWith('.json'))) {
        const question = JSON.parse(readFileSync(join(longMemEval, name), 'utf8')) as { haystack_sessions: { content: string }[][] };
        for (const session of question.haystack_sessions) {
          for (const turn of session) {
            if (seen.has(turn.content)) continue;
            seen.add(turn.content);
            texts.push(turn.content);
          }
        }
      }
      expect(texts.length).toBeGreaterThan(15_000);
      const expected = fts5Terms(texts);
      learnCharacters(texts, probe);
      const different = texts.filter((text, index) => ftsTerms(text).join(' ') !== expected[index]!.join(' '));
      expect(different.slice(0, 3)).toEqual([]);
    },
    60_000,
  );
});
