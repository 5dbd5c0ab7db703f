export { TransformersReranker } from './transformers-reranker';
export {
  DEFAULT_RERANKER_MODEL,
  type TransformersRerankerDtype,
  type TransformersRerankerModelId,
  type TransformersRerankerOptions,
} from './transformers-reranker-options';
