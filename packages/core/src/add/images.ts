import { readImageSource, type ImageLimits } from '../contract/content-parts';
import { InvalidInputError } from '../contract/errors';
import type { LLM, LLMContentPart, LLMImagePart } from '../contract/interfaces';
import type { ChatImagePart, ChatMessage, TextChatMessage } from '../contract/types';
import { INPUT_LIMITS, checkInteger } from '../contract/validation';
import { IMAGE_DESCRIPTION_INSTRUCTIONS, INLINE_IMAGES_NOTE, imageDescriptionPrompt } from '../llm/image-prompts';
import type { UsageMeter } from '../llm/usage-meter';

/** How `add` treats images in messages (`MemoryOptions.images`). */
export interface ImageOptions {
  /**
   * Read the images of a conversation, so what they show can become memories. With the default
   * strategies and an `llm` whose `capabilities.imageInput` is true, the images go in the
   * extraction call itself (no extra call); otherwise each image is described in one call of its
   * own (by `images.llm`, or by `llm` when it can see images) and the description takes its place.
   * Without it, or with no model that can see images, images are left out and `add` says so in
   * its result's `notes`. @default false
   */
  readonly describe?: boolean;
  /**
   * A model that describes each image in a call of its own (its `capabilities.imageInput` must be
   * true), e.g. a vision model beside a text-only `llm`. @default the Memory's `llm`
   */
  readonly llm?: LLM;
  /** Images in one `add` call, over all its messages; more is an InvalidInputError. 0 to 100. @default 10 */
  readonly maxImages?: number;
  /** Bytes of one image given as a data URL (decoded); more is an InvalidInputError. Up to 20,000,000. @default 3,000,000 */
  readonly maxBytes?: number;
}

/** {@link ImageOptions}, checked. */
export interface ImageSettings {
  readonly describe: boolean;
  readonly llm: LLM | undefined;
  readonly limits: ImageLimits;
}

/** Checks `options.images` of `new Memory()`. */
export function resolveImageSettings(options: ImageOptions | undefined): ImageSettings {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new InvalidInputError('options.images', 'expected an object', 'Pass e.g. { describe: true }.');
  }
  if (options?.describe !== undefined && typeof options.describe !== 'boolean') {
    throw new InvalidInputError('options.images.describe', 'expected a boolean', 'Pass describe: true to read images.');
  }
  const llm = options?.llm;
  if (llm !== undefined && (typeof llm?.generate !== 'function' || llm.capabilities?.imageInput !== true)) {
    throw new InvalidInputError(
      'options.images.llm',
      typeof llm?.generate !== 'function'
        ? 'expected an LLM'
        : `the ${llm.provider} model ${llm.model} cannot take images (capabilities.imageInput is false)`,
      'Pass a vision model whose adapter declares imageInput, or leave images.llm out.',
    );
  }
  return {
    describe: options?.describe === true,
    llm,
    limits: {
      maxImages: checkInteger(options?.maxImages, 'options.images.maxImages', 0, 100, INPUT_LIMITS.maxImages),
      maxBytes: checkInteger(options?.maxBytes, 'options.images.maxBytes', 1, 20_000_000, INPUT_LIMITS.maxImageBytes),
    },
  };
}

/** An image of the conversation, numbered in the call. */
export interface ConversationImage {
  /** `image 1`, `image 2`, …: the marker that stands for it in the messages' text (`[image 1]`). */
  readonly marker: string;
  readonly image: LLMImagePart;
  /** The part it came from, e.g. `messages[0].content[1]`. */
  readonly field: string;
}

/**
 * Something `add` did that the caller should know, though the call succeeded. `IMAGES_DROPPED`:
 * images of the conversation were not read (the text parts were), for `reason`:
 * - `images_off`: `images.describe` is not on;
 * - `no_image_input`: no configured model can see images (`capabilities.imageInput`);
 * - `infer_false`: `infer: false` stores text as given, without a model;
 * - `not_described`: the model gave no description (a refusal or an empty answer).
 */
export interface AddNote {
  readonly code: 'IMAGES_DROPPED';
  readonly reason: 'images_off' | 'no_image_input' | 'infer_false' | 'not_described';
  readonly message: string;
  /** The image parts left out, e.g. `messages[0].content[1]`. */
  readonly parts: readonly string[];
}

/** A message's content as text: text parts and what `render` gives for each image (nothing: left out), joined by new lines. */
function textOf(message: ChatMessage, index: number, render: (part: ChatImagePart, field: string) => string | undefined): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .flatMap((part, partIndex) => {
      if (part.type === 'text') return [part.text];
      const text = render(part, `messages[${index}].content[${partIndex}]`);
      return text === undefined ? [] : [text];
    })
    .join('\n');
}

/** A validated message with its images left out (text parts joined by new lines). */
export function withoutImages(message: ChatMessage): TextChatMessage {
  return { ...message, content: textOf(message, 0, () => undefined) };
}

/** The images of the messages, numbered in order, read from their URLs. */
export function readImages(messages: readonly ChatMessage[], maxBytes: number): ConversationImage[] {
  const images: ConversationImage[] = [];
  messages.forEach((message, index) =>
    textOf(message, index, (part, field) => {
      const source = readImageSource(part.image_url.url, `${field}.image_url.url`, maxBytes);
      const detail = part.image_url.detail;
      images.push({ marker: `image ${images.length + 1}`, field, image: { type: 'image', source, ...(detail ? { detail } : {}) } });
      return undefined;
    }),
  );
  return images;
}

