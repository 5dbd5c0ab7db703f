import type { LanguageModelV3GenerateResult, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import type { Scope } from '@mem/core/adapter';
import { LexicalEmbedder, Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';

// Test support (not exported by the package): the AI SDK's own mock models answering scripted
// replies, and a Memory on the embedded default stores (SQLite in memory, lexical embeddings).

export const usage = {
  inputTokens: { total: 30, noCache: 30, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 8, text: 8, reasoning: 0 },
};

/** A V3 generate result answering `text`. */
export function textResult(text: string): LanguageModelV3GenerateResult {
  return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
}

/** A V3 generate result calling one tool. */
export function toolCallResult(toolName: string, input: unknown, toolCallId = `call-${toolName}`): LanguageModelV3GenerateResult {
  return {
    content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  };
}

/** The V3 stream parts of an answer `text`, in word-sized deltas. */
export function textStreamParts(text: string): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't1' },
    ...(text.match(/\S+\s*/g) ?? []).map((delta) => ({ type: 'text-delta' as const, id: 't1', delta })),
    { type: 'text-end', id: 't1' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
  ];
}

/** A mock V3 model answering `text` (or `streamed` when streaming); it records every call's options. */
export function textModel(text: string, streamed = text): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    doGenerate: async () => textResult(text),
    doStream: async () => ({ stream: convertArrayToReadableStream(textStreamParts(streamed)) }),
  });
}

/** A Memory on SQLite (in memory) with the offline lexical embedder, holding `seed` memories stored as given. */
export async function seededMemory(seed: readonly { readonly scope: Scope; readonly texts: readonly string[] }[] = []): Promise<Memory> {
  const memory = new Memory({
    embedder: new LexicalEmbedder(),
    vectorStore: new SqliteVectorStore({ path: ':memory:' }),
    historyStore: new SqliteHistoryStore({ path: ':memory:' }),
    now: () => new Date('2025-06-27T12:00:00Z'),
  });
  for (const { scope, texts } of seed) {
    for (const text of texts) {
      await memory.add(text, { scope, infer: false, occurredAt: new Date('2025-06-01T09:00:00Z') });
    }
  }
  return memory;
}

/** All memory texts of a scope, in creation order. */
export async function textsOf(memory: Memory, scope: Scope): Promise<string[]> {
  return (await memory.getAll({ scope })).results.map((item) => item.text);
}

/** A promise and the callbacks settling it, for hooks such as onAdded and onError. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
