import { tokenize } from '../kit/bm25';
import { InvalidInputError, throwIfAborted } from '../contract/errors';
import type { Embedder } from '../contract/interfaces';
import type { Call } from '../contract/types';
import { normalize } from '../kit/vector-math';

/** Options of {@link LexicalEmbedder}. */
export interface LexicalEmbedderOptions {
  /** Length of every vector. @default 512 */
  readonly dimensions?: number;
  /** Weight of character trigrams relative to whole words; they catch plurals and typos. @default 0.35 */
  readonly trigramWeight?: number;
}

/**
 * A dependency-free, offline embedder that hashes words, word pairs and character trigrams into
 * a fixed-size vector (the "hashing trick"). It is **lexical, not semantic**: "likes tea" and
 * "enjoys tea" are close because they share "tea", but "car" and "automobile" are unrelated.
 * Use it to try mem without an API key; use a model embedder for real recall.
 *
 * @example
 * const memory = new Memory({ embedder: new LexicalEmbedder(), ... });
 */
export class LexicalEmbedder implements Embedder {
  readonly provider: string = 'lexical';
  readonly model: string;
  readonly dimensions: number;
  private readonly trigramWeight: number;

  constructor(options: LexicalEmbedderOptions = {}) {
    this.dimensions = options.dimensions ?? 512;
    this.trigramWeight = options.trigramWeight ?? 0.35;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 8 || this.dimensions > 8192) {
      throw new InvalidInputError('options.dimensions', 'expected an integer from 8 to 8192', 'Pass e.g. { dimensions: 512 }.');
    }
    this.model = `hashing-${this.dimensions}`;
  }

  async embed(
    request: Call<{ texts: readonly string[]; purpose?: 'document' | 'query' }>,
  ): Promise<{ vectors: number[][]; tokens: number }> {
    throwIfAborted(request.signal, `${this.provider} embed`);
    return { vectors: request.texts.map((text) => this.vectorOf(text)), tokens: 0 };
  }

  /** Embeds one text synchronously. */
  vectorOf(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const words = tokenize(text);
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      this.add(vector, `w:${word}`, 1);
      if (i > 0) this.add(vector, `b:${words[i - 1]} ${word}`, 0.5);
      const padded = ` ${word} `;
      for (let j = 0; j + 3 <= padded.length; j++) this.add(vector, `t:${padded.slice(j, j + 3)}`, this.trigramWeight);
    }
    return normalize(vector);
  }

  private add(vector: number[], feature: string, weight: number): void {
    const hash = fnv1a(feature);
    const index = hash % this.dimensions;
    // A second bit of the hash picks the sign, so collisions cancel out on average.
    vector[index]! += (hash & 0x80000000) === 0 ? weight : -weight;
  }
}

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
