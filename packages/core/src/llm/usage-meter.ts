import { readEmbedding, readLLMResponse } from '../contract/adapter-results';
import type { Embedder, LLM, LLMResponse } from '../contract/interfaces';
import { emptyUsage, type Usage } from '../contract/types';

/**
 * Counts the LLM and embedding calls of one `Memory` operation and the tokens they spent. Every
 * LLM and embedder call of core goes through it, and it reads each result against the contract
 * first (a malformed one is a ProviderResponseInvalidError naming the adapter).
 */
export class UsageMeter {
  readonly usage: Usage = emptyUsage();

  async generate(llm: LLM, request: Parameters<LLM['generate']>[0]): Promise<LLMResponse> {
    this.usage.llmCalls++;
    const response = readLLMResponse(await llm.generate(request), { provider: llm.provider, operation: 'generate' });
    this.usage.promptTokens += response.usage.promptTokens;
    this.usage.completionTokens += response.usage.completionTokens;
    return response;
  }

  async embed(embedder: Embedder, request: Parameters<Embedder['embed']>[0]): Promise<number[][]> {
    if (request.texts.length === 0) return [];
    this.usage.embeddingCalls++;
    const result = readEmbedding(await embedder.embed(request), request.texts.length, { provider: embedder.provider, operation: 'embed' });
    this.usage.embeddingTokens += result.tokens;
    return result.vectors;
  }
}
