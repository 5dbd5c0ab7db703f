import { describe, expect, it } from 'vitest';
import { defineLLMCapabilities, type ChatMessage, type LLMImagePart } from '../adapter';
import {
  InMemoryHistoryStore,
  InMemoryVectorStore,
  InputLimitError,
  INPUT_LIMITS,
  Memory,
  MemError,
  type AddStrategy,
  type ImageOptions,
} from '../index';
import { reconcileStrategy } from '../add/built-in-strategies';
import { HashEmbedder, ScriptedLLM } from '../testing';

// Images in conversations: read in the extraction call, described in calls of their own, or left
// out with a note; every bad part refused naming it, with nothing written.

/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PNG_URL = `data:image/png;base64,${PNG}`;
/** The first bytes of a JPEG (JFIF) file. */
const JPEG = '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHR8eHQ==';
const PHOTO = 'https://example.com/photos/dog.jpg';
const scope = { userId: 'u1' };

const ADD = (text: string) => ({ json: { operations: [{ op: 'ADD', id: null, text }] } });

function memoryWith(options: { llm?: ScriptedLLM; images?: ImageOptions; strategy?: 'reconcile' | 'additive' | AddStrategy } = {}) {
  const vectorStore = new InMemoryVectorStore();
  const memory = new Memory({
    embedder: new HashEmbedder(),
    vectorStore,
    historyStore: new InMemoryHistoryStore(),
    ...(options.llm ? { llm: options.llm } : {}),
    ...(options.images ? { images: options.images } : {}),
    ...(options.strategy ? { strategy: options.strategy } : {}),
  });
  return memory;
}

const vision = (script: ConstructorParameters<typeof ScriptedLLM>[0]) => new ScriptedLLM(script, { capabilities: { imageInput: true } });

const conversation: ChatMessage[] = [
  {
    role: 'user',
    content: [
      { type: 'text', text: 'This is my dog Rex at the beach.' },
      { type: 'image_url', image_url: { url: PNG_URL, detail: 'low' } },
    ],
  },
  { role: 'assistant', content: 'He looks happy!' },
  { role: 'user', content: [{ type: 'image_url', image_url: { url: PHOTO } }] },
];

describe('images read in the extraction call (llm with imageInput)', () => {
  it('reconcile: one call carrying the text with markers and the images in their native parts; nothing else spent', async () => {
    const llm = vision([ADD('Has a dog named Rex')]);
    const memory = memoryWith({ llm, images: { describe: true } });
    const result = await memory.add(conversation, { scope });

    expect(result.events.map((event) => event.text)).toEqual(['Has a dog named Rex']);
    expect(result.notes).toBeUndefined();
    expect(result.usage.llmCalls).toBe(1);
    expect(llm.requests).toHaveLength(1);
    const user = llm.requests[0]!.messages[1]!;
    expect(user.content).toContain('user: This is my dog Rex at the beach.\n[image 1]');
    expect(user.content).toContain('user: [image 2]');
    const images = user.parts!.filter((part): part is LLMImagePart => part.type === 'image');
    expect(images).toEqual([
      { type: 'image', source: { type: 'base64', mediaType: 'image/png', data: PNG }, detail: 'low' },
      { type: 'image', source: { type: 'url', url: PHOTO } },
    ]);
    // Each image right after its marker.
    const texts = user.parts!.map((part) => (part.type === 'text' ? part.text : '<image>'));
    expect(texts.slice(1)).toEqual(['[image 1]', '<image>', '[image 2]', '<image>']);
    expect(llm.requests[0]!.messages[0]!.parts).toBeUndefined();
  });

  it('additive: the facts call carries the images too', async () => {
    const llm = vision([{ json: { facts: ['Has a dog named Rex'] } }]);
    const memory = memoryWith({ llm, images: { describe: true }, strategy: 'additive' });
    const result = await memory.add(conversation, { scope });
    expect(result.events.map((event) => event.kind)).toEqual(['ADD']);
    expect(llm.requests[0]!.messages[1]!.parts?.filter((part) => part.type === 'image')).toHaveLength(2);
  });
});

