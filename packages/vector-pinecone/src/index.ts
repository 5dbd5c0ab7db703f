export { PineconeVectorStore, type PineconeVectorStoreOptions } from './vector-pinecone';
