export { PineconeVectorStore } from './pinecone-vector-store';
export type { PineconeVectorStoreOptions, PineconeCreateIndexOptions, PineconeCloud } from './pinecone-vector-store-options';
export { PineconeIndexNotFoundError } from './pinecone-errors';
