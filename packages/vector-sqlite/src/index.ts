export type { KeywordIndexState } from './sqlite-keyword-index';
export { SqliteVectorStore } from './sqlite-vector-store';
export type { SqliteVectorStoreOptions } from './sqlite-vector-store-options';
