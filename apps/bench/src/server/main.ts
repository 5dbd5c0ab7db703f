// Runs the local OpenAI-compatible server in its own process, so the time it spends answering is
// separate from the pipeline being measured (the benchmark forks this file), or by hand:
//
//   pnpm --filter @mem/bench run server -- [--port 8787] [--latency-ms 0]
//
// Then point any OpenAI client at http://127.0.0.1:<port>/v1 (any API key).
import { parseArgs } from 'node:util';
import { FakeOpenAIServer } from './fake-openai';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'latency-ms': { type: 'string', default: '0' } } });
const server = new FakeOpenAIServer({ port: Number(values.port), latencyMs: Number(values['latency-ms']) });
const url = await server.listen();
if (process.send) {
  process.send({ url });
  // The parent going away ends the server.
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
} else {
  process.stdout.write(`OpenAI-compatible bench server on ${url}/v1 (Ctrl-C stops it)\n`);
}
