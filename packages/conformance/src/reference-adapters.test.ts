import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import { describeEmbedder, describeHistoryStore, describeLLM, describeReranker, describeVectorStore } from './describe';
import { LaggingVectorStore, MinimalVectorStore, RangeOnlyVectorStore, WordOverlapReranker, wellBehavedLLM } from './test-adapters';

// core's reference adapters pass the whole suite: the cases are satisfiable as written.
describeVectorStore('InMemoryVectorStore', async () => {
  const store = new InMemoryVectorStore();
  return { subject: store, dispose: () => store.close() };
});

// A store declaring only core's default capabilities: undeclared operators must be rejected, keyword search too.
describeVectorStore('MinimalVectorStore (eq, in, and; no keyword search)', async () => {
  const store = new MinimalVectorStore();
  return { subject: store, dispose: () => store.close() };
});

// A store declaring only range operators: cases needing a filter fall back to an equivalent range filter.
describeVectorStore('RangeOnlyVectorStore (gt, gte, lt, lte, and, or)', async () => {
  const store = new RangeOnlyVectorStore();
  return { subject: store, dispose: () => store.close() };
});

// A store whose writes land later: every read after a write must go through helpers.eventually.
describeVectorStore('LaggingVectorStore (readAfterWrite: eventual, maxUpsertBatch: 25)', async () => {
  const store = new LaggingVectorStore();
  return { subject: store, dispose: () => store.close() };
});

describeHistoryStore('InMemoryHistoryStore', async () => {
  const store = new InMemoryHistoryStore();
  return { subject: store, dispose: () => store.close() };
});

describeEmbedder('LexicalEmbedder', async () => ({ subject: new LexicalEmbedder(), dispose: async () => {} }));
describeEmbedder('HashEmbedder', async () => ({ subject: new HashEmbedder({ dimensions: 32 }), dispose: async () => {} }));

describeLLM('ScriptedLLM', async () => ({ subject: wellBehavedLLM(), dispose: async () => {} }));

describeReranker('WordOverlapReranker', async () => ({ subject: new WordOverlapReranker(), dispose: async () => {} }));
