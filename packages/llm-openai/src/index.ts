export { OpenAILLM, type OpenAILLMOptions, type OpenAIChatModelId, type OpenAIStructuredOutput } from './openai-llm';
export { OpenAIEmbedder, type OpenAIEmbedderOptions, type OpenAIEmbeddingModelId } from './openai-embedder';
export type { OpenAIConnectionOptions } from './openai-options';
export type { RetryEvent as OpenAIRetryEvent } from '@mem/core/adapter';
