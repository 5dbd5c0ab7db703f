export { PostgresVectorStore } from './postgres-vector-store';
export type { PostgresVectorStoreOptions } from './postgres-vector-store-options';
