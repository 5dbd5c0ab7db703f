import {
  defineLLMCapabilities,
  InvalidInputError,
  integerOption,
  ProviderResponseInvalidError,
  type Call,
  type LLM,
  type LLMCapabilities,
  type LLMContentPart,
  type LLMMessage,
  type LLMResponse,
  type ResponseFormat,
} from '@mem/core/adapter';
import { callWithRetries, checkModel, resolveCallSettings, type AISDKCallSettings, type AISDKCallSettingsOptions } from './ai-sdk-call';
import {
  tokenCount,
  unifiedFinishReason,
  type AISDKCallOptions,
  type AISDKGenerateResult,
  type AISDKLanguageModel,
  type AISDKPromptMessage,
  type AISDKProviderOptions,
} from './ai-sdk-model-types';

/**
 * How {@link AISDKLLM} holds the model to a JSON schema when core asks for JSON.
 * - `json_schema`: `responseFormat: { type: 'json', schema, name }`, the provider's native structured
 *   output (OpenAI strict JSON schema, Gemini response schema, Anthropic's JSON tool, …).
 * - `json`: `responseFormat: { type: 'json' }` without the schema, JSON mode; core's prompt describes
 *   the shape and core validates it (providers that reject schemas).
 * - `tool`: one forced tool call whose input is the answer (`toolChoice: { type: 'tool' }`), for
 *   providers with tools but no JSON response format.
 * - `text`: nothing is sent; core's prompt asks for JSON and core parses the answer leniently
 *   (code fences, prose around it), for models with neither.
 */
export type AISDKStructuredOutput = 'json_schema' | 'json' | 'tool' | 'text';

const STRUCTURED_OUTPUTS: readonly AISDKStructuredOutput[] = ['json_schema', 'json', 'tool', 'text'];

/** Options of {@link AISDKLLM}. */
export interface AISDKLLMOptions extends AISDKCallSettingsOptions {
  /** The AI SDK language model, e.g. `openai('gpt-4.1-mini')` or `anthropic('claude-haiku-4-5')`. */
  readonly model: AISDKLanguageModel;
  /** How JSON answers are requested; see {@link AISDKStructuredOutput}. @default 'json_schema' */
  readonly structuredOutput?: AISDKStructuredOutput;
  /**
   * Answer token limit when a request sets none (`maxOutputTokens`). Left unset, none is sent and the
   * provider's default applies. @default undefined
   */
  readonly maxTokens?: number;
  /** Whether to send `temperature` (reasoning models reject it). @default true */
  readonly sendTemperature?: boolean;
  /** Passed to the provider with every call, e.g. `{ openai: { reasoningEffort: 'low' } }`. @default none */
  readonly providerOptions?: AISDKProviderOptions;
  /**
   * Whether the model reads images (`capabilities.imageInput`): core then sends a conversation's
   * images as AI SDK `file` parts (`mediaType: 'image/png'`… with base64 `data` for inline bytes,
   * `image/*` with a `URL` for an https URL, which the provider must accept: see its `supportedUrls`).
   * The AI SDK does not say which models see images, so set it for a vision model. @default false
   */
  readonly imageInput?: boolean;
}

/**
 * An {@link LLM} on any AI SDK language model (`ai` 5, 6 or 7 providers: OpenAI, Anthropic, Google,
 * Mistral, Bedrock, Azure, Groq, xAI, DeepSeek, Ollama community providers, …), so mem can extract
 * and reconcile memories with it. It calls the model's `doGenerate` directly: no `ai` runtime is needed.
 *
 * Usage comes from the provider (`inputTokens` → `promptTokens`, `outputTokens` → `completionTokens`).
 * A `content-filter` finish comes back as `finishReason: 'refusal'`, a cut-off answer as `'length'`.
 * Failed calls are retried here with core's policy (see `maxRetries`); errors are mem errors whose
 * message and cause hold neither the prompt nor the provider's free text.
 *
 * @example
 * import { openai } from '@ai-sdk/openai';
 * const llm = new AISDKLLM({ model: openai('gpt-4.1-mini') });
 * const memory = new Memory({ llm, embedder: new AISDKEmbedder({ model: openai.embedding('text-embedding-3-small') }), … });
 */
