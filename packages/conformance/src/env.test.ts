import { MemError } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { resolveLiveEnv, resolveServerEnv } from './env';

describe('serverEnv', () => {
  it('returns the values and no skip when every variable is set', () => {
    expect(
      resolveServerEnv(['QDRANT_URL', 'QDRANT_API_KEY'], { QDRANT_URL: 'http://127.0.0.1:6333', QDRANT_API_KEY: 'k', CI: 'true' }),
    ).toEqual({
      values: { QDRANT_URL: 'http://127.0.0.1:6333', QDRANT_API_KEY: 'k' },
    });
  });

  it('gives a skip reason naming every missing (or empty) variable on a laptop', () => {
    const result = resolveServerEnv(['QDRANT_URL', 'QDRANT_API_KEY', 'CHROMA_URL'], {
      QDRANT_API_KEY: '',
      CHROMA_URL: 'http://127.0.0.1:8000',
    });
    expect(result.skip).toBe('needs a local server: set QDRANT_URL, QDRANT_API_KEY to run this suite');
    expect(result.values).toEqual({ QDRANT_URL: '', QDRANT_API_KEY: '', CHROMA_URL: 'http://127.0.0.1:8000' });
  });

  it('throws MISSING_SETTING under CI=true, so a missing server fails CI', () => {
    let thrown: unknown;
    try {
      resolveServerEnv(['QDRANT_URL'], { CI: 'true' });
    } catch (error) {
      thrown = error;
    }
    expect(MemError.is(thrown, 'MISSING_SETTING')).toBe(true);
    expect((thrown as Error).message).toContain('QDRANT_URL');
  });
});

describe('liveEnv', () => {
  it('returns the values and no skip when every variable is set', () => {
    expect(resolveLiveEnv(['OPENAI_API_KEY'], { OPENAI_API_KEY: 'sk-test' })).toEqual({ values: { OPENAI_API_KEY: 'sk-test' } });
  });

  it('skips with the missing variables named, also under CI=true', () => {
    expect(resolveLiveEnv(['OPENAI_API_KEY', 'OPENAI_BASE_URL'], { CI: 'true', OPENAI_BASE_URL: 'https://example.test' }).skip).toBe(
      "live test against the provider's API: set OPENAI_API_KEY to run it",
    );
  });

  it('never puts a value into the skip reason', () => {
    expect(resolveLiveEnv(['A_KEY', 'B_KEY'], { A_KEY: 'secret-value' }).skip).not.toContain('secret-value');
  });
});