/** The messages as text, each image replaced by what `render` gives for it (by its number in the call), or left out. */
function renderImages(messages: readonly ChatMessage[], render: (number: number) => string | undefined): TextChatMessage[] {
  let count = 0;
  return messages.map((message, index) => ({ ...message, content: textOf(message, index, () => render(++count)) }));
}

/** What the strategy gets: text messages, the images for its own call (when it takes them), notes. */
export interface PreparedConversation {
  readonly messages: readonly TextChatMessage[];
  /** Set when the images go in the extraction call itself. */
  readonly images?: readonly ConversationImage[];
  readonly notes: readonly AddNote[];
}

/**
 * Stage 0 of `add`: decides what the model sees of the conversation's images.
 * - none, `infer: false`, `images.describe` off, or no model that can see images: the images are
 *   left out (text parts kept), with a note;
 * - the strategy takes images and the `llm` can see them (and no `images.llm` is set): markers in
 *   the text, the images for the extraction call;
 * - else each image is described in a call of its own (counted in the meter), the description in
 *   place of its marker: `[image 1: A dog on a beach]`.
 */
export async function prepareImages(request: {
  readonly messages: readonly ChatMessage[];
  readonly settings: ImageSettings;
  readonly infer: boolean;
  readonly strategyTakesImages: boolean;
  readonly llm: LLM | undefined;
  readonly meter: UsageMeter;
  readonly signal?: AbortSignal | undefined;
}): Promise<PreparedConversation> {
  const { settings } = request;
  const images = readImages(request.messages, settings.limits.maxBytes);
  if (images.length === 0) return { messages: request.messages.map(withoutImages), notes: [] };
  const describer = settings.llm ?? (request.llm?.capabilities.imageInput === true ? request.llm : undefined);
  const reason: AddNote['reason'] | undefined = !request.infer
    ? 'infer_false'
    : !settings.describe
      ? 'images_off'
      : describer === undefined
        ? 'no_image_input'
        : undefined;
  if (reason) {
    return {
      messages: request.messages.map(withoutImages),
      notes: [
        droppedNote(
          reason,
          images.map((image) => image.field),
        ),
      ],
    };
  }
  if (settings.llm === undefined && request.strategyTakesImages) {
    return { messages: renderImages(request.messages, (number) => `[image ${number}]`), images, notes: [] };
  }
  const descriptions: (string | undefined)[] = [];
  for (const image of images) descriptions.push(await describeImage(image, request.messages, describer!, request.meter, request.signal));
  const messages = renderImages(request.messages, (number) => {
    const description = descriptions[number - 1];
    return description === undefined ? undefined : `[image ${number}: ${description}]`;
  });
  const undescribed = images.filter((_, index) => descriptions[index] === undefined).map((image) => image.field);
  return { messages, notes: undescribed.length > 0 ? [droppedNote('not_described', undescribed)] : [] };
}

/**
 * The content of an extraction call's user message: the prompt, then (with images) a note and each
 * image after its marker, as `parts`. Spread it into the message: `{ role: 'user', ...withImages(prompt, context.images) }`.
 */
export function withImages(text: string, images: readonly ConversationImage[] | undefined): { content: string; parts?: LLMContentPart[] } {
  if (!images || images.length === 0) return { content: text };
  const parts: LLMContentPart[] = [
    { type: 'text', text: `${text}\n\n${INLINE_IMAGES_NOTE}` },
    ...images.flatMap((image): LLMContentPart[] => [{ type: 'text', text: `[${image.marker}]` }, image.image]),
  ];
  return { content: textOfParts(parts), parts };
}

function textOfParts(parts: readonly LLMContentPart[]): string {
  return parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

/** Longest description kept, in characters. */
const MAX_DESCRIPTION_LENGTH = 1_000;

async function describeImage(
  image: ConversationImage,
  messages: readonly ChatMessage[],
  llm: LLM,
  meter: UsageMeter,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const index = Number(/^messages\[(\d+)\]/.exec(image.field)![1]);
  const message = withoutImages(messages[index]!);
  const response = await meter.generate(llm, {
    messages: [
      { role: 'system', content: IMAGE_DESCRIPTION_INSTRUCTIONS },
      (() => {
        const parts: LLMContentPart[] = [
          { type: 'text', text: imageDescriptionPrompt({ role: message.role, name: message.name, text: message.content }) },
          image.image,
        ];
        return { role: 'user' as const, content: textOfParts(parts), parts };
      })(),
    ],
    temperature: 0,
    maxTokens: 400,
    ...(signal ? { signal } : {}),
  });
  if (response.finishReason === 'refusal') return undefined;
  // One line, no brackets: it stands inside "[image n: …]" in the conversation.
  const text = response.text.replace(/\s+/g, ' ').replace(/[[\]]/g, '').trim();
  if (text === '') return undefined;
  return text.length > MAX_DESCRIPTION_LENGTH ? `${text.slice(0, MAX_DESCRIPTION_LENGTH)}…` : text;
}

function droppedNote(reason: AddNote['reason'], parts: readonly string[]): AddNote {
  const count = parts.length === 1 ? '1 image was' : `${parts.length} images were`;
  const why = {
    images_off: 'images.describe is off: pass images: { describe: true } to new Memory() (with an llm that can see images) to read them',
    no_image_input: 'no configured model can see images (capabilities.imageInput): use a vision model as llm, or pass images: { llm }',
    infer_false: 'infer: false stores the text as given, without a model',
    not_described: 'the model gave no description of it (a refusal or an empty answer)',
  }[reason];
  return { code: 'IMAGES_DROPPED', reason, message: `${count} left out (the text was kept): ${why}.`, parts };
}
