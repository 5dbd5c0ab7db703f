export { TransformersEmbedder } from './transformers-embedder';
export {
  DEFAULT_TRANSFORMERS_MODEL,
  type TransformersEmbedderDtype,
  type TransformersEmbedderOptions,
  type TransformersEmbeddingModelId,
  type TransformersLoadProgress,
} from './transformers-embedder-options';
