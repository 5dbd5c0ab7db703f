export { TransformersEmbedder, type TransformersEmbedderOptions } from './embedder-transformers';
