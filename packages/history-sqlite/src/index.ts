export { SqliteHistoryStore, type SqliteHistoryStoreOptions } from './history-sqlite';
