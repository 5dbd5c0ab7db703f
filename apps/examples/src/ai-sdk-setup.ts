import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { AISDKEmbedder, AISDKLLM } from '@mem/ai-sdk';
import { LexicalEmbedder, Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { startOpenAIFakeServer, type FakeReply, type FakeRequest } from '@mem/llm-openai/testing';
import { SqliteVectorStore } from '@mem/vector-sqlite';

/** The AI SDK examples' providers: OpenAI with OPENAI_API_KEY, else a local stand-in server. */
export interface AISDKExampleSetup {
  readonly memory: Memory;
  /** The chat model the app calls (through @ai-sdk/openai either way). */
  readonly chatModel: ReturnType<ReturnType<typeof createOpenAI>['chat']>;
  /** Whether mem extracts facts with an LLM (online) or stores messages as given (offline). */
  readonly infer: boolean;
  readonly offline: boolean;
  close(): Promise<void>;
}

/**
 * With OPENAI_API_KEY: gpt-4.1-mini (MEM_LLM_MODEL) through @ai-sdk/openai for the app, and the same
 * provider as mem's LLM and embedder (AISDKLLM, AISDKEmbedder). Without: a local server speaking
 * OpenAI's wire protocol (from @mem/llm-openai/testing) plays the model, answering with `offlineReply`,
 * still through @ai-sdk/openai over HTTP; mem stores messages as given with the lexical embedder.
 * The memories live in MEM_DB, default a file in the temp folder that the next run finds again.
 */
export async function createAISDKExample(name: string, offlineReply: (request: FakeRequest) => FakeReply): Promise<AISDKExampleSetup> {
  const key = process.env.OPENAI_API_KEY;
  const offline = !key;
  const path = process.env.MEM_DB ?? join(tmpdir(), `mem-${name}-${offline ? 'offline' : 'openai'}.db`);
  const stores = { vectorStore: new SqliteVectorStore({ path }), historyStore: new SqliteHistoryStore({ path }) };
  if (!offline) {
    const openai = createOpenAI({ apiKey: key });
    const model = process.env.MEM_LLM_MODEL ?? 'gpt-4.1-mini';
    const memory = new Memory({
      llm: new AISDKLLM({ model: openai.chat(model) }),
      embedder: new AISDKEmbedder({ model: openai.embedding('text-embedding-3-small') }),
      ...stores,
    });
    console.log(`${name}: OpenAI ${model} through @ai-sdk/openai; mem extracts facts with AISDKLLM; memories in ${path}`);
    return { memory, chatModel: openai.chat(model), infer: true, offline, close: () => memory.close() };
  }
  const server = await startOpenAIFakeServer({ fallback: offlineReply });
  const memory = new Memory({ embedder: new LexicalEmbedder(), ...stores });
  console.log(
    `${name}: OFFLINE (no OPENAI_API_KEY). A local stand-in server plays the model, reached through @ai-sdk/openai over HTTP; ` +
      `its answers are scripted, not intelligent. mem stores messages as given (no fact extraction). Memories in ${path}. ` +
      'Set OPENAI_API_KEY to run it on gpt-4.1-mini.',
  );
  const openai = createOpenAI({ apiKey: 'offline', baseURL: server.baseURL });
  return {
    memory,
    chatModel: openai.chat('offline-stand-in'),
    infer: false,
    offline,
    close: async () => {
      await memory.close();
      await server.close();
    },
  };
}
