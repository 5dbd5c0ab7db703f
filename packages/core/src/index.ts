export * from './errors';
export * from './types';
export * from './filter';
export * from './scope';
export * from './capabilities';
export type * from './interfaces';
export { cosineSimilarity, normalize } from './vector-math';
export { tokenize, bm25Scores } from './bm25';
export { LexicalEmbedder, type LexicalEmbedderOptions } from './embedders/lexical-embedder';
export { InMemoryVectorStore, compareIds } from './stores/in-memory-vector-store';
export { InMemoryHistoryStore } from './stores/in-memory-history-store';
export { InMemoryGraphStore } from './graph/in-memory-graph-store';
export { normalizeEntityName, normalizeRelationName, MAX_GRAPH_NAME_LENGTH } from './graph/graph-names';
export { uuidv7, hashText } from './ids';
export { INPUT_LIMITS } from './validation';
export {
  Memory,
  type MemoryOptions,
  type MemoryItem,
  type SearchResult,
  type AddOptions,
  type AddResult,
  type SearchOptions,
  type ScopeOptions,
} from './memory';
export type { MemoryEvent } from './pipeline/apply';
export type { AddContext, AddPlan, AddStrategy, PlannedOperation } from './pipeline/strategy';
export { reconcileStrategy, additiveStrategy, rawStrategy } from './pipeline/strategies';
export { retrieveCandidates } from './pipeline/retrieve';
export { parseLenientJson } from './pipeline/llm-output';
export { UsageMeter } from './pipeline/usage';
export {
  DEFAULT_EXTRACTION_INSTRUCTIONS,
  DEFAULT_UPDATE_INSTRUCTIONS,
  reconcileSystemPrompt,
  additiveSystemPrompt,
  conversationPrompt,
} from './prompts';
export { withRetries, resolveRetryPolicy, retryAfterFromHeaders, type RetryPolicy, type RetryEvent } from './retry';
