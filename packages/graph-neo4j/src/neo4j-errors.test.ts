import { AbortedError, MemError, ProviderRequestError } from '@mem/core';
import { Neo4jError } from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { describeServer, toNeo4jError } from './neo4j-errors';

const context = { server: 'bolt://db.example:7687', database: 'graph' };

function driverError(code: string, message = 'server text with a secret memory value'): Neo4jError {
  return new Neo4jError(message, code, '50N42', 'error: general processing exception');
}

describe('toNeo4jError', () => {
  it('maps connection loss and transient failures to retryable ProviderRequestErrors without a status', () => {
    for (const code of [
      'ServiceUnavailable',
      'SessionExpired',
      'Neo.TransientError.Transaction.DeadlockDetected',
      'Neo.TransientError.Database.DatabaseUnavailable',
    ]) {
      const error = toNeo4jError(driverError(code), 'upsertRelations', context) as ProviderRequestError;
      expect(error).toBeInstanceOf(ProviderRequestError);
      expect([error.provider, error.operation, error.status, error.retryable]).toEqual(['neo4j', 'upsertRelations', undefined, true]);
      expect(error.message).toContain(code);
    }
    expect(toNeo4jError(driverError('ServiceUnavailable'), 'neighbors', context).message).toMatch(
      /bolt:\/\/db\.example:7687.*Check NEO4J_URI/,
    );
  });

  it('maps rejected credentials to a 401 that names NEO4J_USERNAME and NEO4J_PASSWORD', () => {
    const error = toNeo4jError(driverError('Neo.ClientError.Security.Unauthorized'), 'ensureSchema', context) as ProviderRequestError;
    expect([error.status, error.retryable]).toEqual([401, false]);
    expect(error.message).toMatch(/NEO4J_USERNAME and NEO4J_PASSWORD/);
    expect(toNeo4jError(driverError('Neo.ClientError.Security.AuthenticationRateLimit'), 'ensureSchema', context).message).toMatch(
      /wait before retrying/,
    );
    expect((toNeo4jError(driverError('Neo.ClientError.Security.Forbidden'), 'ensureSchema', context) as ProviderRequestError).status).toBe(
      403,
    );
  });

  it('names the database and the setting for an unknown database', () => {
    const error = toNeo4jError(driverError('Neo.ClientError.Database.DatabaseNotFound'), 'neighbors', context) as ProviderRequestError;
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/database "graph" does not exist.*NEO4J_DATABASE/);
  });

  it('keeps the server message (which can quote user data) out of every message, on cause only', () => {
    for (const code of [
      'Neo.ClientError.Schema.ConstraintValidationFailed',
      'Neo.ClientError.Statement.SyntaxError',
      'Neo.DatabaseError.General.UnknownError',
    ]) {
      const original = driverError(code, "Node(12) already exists with property `key` = 'my secret memory value'");
      const error = toNeo4jError(original, 'upsertEntities', context) as ProviderRequestError;
      expect(error.message).not.toContain('secret');
      expect(error.message).toContain(code);
      expect(error.retryable).toBe(false);
      expect(error.cause).toBe(original);
    }
  });

  it('passes mem errors through and wraps anything else', () => {
    const aborted = new AbortedError('neo4j neighbors');
    expect(toNeo4jError(aborted, 'neighbors', context)).toBe(aborted);
    const unknown = toNeo4jError(new TypeError('x is undefined'), 'neighbors', context);
    expect(MemError.is(unknown, 'PROVIDER_REQUEST_FAILED')).toBe(true);
    expect((unknown as ProviderRequestError).retryable).toBe(false);
  });
});

describe('describeServer', () => {
  it('keeps scheme, host and port only', () => {
    expect(describeServer('neo4j+s://user:hunter2@abc.databases.neo4j.io:7687/path?x=1')).toBe('neo4j+s://abc.databases.neo4j.io:7687');
    expect(describeServer('not a uri')).toBe('the configured NEO4J_URI');
  });
});
