export { QdrantVectorStore, type QdrantVectorStoreOptions } from './vector-qdrant';
