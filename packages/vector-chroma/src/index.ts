export { ChromaVectorStore, type ChromaVectorStoreOptions } from './vector-chroma';
