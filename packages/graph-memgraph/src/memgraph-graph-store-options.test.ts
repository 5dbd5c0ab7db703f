import { MemError, type ProviderRequestError } from '@mem/core';
import { describe, expect, it } from 'vitest';
import { describeServer, toMemgraphError } from './memgraph-errors';
import { resolveMemgraphOptions } from './memgraph-graph-store-options';

describe('resolveMemgraphOptions', () => {
  it('takes options first, then MEMGRAPH_URI / MEMGRAPH_USERNAME / MEMGRAPH_PASSWORD / MEMGRAPH_DATABASE, then defaults', () => {
    const env = { MEMGRAPH_URI: 'bolt://env:7687', MEMGRAPH_USERNAME: 'eu', MEMGRAPH_PASSWORD: 'ep', MEMGRAPH_DATABASE: 'edb' };
    expect(resolveMemgraphOptions({ env })).toMatchObject({
      connection: { kind: 'uri', uri: 'bolt://env:7687', username: 'eu', password: 'ep' },
      database: 'edb',
      namespace: 'mem',
      exactSearchLimit: 1000,
      vectorIndexCapacity: 1024,
    });
    expect(resolveMemgraphOptions({ uri: 'bolt://o:1', username: 'u', password: 'p', database: 'd', env })).toMatchObject({
      connection: { uri: 'bolt://o:1', username: 'u', password: 'p' },
      database: 'd',
    });
    expect(resolveMemgraphOptions({ env: { MEMGRAPH_URI: 'bolt://h' } })).toMatchObject({
      connection: { username: '', password: '' },
      database: undefined,
    });
  });

  it('fails with MISSING_SETTING naming MEMGRAPH_URI, and rejects non-Bolt URIs and unsafe namespaces', () => {
    let thrown: unknown;
    try {
      resolveMemgraphOptions({ env: {} });
    } catch (error) {
      thrown = error;
    }
    expect(MemError.is(thrown, 'MISSING_SETTING')).toBe(true);
    expect((thrown as Error).message).toMatch(/MEMGRAPH_URI/);
    expect(() => resolveMemgraphOptions({ uri: 'http://localhost:3000', env: {} })).toThrow(/options\.uri/);
    expect(() => resolveMemgraphOptions({ uri: 'bolt://h', namespace: 'a) DETACH DELETE (b', env: {} })).toThrow(/options\.namespace/);
    expect(() => resolveMemgraphOptions({ uri: 'bolt://h', vectorIndexCapacity: 0, env: {} })).toThrow(/options\.vectorIndexCapacity/);
  });
});

describe('toMemgraphError', () => {
  const context = { server: 'bolt://mg:7687' };
  const driverError = (code: string, message = 'text quoting a secret value') => Object.assign(new Error(message), { code });

  it('maps connection loss and write conflicts to retryable errors, credentials to a 401 naming the variables', () => {
    for (const code of ['ServiceUnavailable', 'SessionExpired', 'Memgraph.TransientError.MemgraphError.MemgraphError']) {
      const error = toMemgraphError(driverError(code), 'upsertRelations', context) as ProviderRequestError;
      expect([error.provider, error.status, error.retryable]).toEqual(['memgraph', undefined, true]);
    }
    const auth = toMemgraphError(
      driverError('Memgraph.ClientError.Security.Unauthenticated', 'Authentication failure'),
      'neighbors',
      context,
    ) as ProviderRequestError;
    expect([auth.status, auth.retryable]).toEqual([401, false]);
    expect(auth.message).toMatch(/MEMGRAPH_USERNAME and MEMGRAPH_PASSWORD/);
  });

  it('keeps server text out of messages and says when vector search is missing', () => {
    const other = toMemgraphError(driverError('Memgraph.ClientError.MemgraphError.MemgraphError'), 'neighbors', context);
    expect(other.message).not.toContain('secret');
    expect((other as ProviderRequestError).retryable).toBe(false);
    expect(
      toMemgraphError(
        driverError('Memgraph.ClientError.MemgraphError.MemgraphError', 'There is no procedure named vector_search.search.'),
        'searchEntities',
        context,
      ).message,
    ).toMatch(/needs Memgraph 3/);
    expect(describeServer('bolt://user:pw@mg.example:7687/x')).toBe('bolt://mg.example:7687');
  });
});
