import { ProviderResponseInvalidError, type GraphRelation, type Scope } from '@mem/core/adapter';
import neo4j from 'neo4j-driver';

/** One entity of a search, as the queries return it (`similarity` in the dialect's unit). */
export interface EntityRow {
  readonly name: string;
  readonly type: string;
  readonly userId: string | null;
  readonly agentId: string | null;
  readonly runId: string | null;
  readonly similarity: number;
}

/**
 * A number the server returned: a driver `Integer` or a float.
 * @throws {ProviderResponseInvalidError} for anything else.
 */
export function cypherNumber(value: unknown, field: string, provider: string): number {
  if (neo4j.isInt(value)) return (value as { toNumber(): number }).toNumber();
  if (typeof value === 'number') return value;
  throw new ProviderResponseInvalidError(provider, 'read', `${field} is not a number`);
}

/** The scope of a row: the ids it holds as strings (null ones were unset). */
export function toScope(row: { userId: unknown; agentId: unknown; runId: unknown }): Scope {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  if (typeof row.userId === 'string') scope.userId = row.userId;
  if (typeof row.agentId === 'string') scope.agentId = row.agentId;
  if (typeof row.runId === 'string') scope.runId = row.runId;
  return scope;
}

export function toEntityRow(value: unknown, provider: string): EntityRow {
  const row = value as Record<string, unknown> | null;
  if (!row || typeof row.name !== 'string' || typeof row.type !== 'string' || typeof row.similarity !== 'number') {
    throw new ProviderResponseInvalidError(provider, 'searchEntities', 'an entity row lacks name, type or similarity');
  }
  return row as unknown as EntityRow;
}

export function toRelation(row: Record<string, unknown>, provider: string): GraphRelation {
  if (typeof row.source !== 'string' || typeof row.relation !== 'string' || typeof row.target !== 'string') {
    throw new ProviderResponseInvalidError(provider, 'neighbors', 'a relation row lacks source, relation or target');
  }
  const validTo = row.validTo === null || row.validTo === undefined ? null : new Date(cypherNumber(row.validTo, 'validTo', provider));
  return {
    source: row.source,
    relation: row.relation,
    target: row.target,
    scope: toScope(row as { userId: unknown; agentId: unknown; runId: unknown }),
    validFrom: new Date(cypherNumber(row.validFrom, 'validFrom', provider)),
    validTo,
  };
}
