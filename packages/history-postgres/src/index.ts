export { PostgresHistoryStore } from './postgres-history-store';
export type { PostgresHistoryStoreOptions } from './postgres-history-store-options';
export { LockLostError } from '@mem/postgres';
