import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder } from '@mem/core';
import { HashEmbedder, ScriptedLLM } from '@mem/core/testing';
import { describeEmbedder, describeHistoryStore, describeLLM, describeVectorStore } from './describe';

// core's reference adapters pass the whole suite; this proves the cases are satisfiable.
describeVectorStore('InMemoryVectorStore', async () => {
  const store = new InMemoryVectorStore();
  return { subject: store, dispose: () => store.close() };
});

describeHistoryStore('InMemoryHistoryStore', async () => {
  const store = new InMemoryHistoryStore();
  return { subject: store, dispose: () => store.close() };
});

describeEmbedder('LexicalEmbedder', async () => ({ subject: new LexicalEmbedder(), dispose: async () => {} }));
describeEmbedder('HashEmbedder', async () => ({ subject: new HashEmbedder({ dimensions: 32 }), dispose: async () => {} }));

describeLLM('ScriptedLLM', async () => {
  // Answers like a well-behaved model: JSON when asked for it, a sentence otherwise.
  const llm = new ScriptedLLM(
    [(request) => (request.responseFormat?.type === 'json' ? JSON.stringify({ facts: ['Is vegetarian', 'Lives in Lisbon'] }) : 'Hello there!')],
    { repeatLast: true },
  );
  return { subject: llm, dispose: async () => {} };
});
