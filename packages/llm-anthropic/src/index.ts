export { AnthropicLLM, type AnthropicLLMOptions } from './llm-anthropic';
