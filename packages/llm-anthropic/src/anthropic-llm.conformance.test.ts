import { describeLLM } from '@mem/conformance';
import { AnthropicLLM } from './anthropic-llm';
import { anthropicConformanceReplies } from './testing/anthropic-conformance-replies';
import { startAnthropicFakeServer } from './testing/anthropic-fake-server';

// The shared suite against a local server speaking the Messages API wire protocol, answering from
// recorded fixtures; with and without a strict tool, since each sends a different request.
for (const strictTool of [false, true]) {
  describeLLM(`AnthropicLLM (strictTool: ${strictTool}, local fixture server)`, async () => {
    const server = await startAnthropicFakeServer({ fallback: anthropicConformanceReplies });
    const subject = new AnthropicLLM({ apiKey: 'sk-ant-test', baseURL: server.baseURL, strictTool });
    return { subject, dispose: () => server.close() };
  });
}
