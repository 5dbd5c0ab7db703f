import type { FilterInput, Scope } from '@mem/core/adapter';
import type { AddOptions, AddResult, ChatContentPart, Memory, SearchResult } from '@mem/core';
import { InvalidInputError, integerOption, MemError, validateScope } from '@mem/core/adapter';
import { checkModel } from './ai-sdk-call';
import {
  buildMemoryBlock,
  DEFAULT_MEMORY_HEADER,
  defaultMemoryLine,
  estimateTokens,
  latestUserMessage,
  queryOf,
  withMemoryMessage,
  type MemoryBlock,
} from './ai-sdk-memory-context';
import {
  unifiedFinishReason,
  type AISDKCallOptions,
  type AISDKGenerateResult,
  type AISDKLanguageModel,
  type AISDKStreamPart,
  type AISDKStreamResult,
} from './ai-sdk-model-types';

/** What the middleware needs of a {@link Memory}: `search` before a call, `add` after it. */
export type MemoryForMiddleware = Pick<Memory, 'search' | 'add'>;

/** Options of {@link withMemory} and {@link memoryMiddleware}. */
export interface MemoryMiddlewareOptions {
  /** The memory to search and add to. */
  readonly memory: MemoryForMiddleware;
  /**
   * Whose memories: fixed by the caller (e.g. from the signed-in session), never by the model or the
   * prompt. Every search and add of this middleware uses exactly this scope.
   */
  readonly scope: Scope;
  /** Most memories searched for and added to the prompt. @default 5 */
  readonly limit?: number;
  /** Token budget of the memory block (header included), counted by `countTokens`. @default 400 */
  readonly maxMemoryTokens?: number;
  /**
   * Counts the tokens of a text for the budget. @default an estimate, UTF-8 bytes / 3 (over-counts
   * English); pass a tokenizer's count (e.g. `countTokens` of gpt-tokenizer) for exact figures
   */
  readonly countTokens?: (text: string) => number;
  /** Lowest search score (cosine similarity, -1 to 1) of a memory added to the prompt. @default none */
  readonly threshold?: number;
  /** Metadata filter of the search, e.g. `{ topic: 'food' }`. @default none */
  readonly filter?: FilterInput;
  /** First line of the memory block. @default {@link DEFAULT_MEMORY_HEADER} */
  readonly header?: string;
  /** One memory as a line of the block. @default its text and the date it was said */
  readonly formatMemory?: (memory: SearchResult) => string;
  /**
   * When the exchange (the latest user message and the answer) is added to memory:
   * - `'background'`: after the answer is returned or the stream has ended, without delaying it;
   * - `'await'`: before `generateText` returns / before the stream closes, for serverless functions
   *   that are stopped as soon as the response ends (or pass `waitUntil` and keep `'background'`);
   * - `'off'`: never (search only).
   * A failed add never fails the response: it goes to `onError`.
   * @default 'background'
   */
  readonly add?: 'background' | 'await' | 'off';
  /** Options of each `memory.add`: `infer`, `metadata`, `prompt`. Scope is always {@link scope}. @default none */
  readonly addOptions?: Pick<AddOptions, 'infer' | 'metadata' | 'prompt'>;
  /**
   * Receives each background add, e.g. Vercel's `waitUntil` or Next.js's `after`, so the platform
   * keeps the function alive until the memory is written. @default none
   */
  readonly waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Called when a search or an add fails. The call goes on without memories (search) and the
   * response is never failed by memory. Without it, such failures are dropped silently. @default none
   */
  readonly onError?: (error: unknown, context: { readonly phase: 'search' | 'add' }) => void;
  /** Called with the result of each add (the events: which memories were added, updated or deleted). @default none */
  readonly onAdded?: (result: AddResult) => void;
}

/**
 * What the middleware reports in the result's `providerMetadata.mem` (and the stream's `finish`
 * part): how many memories were added to the prompt and their size in `countTokens` units.
 */
export interface MemoryInjectionMetadata {
  readonly memories: number;
  readonly injectedTokens: number;
  readonly [key: string]: number;
}

