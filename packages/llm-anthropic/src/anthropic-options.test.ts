import { Anthropic } from '@anthropic-ai/sdk';
import { MemError } from '@mem/core/adapter';
import { describe, expect, test } from 'vitest';
import { AnthropicLLM } from './anthropic-llm';
import { resolveAnthropicSettings } from './anthropic-options';

// Settings resolution takes the environment as a parameter, so no test touches process.env.
describe('resolveAnthropicSettings', () => {
  test('no key anywhere is a MissingSettingError naming ANTHROPIC_API_KEY and the fix', () => {
    const error = catchError(() => resolveAnthropicSettings({}, 'AnthropicLLM', {}));
    expect(error).toMatchObject({ code: 'MISSING_SETTING', setting: 'ANTHROPIC_API_KEY' });
    expect(error.message).toMatchInlineSnapshot(
      `"Missing setting ANTHROPIC_API_KEY. Set the ANTHROPIC_API_KEY environment variable or pass { apiKey } to AnthropicLLM. Keys are created in the Claude Console under API keys."`,
    );
  });

  test('the environment fills what the options leave out; options win', () => {
    const environment = { ANTHROPIC_API_KEY: 'env-key', ANTHROPIC_BASE_URL: 'http://gateway.internal:8080' };
    const fromEnvironment = resolveAnthropicSettings({}, 'AnthropicLLM', environment);
    expect(fromEnvironment.client.apiKey).toBe('env-key');
    expect(fromEnvironment.client.baseURL).toBe('http://gateway.internal:8080');
    expect(fromEnvironment.keySource).toBe('ANTHROPIC_API_KEY');
    const fromOptions = resolveAnthropicSettings({ apiKey: 'option-key', baseURL: 'http://127.0.0.1:9' }, 'AnthropicLLM', environment);
    expect(fromOptions.client.apiKey).toBe('option-key');
    expect(fromOptions.client.baseURL).toBe('http://127.0.0.1:9');
  });

  test('defaults: Anthropic URL, SDK retries off, 2 retries of ours, 120 s timeout', () => {
    const settings = resolveAnthropicSettings({ apiKey: 'key' }, 'AnthropicLLM', {});
    expect(settings.client.baseURL).toBe('https://api.anthropic.com');
    expect(settings.client.maxRetries).toBe(0);
    expect(settings.client.timeout).toBe(120_000);
    expect(settings.retry).toMatchObject({ maxRetries: 2, initialDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 });
  });

  test('a malformed base URL or an out-of-range number is an InvalidInputError', () => {
    expect(
      catchError(() => resolveAnthropicSettings({ apiKey: 'key' }, 'AnthropicLLM', { ANTHROPIC_BASE_URL: 'api.anthropic.com' })),
    ).toMatchObject({ field: 'ANTHROPIC_BASE_URL' });
    expect(catchError(() => resolveAnthropicSettings({ apiKey: 'key', maxRetries: 1.5 }, 'AnthropicLLM', {}))).toMatchObject({
      field: 'options.maxRetries',
    });
  });

  test('a client needs no key, and cannot be combined with connection options', () => {
    const client = new Anthropic({ apiKey: 'client-key', baseURL: 'http://127.0.0.1:9' });
    expect(resolveAnthropicSettings({ client }, 'AnthropicLLM', {}).client).toBe(client);
    expect(catchError(() => resolveAnthropicSettings({ client, fetch }, 'AnthropicLLM', {}))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.client',
    });
  });
});

test('invalid adapter options are rejected at construction', () => {
  expect(catchError(() => new AnthropicLLM({ apiKey: 'key', model: ' ' }))).toMatchObject({ field: 'options.model' });
  expect(catchError(() => new AnthropicLLM({ apiKey: 'key', maxTokens: 0 }))).toMatchObject({ field: 'options.maxTokens' });
  expect(new AnthropicLLM({ apiKey: 'key' })).toMatchObject({
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    capabilities: { structuredOutput: 'json_object' },
  });
});

function catchError(run: () => unknown): MemError {
  try {
    run();
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a MemError, nothing was thrown');
}
