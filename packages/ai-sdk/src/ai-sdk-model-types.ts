/**
 * The parts of the AI SDK's model specifications (`@ai-sdk/provider`: LanguageModelV2 of `ai` 5,
 * LanguageModelV3 of `ai` 6, LanguageModelV4 of `ai` 7; EmbeddingModelV2/V3/V4) that this package
 * reads and writes, typed structurally: no type here comes from the AI SDK, so a model of any of those
 * versions fits, and neither `@mem/core` nor this package's public types depend on `ai`.
 *
 * The types are deliberately loose supersets (a V3 call option or result is assignable to them); the
 * code reads every field defensively, because the shapes differ between versions (usage is a flat
 * number in V2 and `{ total }` in V3 and V4, the finish reason a string in V2 and `{ unified }` after).
 */

/** Model specification versions this package has been written against. */
export const SUPPORTED_SPECIFICATION_VERSIONS = ['v2', 'v3', 'v4'] as const;

/** A message of an AI SDK prompt (`LanguageModelV*Prompt`): system content is a string, others a list of parts. */
export interface AISDKPromptMessage {
  readonly role: string;
  readonly content: unknown;
}

/** The call options of `doGenerate` / `doStream` that this package sets or reads. */
export interface AISDKCallOptions {
  readonly prompt: readonly AISDKPromptMessage[];
  readonly maxOutputTokens?: number | undefined;
  readonly temperature?: number | undefined;
  readonly responseFormat?: { readonly type: string; readonly schema?: unknown; readonly name?: string | undefined } | undefined;
  readonly tools?: readonly unknown[] | undefined;
  readonly toolChoice?: { readonly type: string; readonly toolName?: string } | undefined;
  readonly abortSignal?: AbortSignal | undefined;
  readonly headers?: { readonly [name: string]: string | undefined } | undefined;
  readonly providerOptions?: { readonly [provider: string]: { readonly [key: string]: unknown } } | undefined;
}

/** A token count: a number (V2) or `{ total }` (V3, V4). */
export type AISDKTokenCount = number | { readonly total?: number | undefined } | undefined;

/** What `doGenerate` returns, as far as this package reads it. */
export interface AISDKGenerateResult {
  readonly content: readonly AISDKContentPart[];
  readonly finishReason: string | { readonly unified: string; readonly raw?: string | undefined };
  readonly usage: { readonly inputTokens?: AISDKTokenCount; readonly outputTokens?: AISDKTokenCount };
  readonly providerMetadata?: { readonly [provider: string]: unknown } | undefined;
  readonly warnings?: readonly unknown[];
}

/** One generated part: text, a tool call, reasoning, a file, a source… */
export interface AISDKContentPart {
  readonly type: string;
  readonly text?: string;
  readonly toolName?: string;
  readonly input?: unknown;
}

/** One part of the stream `doStream` returns. */
export interface AISDKStreamPart {
  readonly type: string;
  readonly delta?: string;
  readonly finishReason?: unknown;
  readonly providerMetadata?: { readonly [provider: string]: unknown } | undefined;
}

/** What `doStream` returns. */
export interface AISDKStreamResult {
  readonly stream: ReadableStream<AISDKStreamPart>;
}

/**
 * An AI SDK language model: what `openai('gpt-4.1-mini')`, `anthropic('claude-haiku-4-5')` or any
 * other provider returns (LanguageModelV2, V3 or V4), and what `wrapLanguageModel` returns.
 */
export interface AISDKLanguageModel {
  readonly specificationVersion: string;
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: AISDKCallOptions): PromiseLike<AISDKGenerateResult>;
  doStream(options: AISDKCallOptions): PromiseLike<AISDKStreamResult>;
}

/** An AI SDK embedding model: what `openai.embedding('text-embedding-3-small')` returns (EmbeddingModelV2, V3 or V4). */
export interface AISDKEmbeddingModel {
  readonly specificationVersion: string;
  readonly provider: string;
  readonly modelId: string;
  readonly maxEmbeddingsPerCall?: PromiseLike<number | undefined> | number | undefined;
  doEmbed(options: {
    readonly values: string[];
    readonly abortSignal?: AbortSignal | undefined;
    readonly headers?: { readonly [name: string]: string | undefined } | undefined;
    readonly providerOptions?: { readonly [provider: string]: { readonly [key: string]: unknown } } | undefined;
  }): PromiseLike<{ readonly embeddings: readonly (readonly number[])[]; readonly usage?: { readonly tokens?: number } | undefined }>;
}

/** Options the AI SDK passes through to a provider, e.g. `{ openai: { reasoningEffort: 'low' } }`. */
export type AISDKProviderOptions = { readonly [provider: string]: { readonly [key: string]: unknown } };

/** Reads a token count of either shape; `0` when the provider reported none. */
export function tokenCount(value: AISDKTokenCount): number {
  const count = typeof value === 'object' && value !== null ? value.total : value;
  return typeof count === 'number' && Number.isFinite(count) && count >= 0 ? count : 0;
}

/** The unified finish reason of either shape (`'stop'`, `'length'`, `'tool-calls'`, `'content-filter'`, …). */
export function unifiedFinishReason(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { unified?: unknown }).unified === 'string') {
    return (value as { unified: string }).unified;
  }
  return 'other';
}

/** The text parts of a user or assistant message (content as a string or a list of parts). */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => part?.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
}
