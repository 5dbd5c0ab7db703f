import { expect, test } from 'vitest';
import { retryAfterMs } from './openai-errors';

test('retry-after-ms wins over retry-after', () => {
  expect(retryAfterMs(new Headers({ 'retry-after-ms': '250.5', 'retry-after': '3' }))).toBe(250.5);
});

test('retry-after in seconds or as an HTTP date', () => {
  expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
  const now = Date.parse('2025-06-27T12:00:00Z');
  expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Jun 2025 12:00:07 GMT' }), now)).toBe(7000);
  expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Jun 2025 11:00:00 GMT' }), now)).toBe(0);
});

test('absent or unparseable headers ask for nothing', () => {
  expect(retryAfterMs(undefined)).toBeUndefined();
  expect(retryAfterMs(new Headers())).toBeUndefined();
  expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  expect(retryAfterMs(new Headers({ 'retry-after-ms': '-5' }))).toBeUndefined();
});
