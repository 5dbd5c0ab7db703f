export { AnthropicLLM, type AnthropicLLMOptions, type AnthropicModelId } from './anthropic-llm';
export type { AnthropicConnectionOptions } from './anthropic-options';
export type { RetryEvent as AnthropicRetryEvent } from '@mem/core/adapter';
