import { MemError } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { describeBoltServer, resolveCypherOptions, type CypherSettings } from './cypher-options';
import { scopeCondition } from './cypher-queries';

// Each adapter's own variables and messages are tested in its package (graph-neo4j, graph-memgraph);
// this checks that the shared resolution takes every name and message from the adapter's settings.
const settings: CypherSettings = {
  variables: { uri: 'TESTDB_URI', username: 'TESTDB_USER', password: 'TESTDB_SECRET', database: 'TESTDB_DB' },
  defaults: { username: 'admin', namespace: 'mem', exactSearchLimit: 7, maxTransactionRetryTimeMs: 100, connectionTimeoutMs: 200 },
  uriExample: 'bolt://testdb:7687',
  notUriFix: 'Use e.g. bolt://testdb:7687.',
  schemeFix: 'Use bolt://.',
};

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('resolveCypherOptions', () => {
  it("reads the adapter's variables and defaults", () => {
    expect(
      resolveCypherOptions({ env: { TESTDB_URI: 'bolt://h:1', TESTDB_USER: 'eu', TESTDB_SECRET: 'ep', TESTDB_DB: 'edb' } }, settings),
    ).toEqual({
      connection: { kind: 'uri', uri: 'bolt://h:1', username: 'eu', password: 'ep' },
      database: 'edb',
      namespace: 'mem',
      exactSearchLimit: 7,
      maxTransactionRetryTimeMs: 100,
      connectionTimeoutMs: 200,
    });
    expect(resolveCypherOptions({ env: { TESTDB_URI: 'bolt://h:1' } }, settings).connection).toMatchObject({
      username: 'admin',
      password: '',
    });
  });

  it("names the adapter's variable and gives its advice", () => {
    const missing = thrown(() => resolveCypherOptions({ env: {} }, settings));
    expect(MemError.is(missing, 'MISSING_SETTING')).toBe(true);
    expect((missing as Error).message).toContain('Pass { uri: "bolt://testdb:7687" } or set TESTDB_URI (or pass your own driver).');
    expect(() => resolveCypherOptions({ env: { TESTDB_URI: 'testdb' } }, settings)).toThrow(
      /TESTDB_URI: is not an absolute URI\. Use e\.g\. bolt:\/\/testdb:7687\./,
    );
    expect(() => resolveCypherOptions({ uri: 'https://testdb', env: {} }, settings)).toThrow(
      /options\.uri: uses the https: scheme\. Use bolt:\/\/\./,
    );
  });
});

describe('describeBoltServer', () => {
  it('keeps scheme, host and port only', () => {
    expect(describeBoltServer('bolt+s://user:secret@db.example:7687/x?y=1', 'fallback')).toBe('bolt+s://db.example:7687');
    expect(describeBoltServer('not a uri', 'the configured TESTDB_URI')).toBe('the configured TESTDB_URI');
  });
});

describe('scopeCondition', () => {
  it('puts fixed property names in the text and the ids in parameters', () => {
    const condition = scopeCondition('e', { userId: "x' OR 1=1 //", runId: 'r' });
    expect(condition).toEqual({
      text: 'e.user_id = $scope_user_id AND e.run_id = $scope_run_id',
      params: { scope_user_id: "x' OR 1=1 //", scope_run_id: 'r' },
    });
    expect(scopeCondition('e', {}).text).toBe('true');
  });
});
