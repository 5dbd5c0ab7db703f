export { AISDKLLM, type AISDKLLMOptions, type AISDKStructuredOutput } from './ai-sdk-llm';
export { AISDKEmbedder, type AISDKEmbedderOptions } from './ai-sdk-embedder';
export type { AISDKCallSettingsOptions } from './ai-sdk-call';
export { AISDKErrorSummary } from './ai-sdk-errors';
export {
  withMemory,
  memoryMiddleware,
  type MemoryMiddleware,
  type MemoryMiddlewareOptions,
  type MemoryForMiddleware,
  type MemoryInjectionMetadata,
  type ModelWithMemory,
} from './ai-sdk-memory-middleware';
export { DEFAULT_MEMORY_HEADER, estimateTokens } from './ai-sdk-memory-context';
export {
  memoryTools,
  type MemoryTools,
  type MemoryToolsOptions,
  type MemoryForTools,
  type MemoryToolItem,
  type SearchMemoriesInput,
  type AddMemoryInput,
  type UpdateMemoryInput,
  type DeleteMemoryInput,
  type ListMemoriesInput,
} from './ai-sdk-memory-tools';
export type {
  AISDKLanguageModel,
  AISDKEmbeddingModel,
  AISDKCallOptions,
  AISDKGenerateResult,
  AISDKStreamResult,
  AISDKStreamPart,
  AISDKPromptMessage,
  AISDKContentPart,
  AISDKProviderOptions,
  AISDKTokenCount,
} from './ai-sdk-model-types';
export type { RetryEvent as AISDKRetryEvent } from '@mem/core/adapter';
