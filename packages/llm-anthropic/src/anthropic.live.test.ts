import { describeLLM, liveEnv } from '@mem/conformance';
import { AnthropicLLM } from './anthropic-llm';

// The same suite against the real API, skipped (with this reason shown) unless ANTHROPIC_API_KEY
// is set. ANTHROPIC_BASE_URL, when set, points it at a gateway.
const anthropic = liveEnv('ANTHROPIC_API_KEY');

describeLLM(
  'AnthropicLLM (live)',
  async () => ({ subject: new AnthropicLLM({ apiKey: anthropic.values.ANTHROPIC_API_KEY }), dispose: async () => {} }),
  { skip: anthropic.skip, timeoutMs: 60_000 },
);
