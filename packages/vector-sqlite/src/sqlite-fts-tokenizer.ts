/**
 * The terms the keyword index's FTS5 tokenizer (`porter unicode61 remove_diacritics 0`) makes of a
 * text, computed in JavaScript so the scope keyword index can read a scope without FTS5 handing out
 * every posting. What it follows (SQLite's documented tokenizers, and their behaviour):
 *
 * - unicode61: a token starts at a letter, number or private-use character (Unicode categories L*,
 *   N*, Co), goes on over those and the combining diacritics it knows, and is case-folded one
 *   character at a time (diacritics kept). In the ASCII range that is [0-9A-Za-z], lower-cased;
 *   beyond it, FTS5 itself says how it reads each character (see {@link CharacterClass}).
 * - porter: M. F. Porter's 1980 algorithm on the token's UTF-8 bytes (only `a e i o u`, and `y`
 *   after a consonant, are vowels; every other byte is a consonant), applied only to tokens of 3 to
 *   64 bytes, with FTS5's reading of step 1a (`-es` loses only its `s` unless `-sses` or `-ies`) and
 *   of the (*v*) condition (`y` is a vowel anywhere but at the start).
 *
 * The store also checks every memory it indexes against FTS5's own token count for it (the text
 * column of `<table>_kw_docsize`): a scope where the counts differ is left to FTS5.
 */

/**
 * How unicode61 reads a character beyond ASCII: whether a token may start with it (a letter, number
 * or private-use character in SQLite's Unicode tables), whether a token goes on over it (those, and
 * the combining diacritics it knows), and its case folding. SQLite's tables are older than
 * JavaScript's (a code point they do not assign, such as an emoji added since, reads as a letter),
 * so these come from FTS5 itself (see {@link CharacterProbe}), once per character and process.
 */
export interface CharacterClass {
  readonly starts: boolean;
  readonly continues: boolean;
  readonly fold: string;
}

/** Asks FTS5 how it reads each of these characters (see the store's probe, which tokenises them in a temporary FTS5 table). */
export type CharacterProbe = (characters: readonly string[]) => readonly CharacterClass[];

const classes = new Map<string, CharacterClass>();
const NON_ASCII = /[^\u0000-\u007f]/gu;
/** ASCII token characters: [0-9A-Za-z]. */
const ASCII_TOKEN = new Uint8Array(128).map((_, code) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) ? 1 : 0,
);

/** Terms remembered per token (texts repeat words); past this many the memory starts over. */
const MAX_REMEMBERED_TOKENS = 200_000;
const remembered = new Map<string, string>();

/** Learns, through `probe`, how FTS5 reads every character beyond ASCII in these texts not known yet. */
export function learnCharacters(texts: readonly string[], probe: CharacterProbe): void {
  const unknown = new Set<string>();
  for (const text of texts) {
    for (const [character] of text.matchAll(NON_ASCII)) if (!classes.has(character)) unknown.add(character);
  }
  if (unknown.size === 0) return;
  const characters = [...unknown];
  const found = probe(characters);
  characters.forEach((character, index) => classes.set(character, found[index]!));
}

/**
 * The FTS5 terms of `text`, in order (one per token, repeats kept). Every character beyond ASCII in
 * it must be known (see {@link learnCharacters}).
 */
export function ftsTerms(text: string): string[] {
  const terms: string[] = [];
  const length = text.length;
  let index = 0;
  while (index < length) {
    const code = text.charCodeAt(index);
    let width = 1;
    if (code < 128) {
      if (ASCII_TOKEN[code] === 0) {
        index += 1;
        continue;
      }
    } else {
      width = code >= 0xd800 && code <= 0xdbff ? 2 : 1;
      if (!classOf(text.slice(index, index + width)).starts) {
        index += width;
        continue;
      }
    }
    const start = index;
    let ascii = code < 128;
    index += width;
    while (index < length) {
      const next = text.charCodeAt(index);
      if (next < 128) {
        if (ASCII_TOKEN[next] === 0) break;
        index += 1;
      } else {
        const size = next >= 0xd800 && next <= 0xdbff ? 2 : 1;
        if (!classOf(text.slice(index, index + size)).continues) break;
        ascii = false;
        index += size;
      }
    }
    terms.push(termOf(text.slice(start, index), ascii));
  }
  return terms;
}

