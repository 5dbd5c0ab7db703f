// Run by lifecycle.test.ts in a nested vitest: every harness logs its creation and disposal.
import { appendFileSync } from 'node:fs';
import { type LLM, type VectorStore } from '@mem/core/adapter';
import { InMemoryHistoryStore, InMemoryVectorStore } from '@mem/core';
import { expect, inject, it } from 'vitest';
import { describeEmbedder, describeHistoryStore, describeLLM, describeVectorStore } from '../describe';
import { TopKPlusOneVectorStore } from '../test-adapters';

declare module 'vitest' {
  interface ProvidedContext {
    lifecycleLog: string;
  }
}

const log = (line: string) => appendFileSync(inject('lifecycleLog'), `${line}\n`);
const namespaces = new WeakMap<object, string>();

function harness<T extends object>(suite: string, subject: T, namespace: string) {
  log(`create ${suite} ${namespace}`);
  namespaces.set(subject, namespace);
  return { subject, dispose: async () => log(`dispose ${suite} ${namespace}`) };
}

describeVectorStore('passing', async ({ namespace }) => harness('passing', new InMemoryVectorStore(), namespace), {
  extraCases: (use) => {
    it('extra: use() returns this test’s store with its collection ready', async () => {
      const store: VectorStore = use();
      log(`extra ${namespaces.get(store)}`);
      await store.upsert({
        records: [{ id: 'a', vector: new Array(8).fill(0.5), text: 't', hash: 'h', scope: { userId: 'u' }, metadata: {}, createdAt: new Date(0), updatedAt: new Date(0), occurredAt: new Date(0) }],
      });
      expect(await store.get({ scope: { userId: 'u' }, ids: ['a'] })).toHaveLength(1);
    });
    it('extra: fails on purpose', () => {
      log(`extra ${namespaces.get(use())}`);
      throw new Error('deliberate failure');
    });
  },
});

describeVectorStore('broken', async ({ namespace }) => harness('broken', new TopKPlusOneVectorStore(), namespace));

// generate never answers unless aborted: every other case times out (the cut-off case too: the
// adapter claims to honour maxTokens), the aborted one passes.
const hanging: LLM = {
  provider: 'hanging',
  model: 'hanging',
  capabilities: { structuredOutput: 'none', maxOutputTokens: 1_000 },
  generate: (request) =>
    request.signal?.aborted ? Promise.reject(Object.assign(new Error('aborted'), { code: 'ABORTED' })) : new Promise(() => {}),
};
describeLLM('hanging', async ({ namespace }) => harness('hanging', hanging, namespace), { timeoutMs: 200 });

describeHistoryStore(
  'skipped',
  async ({ namespace }) => harness('skipped', new InMemoryHistoryStore(), namespace),
  { skip: 'needs FAKE_SERVER_URL' },
);

describeEmbedder('unbuildable', async () => {
  log('create unbuildable');
  throw new Error('cannot connect');
}, { extraCases: () => {} });

