export { CohereReranker, type CohereRerankerOptions, type CohereRerankModelId } from './cohere-reranker';
