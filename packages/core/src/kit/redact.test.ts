import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { redactSecrets } from './redact';

describe('redactSecrets', () => {
  it('scrubs a key from the message, stack, fields, nested bodies and the cause chain', () => {
    const key = 'sk-test-0123456789abcdef';
    const inner = Object.assign(new Error(`Incorrect API key provided: ${key}`), {
      error: { message: `key ${key}`, list: [key] },
      status: 401,
    });
    const outer = new Error('request failed', { cause: inner });
    redactSecrets(outer, [key, undefined, null]);
    expect(inspect(outer, { depth: 10 })).not.toContain(key);
    expect(inner.message).toBe('Incorrect API key provided: [redacted]');
    expect(inner.error).toEqual({ message: 'key [redacted]', list: ['[redacted]'] });
    expect(inner.status).toBe(401);
  });

  it('leaves short strings, cycles and frozen objects alone without throwing', () => {
    const cyclic: Record<string, unknown> = { text: 'a short key' };
    cyclic['self'] = cyclic;
    const frozen = Object.freeze({ text: 'secret-value-123' });
    expect(() => redactSecrets({ cyclic, frozen }, ['short', 'secret-value-123'])).not.toThrow();
    expect(cyclic['text']).toBe('a short key');
    expect(frozen.text).toBe('secret-value-123');
  });
});
