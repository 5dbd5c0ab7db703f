/**
 * `@mem/core/adapter`: the kit for people writing adapters (vector, history and graph stores, LLMs,
 * embedders, rerankers). Interfaces and capability definitions, typed errors, the filter language and
 * its reference evaluator, scopes, and the retry, settings and graph-input helpers every adapter
 * shares. Versioned like a public API. People using mem import `@mem/core` instead.
 */

// The contract: interfaces, capabilities, errors, data types, filter language, scopes.
export type * from './contract/interfaces';
export * from './contract/capabilities';
export * from './contract/errors';
export * from './contract/types';
export * from './contract/filter';
export * from './contract/scope';
export { INPUT_LIMITS, validateMessages } from './contract/validation';
export { IMAGE_MEDIA_TYPES, MAX_IMAGE_URL_LENGTH, imageUrl, sniffImageType } from './contract/content-parts';
export { toMemoryItem, type MemoryItem } from './contract/memory-item';

// Helpers every adapter shares.
export { cosineSimilarity, normalize } from './kit/vector-math';
export { tokenize, bm25Scores } from './kit/bm25';
export { uuidv7, hashText, compareIds } from './kit/ids';
export { redactSecrets } from './kit/redact';
export {
  withRetries,
  abortableDelay,
  resolveRetryPolicy,
  retryPolicyFromOptions,
  type RetryOptions,
  retryAfterFromHeaders,
  type RetryPolicy,
  type RetryEvent,
} from './kit/retry';
export { processEnvironment, nonEmptySetting, integerOption, checkHttpUrl, urlOrigin, type Environment } from './kit/settings';
export { parseLenientJson } from './llm/structured-output';

// History stores: the checks of HistoryStore requests, and the scope key read back.
export {
  checkHistoryEvent,
  checkIdempotencyRecord,
  historyEpochMs,
  scopeFromKey,
  type CheckedHistoryEvent,
  type StorableTextCheck,
} from './kit/history-input';

// Graph stores: the names core stores, and the checks of GraphStore requests.
export { normalizeEntityName, normalizeRelationName, MAX_GRAPH_NAME_LENGTH } from './graph/graph-names';
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
