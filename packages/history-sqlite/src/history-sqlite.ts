import type { HistoryStore } from '@mem/core';

/** Options of {@link SqliteHistoryStore}. */
export interface SqliteHistoryStoreOptions {}

/** Sqlite adapter. Implement every method of {@link HistoryStore}; declare what the backend does natively in `capabilities`. */
export declare class SqliteHistoryStore implements HistoryStore {}
