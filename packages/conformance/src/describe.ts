import type { Embedder, GraphStore, HistoryStore, LLM, Reranker, VectorStore } from '@mem/core/adapter';
import { afterEach, beforeEach, describe, it, type TestContext } from 'vitest';
import { DEFAULT_EVENTUALLY_TIMEOUT_MS, createNamespace, type CaseOutcome, type RunCaseOptions } from './case';
import { embedderCases, runEmbedderCase, type EmbedderCase } from './embedder-cases';
import { graphStoreCases, runGraphStoreCase, type GraphStoreCase } from './graph-store-cases';
import { historyStoreCases, runHistoryStoreCase, type HistoryStoreCase } from './history-store-cases';
import { llmCases, runLLMCase, type LLMCase } from './llm-cases';
import { rerankerCases, runRerankerCase, type RerankerCase } from './reranker-cases';
import { runVectorStoreCase, vectorStoreCases, type VectorStoreCase } from './vector-store-cases';
import { CONFORMANCE_DIMENSIONS } from './vector-store-helpers';

/** A subject under test and how to clean up after it. */
export interface Harness<T> {
  /** The adapter instance the cases run against. */
  readonly subject: T;
  /** Drops what the test created (collection, index, files) and closes connections. Runs after every test, pass or fail. */
  dispose(): Promise<void>;
}

/** Creates a fresh {@link Harness} for one test; `namespace` is unique per test (`mem_` + 12 hex digits). */
export type CreateHarness<T> = (context: { readonly namespace: string }) => Promise<Harness<T>>;

/** Options of every `describe*` function. */
export interface SuiteOptions<T> {
  /** Registers the whole suite as skipped, with this reason in its title (e.g. `serverEnv(...).skip`). */
  readonly skip?: string;
  /** Time limit of each test, including creating and disposing its harness, in milliseconds. @default 10_000 */
  readonly timeoutMs?: number;
  /**
   * Registers adapter-specific tests (`it(...)`) with the same lifecycle: each gets a fresh harness,
   * disposed afterwards; `use()` returns its subject (for vector stores, the collection already exists
   * with 8 dimensions).
   */
  readonly extraCases?: (use: () => T) => void;
}

/** Default per-test time limit, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

interface Lease<T> {
  readonly harness: Promise<Harness<T>>;
  dispose(): Promise<void>;
}

/** Starts creating a harness; `dispose` runs once, and also after a failed or timed-out creation. */
function lease<T>(createHarness: CreateHarness<T>, namespace: string): Lease<T> {
  const harness = Promise.resolve().then(() => createHarness({ namespace }));
  let disposed: Promise<void> | undefined;
  return {
    harness,
    dispose: () =>
      (disposed ??= harness.then(
        (created) => created.dispose(),
        () => undefined, // creation failed: the test already reports that error, nothing to dispose
      )),
  };
}

function defineSuite<T, C extends { readonly name: string }>(
  name: string,
  createHarness: CreateHarness<T>,
  options: SuiteOptions<T>,
  cases: readonly C[],
  runCase: (testCase: C, subject: T, options: RunCaseOptions) => Promise<CaseOutcome>,
  prepareExtra?: (subject: T) => Promise<void>,
): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const eventuallyTimeoutMs = Math.min(DEFAULT_EVENTUALLY_TIMEOUT_MS, Math.floor(timeoutMs / 2));
  const body = () => {
    for (const testCase of cases) {
      it(
        testCase.name,
        async (context: TestContext) => {
          const namespace = createNamespace();
          const current = lease(createHarness, namespace);
          // Runs after a pass, a failure or a timeout; a dynamic skip bypasses it, so skips dispose first.
          context.onTestFinished(() => current.dispose(), timeoutMs);
          const { subject } = await current.harness;
          const outcome = await runCase(testCase, subject, { namespace, eventuallyTimeoutMs });
          if (outcome.status === 'skipped') {
            await current.dispose();
            context.skip(outcome.reason);
          }
        },
        timeoutMs,
      );
    }
    if (options.extraCases) {
      const extraCases = options.extraCases;
      describe('adapter-specific cases', { timeout: timeoutMs }, () => {
        let current: { lease: Lease<T>; subject?: T } | undefined;
        beforeEach(async () => {
          current = { lease: lease(createHarness, createNamespace()) };
          const { subject } = await current.lease.harness;
          await prepareExtra?.(subject);
          current.subject = subject;
        }, timeoutMs);
        afterEach(async () => {
          const finished = current;
          current = undefined;
          await finished?.lease.dispose();
        }, timeoutMs);
        extraCases(() => {
          if (current?.subject === undefined) {
            throw new Error(
              'use() returns the subject only inside a test registered by extraCases; call it in the test body, not while registering.',
            );
          }
          return current.subject;
        });
      });
    }
  };
  if (options.skip !== undefined) describe.skip(`${name} (skipped: ${options.skip})`, body);
  else describe(name, body);
}

