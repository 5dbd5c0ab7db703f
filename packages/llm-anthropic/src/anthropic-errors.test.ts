import { expect, test } from 'vitest';
import { retryAfterMs } from './anthropic-errors';

test('retry-after in seconds or as an HTTP date; retry-after-ms wins', () => {
  expect(retryAfterMs(new Headers({ 'retry-after': '7' }))).toBe(7000);
  expect(retryAfterMs(new Headers({ 'retry-after-ms': '40', 'retry-after': '7' }))).toBe(40);
  const now = Date.parse('2025-06-27T12:00:00Z');
  expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Jun 2025 12:00:03 GMT' }), now)).toBe(3000);
});

test('absent or unparseable headers ask for nothing', () => {
  expect(retryAfterMs(undefined)).toBeUndefined();
  expect(retryAfterMs(new Headers({ 'retry-after': 'later' }))).toBeUndefined();
});
