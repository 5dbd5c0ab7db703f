import { MemError } from '@mem/core/adapter';
import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder, Memory } from '@mem/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyCrossEncoderFolder, TINY_CROSS_ENCODER_ID, type TinyCrossEncoderFolder } from '../test/tiny-cross-encoder';
import { TransformersReranker } from './transformers-reranker';
import type { TransformersRerankerOptions } from './transformers-reranker-options';

let folder: TinyCrossEncoderFolder;
let twoOutputs: TinyCrossEncoderFolder;

beforeAll(async () => {
  folder = await createTinyCrossEncoderFolder();
  twoOutputs = await createTinyCrossEncoderFolder({ outputs: 2 });
});
afterAll(async () => {
  await folder.remove();
  await twoOutputs.remove();
});

const sigmoid = (value: number) => 1 / (1 + Math.exp(-value));

function tinyReranker(options: TransformersRerankerOptions = {}, from = folder): TransformersReranker {
  return new TransformersReranker({ model: TINY_CROSS_ENCODER_ID, localModelPath: from.localModelPath, ...options });
}

async function captureError(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('TransformersReranker: scores', () => {
  it('scores each (query, document) pair as the model does, with the document as the second segment', async () => {
    const reranker = tinyReranker({ activation: 'none' });
    const scores = await reranker.rerank({ query: 'green tea', documents: ['the user likes green tea.', 'my brother plays chess'] });
    const expected = [
      folder.expectedLogit(['green', 'tea'], ['the', 'user', 'likes', 'green', 'tea', '.']),
      folder.expectedLogit(['green', 'tea'], ['my', 'brother', 'plays', 'chess']),
    ];
    scores.forEach((score, index) => expect(score).toBeCloseTo(expected[index]!, 3));
    expect(scores[0]).toBeGreaterThan(scores[1]! + 1);
    await reranker.close();
  });

  it('applies the sigmoid by default, keeping the order', async () => {
    const raw = await tinyReranker({ activation: 'none' }).rerank({ query: 'tea', documents: ['green tea', 'chess', 'black coffee'] });
    const squashed = await tinyReranker().rerank({ query: 'tea', documents: ['green tea', 'chess', 'black coffee'] });
    squashed.forEach((score, index) => expect(score).toBeCloseTo(sigmoid(raw[index]!), 6));
    expect(squashed.every((score) => score > 0 && score < 1)).toBe(true);
  });

  it('reads a two-output model as (irrelevant, relevant)', async () => {
    const reranker = tinyReranker({ activation: 'none' }, twoOutputs);
    const [score] = await reranker.rerank({ query: 'green tea', documents: ['green tea'] });
    expect(score).toBeCloseTo(twoOutputs.expectedLogit(['green', 'tea'], ['green', 'tea']), 3);
    const [probability] = await tinyReranker({}, twoOutputs).rerank({ query: 'green tea', documents: ['green tea'] });
    expect(probability).toBeCloseTo(sigmoid(score!), 6);
  });

  it('gives the same scores whatever the batch size (padding is masked out)', async () => {
    const documents = ['tea', 'the user likes green tea and black coffee on monday', 'chess', 'dog eats cheese in paris'];
    const one = await tinyReranker({ batchSize: 1, activation: 'none' }).rerank({ query: 'green tea', documents });
    const all = await tinyReranker({ batchSize: 32, activation: 'none' }).rerank({ query: 'green tea', documents });
    all.forEach((score, index) => expect(score).toBeCloseTo(one[index]!, 4));
  });
});

describe('TransformersReranker: in Memory.search', () => {
  it('re-orders hybrid search results with rerank: true and reports rerankScore', async () => {
    const reranker = tinyReranker();
    const memory = new Memory({
      embedder: new LexicalEmbedder(),
      vectorStore: new InMemoryVectorStore(),
      historyStore: new InMemoryHistoryStore(),
      reranker,
    });
    const scope = { userId: 'alice' };
    for (const text of ['my brother likes chess', 'she works in the office', 'the user likes green tea']) {
      await memory.add(text, { scope, infer: false });
    }
    const { results } = await memory.search('green tea', { scope, rerank: true, limit: 3 });
    expect(results[0]!.text).toBe('the user likes green tea');
    expect(results.map((result) => result.rerankScore)).toEqual([...results.map((result) => result.rerankScore!)].sort((a, b) => b - a));
    await memory.close();
  });
});

describe('TransformersReranker: errors', () => {
  it('names every missing file when the folder is incomplete', async () => {
    const error = await captureError(() =>
      new TransformersReranker({ model: 'nobody/missing', localModelPath: folder.localModelPath }).rerank({ query: 'q', documents: ['d'] }),
    );
    expect(MemError.is(error, 'MISSING_SETTING')).toBe(true);
    expect((error as Error).message).toContain('config.json');
    expect((error as Error).message).toContain('onnx/model.onnx');
  });

  it('rejects bad options and bad input with INVALID_INPUT', async () => {
    expect(() => new TransformersReranker({ batchSize: 0 })).toThrow(/options\.batchSize/);
    expect(() => new TransformersReranker({ activation: 'softmax' as never })).toThrow(/options\.activation/);
    const error = await captureError(() => tinyReranker().rerank({ query: 7 as unknown as string, documents: ['tea'] }));
    expect(MemError.is(error, 'INVALID_INPUT')).toBe(true);
  });
});