export class AISDKLLM implements LLM {
  /** The model's provider, e.g. `openai.chat`. */
  readonly provider: string;
  readonly model: string;
  readonly capabilities: LLMCapabilities;
  private readonly languageModel: AISDKLanguageModel;
  private readonly settings: AISDKCallSettings;
  private readonly structuredOutput: AISDKStructuredOutput;
  private readonly maxTokens: number | undefined;
  private readonly sendTemperature: boolean;
  private readonly providerOptions: AISDKProviderOptions | undefined;

  /** @throws {InvalidInputError} for a missing or unknown model, or an invalid option. */
  constructor(options: AISDKLLMOptions) {
    checkModel(options?.model, 'doGenerate', "openai('gpt-4.1-mini') from @ai-sdk/openai");
    this.languageModel = options.model;
    this.provider = options.model.provider;
    this.model = options.model.modelId;
    this.structuredOutput = options.structuredOutput ?? 'json_schema';
    if (!STRUCTURED_OUTPUTS.includes(this.structuredOutput)) {
      throw new InvalidInputError(
        'options.structuredOutput',
        `is not one of ${STRUCTURED_OUTPUTS.join(', ')}`,
        "Pass 'json_schema' unless the provider lacks it.",
      );
    }
    this.maxTokens =
      options.maxTokens === undefined ? undefined : integerOption(options.maxTokens, 'options.maxTokens', 4096, 1, MAX_TOKENS_LIMIT);
    this.sendTemperature = options.sendTemperature ?? true;
    this.providerOptions = options.providerOptions;
    this.capabilities = defineLLMCapabilities({
      // A forced tool call and JSON mode give valid JSON; only a native schema enforces its shape.
      structuredOutput: this.structuredOutput === 'json_schema' ? 'json_schema' : this.structuredOutput === 'text' ? 'none' : 'json_object',
      // request.maxTokens is passed as maxOutputTokens; the provider may accept less (its error says so).
      maxOutputTokens: MAX_TOKENS_LIMIT,
      imageInput: options.imageInput ?? false,
    });
    this.settings = resolveCallSettings(options);
  }

