import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { AddResult, Memory } from '@mem/core';
import { generateText, stepCountIs, streamText, tool, wrapLanguageModel, jsonSchema } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_HEADER } from './ai-sdk-memory-context';
import { memoryMiddleware, withMemory } from './ai-sdk-memory-middleware';
import { deferred, seededMemory, textModel, textResult, textsOf, toolCallResult } from './testing/ai-sdk-mock-models';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };
let memory: Memory;

beforeEach(async () => {
  memory = await seededMemory([
    { scope: alice, texts: ['Is vegetarian', 'Lives in Lisbon', 'Plays the cello on weekends'] },
    { scope: bob, texts: ['Is allergic to peanuts'] },
  ]);
});
afterEach(() => memory.close());

/** The memory system message of a recorded call, if any. */
function memoryMessage(call: LanguageModelV3CallOptions): string | undefined {
  const message = call.prompt.find((candidate) => candidate.role === 'system' && candidate.content.startsWith(DEFAULT_MEMORY_HEADER));
  return message?.role === 'system' ? message.content : undefined;
}

describe('withMemory with generateText (ai 6, MockLanguageModelV3)', () => {
  it("adds the scope's relevant memories as a system message after the app's own, reports them, and adds the exchange afterwards", async () => {
    const model = textModel('A mushroom risotto.');
    const added = deferred<AddResult>();
    const result = await generateText({
      model: withMemory(model, { memory, scope: alice, addOptions: { infer: false }, onAdded: added.resolve }),
      system: 'You are a cook.',
      prompt: 'I am vegetarian: what should I cook tonight?',
    });
    expect(result.text).toBe('A mushroom risotto.');
    const prompt = model.doGenerateCalls[0]!.prompt;
    expect(prompt.map((message) => message.role)).toEqual(['system', 'system', 'user']);
    expect(prompt[0]).toEqual({ role: 'system', content: 'You are a cook.' });
    const block = memoryMessage(model.doGenerateCalls[0]!)!;
    expect(block.split('\n')[1]).toBe('- Is vegetarian (2025-06-01)');
    expect(block).not.toContain('peanuts');
    const lines = block.split('\n').length - 1;
    expect(result.providerMetadata?.['mem']).toEqual({
      memories: lines,
      injectedTokens: Math.ceil(new TextEncoder().encode(block).length / 3),
    });

    // In the background: the response came back first, the add follows.
    const { events } = await added.promise;
    expect(events.map((event) => event.text)).toEqual(['I am vegetarian: what should I cook tonight?', 'A mushroom risotto.']);
    expect(await textsOf(memory, alice)).toContain('A mushroom risotto.');
    expect(await textsOf(memory, bob)).toEqual(['Is allergic to peanuts']);
  });

  it('keeps the block within maxMemoryTokens counted by countTokens, best memories first', async () => {
    const model = textModel('Noted.');
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const query = 'vegetarian cello Lisbon';
    await generateText({
      model: withMemory(model, {
        memory,
        scope: alice,
        header: 'Memories:',
        formatMemory: (item) => `memory ${item.id}`,
        countTokens: words,
        maxMemoryTokens: 7,
        add: 'off',
      }),
      prompt: query,
    });
    const prompt = model.doGenerateCalls[0]!.prompt;
    const block = prompt.find((message) => message.role === 'system')!.content as string;
    // "Memories:" (1 word) + two lines of 3 words ("- memory <id>") fill the budget of 7; a third would not fit.
    const ranked = (await memory.search(query, { scope: alice, limit: 5 })).results.map((item) => item.id);
    expect(ranked).toHaveLength(3);
    expect(block).toBe(`Memories:\n- memory ${ranked[0]}\n- memory ${ranked[1]}`);
  });

  it("with add: 'await' the exchange is stored when generateText returns; the latest user message only", async () => {
    const model = textModel('You live in Lisbon.');
    await generateText({
      model: withMemory(model, { memory, scope: alice, add: 'await', addOptions: { infer: false } }),
      messages: [
        { role: 'user', content: 'Hi there' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Where do I live?' },
      ],
    });
    const texts = await textsOf(memory, alice);
    expect(texts.slice(-2)).toEqual(['Where do I live?', 'You live in Lisbon.']);
    expect(texts).not.toContain('Hi there');
  });

  it("sends the user's images to add as content parts, and adds the text alone when core refuses them", async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    const pngBase64 = btoa(String.fromCharCode(...png));
    const adds: unknown[] = [];
    const recording = {
      search: async () => ({ results: [], relations: [] }),
      add: async (messages: unknown) => {
        adds.push(messages);
        return { events: [], usage: {} };
      },
    } as unknown as Memory;
    const model = new MockLanguageModelV3({
      doGenerate: async () => textResult('A cat.'),
      supportedUrls: { 'image/*': [/^https:\/\//] },
    });
    await generateText({
      model: withMemory(model, { memory: recording, scope: alice, add: 'await' }),
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', image: png },
            { type: 'image', image: new URL('https://example.com/cat.jpg') },
            { type: 'file', data: pngBase64, mediaType: 'image/png' },
            { type: 'file', data: 'JVBERi0x', mediaType: 'application/pdf' },
          ],
        },
      ],
    });
    expect(adds).toEqual([
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pngBase64}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pngBase64}` } },
          ],
        },
        { role: 'assistant', content: 'A cat.' },
      ],
    ]);

    // A real Memory that does not read images: they are left out with a note, the text is stored.
    const results: AddResult[] = [];
    await generateText({
      model: withMemory(textModel('A cat.'), {
        memory,
        scope: bob,
        add: 'await',
        addOptions: { infer: false },
        onAdded: (r) => results.push(r),
      }),
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look at my cat' },
            { type: 'image', image: png },
          ],
        },
      ],
    });
    expect(results[0]?.notes).toEqual([expect.objectContaining({ code: 'IMAGES_DROPPED' })]);
    expect(await textsOf(memory, bob)).toContain('Look at my cat');

    // More images than the Memory takes: onError hears why, and the exchange's text is still added.
    const errors: unknown[] = [];
    const strict = await seededMemory();
    try {
      await generateText({
        model: withMemory(textModel('Many cats.'), {
          memory: strict,
          scope: alice,
          add: 'await',
          addOptions: { infer: false },
          onError: (error) => errors.push(error),
        }),
        messages: [
          {
            role: 'user',
            content: [{ type: 'text', text: 'All my cats' }, ...Array.from({ length: 11 }, () => ({ type: 'image' as const, image: png }))],
          },
        ],
      });
      expect(errors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: 'messages[0].content[11]' })]);
      expect(await textsOf(strict, alice)).toEqual(['All my cats', 'Many cats.']);
    } finally {
      await strict.close();
    }
  });

  it('a failing search or add never fails the response: both go to onError', async () => {
    const errors: string[] = [];
    const broken = {
      search: async () => {
        throw new Error('store down');
      },
      add: async () => {
        throw new Error('store still down');
      },
    } as unknown as Memory;
    const model = textModel('Fine anyway.');
    const result = await generateText({
      model: withMemory(model, {
        memory: broken,
        scope: alice,
        add: 'await',
        onError: (error, { phase }) => errors.push(`${phase}: ${(error as Error).message}`),
      }),
      prompt: 'Hello',
    });
    expect(result.text).toBe('Fine anyway.');
    expect(memoryMessage(model.doGenerateCalls[0]!)).toBeUndefined();
    expect(result.providerMetadata?.['mem']).toEqual({ memories: 0, injectedTokens: 0 });
    expect(errors).toEqual(['search: store down', 'add: store still down']);
  });

  it('a tool loop searches once, sends the memories with every step, and adds only the final answer', async () => {
    const searches: string[] = [];
    const adds: string[][] = [];
    const counting = {
      search: (query: string, options: Parameters<Memory['search']>[1]) => {
        searches.push(query);
        return memory.search(query, options);
      },
      add: (messages: Parameters<Memory['add']>[0], options: Parameters<Memory['add']>[1]) => {
        adds.push((messages as readonly { content: string }[]).map((message) => message.content));
        return memory.add(messages, options);
      },
    };
    const model = new MockLanguageModelV3({
      doGenerate: [toolCallResult('weather', { city: 'Lisbon' }), textResult('Sunny in Lisbon: eat outside.')],
    });
    const result = await generateText({
      model: withMemory(model, { memory: counting, scope: alice, add: 'await', addOptions: { infer: false } }),
      tools: {
        weather: tool({
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async ({ city }) => `${city}: 24°C, sunny`,
        }),
      },
      stopWhen: stepCountIs(3),
      prompt: 'Where I live, can I eat outside tonight?',
    });
    expect(result.text).toBe('Sunny in Lisbon: eat outside.');
    expect(model.doGenerateCalls).toHaveLength(2);
    expect(model.doGenerateCalls.map((call) => memoryMessage(call)?.includes('Lives in Lisbon'))).toEqual([true, true]);
    expect(searches).toEqual(['Where I live, can I eat outside tonight?']);
    expect(adds).toEqual([['Where I live, can I eat outside tonight?', 'Sunny in Lisbon: eat outside.']]);
  });

  it('an aborted call stops before the model and adds nothing', async () => {
    const model = textModel('never');
    const controller = new AbortController();
    controller.abort();
    await expect(
      generateText({
        model: withMemory(model, { memory, scope: alice, add: 'await' }),
        prompt: 'Hello',
        abortSignal: controller.signal,
        maxRetries: 0,
      }),
    ).rejects.toThrow();
    expect(model.doGenerateCalls).toHaveLength(0);
    expect(await textsOf(memory, alice)).toHaveLength(3);
  });

  it('a background add starts only after generateText has returned', async () => {
    const started: string[] = [];
    const watched = {
      search: memory.search.bind(memory),
      add: (messages: Parameters<Memory['add']>[0], options: Parameters<Memory['add']>[1]) => {
        started.push('add');
        return memory.add(messages, options);
      },
    };
    const added = deferred<AddResult>();
    await generateText({
      model: withMemory(textModel('Ok.'), { memory: watched, scope: alice, addOptions: { infer: false }, onAdded: added.resolve }),
      prompt: 'I play chess.',
    });
    expect(started).toEqual([]);
    await added.promise;
    expect(started).toEqual(['add']);
  });

  it('hands each background add to waitUntil', async () => {
    const pending: Promise<unknown>[] = [];
    await generateText({
      model: withMemory(textModel('Ok.'), {
        memory,
        scope: alice,
        addOptions: { infer: false },
        waitUntil: (promise) => pending.push(promise),
      }),
      prompt: 'Remember that I like jazz.',
    });
    expect(pending).toHaveLength(1);
    await pending[0];
    expect(await textsOf(memory, alice)).toContain('Remember that I like jazz.');
  });
});

describe('withMemory with streamText (ai 6)', () => {
  it('injects the memories, reports them in the finish metadata, and adds the streamed exchange after the stream ends', async () => {
    const model = textModel('Pasta with pesto, no cheese.');
    const added = deferred<AddResult>();
    const result = streamText({
      model: withMemory(model, { memory, scope: alice, addOptions: { infer: false }, onAdded: added.resolve }),
      prompt: 'Something vegetarian for dinner?',
    });
    expect(await result.text).toBe('Pasta with pesto, no cheese.');
    expect(memoryMessage(model.doStreamCalls[0]!)).toContain('- Is vegetarian');
    expect((await result.providerMetadata)?.['mem']).toMatchObject({ memories: expect.any(Number) });
    const { events } = await added.promise;
    expect(events.map((event) => event.text)).toEqual(['Something vegetarian for dinner?', 'Pasta with pesto, no cheese.']);
  });

  it("with add: 'await' the stream closes only after the exchange is stored", async () => {
    const result = streamText({
      model: withMemory(textModel('Stored before the end.'), { memory, scope: alice, add: 'await', addOptions: { infer: false } }),
      prompt: 'Serverless question',
    });
    await result.consumeStream();
    expect((await textsOf(memory, alice)).slice(-2)).toEqual(['Serverless question', 'Stored before the end.']);
  });

  it('a stream that fails adds nothing', async () => {
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: convertArrayToReadableStream([
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't1' },
          { type: 'text-delta', id: 't1', delta: 'Half an ans' },
          { type: 'error', error: new Error('connection reset') },
        ]),
      }),
    });
    const result = streamText({
      model: withMemory(model, { memory, scope: alice, add: 'await', addOptions: { infer: false } }),
      prompt: 'Tell me',
      onError: () => undefined,
    });
    await result.consumeStream();
    expect(await textsOf(memory, alice)).toHaveLength(3);
  });
});

describe('memoryMiddleware with wrapLanguageModel (ai 6)', () => {
  it('behaves as withMemory for generate and stream', async () => {
    const model = textModel('Grilled halloumi.', 'Poached pears.');
    const wrapped = wrapLanguageModel({
      model,
      middleware: memoryMiddleware({ memory, scope: alice, add: 'await', addOptions: { infer: false } }),
    });
    await generateText({ model: wrapped, prompt: 'A vegetarian idea for the grill?' });
    await streamText({ model: wrapped, prompt: 'And a dessert?' }).consumeStream();
    expect(memoryMessage(model.doGenerateCalls[0]!)).toContain('- Is vegetarian');
    expect(model.doStreamCalls).toHaveLength(1);
    expect((await textsOf(memory, alice)).slice(-4)).toEqual([
      'A vegetarian idea for the grill?',
      'Grilled halloumi.',
      'And a dessert?',
      'Poached pears.',
    ]);
  });
});

describe('options', () => {
  it('rejects a missing memory, a bad scope, and a bad add mode with typed errors', () => {
    const model = textModel('x');
    expect(() => withMemory(model, { memory: {} as Memory, scope: alice })).toThrow(/Invalid options.memory/);
    expect(() => withMemory(model, { memory, scope: {} })).toThrow(/Invalid options.scope: no userId/);
    expect(() => withMemory(model, { memory, scope: { userId: 'alice', tenant: 'x' } as never })).toThrow(/options.scope.tenant/);
    expect(() => withMemory(model, { memory, scope: alice, add: 'later' as never })).toThrow(/options.add/);
    expect(() => withMemory(model, { memory, scope: alice, maxMemoryTokens: 0 })).toThrow(/options.maxMemoryTokens/);
    expect(() => withMemory('openai/gpt-4.1' as never, { memory, scope: alice })).toThrow(/model id string/);
  });
});
