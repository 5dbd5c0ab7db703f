import { inspect } from 'node:util';
import { MemError } from '@mem/core/adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicLLM } from './anthropic-llm';
import { startAnthropicFakeServer, type AnthropicFakeServer } from './testing/anthropic-fake-server';

// A server or proxy that echoes the credential in its error message must not put the key into the
// error a caller logs (found by packages/hardening): the SDK error kept as `cause` is scrubbed.

const KEY = 'sk-ant-echoed-0123456789abcdef';
let server: AnthropicFakeServer;
beforeAll(async () => {
  server = await startAnthropicFakeServer({
    fallback: (request) => ({
      status: 401,
      body: {
        type: 'error',
        error: { type: 'authentication_error', message: `invalid credentials in ${JSON.stringify(request.headers)}` },
      },
    }),
  });
});
afterAll(() => server.close());

describe('an API key echoed by the server', () => {
  it('appears nowhere in the error of generate, cause chain included', async () => {
    let thrown: unknown;
    try {
      await new AnthropicLLM({ apiKey: KEY, baseURL: server.baseURL, maxRetries: 0 }).generate({
        messages: [{ role: 'user', content: 'hi' }],
      });
    } catch (error) {
      thrown = error;
    }
    expect(MemError.is(thrown, 'PROVIDER_REQUEST_FAILED')).toBe(true);
    expect(inspect(thrown, { depth: 12 })).not.toContain(KEY);
    expect(inspect(thrown, { depth: 12 })).toContain('[redacted]');
  });
});