  /**
   * Sends one `doGenerate` call (retrying retryable failures) and returns the answer.
   * @throws {InvalidInputError} when `messages` is empty.
   * @throws {ProviderRequestError} when the call fails after the retries.
   * @throws {ProviderResponseInvalidError} when the result has no content list.
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
    if (!Array.isArray(request?.messages) || request.messages.length === 0) {
      throw new InvalidInputError('request.messages', 'is empty', 'Pass at least one message.');
    }
    const options = this.callOptions(request);
    const result = await callWithRetries({
      provider: this.provider,
      model: this.model,
      operation: 'generate',
      settings: this.settings,
      signal: request.signal,
      attempt: (signal) => this.languageModel.doGenerate({ ...options, abortSignal: signal }),
    });
    const limit = options.maxOutputTokens;
    return { ...this.readResult(result, request.responseFormat), ...(limit !== undefined ? { maxTokens: limit } : {}) };
  }

  private callOptions(request: {
    readonly messages: readonly LLMMessage[];
    readonly responseFormat?: ResponseFormat;
    readonly temperature?: number;
    readonly maxTokens?: number;
  }): AISDKCallOptions {
    const maxTokens =
      request.maxTokens === undefined ? this.maxTokens : integerOption(request.maxTokens, 'request.maxTokens', 4096, 1, MAX_TOKENS_LIMIT);
    const base: AISDKCallOptions = {
      prompt: request.messages.map(toPromptMessage),
      ...(this.sendTemperature ? { temperature: request.temperature ?? 0 } : {}),
      ...(maxTokens !== undefined ? { maxOutputTokens: maxTokens } : {}),
      ...(this.settings.headers ? { headers: this.settings.headers } : {}),
      ...(this.providerOptions ? { providerOptions: this.providerOptions } : {}),
    };
    const format = request.responseFormat;
    if (format?.type !== 'json') return base;
    switch (this.structuredOutput) {
      case 'json_schema':
        return { ...base, responseFormat: { type: 'json', name: format.name, schema: { ...format.schema } } };
      case 'json':
        return { ...base, responseFormat: { type: 'json' } };
      case 'tool':
        return {
          ...base,
          tools: [
            {
              type: 'function',
              name: format.name,
              description: `Reply with the ${format.name} object. Call this tool exactly once with the complete answer.`,
              inputSchema: { ...format.schema },
            },
          ],
          toolChoice: { type: 'tool', toolName: format.name },
        };
      case 'text':
        return base;
    }
  }

  private readResult(result: AISDKGenerateResult, format: ResponseFormat | undefined): LLMResponse {
    if (!Array.isArray(result?.content)) {
      throw new ProviderResponseInvalidError(this.provider, 'generate', 'the model returned no content list. Check the provider package.');
    }
    const usage = { promptTokens: tokenCount(result.usage?.inputTokens), completionTokens: tokenCount(result.usage?.outputTokens) };
    const finishReason = finishReasonOf(unifiedFinishReason(result.finishReason));
    // In tool mode the answer is the tool input, passed on unparsed: if the model wrote invalid JSON,
    // core's corrective retry shows it the problem, exactly as for a malformed text answer.
    const toolCall =
      this.structuredOutput === 'tool' && format?.type === 'json'
        ? result.content.find((part) => part?.type === 'tool-call' && part.toolName === format.name)
        : undefined;
    if (toolCall) {
      const input = toolCall.input;
      return { text: typeof input === 'string' ? input : JSON.stringify(input ?? {}), finishReason, usage };
    }
    const text = result.content
      .filter((part) => part?.type === 'text' && typeof part.text === 'string')
      .map((part) => part.text)
      .join('');
    return { text, finishReason, usage };
  }
}

function toPromptMessage(message: LLMMessage, index: number): AISDKPromptMessage {
  if (typeof message?.content !== 'string') {
    throw new InvalidInputError(`request.messages[${index}].content`, 'is not a string', 'Pass the message text as a string.');
  }
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.parts ? message.parts.map(toPromptPart) : [{ type: 'text', text: message.content }] };
    case 'assistant':
      return { role: message.role, content: [{ type: 'text', text: message.content }] };
    default:
      throw new InvalidInputError(`request.messages[${index}].role`, 'is not system, user or assistant', 'Use one of those roles.');
  }
}

/**
 * A user message part as the AI SDK's language model prompt (V2, V3) takes it: text, or an image as
 * a `file` part (base64 data with its media type, or a URL as `image/*`); OpenAI's `detail` goes in
 * as `providerOptions.openai.imageDetail`, which other providers ignore.
 */
function toPromptPart(part: LLMContentPart): { readonly type: string; readonly [key: string]: unknown } {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const { source, detail } = part;
  return {
    type: 'file',
    ...(source.type === 'url' ? { mediaType: 'image/*', data: new URL(source.url) } : { mediaType: source.mediaType, data: source.data }),
    ...(detail ? { providerOptions: { openai: { imageDetail: detail } } } : {}),
  };
}

/** The largest answer token limit this adapter passes on. */
const MAX_TOKENS_LIMIT = 1_000_000;

function finishReasonOf(reason: string): LLMResponse['finishReason'] {
  switch (reason) {
    case 'stop':
    case 'tool-calls': // a forced tool call ends this way on most providers
      return 'stop';
    case 'length':
      return 'length';
    case 'content-filter':
      return 'refusal';
    default:
      return 'other';
  }
}
