/**
 * `@mem/core/adapter`: the kit for people writing adapters (vector, history and graph stores, LLMs,
 * embedders, rerankers). Interfaces and capability definitions, typed errors, the filter language and
 * its reference evaluator, scopes, and the retry, settings and graph-input helpers every adapter
 * shares. Versioned like a public API. People using mem import `@mem/core` instead.
 */
export * from './errors';
export * from './types';
export * from './filter';
export * from './scope';
export * from './capabilities';
export type * from './interfaces';
export { cosineSimilarity, normalize } from './vector-math';
export { tokenize, bm25Scores } from './bm25';
export { compareIds } from './stores/in-memory-vector-store';
export { uuidv7, hashText } from './ids';
export { redactSecrets } from './redact';
export { INPUT_LIMITS } from './validation';
export { normalizeEntityName, normalizeRelationName, MAX_GRAPH_NAME_LENGTH } from './graph/graph-names';
export { parseLenientJson } from './pipeline/llm-output';
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
