/**
 * `@mem/conformance`: the shared suite every mem adapter passes. One `describe*` per interface,
 * cases as data, environment gates for servers and live APIs.
 *
 * @packageDocumentation
 */
export {
  describeVectorStore,
  describeHistoryStore,
  describeEmbedder,
  describeLLM,
  describeGraphStore,
  describeReranker,
  DEFAULT_TIMEOUT_MS,
  type Harness,
  type CreateHarness,
  type SuiteOptions,
} from './describe';
export { serverEnv, liveEnv, type EnvResult } from './env';
export { describeMultiProcessWrites, type MultiProcessOptions } from './multi-process-writes';
export type { MultiProcessScenario } from './multi-process-protocol';
export {
  eventually,
  CaseSkipped,
  DEFAULT_EVENTUALLY_TIMEOUT_MS,
  type CaseHelpers,
  type ConformanceCase,
  type CaseOutcome,
  type RunCaseOptions,
} from './case';
export { vectorStoreCases, runVectorStoreCase, type VectorStoreCase } from './vector-store-cases';
export { CONFORMANCE_DIMENSIONS, type VectorStoreCaseHelpers, type RecordFields } from './vector-store-helpers';
export {
  historyStoreCases,
  runHistoryStoreCase,
  type HistoryStoreCase,
  type HistoryStoreCaseHelpers,
  type HistoryEventFields,
} from './history-store-cases';
export { embedderCases, embedderCaseTexts, runEmbedderCase, type EmbedderCase } from './embedder-cases';
export { graphStoreCases, runGraphStoreCase, TRICKY_GRAPH_NAMES, type GraphStoreCase } from './graph-store-cases';
export { createGraphStoreHelpers, type GraphStoreCaseHelpers } from './graph-store-helpers';
export { rerankerCases, rerankerCaseTexts, runRerankerCase, type RerankerCase } from './reranker-cases';
export { llmCases, llmCasePrompts, runLLMCase, type LLMCase } from './llm-cases';
