import type { VectorStore } from '@mem/core';

/** Options of {@link PineconeVectorStore}. */
export interface PineconeVectorStoreOptions {}

/** Pinecone adapter. Implement every method of {@link VectorStore}; declare what the backend does natively in `capabilities`. */
export declare class PineconeVectorStore implements VectorStore {}
