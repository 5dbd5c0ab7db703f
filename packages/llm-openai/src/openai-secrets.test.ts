import { inspect } from 'node:util';
import { MemError } from '@mem/core/adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIEmbedder } from './openai-embedder';
import { OpenAILLM } from './openai-llm';
import { startOpenAIFakeServer, type OpenAIFakeServer } from './testing/openai-fake-server';

// A server or proxy that echoes the credential in its error message must not put the key into the
// error a caller logs (found by packages/hardening): the SDK error kept as `cause` is scrubbed.

const KEY = 'sk-echoed-0123456789abcdef';
let server: OpenAIFakeServer;
beforeAll(async () => {
  server = await startOpenAIFakeServer({
    fallback: (request) => ({
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${request.headers['authorization']}`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    }),
  });
});
afterAll(() => server.close());

async function failure(action: () => Promise<unknown>): Promise<MemError> {
  try {
    await action();
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('an API key echoed by the server', () => {
  it('appears nowhere in the error of generate or embed, cause chain included', async () => {
    const options = { apiKey: KEY, baseURL: server.baseURL, maxRetries: 0 };
    const errors = [
      await failure(() => new OpenAILLM(options).generate({ messages: [{ role: 'user', content: 'hi' }] })),
      await failure(() => new OpenAIEmbedder(options).embed({ texts: ['hi'] })),
    ];
    for (const error of errors) {
      expect(error).toMatchObject({ code: 'PROVIDER_REQUEST_FAILED', status: 401 });
      expect(inspect(error, { depth: 12 })).not.toContain(KEY);
      expect(inspect(error, { depth: 12 })).toContain('[redacted]');
    }
  });
});