describe('images described in calls of their own', () => {
  it('with images.llm: one call per image to it, the descriptions in the extraction prompt, all counted in usage', async () => {
    const describer = vision(['A golden retriever on a sandy beach.', 'A dog [wet] catching a ball\nin the sea.']);
    const llm = new ScriptedLLM([ADD('Has a golden retriever named Rex')]);
    const memory = memoryWith({ llm, images: { describe: true, llm: describer } });
    const result = await memory.add(conversation, { scope });

    expect(result.usage.llmCalls).toBe(3);
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(describer.requests).toHaveLength(2);
    expect(describer.requests[0]!.messages[1]!.parts).toEqual([
      { type: 'text', text: 'The user sent this image with the message:\nThis is my dog Rex at the beach.' },
      { type: 'image', source: { type: 'base64', mediaType: 'image/png', data: PNG }, detail: 'low' },
    ]);
    expect(describer.requests[1]!.messages[1]!.parts?.[0]).toEqual({ type: 'text', text: 'The user sent this image without text.' });
    const prompt = llm.requests[0]!.messages[1]!;
    expect(prompt.parts).toBeUndefined();
    expect(prompt.content).toContain('user: This is my dog Rex at the beach.\n[image 1: A golden retriever on a sandy beach.]');
    expect(prompt.content).toContain('user: [image 2: A dog wet catching a ball in the sea.]');
    expect(result.notes).toBeUndefined();
  });

  it('a custom strategy that does not take images: the llm (which can see) describes each image first', async () => {
    let seen = '';
    const strategy: AddStrategy = {
      name: 'custom',
      needsLLM: true,
      async plan(context) {
        seen = context.messages.map((message) => message.content).join('\n');
        expect(context.images).toBeUndefined();
        return reconcileStrategy.plan(context);
      },
    };
    const llm = vision(['A dog.', 'A ball.', ADD('Has a dog')]);
    const memory = memoryWith({ llm, images: { describe: true }, strategy });
    const result = await memory.add(conversation, { scope });
    expect(seen).toContain('[image 1: A dog.]');
    expect(seen).toContain('[image 2: A ball.]');
    expect(result.usage.llmCalls).toBe(3);
    expect(llm.requests[2]!.messages[1]!.parts).toBeUndefined();
  });

  it('a refusal or an empty description leaves that image out, with a note naming it', async () => {
    const describer = vision([
      { text: 'I cannot help with that.', finishReason: 'refusal', usage: { promptTokens: 5, completionTokens: 5 } },
      '  ',
    ]);
    const llm = new ScriptedLLM([ADD('Has a dog named Rex')]);
    const memory = memoryWith({ llm, images: { describe: true, llm: describer } });
    const result = await memory.add(conversation, { scope });
    expect(result.notes).toEqual([
      expect.objectContaining({
        code: 'IMAGES_DROPPED',
        reason: 'not_described',
        parts: ['messages[0].content[1]', 'messages[2].content[0]'],
      }),
    ]);
    expect(llm.requests[0]!.messages[1]!.content).not.toContain('[image');
  });
});

