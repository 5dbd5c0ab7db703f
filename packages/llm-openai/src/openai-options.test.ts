import { MemError } from '@mem/core/adapter';
import { OpenAI } from 'openai';
import { describe, expect, test } from 'vitest';
import { OpenAIEmbedder } from './openai-embedder';
import { OpenAILLM } from './openai-llm';
import { resolveOpenAISettings } from './openai-options';

// Settings resolution takes the environment as a parameter, so no test touches process.env.
describe('resolveOpenAISettings', () => {
  test('no key anywhere is a MissingSettingError naming OPENAI_API_KEY and the fix', () => {
    const error = catchError(() => resolveOpenAISettings({}, 'OpenAILLM', {}));
    expect(error).toMatchObject({ code: 'MISSING_SETTING', setting: 'OPENAI_API_KEY' });
    expect(error.message).toMatchInlineSnapshot(
      `"Missing setting OPENAI_API_KEY. Set the OPENAI_API_KEY environment variable or pass { apiKey } to OpenAILLM. A local server that needs no key (Ollama, vLLM, LM Studio) still needs a placeholder, e.g. { apiKey: 'ollama' }."`,
    );
  });

  test('a blank key counts as missing', () => {
    expect(catchError(() => resolveOpenAISettings({ apiKey: ' ' }, 'OpenAILLM', { OPENAI_API_KEY: '' })).code).toBe('MISSING_SETTING');
  });

  test('the environment fills what the options leave out', () => {
    const settings = resolveOpenAISettings({}, 'OpenAILLM', {
      OPENAI_API_KEY: 'env-key',
      OPENAI_BASE_URL: 'http://localhost:11434/v1',
      OPENAI_ORG_ID: 'org-env',
      OPENAI_PROJECT_ID: 'proj-env',
    });
    expect(settings.client.apiKey).toBe('env-key');
    expect(settings.client.baseURL).toBe('http://localhost:11434/v1');
    expect(settings.client.organization).toBe('org-env');
    expect(settings.client.project).toBe('proj-env');
    expect(settings.keySource).toBe('OPENAI_API_KEY');
    expect(settings.origin).toBe('http://localhost:11434');
  });

  test('options win over the environment', () => {
    const settings = resolveOpenAISettings(
      { apiKey: 'option-key', baseURL: 'http://127.0.0.1:8000/v1', organization: 'org-option' },
      'OpenAILLM',
      {
        OPENAI_API_KEY: 'env-key',
        OPENAI_BASE_URL: 'http://localhost:11434/v1',
        OPENAI_ORG_ID: 'org-env',
      },
    );
    expect(settings.client.apiKey).toBe('option-key');
    expect(settings.client.baseURL).toBe('http://127.0.0.1:8000/v1');
    expect(settings.client.organization).toBe('org-option');
  });

  test('defaults: OpenAI URL, SDK retries off, 2 retries of ours, 120 s timeout', () => {
    const settings = resolveOpenAISettings({ apiKey: 'key' }, 'OpenAILLM', {});
    expect(settings.client.baseURL).toBe('https://api.openai.com/v1');
    expect(settings.client.maxRetries).toBe(0);
    expect(settings.client.timeout).toBe(120_000);
    expect(settings.retry).toMatchObject({ maxRetries: 2, initialDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 });
  });

  test('a malformed base URL is an InvalidInputError naming where it came from', () => {
    expect(catchError(() => resolveOpenAISettings({ apiKey: 'key' }, 'OpenAILLM', { OPENAI_BASE_URL: 'localhost:11434' }))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'OPENAI_BASE_URL',
    });
    expect(catchError(() => resolveOpenAISettings({ apiKey: 'key', baseURL: 'ftp://example.com' }, 'OpenAILLM', {}))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.baseURL',
    });
  });

  test('out-of-range numbers are InvalidInputErrors', () => {
    expect(catchError(() => resolveOpenAISettings({ apiKey: 'key', maxRetries: -1 }, 'OpenAILLM', {}))).toMatchObject({
      field: 'options.maxRetries',
    });
    expect(catchError(() => resolveOpenAISettings({ apiKey: 'key', timeoutMs: 0 }, 'OpenAILLM', {}))).toMatchObject({
      field: 'options.timeoutMs',
    });
  });

  test('a client needs no key, and cannot be combined with connection options', () => {
    const client = new OpenAI({ apiKey: 'client-key', baseURL: 'http://127.0.0.1:9/v1' });
    const settings = resolveOpenAISettings({ client }, 'OpenAILLM', {});
    expect(settings.client).toBe(client);
    expect(settings.timeoutMs).toBeUndefined(); // the client's own timeout applies
    expect(catchError(() => resolveOpenAISettings({ client, apiKey: 'other', baseURL: 'http://x/v1' }, 'OpenAILLM', {}))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.client',
      message:
        'Invalid options.client: it was given together with apiKey, baseURL, which would be ignored. Configure those on the client you pass, or leave client out.',
    });
  });
});

describe('constructor options', () => {
  test('invalid adapter options are rejected before any request', () => {
    expect(catchError(() => new OpenAILLM({ apiKey: 'key', model: '' }))).toMatchObject({ field: 'options.model' });
    expect(catchError(() => new OpenAILLM({ apiKey: 'key', structuredOutput: 'xml' as never }))).toMatchObject({
      field: 'options.structuredOutput',
    });
    expect(catchError(() => new OpenAIEmbedder({ apiKey: 'key', dimensions: 0 }))).toMatchObject({ field: 'options.dimensions' });
    expect(catchError(() => new OpenAIEmbedder({ apiKey: 'key', maxBatchSize: 4096 }))).toMatchObject({ field: 'options.maxBatchSize' });
  });

  test('capabilities: json_schema only when the schema is enforced', () => {
    expect(new OpenAILLM({ apiKey: 'key' }).capabilities).toEqual({
      structuredOutput: 'json_schema',
      maxOutputTokens: 1_000_000,
      imageInput: true,
    });
    expect(new OpenAILLM({ apiKey: 'key', structuredOutput: 'json_object' }).capabilities).toEqual({
      structuredOutput: 'json_object',
      maxOutputTokens: 1_000_000,
      imageInput: true,
    });
    expect(new OpenAILLM({ apiKey: 'key', structuredOutput: 'tool', model: 'llama3.1' }).capabilities).toEqual({
      structuredOutput: 'json_object',
      maxOutputTokens: 1_000_000,
      imageInput: false,
    });
    expect(Object.isFrozen(new OpenAILLM({ apiKey: 'key' }).capabilities)).toBe(true);
  });

  test('embedder dimensions: the option, else the known model size, else unknown', () => {
    expect(new OpenAIEmbedder({ apiKey: 'key' }).dimensions).toBe(1536);
    expect(new OpenAIEmbedder({ apiKey: 'key', model: 'text-embedding-3-large' }).dimensions).toBe(3072);
    expect(new OpenAIEmbedder({ apiKey: 'key', dimensions: 256 }).dimensions).toBe(256);
    expect(new OpenAIEmbedder({ apiKey: 'key', model: 'nomic-embed-text' }).dimensions).toBeUndefined();
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