/**
 * A language model middleware for `wrapLanguageModel` (`ai` 5 and 6). Generic in the call options
 * and results, so it fits each version's own types; prefer {@link withMemory}, which wraps any version.
 */
export interface MemoryMiddleware {
  readonly specificationVersion: 'v3';
  readonly middlewareVersion: 'v2';
  transformParams<P extends AISDKCallOptions>(options: { readonly type: 'generate' | 'stream'; readonly params: P }): Promise<P>;
  wrapGenerate<R extends AISDKGenerateResult>(options: {
    readonly doGenerate: () => PromiseLike<R>;
    readonly params: AISDKCallOptions;
  }): Promise<R>;
  wrapStream<S extends AISDKStreamResult>(options: {
    readonly doStream: () => PromiseLike<S>;
    readonly params: AISDKCallOptions;
  }): Promise<S>;
}

interface Injection {
  readonly query: string;
  readonly block: MemoryBlock;
}

/**
 * Memory as AI SDK middleware. Before each call it searches the latest user message in `scope` and
 * adds the most relevant memories to the prompt, as one system message within `maxMemoryTokens`;
 * after the call (generate or stream) it adds the exchange to memory, in the background by default.
 * The scope is the caller's: nothing in the prompt, the answer or a tool call can change it.
 *
 * In a multi-step tool loop, the steps after the first reuse the first step's search, and only the
 * final answer (a step without tool calls) is added. Use it with `wrapLanguageModel` of `ai` 5 or 6
 * to combine it with other middleware; {@link withMemory} does the wrapping for any version.
 *
 * @throws {InvalidInputError} for an invalid scope or option.
 * @example
 * import { wrapLanguageModel } from 'ai';
 * const model = wrapLanguageModel({ model: openai('gpt-4.1-mini'), middleware: memoryMiddleware({ memory, scope: { userId } }) });
 */
