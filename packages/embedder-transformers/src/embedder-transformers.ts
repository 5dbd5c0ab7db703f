import type { Embedder } from '@mem/core';

/** Options of {@link TransformersEmbedder}. */
export interface TransformersEmbedderOptions {}

/** Transformers adapter. Implement every method of {@link Embedder}; declare what the backend does natively in `capabilities`. */
export declare class TransformersEmbedder implements Embedder {}
