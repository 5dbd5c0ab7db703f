import { MemError } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { resolvePineconeSettings, type PineconeVectorStoreOptions } from './pinecone-vector-store-options';

function failure(options: PineconeVectorStoreOptions, env: Record<string, string> = {}): { code?: string; message: string } {
  try {
    resolvePineconeSettings(options, env);
  } catch (error) {
    if (MemError.is(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected resolvePineconeSettings to throw');
}

describe('resolvePineconeSettings', () => {
  it("reads Pinecone's variables when an option is not given; an option always wins", () => {
    const env = {
      PINECONE_API_KEY: 'env-key',
      PINECONE_INDEX: 'env-index',
      PINECONE_HOST: 'env-index-abc.svc.aped-4627-b74a.pinecone.io',
      PINECONE_CONTROLLER_HOST: 'http://localhost:5080',
    };
    const fromEnv = resolvePineconeSettings({}, env);
    expect({ ...fromEnv, fetch: undefined }).toEqual({
      apiKey: 'env-key',
      index: 'env-index',
      host: 'https://env-index-abc.svc.aped-4627-b74a.pinecone.io',
      namespace: '',
      controllerHostUrl: 'http://localhost:5080',
      createIndex: undefined,
      maxRetries: 3,
      retryDelayMs: 500,
      indexReadyTimeoutMs: 300_000,
      fetch: undefined,
    });
    const fromOptions = resolvePineconeSettings(
      { apiKey: 'k', index: 'mine', host: 'http://127.0.0.1:9/', namespace: 'ns', maxRetries: 0 },
      env,
    );
    expect([fromOptions.apiKey, fromOptions.index, fromOptions.host, fromOptions.namespace, fromOptions.maxRetries]).toEqual([
      'k',
      'mine',
      'http://127.0.0.1:9',
      'ns',
      0,
    ]);
  });

  it('names the missing setting and how to set it', () => {
    expect(failure({ index: 'memories' })).toEqual({
      code: 'MISSING_SETTING',
      message:
        'Missing setting PINECONE_API_KEY. Pass apiKey or set PINECONE_API_KEY (create a key in the Pinecone console under API Keys).',
    });
    expect(failure({ apiKey: 'k' }).message).toBe(
      'Missing setting PINECONE_INDEX. Pass index: "<index name>" (or host: "<index host>"), or set PINECONE_INDEX or PINECONE_HOST.',
    );
    // An empty variable counts as unset.
    expect(failure({ index: 'memories' }, { PINECONE_API_KEY: '' }).code).toBe('MISSING_SETTING');
  });

  it('rejects options Pinecone would reject', () => {
    expect(failure({ apiKey: 'k', index: 'My_Index' }).code).toBe('INVALID_INPUT');
    expect(failure({ apiKey: 'k', host: 'h', createIndex: { cloud: 'aws', region: 'us-east-1' } }).message).toMatch(
      /^Invalid createIndex: creating an index needs its name/,
    );
    expect(failure({ apiKey: 'k', index: 'i', createIndex: { cloud: 'aws', region: '' } }).code).toBe('INVALID_INPUT');
    expect(failure({ apiKey: 'k', index: 'i', maxRetries: 1.5 }).code).toBe('INVALID_INPUT');
  });
});
