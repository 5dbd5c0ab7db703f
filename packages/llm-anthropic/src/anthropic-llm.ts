import {
  defineLLMCapabilities,
  InvalidInputError,
  ProviderResponseInvalidError,
  type Call,
  type LLM,
  type LLMCapabilities,
  type LLMMessage,
  type LLMResponse,
  type ResponseFormat,
  withRetries,
  integerOption,
  redactSecrets,
} from '@mem/core/adapter';
import type { ContentBlockParam, Message, MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { anthropicErrorHeaders, retryAfterMs, toAnthropicError } from './anthropic-errors';
import { resolveAnthropicSettings, type AnthropicConnectionOptions, type AnthropicSettings } from './anthropic-options';

/** Claude model ids; any other id the API knows works too. */
export type AnthropicModelId = 'claude-haiku-4-5' | 'claude-sonnet-4-6' | 'claude-opus-4-6' | (string & {});

/** Options of {@link AnthropicLLM}. Connection options come from {@link AnthropicConnectionOptions}. */
export interface AnthropicLLMOptions extends AnthropicConnectionOptions {
  /** Model id. @default 'claude-haiku-4-5' */
  readonly model?: AnthropicModelId;
  /**
   * Answer token limit when a request sets none. The Messages API needs one; 4096 leaves a JSON
   * answer of memory operations ample room, and a cut answer still comes back as
   * `finishReason: 'length'`, never silently. @default 4096
   */
  readonly maxTokens?: number;
  /**
   * Declares the JSON tool `strict`, so the API guarantees the answer matches the schema (models with
   * structured outputs only); `capabilities.structuredOutput` is then `'json_schema'`. @default false
   */
  readonly strictTool?: boolean;
  /** Whether to send `temperature` (some models and gateways reject it). @default true */
  readonly sendTemperature?: boolean;
  /**
   * Whether the model reads images (`capabilities.imageInput`): core then sends a conversation's
   * images as `image` blocks (`source: { type: 'base64' }` for inline bytes, `{ type: 'url' }` for
   * an https URL the API fetches). @default true, except for ids starting with claude-2 or claude-instant
   */
  readonly imageInput?: boolean;
}

/**
 * An {@link LLM} on Anthropic's Messages API.
 *
 * System messages go to the `system` parameter (several are joined by a blank line). A JSON answer
 * is one forced tool call (`tool_choice: { type: 'tool' }`) whose input comes back as JSON text.
 * `stop_reason: 'max_tokens'` comes back as `finishReason: 'length'`, `'refusal'` as `'refusal'`;
 * core decides what to do with either. Failed requests are retried here (see `maxRetries`), never by the SDK.
 *
 * @example
 * const llm = new AnthropicLLM(); // claude-haiku-4-5, key from ANTHROPIC_API_KEY
 * const { text } = await llm.generate({ messages: [{ role: 'user', content: 'Say hi' }] });
 */
export class AnthropicLLM implements LLM {
  readonly provider = 'anthropic';
  readonly model: string;
  readonly capabilities: LLMCapabilities;
  private readonly settings: AnthropicSettings;
  private readonly maxTokens: number;
  private readonly strictTool: boolean;
  private readonly sendTemperature: boolean;

  /**
   * @throws {MissingSettingError} when no API key is given and `ANTHROPIC_API_KEY` is unset.
   * @throws {InvalidInputError} for an invalid option.
   */
  constructor(options: AnthropicLLMOptions = {}) {
    this.model = options.model ?? 'claude-haiku-4-5';
    if (typeof this.model !== 'string' || this.model.trim() === '') {
      throw new InvalidInputError('options.model', 'is empty', "Pass a model id such as 'claude-haiku-4-5'.");
    }
    this.maxTokens = integerOption(options.maxTokens, 'options.maxTokens', 4096, 1, MAX_TOKENS_LIMIT);
    this.strictTool = options.strictTool ?? false;
    this.sendTemperature = options.sendTemperature ?? true;
    // Tool input is always a JSON object; only a strict tool guarantees it matches the schema.
    this.capabilities = defineLLMCapabilities({
      structuredOutput: this.strictTool ? 'json_schema' : 'json_object',
      // request.maxTokens is sent as max_tokens, up to the largest this adapter accepts.
      maxOutputTokens: MAX_TOKENS_LIMIT,
      imageInput: options.imageInput ?? !/^claude-(2|instant)/.test(this.model),
    });
    this.settings = resolveAnthropicSettings(options, 'AnthropicLLM');
  }

  /**
   * Sends one Messages API request (retrying retryable failures) and returns the answer.
   * @throws {InvalidInputError} when there is no user or assistant message.
   * @throws {ProviderRequestError} when the request fails after the retries.
   * @throws {ProviderResponseInvalidError} when the response has no content to read.
   * @throws {AbortedError} (code `ABORTED`) when `signal` aborts; nothing is retried then.
   */
  async generate(
    request: Call<{
      readonly messages: readonly LLMMessage[];
      readonly responseFormat?: ResponseFormat;
      readonly temperature?: number;
      readonly maxTokens?: number;
    }>,
  ): Promise<LLMResponse> {
    const body = this.buildBody(request);
    const { client, retry, timeoutMs } = this.settings;
    const message = await withRetries({
      provider: 'anthropic',
      operation: 'generate',
      policy: retry,
      signal: request.signal,
      attempt: () =>
        client.messages.create(body, {
          maxRetries: 0,
          ...(request.signal ? { signal: request.signal } : {}),
          ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
        }),
      // A server or proxy may echo the key in its error message: scrub it before the SDK error is kept as `cause`.
      toError: (error, retries) =>
        toAnthropicError(redactSecrets(error, [client.apiKey]), {
          operation: 'generate',
          retries,
          signal: request.signal,
          origin: this.settings.origin,
          model: this.model,
          keySource: this.settings.keySource,
          timeoutMs: this.settings.timeoutMs,
        }),
      retryAfterMs: (error) => retryAfterMs(anthropicErrorHeaders(error)),
    });
    return { ...this.readMessage(message, request.responseFormat), maxTokens: body.max_tokens };
  }

  private buildBody(request: {
    readonly messages: readonly LLMMessage[];
    readonly responseFormat?: ResponseFormat;
    readonly temperature?: number;
    readonly maxTokens?: number;
  }): MessageCreateParamsNonStreaming {
    const system = request.messages.filter((message) => message.role === 'system').map((message) => message.content);
    const turns = request.messages.filter((message) => message.role !== 'system');
    if (turns.length === 0) {
      throw new InvalidInputError(
        'request.messages',
        'holds no user or assistant message',
        'The Messages API needs at least one user message besides the system prompt.',
      );
    }
    const maxTokens =
      request.maxTokens === undefined ? this.maxTokens : integerOption(request.maxTokens, 'request.maxTokens', 4096, 1, MAX_TOKENS_LIMIT);
    const body: MessageCreateParamsNonStreaming = {
      model: this.model,
      max_tokens: maxTokens,
      ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
      messages: turns.map(toAnthropicMessage),
      ...(this.sendTemperature ? { temperature: request.temperature ?? 0 } : {}),
    };
    const format = request.responseFormat;
    if (format?.type !== 'json') return body;
    return {
      ...body,
      tools: [
        {
          name: format.name,
          description: `Reply with the ${format.name} object. Call this tool exactly once with the complete answer.`,
          input_schema: { ...format.schema, type: 'object' },
          ...(this.strictTool ? { strict: true } : {}),
        },
      ],
      tool_choice: { type: 'tool', name: format.name },
    };
  }

  private readMessage(message: Message, format: ResponseFormat | undefined): LLMResponse {
    if (!Array.isArray(message?.content)) {
      throw new ProviderResponseInvalidError(
        this.provider,
        'generate',
        'the response holds no content list. Check that baseURL points at the Messages API.',
      );
    }
    const usage = {
      // Cached prompt tokens are billed too, but reported apart from input_tokens.
      promptTokens:
        count(message.usage?.input_tokens) +
        count(message.usage?.cache_creation_input_tokens) +
        count(message.usage?.cache_read_input_tokens),
      completionTokens: count(message.usage?.output_tokens),
    };
    const toolUse =
      format?.type === 'json' ? message.content.find((block) => block.type === 'tool_use' && block.name === format.name) : undefined;
    // The API parses tool input itself, so it arrives as an object; serialise it back to JSON text.
    const text =
      toolUse?.type === 'tool_use'
        ? JSON.stringify(toolUse.input ?? {})
        : message.content
            .filter((block) => block.type === 'text')
            .map((block) => (block.type === 'text' ? block.text : ''))
            .join('');
    return { text, finishReason: finishReasonOf(message.stop_reason), usage };
  }
}

/** A turn as the Messages API takes it: a user message with parts as text and `image` blocks. */
function toAnthropicMessage(message: LLMMessage): MessageParam {
  const role = message.role as 'user' | 'assistant';
  if (role !== 'user' || !message.parts) return { role, content: message.content };
  return {
    role,
    content: message.parts.map(
      (part): ContentBlockParam =>
        part.type === 'text'
          ? { type: 'text', text: part.text }
          : {
              type: 'image',
              source:
                part.source.type === 'url'
                  ? { type: 'url', url: part.source.url }
                  : { type: 'base64', media_type: part.source.mediaType, data: part.source.data },
            },
    ),
  };
}

/** The largest max_tokens this adapter sends (the Messages API's largest output for any model). */
const MAX_TOKENS_LIMIT = 128_000;

function finishReasonOf(reason: string | null | undefined): LLMResponse['finishReason'] {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'tool_use': // the forced JSON tool call ends the turn this way
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
    case 'pause_turn': // a long turn paused before its end: the answer is unfinished
      return 'length';
    case 'refusal':
      return 'refusal';
    default:
      return 'other';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
