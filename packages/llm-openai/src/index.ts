export { OpenaiLLM, type OpenaiLLMOptions } from './llm-openai';
