import { describeReranker, liveEnv } from '@mem/conformance';
import { CohereReranker } from './cohere-reranker';

// The same suite against the real API, skipped (with this reason shown) unless CO_API_KEY is set.
// CO_API_URL, when set, points it at another server that speaks the v2 Rerank API.
const cohere = liveEnv('CO_API_KEY');

describeReranker(
  'CohereReranker (live)',
  async () => ({ subject: new CohereReranker({ apiKey: cohere.values.CO_API_KEY }), dispose: async () => {} }),
  { skip: cohere.skip, timeoutMs: 60_000 },
);
