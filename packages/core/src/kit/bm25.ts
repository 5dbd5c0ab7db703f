/**
 * Splits text into lowercase word tokens (Unicode letters and digits), for keyword ranking.
 * Shared by the in-memory store and the lexical embedder so both see the same words.
 */
export function tokenize(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/**
 * Okapi BM25 over a small in-memory corpus (k1 = 1.2, b = 0.75). Returns a score per document,
 * same order; 0 for documents that share no token with the query.
 */
export function bm25Scores(query: string, documents: readonly string[]): number[] {
  const queryTokens = [...new Set(tokenize(query))];
  if (queryTokens.length === 0 || documents.length === 0) return documents.map(() => 0);
  const docTokens = documents.map(tokenize);
  const averageLength = docTokens.reduce((sum, tokens) => sum + tokens.length, 0) / documents.length || 1;
  const documentFrequency = new Map<string, number>();
  for (const tokens of docTokens) {
    for (const token of new Set(tokens)) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
  }
  const k1 = 1.2;
  const b = 0.75;
  return docTokens.map((tokens) => {
    const frequency = new Map<string, number>();
    for (const token of tokens) frequency.set(token, (frequency.get(token) ?? 0) + 1);
    let score = 0;
    for (const token of queryTokens) {
      const tf = frequency.get(token);
      if (!tf) continue;
      const df = documentFrequency.get(token) ?? 0;
      const idf = Math.log(1 + (documents.length - df + 0.5) / (df + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * tokens.length) / averageLength));
    }
    return score;
  });
}
