import { describeLLM } from '@mem/conformance';
import { OpenAILLM, type OpenAIStructuredOutput } from './openai-llm';
import { openAIConformanceReplies } from './testing/openai-conformance-replies';
import { startOpenAIFakeServer } from './testing/openai-fake-server';

// The shared suite against a local server speaking the Chat Completions wire protocol, answering
// from recorded fixtures; once per structured-output mode, since each sends a different request.
for (const structuredOutput of ['json_schema', 'json_object', 'tool'] as const satisfies readonly OpenAIStructuredOutput[]) {
  describeLLM(`OpenAILLM (structuredOutput: ${structuredOutput}, local fixture server)`, async () => {
    const server = await startOpenAIFakeServer({ fallback: openAIConformanceReplies });
    const subject = new OpenAILLM({ apiKey: 'sk-test', baseURL: server.baseURL, structuredOutput });
    return { subject, dispose: () => server.close() };
  });
}