function classOf(character: string): CharacterClass {
  const known = classes.get(character);
  if (known === undefined)
    throw new Error(`ftsTerms: the character U+${character.codePointAt(0)!.toString(16)} was not learnt (learnCharacters)`);
  return known;
}

/** The FTS5 term of one token as it appears in the text. */
function termOf(token: string, ascii: boolean): string {
  const known = remembered.get(token);
  if (known !== undefined) return known;
  const term = ownCopy(ascii ? stemAscii(token.toLowerCase()) : stemBytes(Buffer.from(foldEach(token), 'utf8')));
  if (remembered.size >= MAX_REMEMBERED_TOKENS) remembered.clear();
  remembered.set(ownCopy(token), term);
  return term;
}

/**
 * A string of its own: a slice of 13 characters or more is held by V8 as a view of the whole text
 * it was cut from, which a remembered token or an index's term would keep alive.
 */
function ownCopy(value: string): string {
  return value.length < 13 ? value : (JSON.parse(JSON.stringify(value)) as string);
}

/** Folds a token: ASCII letters to lower case, other characters as FTS5 folds them. */
function foldEach(token: string): string {
  let folded = '';
  for (const character of token) {
    const code = character.codePointAt(0)!;
    folded += code < 128 ? character.toLowerCase() : classOf(character).fold;
  }
  return folded;
}

function stemAscii(token: string): string {
  if (token.length < 3 || token.length > 64) return token;
  const bytes = Buffer.from(token, 'latin1');
  return stemBytes(bytes);
}

/** Porter-stems UTF-8 bytes (see the file comment); tokens outside 3 to 64 bytes stay as they are. */
function stemBytes(token: Buffer): string {
  if (token.length < 3 || token.length > 64) return token.toString('utf8');
  const word = new Word(token);
  word.step1a();
  word.step1b();
  word.step1c();
  word.replace(STEP2, greaterThan0);
  word.replace(STEP3, greaterThan0);
  word.step4();
  word.step5();
  return word.toString();
}

const A = 97;
const E = 101;
const I = 105;
const O = 111;
const U = 117;
const Y = 121;

/** A byte as a vowel: a e i o u, and y when the byte before is a consonant. */
function isVowel(byte: number, yIsVowel: boolean): boolean {
  return byte === A || byte === E || byte === I || byte === O || byte === U || (yIsVowel && byte === Y);
}

type Condition = (word: Word, stem: number) => boolean;

const greaterThan0: Condition = (word, stem) => word.measureAtLeast(stem, 1);
const greaterThan1: Condition = (word, stem) => word.measureAtLeast(stem, 2);

/** Step 2 and 3 rules: [suffix, replacement], the first suffix that ends the word decides. */
const STEP2: readonly (readonly [string, string])[] = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['logi', 'log'],
  ['bli', 'ble'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
];
const STEP3: readonly (readonly [string, string])[] = [
  ['ical', 'ic'],
  ['ness', ''],
  ['icate', 'ic'],
  ['iciti', 'ic'],
  ['ful', ''],
  ['ative', ''],
  ['alize', 'al'],
];
const STEP4 = [
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
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
];

/**
 * The rules are grouped by the word's next-to-last byte; within a group the first suffix that ends
 * the word decides (whether or not its condition holds). Suffixes of different groups never both
 * end a word, so "the first in list order" is the same thing.
 */
class Word {
  private readonly bytes: Buffer;
  length: number;

  constructor(token: Buffer) {
    this.bytes = Buffer.alloc(token.length + 2);
    token.copy(this.bytes);
    this.length = token.length;
  }

  at(index: number): number {
    return index >= 0 && index < this.length ? this.bytes[index]! : -1;
  }

  endsWith(suffix: string): boolean {
    // The suffix must leave a stem of at least one byte.
    if (this.length <= suffix.length) return false;
    const start = this.length - suffix.length;
    for (let index = 0; index < suffix.length; index++) if (this.bytes[start + index] !== suffix.charCodeAt(index)) return false;
    return true;
  }

  set(stem: number, replacement: string): void {
    for (let index = 0; index < replacement.length; index++) this.bytes[stem + index] = replacement.charCodeAt(index);
    this.length = stem + replacement.length;
  }

