export { ChromaVectorStore } from './chroma-vector-store';
export { CHROMA_FILTER_OPERATORS } from './chroma-filter';
export type { ChromaClientLike, ChromaVectorStoreOptions } from './chroma-vector-store-options';