export function memoryMiddleware(options: MemoryMiddlewareOptions): MemoryMiddleware {
  const settings = resolveSettings(options);
  const injections = new WeakMap<object, Injection>();
  // The last search, reused by the later steps of a tool loop (same user message, prompt ending in tool results).
  let last: Injection | undefined;

  async function search(query: string, signal: AbortSignal | undefined): Promise<MemoryBlock> {
    try {
      const { results } = await settings.memory.search(query, {
        scope: settings.scope,
        limit: settings.limit,
        ...(settings.threshold === undefined ? {} : { threshold: settings.threshold }),
        ...(settings.filter === undefined ? {} : { filter: settings.filter }),
        ...(signal ? { signal } : {}),
      });
      return buildMemoryBlock(results, settings);
    } catch (error) {
      // The caller cancelled: stop, as the model call would. Anything else: answer without memories.
      if (signal?.aborted || MemError.is(error, 'ABORTED')) throw error;
      report(settings.onError, error, { phase: 'search' });
      return { text: undefined, memories: 0, tokens: 0 };
    }
  }

  function remember(params: AISDKCallOptions, answer: string): Promise<void> | undefined {
    if (settings.add === 'off') return undefined;
    const user = latestUserMessage(params.prompt);
    if (!user || answer.trim().length === 0) return undefined;
    const addWith = (content: string | ChatContentPart[]) =>
      settings.memory.add(
        [
          { role: 'user', content },
          { role: 'assistant', content: answer },
        ],
        { ...settings.addOptions, scope: settings.scope },
      );
    // The user's images go along as content parts (read with the Memory's images.describe, else left
    // out with a note on the result). Images core refuses (over its size or count limits) go to
    // onError, and the exchange's text is still added without them.
    const add = () =>
      user.images.length === 0
        ? addWith(user.text)
        : addWith([{ type: 'text', text: user.text }, ...user.images]).catch((error: unknown) => {
            const field = MemError.is(error, 'INVALID_INPUT') && 'field' in error ? String(error.field) : '';
            if (!field.startsWith('messages[0].content')) throw error;
            report(settings.onError, error, { phase: 'add' });
            return addWith(user.text);
          });
    // In the background the add starts in a later task: on the embedded default (synchronous SQLite,
    // an in-process embedder) it would otherwise run its CPU work between the AI SDK's own steps
    // and delay the answer it must not delay (measured in apps/bench, part ai-sdk).
    const task = (settings.add === 'await' ? add() : nextTask().then(add)).then(
      (result) => report(settings.onAdded, result),
      (error: unknown) => report(settings.onError, error, { phase: 'add' }),
    );
    if (settings.add === 'await') return task;
    settings.waitUntil?.(task);
    return undefined;
  }

  return {
    specificationVersion: 'v3',
    middlewareVersion: 'v2',

    async transformParams({ params }) {
      const user = latestUserMessage(params.prompt);
      if (!user) return params;
      const query = queryOf(user.text);
      const continuing = user.index !== params.prompt.length - 1;
      let injection = continuing && last?.query === query ? last : undefined;
      if (!injection) {
        injection = { query, block: await search(query, params.abortSignal) };
        if (injection.block.text !== undefined || !continuing) last = injection;
      }
      // A fresh object per call, so the wrap step finds this call's injection (and only this call's).
      const transformed = {
        ...params,
        ...(injection.block.text === undefined ? {} : { prompt: withMemoryMessage(params.prompt, injection.block.text) }),
      };
      injections.set(transformed, injection);
      return transformed;
    },

    async wrapGenerate({ doGenerate, params }) {
      const result = await doGenerate();
      const content = Array.isArray(result.content) ? result.content : [];
      const finalAnswer = !content.some((part) => part?.type === 'tool-call');
      if (finalAnswer) {
        const answer = content
          .filter((part) => part?.type === 'text' && typeof part.text === 'string')
          .map((part) => part.text)
          .join('');
        await remember(params, answer);
      }
      const injection = injections.get(params);
      return injection ? { ...result, providerMetadata: withMetadata(result.providerMetadata, injection.block) } : result;
    },

    async wrapStream({ doStream, params }) {
      const result = await doStream();
      const injection = injections.get(params);
      let answer = '';
      let finished = false;
      let toolCalls = false;
      let failed = false;
      const transform = new TransformStream<AISDKStreamPart, AISDKStreamPart>({
        transform(part, controller) {
          if (part.type === 'text-delta' && typeof part.delta === 'string') answer += part.delta;
          else if (part.type === 'tool-call') toolCalls = true;
          else if (part.type === 'error') failed = true;
          else if (part.type === 'finish') {
            finished = true;
            if (unifiedFinishReason(part.finishReason) === 'tool-calls') toolCalls = true;
            if (injection) {
              controller.enqueue({ ...part, providerMetadata: withMetadata(part.providerMetadata, injection.block) });
              return;
            }
          }
          controller.enqueue(part);
        },
        // Runs when the model's stream ended normally; never when the consumer cancelled it.
        async flush() {
          if (finished && !failed && !toolCalls) await remember(params, answer);
        },
      });
      return { ...result, stream: result.stream.pipeThrough(transform) };
    },
  };
}

/** A model with memory: the members of an AI SDK language model, of the same specification version. */
export type ModelWithMemory<M extends AISDKLanguageModel> = Pick<
  M,
  Extract<keyof M, 'specificationVersion' | 'provider' | 'modelId' | 'supportedUrls' | 'doGenerate' | 'doStream'>
>;

/**
 * Gives an AI SDK language model long-term memory: returns the model wrapped with
 * {@link memoryMiddleware}, of the same specification version (so it works with `ai` 5, 6 and 7).
 * Create one per request with the signed-in user's scope; wrapping costs nothing.
 *
 * @throws {InvalidInputError} for a model that is not an AI SDK model, an invalid scope or option.
 * @example
 * const { text } = await generateText({
 *   model: withMemory(openai('gpt-4.1-mini'), { memory, scope: { userId: session.userId } }),
 *   prompt: 'What should I cook tonight?',
 * });
 */
