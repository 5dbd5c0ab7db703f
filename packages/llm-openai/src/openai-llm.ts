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
  imageUrl,
  integerOption,
  redactSecrets,
} from '@mem/core/adapter';
import type {
  ChatCompletion,
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { openAIErrorHeaders, retryAfterMs, toOpenAIError } from './openai-errors';
import { resolveOpenAISettings, type OpenAIConnectionOptions, type OpenAISettings } from './openai-options';

/** Chat model ids; any other id the server knows works too. */
export type OpenAIChatModelId =
  | 'gpt-4.1-mini'
  | 'gpt-4.1'
  | 'gpt-4.1-nano'
  | 'gpt-4o'
  | 'gpt-4o-mini'
  | 'gpt-5'
  | 'gpt-5-mini'
  | 'gpt-5-nano'
  | 'o4-mini'
  | (string & {});

/**
 * How {@link OpenAILLM} holds the model to a JSON schema when core asks for JSON.
 * - `json_schema`: `response_format: { type: 'json_schema', strict: true }`, the schema is enforced
 *   (OpenAI, Azure OpenAI, and most compatible servers: Ollama, vLLM, LM Studio, LiteLLM).
 * - `json_object`: `response_format: { type: 'json_object' }`, valid JSON of any shape; core's
 *   prompt describes the shape and core validates it (older models and servers).
 * - `tool`: one forced function call whose arguments are the answer (servers that only support tools).
 */
export type OpenAIStructuredOutput = 'json_schema' | 'json_object' | 'tool';

/** Options of {@link OpenAILLM}. Connection options come from {@link OpenAIConnectionOptions}. */
export interface OpenAILLMOptions extends OpenAIConnectionOptions {
  /** Model id, or the deployment name on Azure. @default 'gpt-4.1-mini' */
  readonly model?: OpenAIChatModelId;
  /** How JSON answers are requested; see {@link OpenAIStructuredOutput}. @default 'json_schema' */
  readonly structuredOutput?: OpenAIStructuredOutput;
  /**
   * Answer token limit when a request sets none. Left unset, no limit is sent and the model's own
   * maximum applies, so a JSON answer is never cut short by a default. @default undefined
   */
  readonly maxTokens?: number;
  /**
   * The body field carrying the token limit: OpenAI and Azure want `max_completion_tokens` (reasoning
   * models reject `max_tokens`); some compatible servers only read `max_tokens`. @default 'max_completion_tokens'
   */
  readonly maxTokensField?: 'max_completion_tokens' | 'max_tokens';
  /**
   * Whether to send `temperature`. Reasoning models (o-series, gpt-5 except `gpt-5-chat-*`) reject any
   * value but their default. @default false for ids starting with `o<digit>` or `gpt-5` (without `chat`), else true
   */
  readonly sendTemperature?: boolean;
  /**
   * Whether the model reads images (`capabilities.imageInput`): core then sends a conversation's
   * images as `image_url` content parts (an https URL, or a `data:` URL for inline bytes). Set it
   * for a vision model the default does not know (a compatible server's model, an Azure deployment name).
   * @default true for ids starting with gpt-4o, gpt-4.1, gpt-4.5, gpt-4-turbo, gpt-5, chatgpt-4o, o1, o3 or o4 (not o1-mini, o3-mini), else false
   */
  readonly imageInput?: boolean;
}

/**
 * An {@link LLM} on OpenAI's Chat Completions API, or any server that speaks it (Azure OpenAI,
 * Ollama, vLLM, LM Studio, LiteLLM) through `baseURL` or `client`.
 *
 * Refusals (`message.refusal`, `finish_reason: 'content_filter'`) come back as `finishReason:
 * 'refusal'`, a cut-off answer as `'length'`; core decides what to do with either. Failed requests
 * are retried here (see `maxRetries`), never by the SDK.
 *
 * @example
 * const llm = new OpenAILLM({ model: 'gpt-4.1-mini' }); // key from OPENAI_API_KEY
 * const { text } = await llm.generate({ messages: [{ role: 'user', content: 'Say hi' }] });
 */
export class OpenAILLM implements LLM {
  readonly provider = 'openai';
  readonly model: string;
  readonly capabilities: LLMCapabilities;
  private readonly settings: OpenAISettings;
  private readonly structuredOutput: OpenAIStructuredOutput;
  private readonly maxTokens: number | undefined;
  private readonly maxTokensField: 'max_completion_tokens' | 'max_tokens';
  private readonly sendTemperature: boolean;

  /**
   * @throws {MissingSettingError} when no API key is given and `OPENAI_API_KEY` is unset.
   * @throws {InvalidInputError} for an invalid option.
   */
  constructor(options: OpenAILLMOptions = {}) {
    this.model = options.model ?? 'gpt-4.1-mini';
    if (typeof this.model !== 'string' || this.model.trim() === '') {
      throw new InvalidInputError('options.model', 'is empty', "Pass a model id such as 'gpt-4.1-mini'.");
    }
    this.structuredOutput = options.structuredOutput ?? 'json_schema';
    if (!['json_schema', 'json_object', 'tool'].includes(this.structuredOutput)) {
      throw new InvalidInputError(
        'options.structuredOutput',
        'is not one of json_schema, json_object, tool',
        "Pass 'json_schema' unless the server lacks it.",
      );
    }
    this.maxTokens =
      options.maxTokens === undefined ? undefined : integerOption(options.maxTokens, 'options.maxTokens', 4096, 1, MAX_TOKENS_LIMIT);
    this.maxTokensField = options.maxTokensField ?? 'max_completion_tokens';
    this.sendTemperature = options.sendTemperature ?? !/^(o\d|gpt-5(?!.*chat))/.test(this.model);
    // A forced tool call yields valid JSON arguments, but only strict mode enforces the schema.
    this.capabilities = defineLLMCapabilities({
      structuredOutput: this.structuredOutput === 'json_schema' ? 'json_schema' : 'json_object',
      // request.maxTokens is sent as maxTokensField; the model may accept less (its error says so).
      maxOutputTokens: MAX_TOKENS_LIMIT,
      imageInput: options.imageInput ?? VISION_MODEL.test(this.model),
    });
    this.settings = resolveOpenAISettings(options, 'OpenAILLM');
  }

  /**
   * Sends one chat completion request (retrying retryable failures) and returns the answer.
   * @throws {ProviderRequestError} when the request fails after the retries.
   * @throws {ProviderResponseInvalidError} when the response has no choice to read.
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
    if (request.messages.length === 0) {
      throw new InvalidInputError('request.messages', 'is empty', 'Pass at least one message.');
    }
    const body = this.buildBody(request);
    const { client, retry, timeoutMs } = this.settings;
    const completion = await withRetries({
      provider: 'openai',
      operation: 'generate',
      policy: retry,
      signal: request.signal,
      attempt: () =>
        client.chat.completions.create(body, {
          maxRetries: 0,
          ...(request.signal ? { signal: request.signal } : {}),
          ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
        }),
      // A server or proxy may echo the key in its error message: scrub it before the SDK error is kept as `cause`.
      toError: (error, retries) =>
        toOpenAIError(redactSecrets(error, [client.apiKey]), this.errorContext('generate', retries, request.signal)),
      retryAfterMs: (error) => retryAfterMs(openAIErrorHeaders(error)),
    });
    const limit = (body as unknown as Record<string, unknown>)[this.maxTokensField];
    return { ...this.readCompletion(completion, request.responseFormat), ...(typeof limit === 'number' ? { maxTokens: limit } : {}) };
  }

  private buildBody(request: {
    readonly messages: readonly LLMMessage[];
    readonly responseFormat?: ResponseFormat;
    readonly temperature?: number;
    readonly maxTokens?: number;
  }): ChatCompletionCreateParamsNonStreaming {
    const maxTokens =
      request.maxTokens === undefined ? this.maxTokens : integerOption(request.maxTokens, 'request.maxTokens', 4096, 1, MAX_TOKENS_LIMIT);
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: request.messages.map(toOpenAIMessage),
      ...(this.sendTemperature ? { temperature: request.temperature ?? 0 } : {}),
      ...(maxTokens !== undefined ? { [this.maxTokensField]: maxTokens } : {}),
    };
    const format = request.responseFormat;
    if (format?.type !== 'json') return body;
    switch (this.structuredOutput) {
      case 'json_schema':
        return {
          ...body,
          response_format: { type: 'json_schema', json_schema: { name: format.name, schema: { ...format.schema }, strict: true } },
        };
      case 'json_object':
        return { ...body, response_format: { type: 'json_object' } };
      case 'tool':
        return {
          ...body,
          tools: [
            {
              type: 'function',
              function: { name: format.name, description: `Reply with the ${format.name} object.`, parameters: { ...format.schema } },
            },
          ],
          tool_choice: { type: 'function', function: { name: format.name } },
        };
    }
  }

  private readCompletion(completion: ChatCompletion, format: ResponseFormat | undefined): LLMResponse {
    const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
    if (!choice || typeof choice.message !== 'object' || choice.message === null) {
      throw new ProviderResponseInvalidError(
        this.provider,
        'generate',
        'the response holds no choice with a message. Check that baseURL points at a Chat Completions API.',
      );
    }
    const usage = {
      promptTokens: count(completion.usage?.prompt_tokens),
      completionTokens: count(completion.usage?.completion_tokens),
    };
    const message = choice.message;
    if (typeof message.refusal === 'string' && message.refusal.length > 0) {
      return { text: message.refusal, finishReason: 'refusal', usage };
    }
    // In tool mode the answer is the arguments text, passed on unparsed: if the model wrote invalid
    // JSON, core's corrective retry shows it the problem, exactly as for a malformed content answer.
    const toolCall =
      this.structuredOutput === 'tool' && format?.type === 'json'
        ? message.tool_calls?.find((call) => call.type === 'function')
        : undefined;
    const text = toolCall?.type === 'function' ? toolCall.function.arguments : typeof message.content === 'string' ? message.content : '';
    return { text, finishReason: finishReasonOf(choice.finish_reason), usage };
  }

  private errorContext(operation: string, retries: number, signal: AbortSignal | undefined) {
    return {
      operation,
      retries,
      signal,
      origin: this.settings.origin,
      model: this.model,
      keySource: this.settings.keySource,
      timeoutMs: this.settings.timeoutMs,
    };
  }
}

/** Model ids that read images, by prefix. */
const VISION_MODEL = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-4-turbo|gpt-5|chatgpt-4o|o1(?!-mini)|o3(?!-mini)|o4)/;

/** A message as Chat Completions takes it: a user message with parts as text and `image_url` parts. */
function toOpenAIMessage(message: LLMMessage): ChatCompletionMessageParam {
  if (message.role !== 'user' || !message.parts) return { role: message.role, content: message.content };
  return {
    role: 'user',
    content: message.parts.map(
      (part): ChatCompletionContentPart =>
        part.type === 'text'
          ? { type: 'text', text: part.text }
          : { type: 'image_url', image_url: { url: imageUrl(part), ...(part.detail ? { detail: part.detail } : {}) } },
    ),
  };
}

/** The largest answer token limit this adapter sends. */
const MAX_TOKENS_LIMIT = 1_000_000;

function finishReasonOf(reason: string | null | undefined): LLMResponse['finishReason'] {
  switch (reason) {
    case 'stop':
    case 'tool_calls': // a forced tool call ends with 'stop' on OpenAI, 'tool_calls' on some servers
    case 'function_call':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'refusal';
    default:
      return 'other';
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
