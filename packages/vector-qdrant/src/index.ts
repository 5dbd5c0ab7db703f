export { QdrantVectorStore } from './qdrant-vector-store';
export {
  QDRANT_DEFAULTS,
  type QdrantHnswOptions,
  type QdrantQuantizationOptions,
  type QdrantSearchOptions,
  type QdrantVectorStoreOptions,
} from './qdrant-vector-store-options';
export { QDRANT_FILTER_OPERATORS } from './qdrant-filter';