describe('images left out, never silently', () => {
  it('images.describe off: text parts kept, images left out, a note naming the parts; the model sees no marker', async () => {
    const llm = vision([ADD('Has a dog named Rex')]);
    const memory = memoryWith({ llm });
    const result = await memory.add(conversation, { scope });
    expect(result.notes).toEqual([
      {
        code: 'IMAGES_DROPPED',
        reason: 'images_off',
        message: expect.stringContaining('2 images were left out (the text was kept): images.describe is off'),
        parts: ['messages[0].content[1]', 'messages[2].content[0]'],
      },
    ]);
    const prompt = llm.requests[0]!.messages[1]!;
    expect(prompt.parts).toBeUndefined();
    expect(prompt.content).toContain('user: This is my dog Rex at the beach.\nassistant: He looks happy!');
    expect(prompt.content).not.toContain('image');
  });

  it('describe on but no model can see images: a note, one extraction call', async () => {
    const llm = new ScriptedLLM([ADD('Has a dog named Rex')]);
    const result = await memoryWith({ llm, images: { describe: true } }).add(conversation, { scope });
    expect(result.notes?.[0]).toMatchObject({ code: 'IMAGES_DROPPED', reason: 'no_image_input' });
    expect(result.usage.llmCalls).toBe(1);
  });

  it('infer: false stores the text parts only (joined by new lines), with a note; an image-only message stores nothing', async () => {
    const memory = memoryWith({ images: { describe: true } });
    const result = await memory.add(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'My dog Rex.' },
            { type: 'image_url', image_url: { url: PHOTO } },
            { type: 'text', text: 'He is three.' },
          ],
        },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: PNG_URL } }] },
      ],
      { scope, infer: false },
    );
    expect(result.events.map((event) => event.text)).toEqual(['My dog Rex.\nHe is three.']);
    expect(result.notes).toEqual([
      expect.objectContaining({ reason: 'infer_false', parts: ['messages[0].content[1]', 'messages[1].content[0]'] }),
    ]);
  });

  it('content parts without images: no note, text joined', async () => {
    const result = await memoryWith().add([{ role: 'user', content: [{ type: 'text', text: 'Likes tea' }] }], { scope, infer: false });
    expect(result.events.map((event) => event.text)).toEqual(['Likes tea']);
    expect(result).not.toHaveProperty('notes');
  });
});

