import { hashText } from '@mem/core/adapter';
import type { MemoryRecord } from '@mem/core';
import { seededRandom } from './stats';

/** Metadata categories of the synthetic memories; a filter on one keeps about 1/12 of a scope. */
export const CATEGORIES = [
  'food',
  'travel',
  'work',
  'family',
  'health',
  'hobby',
  'pets',
  'music',
  'sport',
  'finance',
  'home',
  'education',
] as const;
const SOURCES = ['chat', 'email', 'calendar', 'notes'] as const;
const SUBJECTS = ['Alice', 'Bob', 'the user', 'Priya', 'Marco', 'Chen', 'Fatima', 'Jonas'];
const VERBS = ['likes', 'visited', 'plans to try', 'stopped', 'bought', 'talked about', 'is learning', 'recommended'];
const OBJECTS = [
  'green tea',
  'Lisbon',
  'a new job',
  'the piano',
  'a road bike',
  'vegan recipes',
  'a golden retriever',
  'jazz records',
  'a pottery class',
  'index funds',
  'the garden',
  'a history course',
];

/** The scope of the `index`-th synthetic memory: records are spread round-robin over `scopes` users. */
export const scopeOf = (index: number, scopes: number): { userId: string } => ({ userId: `user-${index % scopes}` });

/**
 * Deterministic synthetic memories: unit vectors of `dimensions` (seeded, so every run and every
 * system gets the same data), a text, and realistic metadata (category, source, importance, tags,
 * session) over `scopes` users. The text is a one-line sentence, or, when `texts` is given (e.g.
 * real conversation turns), the `index`-th of them (cycling) with the note number appended, so
 * texts have real lengths and words and every record still has its own hash.
 */
export class SyntheticMemories {
  private readonly random: () => number;
  private readonly epoch = Date.UTC(2023, 0, 1);

  constructor(
    readonly dimensions: number,
    readonly scopes: number,
    seed = 7,
    private readonly texts?: readonly string[],
  ) {
    this.random = seededRandom(seed);
  }

  vector(): number[] {
    const vector = new Array<number>(this.dimensions);
    let norm = 0;
    for (let i = 0; i < this.dimensions; i++) {
      const value = this.random() * 2 - 1;
      vector[i] = value;
      norm += value * value;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < this.dimensions; i++) vector[i]! /= norm;
    return vector;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  record(index: number): MemoryRecord {
    const sentence = `${this.pick(SUBJECTS)} ${this.pick(VERBS)} ${this.pick(OBJECTS)}`;
    const text = `${this.texts && this.texts.length > 0 ? this.texts[index % this.texts.length] : sentence} (note ${index})`;
    const at = new Date(this.epoch + Math.floor(this.random() * 400) * 86_400_000);
    // Ids sort in insertion order, like the UUID v7 ids mem creates.
    const id = `0190a000-0000-7000-8000-${index.toString(16).padStart(12, '0')}`;
    return {
      id,
      vector: this.vector(),
      text,
      hash: hashText(text),
      scope: scopeOf(index, this.scopes),
      metadata: {
        category: this.pick(CATEGORIES),
        source: this.pick(SOURCES),
        importance: 1 + Math.floor(this.random() * 5),
        tags: [this.pick(CATEGORIES), this.pick(SOURCES)],
        session: `s-${Math.floor(index / 500)}`,
      },
      createdAt: at,
      updatedAt: at,
      occurredAt: at,
    };
  }

  batch(start: number, count: number): MemoryRecord[] {
    return Array.from({ length: count }, (_, offset) => this.record(start + offset));
  }
}

/**
 * The exact-search lower bound: one pass of cosine similarity over `vectors` (unit Float32Arrays,
 * so a dot product) in a tight loop, keeping the best. No store can answer an exact query faster
 * than it reads every vector of the scope once.
 */
export function scanOnce(vectors: readonly Float32Array[], query: Float32Array): number {
  let best = -2;
  for (const vector of vectors) {
    let dot = 0;
    for (let k = 0; k < vector.length; k++) dot += vector[k]! * query[k]!;
    if (dot > best) best = dot;
  }
  return best;
}
