import type { LLMResponse } from '@mem/core/adapter';
import { ScriptedLLM } from '@mem/core/testing';
import { describe, it } from 'vitest';
import { scaled } from './support/figures';
import { caseArbitrary, fuzz, inMemory, sqliteInMemory, type ModelRequest, type ModelTransport } from './support/model-output-run';

// Model output fuzzing: Memory.add driven by a ScriptedLLM that answers generated text (valid,
// wrapped, corrupted, truncated, empty, huge, with unknown / duplicated / foreign ids; reasoning
// blocks closed, nested, opened without a close, closed without an open; finish reasons stop,
// length, refusal, other). Whatever the model answers: only typed MemErrors, no write outside the
// caller's scope, no fact silently dropped (stored, or the whole call fails with a typed error and
// writes nothing) — a text carried by a DELETE or NONE included —, no duplicate, history
// consistent with the store; an answer cut off by the token limit, refused, or still inside its
// reasoning is never acted on (a cut-off answer is retried with a larger token limit), and the JSON
// inside reasoning never counts. The invariants are in support/model-output-run.ts;
// model-output-adapters.test.ts runs the same cases through the real adapters.

/** A ScriptedLLM that runs with a default limit of 512 answer tokens and honours a request's limit up to 4,096. */
const scripted: ModelTransport = {
  name: 'ScriptedLLM',
  defaultMaxTokens: 512,
  open(answer) {
    const requests: ModelRequest[] = [];
    const llm = new ScriptedLLM([], { capabilities: { maxOutputTokens: 4_096 } });
    const step = async (request: {
      readonly messages: readonly { content: string }[];
      readonly maxTokens?: number;
    }): Promise<LLMResponse> => {
      const index = requests.length;
      const recorded = { prompt: request.messages.map((message) => message.content).join('\n'), maxTokens: request.maxTokens ?? 512 };
      requests.push(recorded);
      const { text, finishReason } = await answer(index, recorded);
      return { text, finishReason, usage: { promptTokens: 1, completionTokens: 1 }, maxTokens: recorded.maxTokens };
    };
    llm.push(step, step);
    return { llm, requests: () => requests };
  },
};

describe('model output fuzzing through Memory.add and ScriptedLLM', () => {
  it('in-memory stores: no crash, no foreign write, no dropped fact, no duplicate, history matches the store', async () => {
    await fuzz('add', {
      arbitrary: caseArbitrary({ min: 0, max: 12 }),
      runs: scaled(250, 8_000),
      stores: inMemory,
      transport: scripted,
      backend: 'in-memory',
    });
  });

  it('the embedded SQLite stores: the same invariants', async () => {
    await fuzz('add', {
      arbitrary: caseArbitrary({ min: 0, max: 12 }),
      runs: scaled(60, 2_000),
      stores: sqliteInMemory,
      transport: scripted,
      backend: 'sqlite (embedded default)',
    });
  });

  it('thousands of facts in one answer: every one stored or the call fails whole', async () => {
    await fuzz('thousands of facts', {
      arbitrary: caseArbitrary({ min: 1_000, max: 3_000 }),
      runs: scaled(4, 40),
      stores: inMemory,
      transport: scripted,
      backend: 'in-memory',
      shrink: false,
    });
  });
});
