import type { Memory } from '@mem/core';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryTools } from './ai-sdk-memory-tools';
import { seededMemory, textResult, textsOf, toolCallResult } from './testing/ai-sdk-mock-models';

const alice = { userId: 'alice' };
let memory: Memory;
beforeEach(async () => {
  memory = await seededMemory([{ scope: alice, texts: ['Is vegetarian', 'Lives in Lisbon'] }]);
});
afterEach(() => memory.close());

/** Runs a scripted agent: the model calls the given tools one step each, then answers. */
async function agent(calls: readonly { tool: string; input: unknown }[]) {
  const model = new MockLanguageModelV3({
    doGenerate: [...calls.map((call, index) => toolCallResult(call.tool, call.input, `call-${index}`)), textResult('Done.')],
  });
  const result = await generateText({
    model,
    tools: memoryTools(memory, { scope: alice, addOptions: { infer: false } }),
    stopWhen: stepCountIs(calls.length + 1),
    prompt: 'Manage my memories.',
  });
  const outputs = result.steps.flatMap((step) =>
    step.content.flatMap((part) =>
      part.type === 'tool-result' ? [part.output] : part.type === 'tool-error' ? [{ error: String(part.error) }] : [],
    ),
  );
  return { result, outputs, model };
}

describe('memoryTools through generateText (ai 6)', () => {
  it('the model sees five tools with input schemas and no scope field', async () => {
    const { model } = await agent([]);
    const tools = model.doGenerateCalls[0]!.tools!;
    expect(tools.map((candidate) => candidate.name)).toEqual([
      'searchMemories',
      'addMemory',
      'updateMemory',
      'deleteMemory',
      'listMemories',
    ]);
    for (const candidate of tools) {
      expect(candidate.type).toBe('function');
      const schema = (candidate as { inputSchema: { properties: object; additionalProperties: boolean } }).inputSchema;
      expect(schema.additionalProperties).toBe(false);
      expect(Object.keys(schema.properties)).not.toEqual(expect.arrayContaining(['userId']));
      expect(JSON.stringify(schema)).not.toMatch(/userId|agentId|runId|scope/);
    }
  });

  it('add, search, list, update and delete work on the scope', async () => {
    const { outputs } = await agent([
      { tool: 'addMemory', input: { text: 'Is learning Portuguese' } },
      { tool: 'searchMemories', input: { query: 'Portuguese', limit: 1 } },
      { tool: 'listMemories', input: { limit: 2 } },
    ]);
    const [added, found, listed] = outputs as [
      { events: { kind: string; id: string; text: string }[] },
      { memories: { id: string; text: string; score: number; date: string }[] },
      { memories: { text: string }[]; nextCursor?: string },
    ];
    expect(added.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: 'Is learning Portuguese' }]);
    expect(found.memories).toEqual([
      { id: added.events[0]!.id, text: 'Is learning Portuguese', score: expect.any(Number), date: '2025-06-27' },
    ]);
    expect(listed.memories.map((item) => item.text)).toEqual(['Is vegetarian', 'Lives in Lisbon']);
    expect(listed.nextCursor).toEqual(expect.any(String));

    const id = added.events[0]!.id;
    const { outputs: changes } = await agent([
      { tool: 'updateMemory', input: { id, text: 'Speaks some Portuguese' } },
      { tool: 'deleteMemory', input: { id: (await memory.getAll({ scope: alice })).results[0]!.id } },
      { tool: 'updateMemory', input: { id: '0190c9d2-0000-7000-8000-000000000000', text: 'x' } },
    ]);
    expect(changes).toEqual([
      { updated: true, memory: { id, text: 'Speaks some Portuguese', date: '2025-06-27' } },
      { deleted: true },
      { updated: false, reason: 'The user has no memory with this id.' },
    ]);
    expect(await textsOf(memory, alice)).toEqual(['Lives in Lisbon', 'Speaks some Portuguese']);
  });

  it('invalid arguments are returned to the model as a tool error, and nothing is written', async () => {
    const { outputs } = await agent([
      { tool: 'addMemory', input: { text: '' } },
      { tool: 'searchMemories', input: { query: 'tea', limit: 500 } },
      { tool: 'listMemories', input: { limit: 'all' } },
    ]);
    expect(outputs).toEqual([
      { error: expect.stringContaining('"text" must be a non-empty string') },
      { error: expect.stringContaining('"limit" must be an integer from 1 to 10') },
      { error: expect.stringContaining('"limit" must be an integer from 1 to 100') },
    ]);
    expect(await textsOf(memory, alice)).toEqual(['Is vegetarian', 'Lives in Lisbon']);
  });
});

describe('options', () => {
  it('rejects a missing scope and a non-memory', () => {
    expect(() => memoryTools(memory, { scope: {} })).toThrow(/Invalid options.scope/);
    expect(() => memoryTools({} as Memory, { scope: alice })).toThrow(/Invalid memory/);
  });
});
