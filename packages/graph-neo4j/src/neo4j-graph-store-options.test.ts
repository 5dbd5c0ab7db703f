import { MemError } from '@mem/core';
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { resolveNeo4jOptions } from './neo4j-graph-store-options';

describe('resolveNeo4jOptions', () => {
  it('takes options first, then NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD / NEO4J_DATABASE, then defaults', () => {
    const env = { NEO4J_URI: 'neo4j://env-host:7687', NEO4J_USERNAME: 'env-user', NEO4J_PASSWORD: 'env-password', NEO4J_DATABASE: 'envdb' };
    expect(resolveNeo4jOptions({ env })).toMatchObject({
      connection: { kind: 'uri', uri: 'neo4j://env-host:7687', username: 'env-user', password: 'env-password' },
      database: 'envdb',
      namespace: 'mem',
      exactSearchLimit: 200,
      maxTransactionRetryTimeMs: 30000,
    });
    const explicit = resolveNeo4jOptions({
      uri: 'bolt://127.0.0.1:7688',
      username: 'u',
      password: 'p',
      database: 'db',
      namespace: 'graph_1',
      env,
    });
    expect(explicit).toMatchObject({
      connection: { uri: 'bolt://127.0.0.1:7688', username: 'u', password: 'p' },
      database: 'db',
      namespace: 'graph_1',
    });
    expect(resolveNeo4jOptions({ env: { NEO4J_URI: 'neo4j+s://x.databases.neo4j.io' } })).toMatchObject({
      connection: { username: 'neo4j', password: '' },
      database: undefined,
    });
  });

  it('fails with MISSING_SETTING naming NEO4J_URI when there is no URI and no driver', () => {
    const error = (() => {
      try {
        resolveNeo4jOptions({ env: {} });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect((error as Error).message).toMatch(/NEO4J_URI/);
  });

  it('rejects a non-Bolt URI, naming the setting it came from', () => {
    expect(() => resolveNeo4jOptions({ uri: 'http://localhost:7474', env: {} })).toThrow(/options\.uri: uses the http: scheme/);
    expect(() => resolveNeo4jOptions({ env: { NEO4J_URI: 'localhost' } })).toThrow(/NEO4J_URI/);
  });

  it('accepts only plain identifiers as namespace (it becomes part of labels and index names)', () => {
    for (const namespace of ['', '1abc', 'a-b', 'a b', 'x`) DETACH DELETE (n', 'é', 'a'.repeat(49)]) {
      expect(() => resolveNeo4jOptions({ uri: 'bolt://h', namespace, env: {} }), namespace).toThrow(/options\.namespace/);
    }
    expect(resolveNeo4jOptions({ uri: 'bolt://h', namespace: 'A_1', env: {} }).namespace).toBe('A_1');
  });

  it('uses a given driver as is and needs no URI then', async () => {
    const driver = neo4j.driver('bolt://127.0.0.1:1');
    try {
      expect(resolveNeo4jOptions({ driver, env: {} }).connection).toEqual({ kind: 'driver', driver });
    } finally {
      await driver.close();
    }
    expect(() => resolveNeo4jOptions({ driver: {} as never, env: {} })).toThrow(/options\.driver/);
  });

  it('checks the numeric options', () => {
    expect(() => resolveNeo4jOptions({ uri: 'bolt://h', exactSearchLimit: -1, env: {} })).toThrow(/options\.exactSearchLimit/);
    expect(() => resolveNeo4jOptions({ uri: 'bolt://h', maxTransactionRetryTimeMs: 1.5, env: {} })).toThrow(
      /options\.maxTransactionRetryTimeMs/,
    );
  });
});
