import { describe, expect, it } from 'vitest';
import { type MemError, ProviderRequestError } from '../contract/errors';
import { resolveRetryPolicy, retryAfterFromHeaders, withRetries, type RetryEvent } from './retry';

const failure = (status?: number) =>
  new ProviderRequestError({ provider: 'p', operation: 'op', message: 'failed', ...(status ? { status } : {}) });

function flaky(statuses: (number | undefined)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    attempt: async () => {
      const status = statuses[calls++];
      if (calls <= statuses.length) throw failure(status);
      return 'ok';
    },
  };
}

describe('withRetries', () => {
  const policy = (events: RetryEvent[], maxRetries = 3) =>
    resolveRetryPolicy({ maxRetries, initialDelayMs: 1, maxDelayMs: 2, onRetry: (e) => events.push(e) });

  it('retries 429, 5xx and connection failures, then succeeds', async () => {
    const events: RetryEvent[] = [];
    const call = flaky([429, 503, undefined]);
    await expect(
      withRetries({
        provider: 'p',
        operation: 'op',
        policy: policy(events),
        signal: undefined,
        attempt: call.attempt,
        toError: (e) => e as MemError,
      }),
    ).resolves.toBe('ok');
    expect(events.map((e) => [e.retry, e.error.status])).toEqual([
      [1, 429],
      [2, 503],
      [3, undefined],
    ]);
  });

  it('does not retry 400 or 401, and gives up after maxRetries', async () => {
    for (const status of [400, 401]) {
      const call = flaky([status]);
      await expect(
        withRetries({
          provider: 'p',
          operation: 'op',
          policy: policy([]),
          signal: undefined,
          attempt: call.attempt,
          toError: (e) => e as MemError,
        }),
      ).rejects.toMatchObject({ status });
      expect(call.calls).toBe(1);
    }
    const call = flaky([500, 500, 500]);
    await expect(
      withRetries({
        provider: 'p',
        operation: 'op',
        policy: policy([], 2),
        signal: undefined,
        attempt: call.attempt,
        toError: (e) => e as MemError,
      }),
    ).rejects.toMatchObject({ status: 500, retryable: true });
    expect(call.calls).toBe(3);
  });

  it('waits what the server asks for, and ends the call when that is longer than allowed', async () => {
    const events: RetryEvent[] = [];
    const call = flaky([429]);
    await withRetries({
      provider: 'p',
      operation: 'op',
      policy: policy(events),
      signal: undefined,
      attempt: call.attempt,
      toError: (e) => e as MemError,
      retryAfterMs: () => 3,
    });
    expect(events[0]!.delayMs).toBe(3);
    const long = flaky([429]);
    await expect(
      withRetries({
        provider: 'p',
        operation: 'op',
        policy: resolveRetryPolicy({ maxRetryAfterMs: 10 }),
        signal: undefined,
        attempt: long.attempt,
        toError: (e) => e as MemError,
        retryAfterMs: () => 60_000,
      }),
    ).rejects.toMatchObject({ status: 429 });
    expect(long.calls).toBe(1);
  });

  it('stops at once when aborted during a wait, and honours shouldRetry', async () => {
    const controller = new AbortController();
    const call = flaky([503, 503]);
    const pending = withRetries({
      provider: 'p',
      operation: 'op',
      policy: resolveRetryPolicy({ initialDelayMs: 60_000, maxDelayMs: 60_000 }),
      signal: controller.signal,
      attempt: call.attempt,
      toError: (e) => e as MemError,
      retryAfterMs: () => 60_000,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    const conflict = flaky([409]);
    await expect(
      withRetries({
        provider: 'p',
        operation: 'op',
        policy: policy([]),
        signal: undefined,
        attempt: conflict.attempt,
        toError: (e) => e as MemError,
        shouldRetry: (e) => e.status !== 409,
      }),
    ).rejects.toMatchObject({ status: 409 });
    expect(conflict.calls).toBe(1);
  });
});

describe('retryAfterFromHeaders', () => {
  const headers = (values: Record<string, string>) => (name: string) => values[name];
  it.each([
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }, 5000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%j → %s ms', (values, expected) => {
    expect(retryAfterFromHeaders(headers(values), Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(expected);
  });
});
