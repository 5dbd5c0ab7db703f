import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createOpenAI as createOpenAIV2 } from '@ai-sdk/openai-v2';
import { describeEmbedder, describeLLM } from '@mem/conformance';
import { startOpenAIFakeServer } from '@mem/llm-openai/testing';
import { AISDKEmbedder } from './ai-sdk-embedder';
import { AISDKLLM, type AISDKStructuredOutput } from './ai-sdk-llm';
import { conformanceReplies } from './testing/ai-sdk-fixtures';

// The shared suites through real AI SDK provider packages, each sending real HTTP requests to the
// local server speaking OpenAI's wire protocol: @ai-sdk/openai 3 (LanguageModelV3, `ai` 6),
// @ai-sdk/openai-compatible 2 (V3) and @ai-sdk/openai 2 (LanguageModelV2, `ai` 5). The LLM suite
// runs once per structured-output mode, since each sends a different request.

const providers = {
  'openai 3 (v3)': (baseURL: string) => {
    const provider = createOpenAI({ apiKey: 'sk-test', baseURL });
    return { chat: provider.chat('gpt-4.1-mini'), embedding: provider.embedding('text-embedding-3-small') };
  },
  'openai-compatible 2 (v3)': (baseURL: string) => {
    const provider = createOpenAICompatible({ name: 'local', apiKey: 'sk-test', baseURL });
    return { chat: provider.chatModel('gpt-4.1-mini'), embedding: provider.textEmbeddingModel('text-embedding-3-small') };
  },
  'openai 2 (v2)': (baseURL: string) => {
    const provider = createOpenAIV2({ apiKey: 'sk-test', baseURL });
    return { chat: provider.chat('gpt-4.1-mini'), embedding: provider.embedding('text-embedding-3-small') };
  },
};

for (const [name, create] of Object.entries(providers)) {
  for (const structuredOutput of ['json_schema', 'json', 'tool', 'text'] as const satisfies readonly AISDKStructuredOutput[]) {
    describeLLM(`AISDKLLM on @ai-sdk/${name}, structuredOutput ${structuredOutput} (local fixture server)`, async () => {
      const server = await startOpenAIFakeServer({ fallback: conformanceReplies });
      const subject = new AISDKLLM({ model: create(server.baseURL).chat, structuredOutput });
      return { subject, dispose: () => server.close() };
    });
  }
  describeEmbedder(`AISDKEmbedder on @ai-sdk/${name} (local fixture server)`, async () => {
    const server = await startOpenAIFakeServer({ fallback: conformanceReplies });
    const subject = new AISDKEmbedder({ model: create(server.baseURL).embedding });
    return { subject, dispose: () => server.close() };
  });
}
