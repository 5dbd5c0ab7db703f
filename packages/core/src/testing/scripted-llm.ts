import { defineLLMCapabilities, type LLMCapabilities } from '../contract/capabilities';
import { MemError, throwIfAborted } from '../contract/errors';
import type { LLM, LLMMessage, LLMResponse, ResponseFormat } from '../contract/interfaces';
import type { Call } from '../contract/types';

/** What {@link ScriptedLLM} received in one call. */
export interface ScriptedRequest {
  readonly messages: readonly LLMMessage[];
  readonly responseFormat?: ResponseFormat;
  readonly temperature?: number;
  readonly maxTokens?: number;
}

/** One scripted answer: text, a JSON value (serialised), a full response, or a function of the request. */
export type ScriptStep =
  | string
  | { readonly json: unknown }
  | LLMResponse
  | ((request: ScriptedRequest) => string | LLMResponse | Promise<string | LLMResponse>);

/**
 * An LLM for tests that answers from a script, in order, and records every request in `requests`.
 * Token usage is estimated as characters / 4. Throws when the script runs out. Never a default.
 *
 * @example
 * const llm = new ScriptedLLM([{ json: { operations: [{ op: 'ADD', text: 'Is vegetarian' }] } }]);
 */
export class ScriptedLLM implements LLM {
  readonly provider = 'scripted';
  readonly model = 'scripted';
  readonly capabilities: LLMCapabilities;
  readonly requests: ScriptedRequest[] = [];
  private readonly script: ScriptStep[];
  private readonly repeatLast: boolean;

  constructor(script: readonly ScriptStep[], options: { capabilities?: Partial<LLMCapabilities>; repeatLast?: boolean } = {}) {
    this.script = [...script];
    this.capabilities = defineLLMCapabilities({ structuredOutput: 'json_schema', ...options.capabilities });
    this.repeatLast = options.repeatLast ?? false;
  }

  /** Appends answers to the script. */
  push(...steps: ScriptStep[]): void {
    this.script.push(...steps);
  }

  /** How many scripted answers are left. */
  get remaining(): number {
    return this.script.length;
  }

  async generate(request: Call<ScriptedRequest>): Promise<LLMResponse> {
    throwIfAborted(request.signal, 'scripted generate');
    const { signal: _signal, ...recorded } = request;
    this.requests.push(structuredClone(recorded));
    const step = this.repeatLast && this.script.length === 1 ? this.script[0] : this.script.shift();
    if (step === undefined) {
      throw new MemError(
        'PROVIDER_REQUEST_FAILED',
        `ScriptedLLM ran out of answers after ${this.requests.length - 1} calls. Add more steps to the script.`,
      );
    }
    const answer = typeof step === 'function' ? await step(recorded) : step;
    const response: LLMResponse =
      typeof answer === 'string'
        ? { text: answer, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } }
        : 'json' in answer
          ? { text: JSON.stringify(answer.json), finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 } }
          : answer;
    const promptChars = recorded.messages.reduce((sum, message) => sum + message.content.length, 0);
    return response.usage.promptTokens === 0 && response.usage.completionTokens === 0
      ? { ...response, usage: { promptTokens: Math.ceil(promptChars / 4), completionTokens: Math.ceil(response.text.length / 4) } }
      : response;
  }
}
