import { describeEmbedder, describeLLM, liveEnv } from '@mem/conformance';
import { OpenAIEmbedder } from './openai-embedder';
import { OpenAILLM } from './openai-llm';

// The same suites against the real API, skipped (with this reason shown) unless OPENAI_API_KEY is
// set. OPENAI_BASE_URL, when set, points them at another compatible server.
const openai = liveEnv('OPENAI_API_KEY');

describeLLM(
  'OpenAILLM (live)',
  async () => ({ subject: new OpenAILLM({ apiKey: openai.values.OPENAI_API_KEY }), dispose: async () => {} }),
  { skip: openai.skip, timeoutMs: 60_000 },
);

describeEmbedder(
  'OpenAIEmbedder (live)',
  async () => ({ subject: new OpenAIEmbedder({ apiKey: openai.values.OPENAI_API_KEY, dimensions: 256 }), dispose: async () => {} }),
  { skip: openai.skip, timeoutMs: 60_000 },
);
