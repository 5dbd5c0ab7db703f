import { createOpenAI } from '@ai-sdk/openai';
import { describeEmbedder, describeLLM, liveEnv } from '@mem/conformance';
import { generateText } from 'ai';
import { describe, expect, it } from 'vitest';
import { AISDKEmbedder } from './ai-sdk-embedder';
import { AISDKLLM } from './ai-sdk-llm';
import { withMemory } from './ai-sdk-memory-middleware';
import { seededMemory } from './testing/ai-sdk-mock-models';

// The shared suites and a withMemory round trip against the real OpenAI API through @ai-sdk/openai,
// skipped (with this reason shown) unless OPENAI_API_KEY is set.
const live = liveEnv('OPENAI_API_KEY');
const openai = () => createOpenAI({ apiKey: live.values.OPENAI_API_KEY });

describeLLM(
  'AISDKLLM on @ai-sdk/openai (live)',
  async () => ({ subject: new AISDKLLM({ model: openai()('gpt-4.1-mini') }), dispose: async () => {} }),
  {
    skip: live.skip,
    timeoutMs: 60_000,
  },
);

describeEmbedder(
  'AISDKEmbedder on @ai-sdk/openai (live)',
  async () => ({
    subject: new AISDKEmbedder({ model: openai().embedding('text-embedding-3-small'), dimensions: 1536 }),
    dispose: async () => {},
  }),
  { skip: live.skip, timeoutMs: 60_000 },
);

describe.skipIf(live.skip !== undefined)(`withMemory on gpt-4.1-mini (live)${live.skip ? ` — skipped: ${live.skip}` : ''}`, () => {
  it('answers from a memory of the scope', { timeout: 60_000 }, async () => {
    const scope = { userId: `live-${Date.now()}` };
    const memory = await seededMemory([{ scope, texts: ['My cat is called Miso'] }]);
    try {
      const { text } = await generateText({
        model: withMemory(openai()('gpt-4.1-mini'), { memory, scope, add: 'off' }),
        prompt: "What is my cat's name? Answer with the name only.",
        temperature: 0,
      });
      expect(text).toMatch(/Miso/);
    } finally {
      await memory.close();
    }
  });
});
