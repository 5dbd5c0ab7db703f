import type { LLM } from '@mem/core';

/** Options of {@link AnthropicLLM}. */
export interface AnthropicLLMOptions {}

/** Anthropic adapter. Implement every method of {@link LLM}; declare what the backend does natively in `capabilities`. */
export declare class AnthropicLLM implements LLM {}
