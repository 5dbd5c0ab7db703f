import { describeLLM } from '@mem/conformance';
import { OpenaiLLM } from './llm-openai';

// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.
describeLLM('OpenaiLLM', async ({ namespace }) => {
  const subject = new OpenaiLLM({ /* use namespace for a collection / index name */ });
  return { subject, dispose: async () => { /* drop what the test created */ } };
});
