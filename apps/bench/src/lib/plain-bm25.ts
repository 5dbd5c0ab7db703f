/**
 * The "plain BM25" baseline of the LOCOMO retrieval bench: Okapi BM25 as the `rank_bm25` Python
 * package's BM25Okapi computes it (k1 = 1.5, b = 0.75; idf = ln((N − df + 0.5) / (df + 0.5)), a
 * negative idf replaced by 0.25 × the mean idf), over lowercase word tokens without stemming, with
 * the 40 stop words below removed from documents and queries. One index per conversation.
 */
export const PLAIN_BM25_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be but by did do does for from had has have he her his how i in is it its me my of on or she ' +
    'that the their they this to was what when where which who will with you'
  )
    .split(' ')
    .slice(0, 40),
);

const words = (text: string): string[] =>
  (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => !PLAIN_BM25_STOP_WORDS.has(word));

/** A BM25Okapi index over a fixed list of documents. */
export class PlainBm25 {
  private readonly documents: readonly Map<string, number>[];
  private readonly lengths: readonly number[];
  private readonly averageLength: number;
  private readonly idf = new Map<string, number>();

  constructor(texts: readonly string[]) {
    const tokenized = texts.map(words);
    this.lengths = tokenized.map((tokens) => tokens.length);
    this.averageLength = this.lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, texts.length);
    this.documents = tokenized.map((tokens) => {
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      return counts;
    });
    const frequency = new Map<string, number>();
    for (const counts of this.documents) for (const token of counts.keys()) frequency.set(token, (frequency.get(token) ?? 0) + 1);
    let sum = 0;
    const negative: string[] = [];
    for (const [token, df] of frequency) {
      const idf = Math.log((texts.length - df + 0.5) / (df + 0.5));
      this.idf.set(token, idf);
      sum += idf;
      if (idf < 0) negative.push(token);
    }
    const floor = 0.25 * (sum / Math.max(1, frequency.size));
    for (const token of negative) this.idf.set(token, floor);
  }

  /** Indexes of the `k` best documents for `query`, best first (ties: lower index first). */
  top(query: string, k: number): number[] {
    const k1 = 1.5;
    const b = 0.75;
    const terms = words(query);
    const scores = this.documents.map((counts, index) => {
      let score = 0;
      for (const term of terms) {
        const tf = counts.get(term) ?? 0;
        if (tf === 0) continue;
        score += (this.idf.get(term) ?? 0) * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * this.lengths[index]!) / this.averageLength)));
      }
      return score;
    });
    return scores
      .map((score, index) => ({ score, index }))
      .sort((left, right) => right.score - left.score || left.index - right.index)
      .slice(0, k)
      .map(({ index }) => index);
  }
}
