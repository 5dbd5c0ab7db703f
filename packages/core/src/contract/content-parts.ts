import { denseItems } from './dense-array';
import { InputLimitError, InvalidInputError } from './errors';
import type { ImageMediaType, LLMImagePart } from './interfaces';
import type { ChatContentPart } from './types';

// Content parts of the messages given to `add` (OpenAI's shape: text and image_url parts), and the
// image parts core sends to an LLM with `capabilities.imageInput`. Every image is checked here
// before anything is read or written: a bad one is an InvalidInputError naming the part.

/** The image formats `add` accepts (the ones OpenAI, Anthropic and Gemini all read). */
export const IMAGE_MEDIA_TYPES: readonly ImageMediaType[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** Limits on the images of one `add` call (`MemoryOptions.images`). */
export interface ImageLimits {
  /** Images in one call, over all its messages. */
  readonly maxImages: number;
  /** Bytes of one image given as a data URL (decoded; the base64 text is a third longer). */
  readonly maxBytes: number;
}

/** Longest `http(s)` image URL accepted, in characters. */
export const MAX_IMAGE_URL_LENGTH = 8_192;
/** Most content parts in one message. */
export const MAX_CONTENT_PARTS = 100;

/**
 * A message's content checked: a string as it is, or its parts (text parts well-formed, at most
 * `maxTextLength` characters of text in all; image parts with a valid URL). Counts the images into
 * `counter`, refusing the one past `limits.maxImages`.
 * @throws {InvalidInputError} naming the part, e.g. `messages[2].content[1].image_url.url`.
 */
export function checkContentParts(
  content: unknown,
  field: string,
  options: { readonly limits: ImageLimits; readonly maxTextLength: number; readonly counter: { images: number } },
): ChatContentPart[] {
  if (!Array.isArray(content)) {
    throw new InvalidInputError(field, 'expected a string or an array of content parts', 'Pass text, or [{ type: "text", text: "…" }].');
  }
  if (content.length > MAX_CONTENT_PARTS) {
    throw new InvalidInputError(field, `more than ${MAX_CONTENT_PARTS} content parts`, 'Split the message into several messages.');
  }
  let textLength = 0;
  return denseItems(content as unknown[], field).map((part, index): ChatContentPart => {
    const at = `${field}[${index}]`;
    if (typeof part !== 'object' || part === null || Array.isArray(part)) {
      throw new InvalidInputError(
        at,
        `expected a content part object, got ${part === null ? 'null' : Array.isArray(part) ? 'an array' : typeof part}`,
        'Pass { type: "text", text } or { type: "image_url", image_url: { url } }.',
      );
    }
    const type = (part as { type?: unknown }).type;
    if (type === 'text') {
      const text = (part as { text?: unknown }).text;
      if (typeof text !== 'string') throw new InvalidInputError(`${at}.text`, 'expected a string', 'Give every text part its text.');
      textLength += text.length;
      if (textLength > options.maxTextLength) {
        throw new InvalidInputError(
          `${at}.text`,
          `the text parts of the message have more than ${options.maxTextLength} characters in all`,
          'Split it into several messages.',
        );
      }
      if (/\p{Surrogate}/u.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
        throw new InvalidInputError(
          `${at}.text`,
          'the string holds a lone UTF-16 surrogate (invalid Unicode)',
          'Decode the input as UTF-8 before passing it.',
        );
      }
      return { type: 'text', text };
    }
    if (type === 'image_url') {
      const image = (part as { image_url?: unknown }).image_url;
      if (typeof image !== 'object' || image === null || Array.isArray(image)) {
        throw new InvalidInputError(`${at}.image_url`, 'expected { url }', 'Pass { type: "image_url", image_url: { url: "https://…" } }.');
      }
      const { url, detail } = image as { url?: unknown; detail?: unknown };
      if (typeof url !== 'string' || url.length === 0) {
        throw new InvalidInputError(`${at}.image_url.url`, 'is missing', 'Pass an https URL or a data URL (data:image/png;base64,…).');
      }
      if (detail !== undefined && detail !== 'auto' && detail !== 'low' && detail !== 'high') {
        throw new InvalidInputError(`${at}.image_url.detail`, 'expected "auto", "low" or "high"', 'Leave it out for "auto".');
      }
      readImageSource(url, `${at}.image_url.url`, options.limits.maxBytes);
      options.counter.images++;
      if (options.counter.images > options.limits.maxImages) {
        throw new InputLimitError(
          at,
          'images.maxImages',
          `is image ${options.counter.images} of the call, more than images.maxImages (${options.limits.maxImages})`,
          'Add fewer images per call, or raise images.maxImages in new Memory().',
        );
      }
      return { type: 'image_url', image_url: { url, ...(detail === undefined ? {} : { detail }) } };
    }
    throw new InvalidInputError(
      `${at}.type`,
      `unknown content part type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : `(${type === null ? 'null' : typeof type})`}`,
      'Use "text" or "image_url" parts; other kinds (audio, files) are not read.',
    );
  });
}

/**
 * Where an image is, read from its URL: an `http(s)` URL, or the bytes of a base64 data URL of a
 * PNG, JPEG, GIF or WebP image whose bytes match its media type and are at most `maxBytes`.
 * @throws {InvalidInputError} naming `field`, saying what is wrong and how to fix it.
 */
export function readImageSource(url: string, field: string, maxBytes: number): LLMImagePart['source'] {
  if (!/^data:/i.test(url)) {
    if (url.length > MAX_IMAGE_URL_LENGTH) {
      throw new InvalidInputError(field, `the URL has more than ${MAX_IMAGE_URL_LENGTH} characters`, 'Use a shorter URL.');
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      throw new InvalidInputError(
        field,
        `expected an http(s) URL or a data URL, got ${parsed ? `a ${parsed.protocol} URL` : 'no valid URL'}`,
        'Pass https://… (the provider fetches it) or the image inline as data:image/png;base64,….',
      );
    }
    return { type: 'url', url };
  }
  const match = /^data:([^;,]*)((?:;[^;,]*)*),/i.exec(url.slice(0, 300));
  const mediaType = match?.[1]?.trim().toLowerCase() ?? '';
  if (!match || !/;base64$/i.test(match[2] ?? '')) {
    throw new InvalidInputError(field, 'expected a base64 data URL (data:<media type>;base64,<data>)', 'Encode the image as base64.');
  }
  if (!(IMAGE_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw new InvalidInputError(
      field,
      `unsupported media type ${JSON.stringify(mediaType.slice(0, 60))}`,
      `Send one of ${IMAGE_MEDIA_TYPES.join(', ')} (convert other formats first).`,
    );
  }
  const data = url.slice(match[0].length);
  if (data.length === 0 || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw new InvalidInputError(
      field,
      'malformed base64 data (expected A-Z, a-z, 0-9, + and / in groups of 4, = padding at the end only)',
      'Encode the image bytes with standard base64, without line breaks.',
    );
  }
  const bytes = (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
  if (bytes > maxBytes) {
    throw new InvalidInputError(
      field,
      `the image is ${bytes} bytes, more than images.maxBytes (${maxBytes})`,
      'Send a smaller image (resize or compress it), or raise images.maxBytes in new Memory().',
    );
  }
  const found = sniffImageType(atob(data.slice(0, 16)));
  if (found !== mediaType) {
    throw new InvalidInputError(
      field,
      `the data is not a ${mediaType} image (${found ? `its bytes are ${found}` : 'its first bytes are no PNG, JPEG, GIF or WebP header'})`,
      found ? `Declare data:${found};base64,….` : 'Send the bytes of a PNG, JPEG, GIF or WebP file.',
    );
  }
  return { type: 'base64', mediaType: found, data };
}

/** The image format whose header `head` (the first bytes, as a binary string) starts with. */
/**
 * The format of an image from its first bytes (as a binary string, e.g. `atob` of the first 16
 * base64 characters): PNG, JPEG, GIF or WebP, else `undefined`.
 */
export function sniffImageType(head: string): ImageMediaType | undefined {
  if (head.startsWith('\x89PNG\r\n\x1a\n')) return 'image/png';
  if (head.startsWith('\xff\xd8\xff')) return 'image/jpeg';
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'image/gif';
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** An image as a data URL (`data:<type>;base64,…`) or its http(s) URL, for providers that take URLs. */
export function imageUrl(image: LLMImagePart): string {
  return image.source.type === 'url' ? image.source.url : `data:${image.source.mediaType};base64,${image.source.data}`;
}
