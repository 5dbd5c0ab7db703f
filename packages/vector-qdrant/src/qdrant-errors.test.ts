import { MemError, ProviderRequestError } from '@mem/core/adapter';
import {
  QdrantClientConfigError,
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
  QdrantClientUnexpectedResponseError,
} from '@qdrant/js-client-rest';
import { describe, expect, it } from 'vitest';
import { retryAfterMs, toMemError } from './qdrant-errors';

/** An HTTP error answer as the SDK's fetcher throws it (its ApiError is not exported). */
function apiError(status: number, data: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`HTTP ${status}`), {
    name: 'ApiError',
    status,
    statusText: '',
    data,
    headers: new Headers(headers),
    url: 'http://x',
  });
}

describe('toMemError', () => {
  it('maps an HTTP error answer to ProviderRequestError with the status, core deciding retryable', () => {
    for (const [status, retryable] of [
      [400, false],
      [401, false],
      [404, false],
      [408, true],
      [409, true],
      [429, true],
      [500, true],
      [503, true],
    ] as const) {
      const error = toMemError(apiError(status, { status: { error: 'boom' }, time: 0 }), { operation: 'upsert' }) as ProviderRequestError;
      expect(error).toBeInstanceOf(ProviderRequestError);
      expect([error.provider, error.operation, error.status, error.retryable]).toEqual(['qdrant', 'upsert', status, retryable]);
    }
  });

  it("keeps Qdrant's error text but drops quoted strings, which may echo request data", () => {
    const error = toMemError(
      apiError(400, { status: { error: 'Format error in JSON body: invalid type: string "my secret memory", expected u64 at line 1' } }),
      { operation: 'upsert' },
    );
    expect(error.message).toBe(
      'qdrant upsert failed (HTTP 400): Qdrant said: Format error in JSON body: invalid type: string "…", expected u64 at line 1. The request was rejected as invalid',
    );
    expect(toMemError(apiError(502, '<html>bad gateway</html>'), { operation: 'get' }).message).toMatch(
      /Qdrant said: <html>bad gateway<\/html>/,
    );
    expect(toMemError(apiError(503, undefined), { operation: 'get' }).message).toMatch(/Qdrant gave no error text/);
  });

  it('remembers Retry-After of a 429, from the SDK error or the header', () => {
    const exhausted = toMemError(new QdrantClientResourceExhaustedError('slow down', '7'), { operation: 'query' }) as ProviderRequestError;
    expect([exhausted.status, exhausted.retryable, retryAfterMs(exhausted)]).toEqual([429, true, 7_000]);
    const header = toMemError(apiError(429, {}, { 'retry-after': '2' }), { operation: 'query' }) as ProviderRequestError;
    expect(retryAfterMs(header)).toBe(2_000);
    expect(retryAfterMs(toMemError(apiError(503, {}), { operation: 'query' }) as ProviderRequestError)).toBeUndefined();
  });

  it('maps the other SDK errors and unknown failures', () => {
    expect(
      toMemError(
        QdrantClientUnexpectedResponseError.forResponse({
          status: 202,
          statusText: 'Accepted',
          data: {},
          headers: new Headers(),
          url: '',
          ok: true,
        }),
        { operation: 'upsert' },
      ).code,
    ).toBe('PROVIDER_RESPONSE_INVALID');
    expect(toMemError(new QdrantClientConfigError('bad url'), { operation: 'connect' }).code).toBe('INVALID_INPUT');
    const timeout = toMemError(new QdrantClientTimeoutError('aborted'), { operation: 'query', timeoutMs: 1_000 }) as ProviderRequestError;
    expect([timeout.status, timeout.retryable]).toEqual([undefined, true]);
    const refused = toMemError(
      new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }),
      { operation: 'get' },
    ) as ProviderRequestError;
    expect([refused.status, refused.retryable, refused.message]).toEqual([
      undefined,
      true,
      expect.stringContaining('could not reach Qdrant (ECONNREFUSED)'),
    ]);
    const unknown = toMemError(new RangeError('bug'), { operation: 'get' }) as ProviderRequestError;
    expect([unknown.code, unknown.retryable]).toEqual(['PROVIDER_REQUEST_FAILED', false]);
  });

  it('turns an abort by the caller into ABORTED and passes mem errors through', () => {
    const controller = new AbortController();
    controller.abort();
    expect(toMemError(new DOMException('aborted', 'AbortError'), { operation: 'get', signal: controller.signal }).code).toBe('ABORTED');
    const own = new MemError('CONFLICT', 'x');
    expect(toMemError(own, { operation: 'get' })).toBe(own);
  });
});
