import type { VectorStore } from '@mem/core';

/** Options of {@link QdrantVectorStore}. */
export interface QdrantVectorStoreOptions {}

/** Qdrant adapter. Implement every method of {@link VectorStore}; declare what the backend does natively in `capabilities`. */
export declare class QdrantVectorStore implements VectorStore {}
