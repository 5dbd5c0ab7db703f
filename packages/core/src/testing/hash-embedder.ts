import { LexicalEmbedder } from '../builtin/lexical-embedder';
import type { Call } from '../contract/types';

/**
 * A deterministic, offline, unit-length embedder for tests: the same text always gives the same
 * vector, texts sharing words are close. Records every request in `requests`. Never a default.
 */
export class HashEmbedder extends LexicalEmbedder {
  override readonly provider = 'hash';
  /** Every request received, oldest first. */
  readonly requests: { texts: readonly string[]; purpose?: 'document' | 'query' }[] = [];

  constructor(options: { dimensions?: number } = {}) {
    super({ dimensions: options.dimensions ?? 64 });
  }

  override async embed(request: Call<{ texts: readonly string[]; purpose?: 'document' | 'query' }>) {
    this.requests.push({ texts: [...request.texts], ...(request.purpose ? { purpose: request.purpose } : {}) });
    return super.embed(request);
  }
}
