export { MemgraphGraphStore } from './memgraph-graph-store';
export { MEMGRAPH_DEFAULTS, type MemgraphGraphStoreOptions } from './memgraph-graph-store-options';
export type { MemgraphSchemaNames } from './memgraph-dialect';
