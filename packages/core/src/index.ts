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
export { redactSecrets } from './redact';
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
  type SearchResponse,
} from './memory';
export { DEFAULT_SINGLE_VALUED_RELATIONS, USER_ENTITY, type GraphOptions } from './graph/graph-options';
export type { GraphAddResult } from './graph/apply-graph';
export type { GraphSearchEntity, GraphSearchRelation } from './graph/search-graph';
export type { GraphPlan } from './graph/prepare-graph';
export type { GraphExtraction } from './graph/graph-extraction';
export type { ShownRelation } from './graph/graph-context';
export type { MemoryEvent } from './pipeline/apply';
export type { SettleReport } from './pipeline/write-ahead';
export type { AddContext, AddPlan, AddStrategy, PlannedOperation } from './pipeline/strategy';
export { reconcileStrategy, additiveStrategy, rawStrategy } from './pipeline/strategies';
export { retrieveCandidates, retrieveCandidatesWithVectors } from './pipeline/retrieve';
export { parseLenientJson } from './pipeline/llm-output';
export { UsageMeter } from './pipeline/usage';
export {
  DEFAULT_EXTRACTION_INSTRUCTIONS,
  DEFAULT_UPDATE_INSTRUCTIONS,
  reconcileSystemPrompt,
  graphSystemPrompt,
  GRAPH_INSTRUCTIONS,
  additiveSystemPrompt,
  conversationPrompt,
} from './prompts';
export {
  withRetries,
  abortableDelay,
  resolveRetryPolicy,
  retryPolicyFromOptions,
  type RetryOptions,
  retryAfterFromHeaders,
  type RetryPolicy,
  type RetryEvent,
} from './retry';
export { processEnvironment, nonEmptySetting, integerOption, checkHttpUrl, urlOrigin, type Environment } from './settings';
export {
  checkBatch as checkGraphBatch,
  checkCount as checkGraphCount,
  checkDimensions as checkGraphDimensions,
  checkKey as checkGraphRelationKey,
  checkName as checkGraphName,
  checkVector as checkGraphVector,
  epochMs as graphEpochMs,
  MAX_GRAPH_DIMENSIONS,
} from './graph/graph-input';