describe('bad parts: a typed error naming the part, nothing written, no model called', () => {
  const image = (url: string) => [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url } },
      ],
    },
  ];
  const cases: [string, unknown, string, RegExp][] = [
    [
      'an unknown part type',
      [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }],
      'messages[0].content[0].type',
      /unknown content part type "input_audio"/,
    ],
    [
      'a part that is not an object',
      [{ role: 'user', content: ['hello'] }],
      'messages[0].content[0]',
      /expected a content part object, got string/,
    ],
    ['a text part without text', [{ role: 'user', content: [{ type: 'text' }] }], 'messages[0].content[0].text', /expected a string/],
    [
      'a missing url',
      [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }],
      'messages[0].content[0].image_url.url',
      /is missing/,
    ],
    ['a missing image_url', [{ role: 'user', content: [{ type: 'image_url' }] }], 'messages[0].content[0].image_url', /expected \{ url \}/],
    [
      'a bad detail',
      [{ role: 'user', content: [{ type: 'image_url', image_url: { url: PHOTO, detail: 'max' } }] }],
      'messages[0].content[0].image_url.detail',
      /auto/,
    ],
    ['an ftp URL', image('ftp://example.com/a.png'), 'messages[0].content[1].image_url.url', /got a ftp: URL/],
    ['a file URL', image('file:///etc/passwd'), 'messages[0].content[1].image_url.url', /got a file: URL/],
    ['no URL at all', image('dog.png'), 'messages[0].content[1].image_url.url', /got no valid URL/],
    ['a data URL that is not base64', image('data:image/png,hello'), 'messages[0].content[1].image_url.url', /base64 data URL/],
    ['malformed base64', image('data:image/png;base64,iVBOR*w0KGgo='), 'messages[0].content[1].image_url.url', /malformed base64/],
    ['base64 of a wrong length', image('data:image/png;base64,iVBORw0KGgoAA'), 'messages[0].content[1].image_url.url', /malformed base64/],
    [
      'an unsupported media type',
      image(`data:image/bmp;base64,${PNG}`),
      'messages[0].content[1].image_url.url',
      /unsupported media type "image\/bmp"/,
    ],
    [
      'a non-image media type',
      image(`data:text/plain;base64,${PNG}`),
      'messages[0].content[1].image_url.url',
      /unsupported media type "text\/plain"/,
    ],
    [
      'bytes that are not the declared type',
      image(`data:image/png;base64,${JPEG}`),
      'messages[0].content[1].image_url.url',
      /not a image\/png image \(its bytes are image\/jpeg\)/,
    ],
    [
      'bytes of no image',
      image('data:image/png;base64,aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ='),
      'messages[0].content[1].image_url.url',
      /no PNG, JPEG, GIF or WebP header/,
    ],
    ['content that is neither text nor parts', [{ role: 'user', content: 42 }], 'messages[0].content', /expected a string/],
  ];
  it.each(cases)('%s', async (_name, messages, field, message) => {
    const llm = vision([ADD('never')]);
    const memory = memoryWith({ llm, images: { describe: true } });
    const error = await memory.add(messages as ChatMessage[], { scope }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(MemError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field });
    expect((error as Error).message).toMatch(message);
    expect(llm.requests).toHaveLength(0);
    expect((await memory.getAll({ scope })).results).toEqual([]);
  });

  it('an image over images.maxBytes (decoded bytes) is refused naming the part; at the limit it is accepted', async () => {
    const bytes = (PNG.length / 4) * 3 - 2;
    const over = memoryWith({ images: { maxBytes: bytes - 1 } });
    await expect(over.add(image(PNG_URL) as ChatMessage[], { scope, infer: false })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'messages[0].content[1].image_url.url',
      message: expect.stringContaining(`the image is ${bytes} bytes, more than images.maxBytes (${bytes - 1})`),
    });
    expect((await over.getAll({ scope })).results).toEqual([]);
    const at = memoryWith({ images: { maxBytes: bytes } });
    expect((await at.add(image(PNG_URL) as ChatMessage[], { scope, infer: false })).events).toHaveLength(1);
  });

  it('more images than images.maxImages in one call (over all messages) is refused naming the first one over', async () => {
    const memory = memoryWith({ images: { maxImages: 2 } });
    const messages = [
      { role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: PHOTO } }] },
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'two more' },
          { type: 'image_url' as const, image_url: { url: PHOTO } },
          { type: 'image_url' as const, image_url: { url: PNG_URL } },
        ],
      },
    ];
    const refused = memory.add(messages, { scope, infer: false });
    await expect(refused).rejects.toBeInstanceOf(InputLimitError);
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      limit: 'images.maxImages',
      field: 'messages[1].content[2]',
      message: expect.stringContaining('image 3 of the call, more than images.maxImages (2)'),
    });
    expect((await memory.getAll({ scope })).results).toEqual([]);
    expect((await memoryWith().add(messages, { scope, infer: false })).events).toHaveLength(1);
  });

  it('the defaults are INPUT_LIMITS.maxImages and maxImageBytes', async () => {
    const memory = memoryWith();
    const many = Array.from({ length: INPUT_LIMITS.maxImages + 1 }, () => ({ type: 'image_url' as const, image_url: { url: PHOTO } }));
    await expect(memory.add([{ role: 'user', content: many }], { scope, infer: false })).rejects.toMatchObject({
      field: `messages[0].content[${INPUT_LIMITS.maxImages}]`,
    });
  });
});

describe('options.images', () => {
  const parts = { embedder: new HashEmbedder(), vectorStore: new InMemoryVectorStore(), historyStore: new InMemoryHistoryStore() };
  it.each([
    [{ describe: 'yes' }, 'options.images.describe'],
    [{ maxImages: 101 }, 'options.images.maxImages'],
    [{ maxImages: -1 }, 'options.images.maxImages'],
    [{ maxBytes: 0 }, 'options.images.maxBytes'],
    [{ maxBytes: 20_000_001 }, 'options.images.maxBytes'],
    [{ describe: true, llm: new ScriptedLLM([]) }, 'options.images.llm'],
    ['on', 'options.images'],
  ])('%j is refused naming %s', (images, field) => {
    expect(() => new Memory({ ...parts, images: images as ImageOptions })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', field }),
    );
  });

  it('capabilities.imageInput defaults to false and must be a boolean', () => {
    expect(defineLLMCapabilities().imageInput).toBe(false);
    expect(defineLLMCapabilities({ imageInput: true }).imageInput).toBe(true);
    expect(() => defineLLMCapabilities({ imageInput: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ field: 'capabilities.imageInput' }),
    );
  });
});

