import { describeReranker } from '@mem/conformance';
import { startCohereEmulator } from '../test/cohere-emulator';
import { CohereReranker } from './cohere-reranker';

// Against the local emulator of Cohere's v2 Rerank endpoint, which checks every request.
describeReranker('CohereReranker', async () => {
  const server = await startCohereEmulator();
  const subject = new CohereReranker({ apiKey: 'test-key', baseUrl: server.url });
  return { subject, dispose: () => server.close() };
});
