/**
 * `@mem/core`: the door for people using mem. The `Memory` API with its options and results, the
 * strategy API for custom `add` pipelines, the built-in in-memory stores and lexical embedder, the
 * filter syntax, the typed errors, and the types of the parts `Memory` takes. People writing
 * adapters import `@mem/core/adapter` instead (see ARCHITECTURE.md).
 */

// The Memory API.
export { Memory } from './memory/memory';
export type { MemoryOptions, AddOptions, SearchOptions, ScopeOptions, GetAllOptions, MemoryChange } from './memory/memory-options';
export type { AddResult } from './add/run-add';
export type { AddNote, ConversationImage, ImageOptions } from './add/images';
export { withImages } from './add/images';
export type { MemoryEvent } from './add/apply-plan';
export type { SearchResult, SearchResponse } from './search/run-search';
export type { RankingOptions } from './search/ranking';
export type { IdempotencyOptions } from './add/idempotency';
export type { SettleReport } from './store/write-ahead';
export { INPUT_LIMITS, type CategoryDefinition } from './contract/validation';
export type { MemoryItem } from './contract/memory-item';
export type {
  ChatMessage,
  ChatContentPart,
  ChatTextPart,
  ChatImagePart,
  TextChatMessage,
  HistoryEvent,
  HistoryEventKind,
  MemoryKey,
  MemoryRecord,
  MemoryType,
  Metadata,
  MetadataValue,
  Scope,
  ToolCall,
  Usage,
} from './contract/types';
export type { FilterInput, FieldOperators, FilterScalar } from './contract/filter';
export type { TelemetryOptions, TelemetryTracer, TelemetrySpan, TelemetryAttributes, TelemetryAttributeValue } from './telemetry/telemetry';

// Graph memory.
export { DEFAULT_SINGLE_VALUED_RELATIONS, USER_ENTITY, type GraphOptions } from './graph/graph-options';
export type { GraphAddResult } from './add/apply-graph';
export type { GraphSearchEntity, GraphSearchRelation } from './search/search-graph';
export type { GraphRelation, GraphRelationKey } from './contract/interfaces';

// Errors.
export {
  MemError,
  InputLimitError,
  InvalidInputError,
  MissingSettingError,
  UnsupportedCapabilityError,
  DimensionMismatchError,
  NotFoundError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  AbortedError,
  IdempotencyKeyReusedError,
  StoredConflictError,
  type MemErrorCode,
} from './contract/errors';

// The parts Memory takes, and the ones built in.
export type { Embedder, LLM, VectorStore, HistoryStore, GraphStore, Reranker } from './contract/interfaces';
export { LexicalEmbedder, type LexicalEmbedderOptions } from './builtin/lexical-embedder';
export { InMemoryVectorStore } from './builtin/in-memory-vector-store';
export { InMemoryHistoryStore } from './builtin/in-memory-history-store';
export { InMemoryGraphStore } from './builtin/in-memory-graph-store';

// Custom add strategies.
export type { AddContext, AddPlan, AddStrategy, GraphPlan, PlannedOperation } from './add/add-strategy';
export type { GraphExtraction } from './add/graph-answer';
export type { ShownRelation } from './add/shown-relations';
export { reconcileStrategy, additiveStrategy, rawStrategy } from './add/built-in-strategies';
export { proceduralStrategy, summarizeRun } from './add/summarize-run';
export { retrieveCandidates, retrieveCandidatesWithVectors } from './add/retrieve-candidates';
export { parseLenientJson } from './llm/structured-output';
export { UsageMeter } from './llm/usage-meter';
export {
  DEFAULT_EXTRACTION_INSTRUCTIONS,
  DEFAULT_UPDATE_INSTRUCTIONS,
  DEFAULT_PROCEDURAL_INSTRUCTIONS,
  LANGUAGE_INSTRUCTION,
  proceduralSystemPrompt,
  categoriesInstructions,
  reconcileSystemPrompt,
  graphSystemPrompt,
  GRAPH_INSTRUCTIONS,
  additiveSystemPrompt,
  conversationPrompt,
} from './llm/prompts';
