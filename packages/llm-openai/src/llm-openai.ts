import type { LLM } from '@mem/core';

/** Options of {@link OpenaiLLM}. */
export interface OpenaiLLMOptions {}

/** Openai adapter. Implement every method of {@link LLM}; declare what the backend does natively in `capabilities`. */
export declare class OpenaiLLM implements LLM {}