  /**
   * Whether the first `stem` bytes hold at least `count` vowel-consonant sequences ([C](VC)^m[V]:
   * m ≥ count), counting from the start.
   */
  measureAtLeast(stem: number, count: number): boolean {
    let index = 0;
    let consonant = false;
    for (let seen = 0; seen < count; seen++) {
      // A vowel, then a consonant after it.
      for (; index < stem; index++) {
        consonant = !isVowel(this.bytes[index]!, consonant);
        if (!consonant) break;
      }
      let found = false;
      for (index++; index < stem; index++) {
        consonant = !isVowel(this.bytes[index]!, consonant);
        if (consonant) {
          found = true;
          index++;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }

  /** m = 1 exactly. */
  measureIsOne(stem: number): boolean {
    return this.measureAtLeast(stem, 1) && !this.measureAtLeast(stem, 2);
  }

  /** (*v*): a vowel in the stem, `y` counting as one anywhere but at the start. */
  hasVowel(stem: number): boolean {
    for (let index = 0; index < stem; index++) if (isVowel(this.bytes[index]!, index > 0)) return true;
    return false;
  }

  /** (*o): the stem ends consonant-vowel-consonant, the last not w, x or y. */
  endsCvc(stem: number): boolean {
    const last = this.bytes[stem - 1];
    if (last === 119 || last === 120 || last === Y) return false;
    let mask = 0;
    let consonant = false;
    for (let index = 0; index < stem; index++) {
      consonant = !isVowel(this.bytes[index]!, consonant);
      mask = ((mask << 1) | (consonant ? 1 : 0)) & 7;
    }
    return mask === 5;
  }

  step1a(): void {
    if (this.at(this.length - 1) !== 115) return;
    if (this.at(this.length - 2) === E) {
      if (
        (this.length > 4 && this.at(this.length - 4) === 115 && this.at(this.length - 3) === 115) ||
        (this.length > 3 && this.at(this.length - 3) === I)
      ) {
        this.length -= 2;
      } else {
        this.length -= 1;
      }
    } else if (this.at(this.length - 2) !== 115) {
      this.length -= 1;
    }
  }

  step1b(): void {
    let stripped = false;
    if (this.endsWith('eed')) {
      if (greaterThan0(this, this.length - 3)) this.length -= 1;
    } else if (this.endsWith('ed')) {
      if (this.hasVowel(this.length - 2)) {
        this.length -= 2;
        stripped = true;
      }
    } else if (this.endsWith('ing')) {
      if (this.hasVowel(this.length - 3)) {
        this.length -= 3;
        stripped = true;
      }
    }
    if (!stripped) return;
    for (const [suffix, replacement] of [
      ['at', 'ate'],
      ['bl', 'ble'],
      ['iz', 'ize'],
    ] as const) {
      if (this.endsWith(suffix)) {
        this.set(this.length - suffix.length, replacement);
        return;
      }
    }
    const last = this.at(this.length - 1);
    if (!isVowel(last, false) && last !== 108 && last !== 115 && last !== 122 && last === this.at(this.length - 2)) {
      this.length -= 1;
    } else if (this.measureIsOne(this.length) && this.endsCvc(this.length)) {
      this.bytes[this.length] = E;
      this.length += 1;
    }
  }

  step1c(): void {
    if (this.at(this.length - 1) === Y && this.hasVowel(this.length - 1)) this.bytes[this.length - 1] = I;
  }

  replace(rules: readonly (readonly [string, string])[], condition: Condition): void {
    for (const [suffix, replacement] of rules) {
      if (!this.endsWith(suffix)) continue;
      const stem = this.length - suffix.length;
      if (condition(this, stem)) this.set(stem, replacement);
      return;
    }
  }

  step4(): void {
    for (const suffix of STEP4) {
      if (!this.endsWith(suffix)) continue;
      const stem = this.length - suffix.length;
      const holds =
        suffix === 'ion'
          ? (this.bytes[stem - 1] === 115 || this.bytes[stem - 1] === 116) && greaterThan1(this, stem)
          : greaterThan1(this, stem);
      if (holds) this.length = stem;
      return;
    }
  }

  step5(): void {
    if (this.at(this.length - 1) === E) {
      const stem = this.length - 1;
      if (greaterThan1(this, stem) || (this.measureIsOne(stem) && !this.endsCvc(stem))) this.length = stem;
    }
    if (this.length > 1 && this.at(this.length - 1) === 108 && this.at(this.length - 2) === 108 && greaterThan1(this, this.length - 1)) {
      this.length -= 1;
    }
  }

  toString(): string {
    return this.bytes.toString('utf8', 0, this.length);
  }
}
