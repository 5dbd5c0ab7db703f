import { describeLLM } from '@mem/conformance';
import { AnthropicLLM } from './llm-anthropic';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeLLM('AnthropicLLM', async ({ namespace }) => {
  const subject = new AnthropicLLM({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
