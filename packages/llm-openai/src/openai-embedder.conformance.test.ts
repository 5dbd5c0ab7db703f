import { describeEmbedder } from '@mem/conformance';
import { OpenAIEmbedder } from './openai-embedder';
import { openAIConformanceReplies } from './testing/openai-conformance-replies';
import { startOpenAIFakeServer } from './testing/openai-fake-server';

// The shared suite against a local server speaking the Embeddings wire protocol (base64 float32
// vectors, as the SDK asks for them), with lexical vectors so equal texts give equal vectors.
for (const encodingFormat of ['base64', 'float'] as const) {
  describeEmbedder(`OpenAIEmbedder (encodingFormat: ${encodingFormat}, local fixture server)`, async () => {
    const server = await startOpenAIFakeServer({ fallback: openAIConformanceReplies });
    const subject = new OpenAIEmbedder({ apiKey: 'sk-test', baseURL: server.baseURL, dimensions: 64, encodingFormat });
    return { subject, dispose: () => server.close() };
  });
}
