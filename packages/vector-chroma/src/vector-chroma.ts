import type { VectorStore } from '@mem/core';

/** Options of {@link ChromaVectorStore}. */
export interface ChromaVectorStoreOptions {}

/** Chroma adapter. Implement every method of {@link VectorStore}; declare what the backend does natively in `capabilities`. */
export declare class ChromaVectorStore implements VectorStore {}
