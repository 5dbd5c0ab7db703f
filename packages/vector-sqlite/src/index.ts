export { SqliteVectorStore, type SqliteVectorStoreOptions } from './vector-sqlite';
