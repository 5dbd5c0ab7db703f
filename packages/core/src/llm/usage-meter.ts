import { ProviderResponseInvalidError } from '../contract/errors';
import type { Embedder, LLM, LLMResponse } from '../contract/interfaces';
import { emptyUsage, type Usage } from '../contract/types';

/** Counts the LLM and embedding calls of one `Memory` operation and the tokens they spent. */
export class UsageMeter {
  readonly usage: Usage = emptyUsage();

  async generate(llm: LLM, request: Parameters<LLM['generate']>[0]): Promise<LLMResponse> {
    this.usage.llmCalls++;
    const response = await llm.generate(request);
    this.usage.promptTokens += response.usage.promptTokens;
    this.usage.completionTokens += response.usage.completionTokens;
    return response;
  }

  async embed(embedder: Embedder, request: Parameters<Embedder['embed']>[0]): Promise<number[][]> {
    if (request.texts.length === 0) return [];
    this.usage.embeddingCalls++;
    const result = await embedder.embed(request);
    this.usage.embeddingTokens += result.tokens;
    const { vectors } = result;
    if (!Array.isArray(vectors) || vectors.length !== request.texts.length) {
      throw new ProviderResponseInvalidError(
        embedder.provider,
        'embed',
        `expected ${request.texts.length} vectors, got ${Array.isArray(vectors) ? vectors.length : 'none'}`,
      );
    }
    const dimensions = vectors[0]?.length ?? 0;
    for (const vector of vectors) {
      if (vector.length !== dimensions || dimensions === 0 || !vector.every(Number.isFinite)) {
        throw new ProviderResponseInvalidError(embedder.provider, 'embed', 'the vectors differ in length or hold non-finite numbers');
      }
    }
    return vectors;
  }
}