export function withMemory<M extends AISDKLanguageModel>(model: M, options: MemoryMiddlewareOptions): ModelWithMemory<M> {
  checkModel(model, 'doGenerate', "openai('gpt-4.1-mini') from @ai-sdk/openai");
  const middleware = memoryMiddleware(options);
  const wrapped = {
    specificationVersion: model.specificationVersion,
    provider: model.provider,
    modelId: model.modelId,
    get supportedUrls(): unknown {
      return (model as { supportedUrls?: unknown }).supportedUrls;
    },
    async doGenerate(params: AISDKCallOptions) {
      const transformed = await middleware.transformParams({ type: 'generate', params });
      return middleware.wrapGenerate({ doGenerate: () => model.doGenerate(transformed), params: transformed });
    },
    async doStream(params: AISDKCallOptions) {
      const transformed = await middleware.transformParams({ type: 'stream', params });
      return middleware.wrapStream({ doStream: () => model.doStream(transformed), params: transformed });
    },
  };
  return wrapped as unknown as ModelWithMemory<M>;
}

interface Settings {
  readonly memory: MemoryForMiddleware;
  readonly scope: Scope;
  readonly limit: number;
  readonly maxTokens: number;
  readonly countTokens: (text: string) => number;
  readonly threshold: number | undefined;
  readonly filter: FilterInput | undefined;
  readonly header: string;
  readonly formatMemory: (memory: SearchResult) => string;
  readonly add: 'background' | 'await' | 'off';
  readonly addOptions: Pick<AddOptions, 'infer' | 'metadata' | 'prompt'>;
  readonly waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  readonly onError: MemoryMiddlewareOptions['onError'];
  readonly onAdded: MemoryMiddlewareOptions['onAdded'];
}

function resolveSettings(options: MemoryMiddlewareOptions): Settings {
  const memory = options?.memory;
  if (typeof memory?.search !== 'function' || typeof memory.add !== 'function') {
    throw new InvalidInputError('options.memory', 'is not a mem Memory', 'Pass the Memory to search and add to: { memory, scope }.');
  }
  // Validated and copied once: the scope cannot change after the model is wrapped.
  const scope = Object.freeze(validateScope(options.scope, 'options.scope'));
  const add = options.add ?? 'background';
  if (!['background', 'await', 'off'].includes(add)) {
    throw new InvalidInputError(
      'options.add',
      "is not 'background', 'await' or 'off'",
      "Leave it out, or pass 'await' in serverless functions.",
    );
  }
  for (const name of ['countTokens', 'formatMemory', 'waitUntil', 'onError', 'onAdded'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new InvalidInputError(`options.${name}`, 'is not a function', 'Pass a function, or leave it out.');
    }
  }
  if (options.header !== undefined && (typeof options.header !== 'string' || options.header.trim() === '')) {
    throw new InvalidInputError('options.header', 'is not a non-empty string', 'Pass the first line of the memory block, or leave it out.');
  }
  return {
    memory,
    scope,
    limit: integerOption(options.limit, 'options.limit', 5, 1, 100),
    maxTokens: integerOption(options.maxMemoryTokens, 'options.maxMemoryTokens', 400, 1, 1_000_000),
    countTokens: options.countTokens ?? estimateTokens,
    threshold: options.threshold,
    filter: options.filter,
    header: options.header ?? DEFAULT_MEMORY_HEADER,
    formatMemory: options.formatMemory ?? defaultMemoryLine,
    add,
    addOptions: options.addOptions ?? {},
    waitUntil: options.waitUntil,
    onError: options.onError,
    onAdded: options.onAdded,
  };
}

function withMetadata(metadata: { readonly [provider: string]: unknown } | undefined, block: MemoryBlock) {
  const mem: MemoryInjectionMetadata = { memories: block.memories, injectedTokens: block.tokens };
  return { ...metadata, mem };
}

/** Resolves in a later macrotask, after the current call's promise chain has run (any runtime). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Calls a user hook; a hook that throws must not turn into an unhandled rejection or fail the response. */
function report<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  try {
    hook?.(...args);
  } catch {
    // The hook's own failure has nowhere safer to go; the response is never failed by memory.
  }
}
