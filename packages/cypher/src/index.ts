export { CypherGraphStore } from './cypher-graph-store';
export type { CypherDialect, CypherSchemaNames, CypherErrorContext } from './cypher-dialect';
export {
  resolveCypherOptions,
  validateNamespace,
  describeBoltServer,
  type CypherStoreOptions,
  type CypherSettings,
  type ResolvedCypherOptions,
} from './cypher-options';
export { cypherQueries, scopeCondition, scopeProperties, entityKey, SCOPE_PROPERTIES, type CypherQueries } from './cypher-queries';
export { cypherNumber } from './cypher-rows';
