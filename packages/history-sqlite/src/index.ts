export { SqliteHistoryStore } from './sqlite-history-store';
export type { SqliteHistoryStoreOptions } from './sqlite-history-store-options';