describe('images in a procedural run (memoryType: procedural)', () => {
  /** A run whose tool returned a screenshot, with an assistant message that only calls a tool (content: null). */
  const run = [
    { role: 'user', content: 'Check the status page of project p-77.' },
    { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'screenshot', arguments: { url: 'https://status.example.com' } }] },
    {
      role: 'tool',
      toolCallId: 'c1',
      name: 'screenshot',
      content: [
        { type: 'text', text: 'Screenshot taken.' },
        { type: 'image_url', image_url: { url: PNG_URL } },
      ],
    },
    { role: 'assistant', content: 'All systems operational.' },
  ] as unknown as ChatMessage[];
  const SUMMARY = { json: { summary: 'Task: check the status page of p-77. 1. screenshot https://status.example.com: all operational.' } };

  it('an llm that sees images gets them in the one summary call, after their marker, with the tool calls', async () => {
    const llm = vision([SUMMARY]);
    const memory = memoryWith({ llm, images: { describe: true } });
    const result = await memory.add(run, { scope, memoryType: 'procedural' });
    expect(result.memories).toEqual([expect.objectContaining({ memoryType: 'procedural' })]);
    expect(result.notes).toBeUndefined();
    expect(result.usage.llmCalls).toBe(1);
    const user = llm.requests[0]!.messages[1]!;
    expect(user.content).toContain('assistant calls screenshot({"url":"https://status.example.com"}) [c1]');
    expect(user.content).toContain('tool (screenshot, result of c1): Screenshot taken.\n[image 1]');
    expect(user.parts!.filter((part) => part.type === 'image')).toHaveLength(1);
  });

  it('without describe: the summary is written from the text, and the image is noted as left out', async () => {
    const llm = vision([SUMMARY]);
    const memory = memoryWith({ llm });
    const result = await memory.add(run, { scope, memoryType: 'procedural' });
    expect(result.events.map((event) => event.kind)).toEqual(['ADD']);
    expect(result.notes).toEqual([
      expect.objectContaining({ code: 'IMAGES_DROPPED', reason: 'images_off', parts: ['messages[2].content[1]'] }),
    ]);
    expect(llm.requests[0]!.messages[1]!.parts).toBeUndefined();
    expect(llm.requests[0]!.messages[1]!.content).not.toContain('[image');
  });

  it('a bad part or content null without toolCalls is refused naming the field, nothing written, no call made', async () => {
    const llm = vision([SUMMARY]);
    const memory = memoryWith({ llm, images: { describe: true } });
    const cases: [unknown[], string][] = [
      [
        [run[0], run[1], { ...run[2], content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }] }],
        'messages[2].content[0].image_url.url',
      ],
      [[{ role: 'assistant', content: null }], 'messages[0].content'],
      [[{ role: 'user', content: null, toolCalls: [{ name: 'x' }] }], 'messages[0].toolCalls'],
    ];
    for (const [messages, field] of cases) {
      const error = await memory.add(messages as ChatMessage[], { scope, memoryType: 'procedural' }).catch((caught: unknown) => caught);
      expect(MemError.is(error, 'INVALID_INPUT') && (error as { field?: string }).field).toBe(field);
    }
    expect(llm.requests).toHaveLength(0);
    expect((await memory.getAll({ scope })).results).toEqual([]);
  });
});