/**
 * Registers the vector store conformance suite: every case in {@link vectorStoreCases}, each with a
 * fresh harness (unique namespace), `ensureCollection({ dimensions: 8 })` called by the suite,
 * `dispose()` after the test. Capabilities are read from `subject.capabilities`.
 *
 * @example
 * const qdrant = serverEnv('QDRANT_URL');
 * describeVectorStore('QdrantVectorStore', async ({ namespace }) => {
 *   const store = new QdrantVectorStore({ url: qdrant.values.QDRANT_URL, collection: namespace });
 *   return { subject: store, dispose: async () => { await store.dropCollection(); await store.close(); } };
 * }, { skip: qdrant.skip });
 */
export function describeVectorStore(
  name: string,
  createHarness: CreateHarness<VectorStore>,
  options: SuiteOptions<VectorStore> = {},
): void {
  defineSuite<VectorStore, VectorStoreCase>(name, createHarness, options, vectorStoreCases, runVectorStoreCase, (store) =>
    store.ensureCollection({ dimensions: CONFORMANCE_DIMENSIONS }),
  );
}

/**
 * Registers the history store conformance suite ({@link historyStoreCases}): order, round trips,
 * all-or-nothing `CONFLICT` batches, concurrent appenders, reset.
 *
 * @example
 * describeHistoryStore('SqliteHistoryStore', async ({ namespace }) => {
 *   const store = new SqliteHistoryStore({ path: ':memory:', table: namespace });
 *   return { subject: store, dispose: () => store.close() };
 * });
 */
export function describeHistoryStore(
  name: string,
  createHarness: CreateHarness<HistoryStore>,
  options: SuiteOptions<HistoryStore> = {},
): void {
  defineSuite<HistoryStore, HistoryStoreCase>(name, createHarness, options, historyStoreCases, runHistoryStoreCase);
}

/**
 * Registers the embedder conformance suite ({@link embedderCases}); the texts it sends are
 * {@link embedderCaseTexts}.
 *
 * @example
 * describeEmbedder('OpenAIEmbedder', async () => {
 *   const server = await startFixtureServer();
 *   return { subject: new OpenAIEmbedder({ apiKey: 'test', baseURL: server.url }), dispose: () => server.close() };
 * });
 */
export function describeEmbedder(name: string, createHarness: CreateHarness<Embedder>, options: SuiteOptions<Embedder> = {}): void {
  defineSuite<Embedder, EmbedderCase>(name, createHarness, options, embedderCases, runEmbedderCase);
}

/**
 * Registers the reranker conformance suite ({@link rerankerCases}): one finite score per document,
 * relevant above unrelated, scores independent of the batch, empty input, unicode, bad input and
 * abort. The texts it sends are {@link rerankerCaseTexts}.
 *
 * @example
 * describeReranker('TransformersReranker', async () => {
 *   const reranker = new TransformersReranker({ localModelPath: './models' });
 *   return { subject: reranker, dispose: () => reranker.close() };
 * });
 */
export function describeReranker(name: string, createHarness: CreateHarness<Reranker>, options: SuiteOptions<Reranker> = {}): void {
  defineSuite<Reranker, RerankerCase>(name, createHarness, options, rerankerCases, runRerankerCase);
}

/**
 * Registers the LLM conformance suite ({@link llmCases}); the exact requests it sends are
 * {@link llmCasePrompts}, so a fixture server can answer each.
 *
 * @example
 * describeLLM('OpenAILLM', async () => {
 *   const server = await startFixtureServer();
 *   return { subject: new OpenAILLM({ apiKey: 'test', baseURL: server.url }), dispose: () => server.close() };
 * });
 */
export function describeLLM(name: string, createHarness: CreateHarness<LLM>, options: SuiteOptions<LLM> = {}): void {
  defineSuite<LLM, LLMCase>(name, createHarness, options, llmCases, runLLMCase);
}

/**
 * Registers the graph store conformance suite ({@link graphStoreCases}): scope isolation, idempotent
 * upserts, invalidation and history, neighbourhood queries, entity similarity search, names that
 * break naive query building, concurrent writers, deleteAll and reset. The suite calls
 * `ensureSchema({ dimensions: 8 })` before each case.
 *
 * @example
 * describeGraphStore('SqliteGraphStore', async ({ namespace }) => {
 *   const store = new SqliteGraphStore({ path: ':memory:', tablePrefix: namespace });
 *   return { subject: store, dispose: () => store.close() };
 * });
 */
export function describeGraphStore(name: string, createHarness: CreateHarness<GraphStore>, options: SuiteOptions<GraphStore> = {}): void {
  defineSuite<GraphStore, GraphStoreCase>(name, createHarness, options, graphStoreCases, runGraphStoreCase, (store) =>
    store.ensureSchema({ dimensions: CONFORMANCE_DIMENSIONS }),
  );
}
