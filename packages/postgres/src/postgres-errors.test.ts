import { MemError } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { openPostgresPool, validateConnectionOptions } from './postgres-connection';
import { toPostgresError } from './postgres-errors';

function databaseError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, detail: 'Key (text)=(secret memory text) already exists.' });
}

describe('toPostgresError', () => {
  it('names the SQLSTATE and a fix, never the server message or its detail; retryable only for transient states', () => {
    const cases: [string, boolean][] = [
      ['40001', true],
      ['40P01', true],
      ['08006', true],
      ['53300', true],
      ['57P01', true],
      ['23505', false],
      ['28P01', false],
      ['42P01', false],
      ['22P02', false],
    ];
    for (const [code, retryable] of cases) {
      const error = toPostgresError(databaseError(code, 'value "secret memory text" is bad'), 'upsert');
      expect(MemError.is(error, 'PROVIDER_REQUEST_FAILED')).toBe(true);
      expect(error.message).toContain(`SQLSTATE ${code}`);
      expect(error.message).not.toContain('secret memory text');
      expect((error as { retryable?: boolean }).retryable, code).toBe(retryable);
    }
  });

  it('socket failures and dropped connections are retryable; mem errors pass through', () => {
    const refused = toPostgresError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'query');
    expect((refused as { retryable?: boolean }).retryable).toBe(true);
    const dropped = toPostgresError(new Error('Connection terminated unexpectedly'), 'query');
    expect((dropped as { retryable?: boolean }).retryable).toBe(true);
    const other = toPostgresError(new TypeError('boom'), 'query');
    expect((other as { retryable?: boolean }).retryable).toBe(false);
    const memError = new MemError('CONFLICT', 'x');
    expect(toPostgresError(memError, 'query')).toBe(memError);
  });
});

describe('connection options', () => {
  it('reads DATABASE_URL when no connection string or pool is given, and says so when it is missing', async () => {
    const opened = openPostgresPool({}, { DATABASE_URL: 'postgres://mem@127.0.0.1:1/mem' });
    expect(opened.owned).toBe(true);
    await opened.pool.end();
    expect(() => openPostgresPool({}, { DATABASE_URL: '  ' })).toThrow(/DATABASE_URL/);
  });

  it('a pool passed in is used as is and not owned', () => {
    const pool = { connect: () => undefined, query: () => undefined } as never;
    expect(openPostgresPool({ pool }, {})).toEqual({ pool, owned: false });
    expect(() => validateConnectionOptions({ pool, connectionString: 'postgres://x' })).toThrow(/not both/);
  });
});
