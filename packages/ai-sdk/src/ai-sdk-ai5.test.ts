import type { Memory } from '@mem/core';
import { generateText, stepCountIs, streamText } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV2 } from 'ai-v5/test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryTools } from './ai-sdk-memory-tools';
import { withMemory } from './ai-sdk-memory-middleware';
import { seededMemory, textsOf } from './testing/ai-sdk-mock-models';

// An app on ai 5: `ai` resolves to ai 5.0.285 in this file, for the tests and for this package's own
// imports (the tools' `jsonSchema`), exactly as in a project that installed ai 5. Models are the
// AI SDK's LanguageModelV2 mocks (@ai-sdk/provider 2).
vi.mock('ai', async () => import('ai-v5'));

const alice = { userId: 'alice' };
const usage = { inputTokens: 30, outputTokens: 8, totalTokens: 38 };
let memory: Memory;
beforeEach(async () => {
  memory = await seededMemory([{ scope: alice, texts: ['Is vegetarian', 'Lives in Lisbon'] }]);
});
afterEach(() => memory.close());

it('this file really runs ai 5', async () => {
  expect((await import('ai')).generateText).toBe((await import('ai-v5')).generateText);
});

describe('withMemory with ai 5 (LanguageModelV2)', () => {
  const v2Model = (text: string, streamed: string) =>
    new MockLanguageModelV2({
      doGenerate: async () => ({ content: [{ type: 'text', text }], finishReason: 'stop', usage, warnings: [] }),
      doStream: async () => ({
        stream: convertArrayToReadableStream([
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't1' },
          { type: 'text-delta', id: 't1', delta: streamed },
          { type: 'text-end', id: 't1' },
          { type: 'finish', finishReason: 'stop', usage },
        ]),
      }),
    });

  it('keeps the model a V2 model and works with generateText and streamText', async () => {
    const model = v2Model('Falafel wraps.', 'Lentil soup.');
    const wrapped = withMemory(model, { memory, scope: alice, add: 'await', addOptions: { infer: false } });
    expect(wrapped.specificationVersion).toBe('v2');
    const generated = await generateText({ model: wrapped, prompt: 'Vegetarian lunch?' });
    expect(generated.text).toBe('Falafel wraps.');
    expect(generated.providerMetadata?.['mem']).toMatchObject({ memories: expect.any(Number) });
    const streamed = streamText({ model: wrapped, prompt: 'Vegetarian dinner?' });
    expect(await streamed.text).toBe('Lentil soup.');
    const systems = [...model.doGenerateCalls, ...model.doStreamCalls].map((call) =>
      call.prompt.find((message) => message.role === 'system'),
    );
    expect(systems.map((message) => (message?.content as string).includes('- Is vegetarian'))).toEqual([true, true]);
    expect((await textsOf(memory, alice)).slice(-4)).toEqual(['Vegetarian lunch?', 'Falafel wraps.', 'Vegetarian dinner?', 'Lentil soup.']);
  });
});

describe('memoryTools with ai 5', () => {
  it('generateText runs the tools with their schemas and validators', async () => {
    const model = new MockLanguageModelV2({
      doGenerate: async ({ prompt }) =>
        prompt.some((message) => message.role === 'tool')
          ? { content: [{ type: 'text', text: 'Saved.' }], finishReason: 'stop', usage, warnings: [] }
          : {
              content: [
                { type: 'tool-call', toolCallId: 'c1', toolName: 'addMemory', input: '{"text":"Likes jazz"}' },
                { type: 'tool-call', toolCallId: 'c2', toolName: 'searchMemories', input: '{"query":"jazz","userId":"bob"}' },
              ],
              finishReason: 'tool-calls',
              usage,
              warnings: [],
            },
    });
    const result = await generateText({
      model,
      tools: memoryTools(memory, { scope: alice, addOptions: { infer: false } }),
      stopWhen: stepCountIs(2),
      prompt: 'Remember I like jazz.',
    });
    expect(result.text).toBe('Saved.');
    const parts = result.steps[0]!.content;
    expect(parts.find((part) => part.type === 'tool-result')).toMatchObject({ toolName: 'addMemory' });
    expect(parts.find((part) => part.type === 'tool-error')).toMatchObject({ toolName: 'searchMemories' });
    expect(String(parts.find((part) => part.type === 'tool-error')?.error)).toContain('unknown field "userId"');
    expect(await textsOf(memory, alice)).toContain('Likes jazz');
  });
});
