export { Neo4jGraphStore } from './neo4j-graph-store';
export { NEO4J_DEFAULTS, type Neo4jGraphStoreOptions } from './neo4j-graph-store-options';
export type { Neo4jSchemaNames } from './neo4j-dialect';
