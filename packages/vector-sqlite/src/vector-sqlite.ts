import type { VectorStore } from '@mem/core';

/** Options of {@link SqliteVectorStore}. */
export interface SqliteVectorStoreOptions {}

/** Sqlite adapter. Implement every method of {@link VectorStore}; declare what the backend does natively in `capabilities`. */
export declare class SqliteVectorStore implements VectorStore {}
