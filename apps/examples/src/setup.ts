import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LexicalEmbedder, Memory, type Embedder, type GraphStore, type LLM, type MemoryOptions } from '@mem/core';
import { ScriptedLLM, type ScriptStep } from '@mem/core/testing';
import { SqliteGraphStore } from '@mem/graph-sqlite';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { AnthropicLLM } from '@mem/llm-anthropic';
import { OpenAIEmbedder, OpenAILLM } from '@mem/llm-openai';
import { SqliteVectorStore } from '@mem/vector-sqlite';

/** What the environment configured. */
export interface ExampleSetup {
  readonly memory: Memory;
  /** Whether an LLM is configured, so `add` can extract facts. */
  readonly infer: boolean;
  /** One line describing the providers in use. */
  readonly description: string;
  /** The SQLite file holding the memories and their history (and the graph, with `graphMemory`). */
  readonly path: string;
  /** The embedder in use. */
  readonly embedder: Embedder;
  /** The graph store, when `graphMemory: true` was asked for (the same SQLite file). */
  readonly graphStore?: GraphStore;
  /** The scripted LLM standing in for a model, when no LLM is configured and the example gave a `script`. */
  readonly scripted?: ScriptedLLM;
}

/**
 * Builds a Memory on the embedded default (one SQLite file) with whatever providers the
 * environment configures:
 * - OPENAI_API_KEY (and optionally OPENAI_BASE_URL): OpenAI for extraction and embeddings;
 * - OPENAI_BASE_URL alone: an OpenAI-compatible server (Ollama, vLLM, LM Studio, LiteLLM);
 * - ANTHROPIC_API_KEY: Claude for extraction (embeddings from OpenAI when its key is set, else lexical);
 * - nothing: no LLM (`infer: false`) and the offline lexical embedder; or, when the example gives a
 *   `script`, core's ScriptedLLM (`@mem/core/testing`) answering with those prepared replies, so the
 *   example still shows its feature (it must say so: see {@link announceScripted}).
 * MEM_LLM_MODEL and MEM_EMBEDDING_MODEL pick models; MEM_DB picks the file (default: a new temp file).
 */
export function createExampleMemory(
  options: Pick<MemoryOptions, 'prompts' | 'strategy'> & { readonly graphMemory?: boolean; readonly script?: readonly ScriptStep[] } = {},
): ExampleSetup {
  const { graphMemory, script, ...memoryOptions } = options;
  const env = process.env;
  const path = env.MEM_DB ?? join(mkdtempSync(join(tmpdir(), 'mem-example-')), 'mem.db');
  const llmModel = env.MEM_LLM_MODEL;
  const embeddingModel = env.MEM_EMBEDDING_MODEL;
  const openAICompatible = Boolean(env.OPENAI_API_KEY || env.OPENAI_BASE_URL);
  // A local OpenAI-compatible server usually needs no key; the SDK still wants a non-empty one.
  const openAIKey = env.OPENAI_API_KEY ?? (env.OPENAI_BASE_URL ? 'not-needed' : undefined);

  let llm: LLM | undefined;
  let embedder: Embedder;
  if (env.ANTHROPIC_API_KEY) {
    llm = new AnthropicLLM(llmModel ? { model: llmModel } : {});
  } else if (openAICompatible) {
    llm = new OpenAILLM({ apiKey: openAIKey!, ...(llmModel ? { model: llmModel } : {}) });
  }
  const scripted = !llm && script ? new ScriptedLLM(script) : undefined;
  llm ??= scripted;
  if (openAICompatible) {
    embedder = new OpenAIEmbedder({ apiKey: openAIKey!, ...(embeddingModel ? { model: embeddingModel } : {}) });
  } else {
    embedder = new LexicalEmbedder();
  }

  // The three SQLite stores share one file; graph memory is switched on by passing a graph store.
  const graphStore = graphMemory ? new SqliteGraphStore({ path }) : undefined;
  const memory = new Memory({
    embedder,
    vectorStore: new SqliteVectorStore({ path }),
    historyStore: new SqliteHistoryStore({ path }),
    ...(llm ? { llm } : {}),
    ...(graphStore ? { graphStore } : {}),
    ...memoryOptions,
  });
  const description = scripted
    ? `SCRIPTED LLM (prepared replies, not a model), ${embedder.provider} embedder (lexical, not semantic), SQLite at ${path}`
    : llm
      ? `LLM ${llm.provider}/${llm.model}, embedder ${embedder.provider}/${embedder.model}, SQLite at ${path}`
      : `no LLM (infer: false), ${embedder.provider} embedder (lexical, not semantic), SQLite at ${path}`;
  if (!llm) {
    console.log(
      'No LLM configured: storing messages as given. Set OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL to switch on fact extraction.',
    );
  }
  return {
    memory,
    infer: Boolean(llm),
    description,
    path,
    embedder,
    ...(graphStore ? { graphStore } : {}),
    ...(scripted ? { scripted } : {}),
  };
}

/** Says, before anything else is printed, that the LLM's answers are prepared, not a model's. */
export function announceScripted(what: string): void {
  console.log(`DEMONSTRATION: no LLM is configured (OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL), so core's ScriptedLLM
(@mem/core/testing) plays the model with prepared replies: ${what}
Everything else is real: the prompt is built and sent, the reply is parsed and applied to the SQLite stores.
Set one of those variables to watch a real model do it.`);
}

/** Prints a heading. */
export function heading(text: string): void {
  console.log(`\n== ${text}`);
}

/** Formats a date as YYYY-MM-DD HH:MM UTC. */
export function when(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}
