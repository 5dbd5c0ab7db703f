import { createOpenAI } from '@ai-sdk/openai';
import { AISDKLLM, type AISDKStructuredOutput } from '@mem/ai-sdk';
import { AnthropicLLM } from '@mem/llm-anthropic';
import { startAnthropicFakeServer, type AnthropicFakeServer } from '@mem/llm-anthropic/testing';
import { OpenAILLM, type OpenAIStructuredOutput } from '@mem/llm-openai';
import { startOpenAIFakeServer, type FakeRequest, type OpenAIFakeServer } from '@mem/llm-openai/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { scaled } from './support/figures';
import type { FinishReason } from './support/model-output';
import { caseArbitrary, fuzz, inMemory, type ModelAnswer, type ModelRequest, type ModelTransport } from './support/model-output-run';

// The model output fuzzing of model-output.fuzz.test.ts through every adapter's structured-output
// mode, over its provider's wire protocol (the local servers of @mem/llm-openai/testing and
// @mem/llm-anthropic/testing, answering in the documented shapes): OpenAILLM with json_schema,
// json_object and a forced tool call; AnthropicLLM with its forced tool call (a tool_use block, or
// a text block when the answer is not a JSON object); AISDKLLM on @ai-sdk/openai with json_schema,
// json, tool and text. The generated answer goes where the mode puts it (content, tool call
// arguments, tool input), with the provider's own finish reasons for stop, length, refusal and
// other (OpenAI: stop, tool_calls, length, content_filter, a refusal message, null, an unknown value;
// Anthropic: end_turn, tool_use, stop_sequence, max_tokens, model_context_window_exceeded,
// pause_turn, refusal, null, an unknown value). The same invariants hold: an answer the provider
// reports cut off, refused, or still reasoning is never acted on, and a cut-off answer is retried
// with a larger token limit than the adapter's 512.

const MAX_TOKENS = 512;

let openAIServer: OpenAIFakeServer;
let anthropicServer: AnthropicFakeServer;
beforeAll(async () => {
  openAIServer = await startOpenAIFakeServer();
  anthropicServer = await startAnthropicFakeServer();
});
afterAll(async () => {
  await openAIServer.close();
  await anthropicServer.close();
});

const pick = <T>(values: readonly T[], variant: number): T => values[variant % values.length]!;

function promptOf(messages: readonly { content?: unknown }[] | undefined, system?: unknown): string {
  const parts = (messages ?? []).map((message) =>
    typeof message.content === 'string'
      ? message.content
      : Array.isArray(message.content)
        ? message.content.map((part: { text?: string }) => part.text ?? '').join('')
        : '',
  );
  return [typeof system === 'string' ? system : '', ...parts].join('\n');
}

/** A chat completion as the Chat Completions API answers (content, or one tool call; a refusal). */
function chatCompletion(request: FakeRequest, answer: ModelAnswer, tool: boolean): unknown {
  const body = request.body as { model?: string; tools?: { function: { name: string } }[] };
  const raw: Record<FinishReason, readonly (string | null)[]> = {
    stop: tool ? ['tool_calls', 'stop'] : ['stop'],
    length: ['length'],
    refusal: ['content_filter', 'refusal-message'],
    other: [null, 'unknown_reason'],
  };
  const finish = pick(raw[answer.finishReason], answer.variant);
  const refusal = finish === 'refusal-message';
  const message = refusal
    ? { role: 'assistant', content: null, refusal: 'I cannot help with that.' }
    : tool
      ? {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: 'call_fuzz', type: 'function', function: { name: body.tools![0]!.function.name, arguments: answer.text } }],
        }
      : { role: 'assistant', content: answer.text, refusal: null };
  return {
    id: 'chatcmpl-fuzz',
    object: 'chat.completion',
    created: 1751026135,
    model: body.model ?? 'gpt-4.1-mini',
    choices: [{ index: 0, message, logprobs: null, finish_reason: refusal ? 'stop' : finish }],
    usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
  };
}

function openAITransport(
  name: string,
  mode: 'openai' | 'ai-sdk',
  tool: boolean,
  create: (baseURL: string) => OpenAILLM | AISDKLLM,
): ModelTransport {
  return {
    name,
    defaultMaxTokens: MAX_TOKENS,
    open(answer) {
      openAIServer.reset();
      const requests: ModelRequest[] = [];
      openAIServer.fallback = async (request) => {
        const body = request.body as { messages?: { content?: unknown }[]; max_completion_tokens?: number; max_tokens?: number };
        const recorded = { prompt: promptOf(body.messages), maxTokens: body.max_completion_tokens ?? body.max_tokens };
        const index = requests.length;
        requests.push(recorded);
        const reply = await answer(index, recorded);
        // The AI SDK's OpenAI provider reads no refusal message: a refusal reaches it as content_filter.
        const shaped = mode === 'ai-sdk' && reply.finishReason === 'refusal' ? { ...reply, variant: 0 } : reply;
        return { status: 200, body: chatCompletion(request, shaped, tool) };
      };
      return { llm: create(openAIServer.baseURL), requests: () => requests };
    },
  };
}

const anthropicTransport: ModelTransport = {
  name: 'AnthropicLLM (tool)',
  defaultMaxTokens: MAX_TOKENS,
  open(answer) {
    anthropicServer.reset();
    const requests: ModelRequest[] = [];
    anthropicServer.fallback = async (request) => {
      const body = request.body as {
        model?: string;
        system?: unknown;
        messages?: { content?: unknown }[];
        max_tokens?: number;
        tools?: { name: string }[];
      };
      const recorded = { prompt: promptOf(body.messages, body.system), maxTokens: body.max_tokens };
      const index = requests.length;
      requests.push(recorded);
      const reply = await answer(index, recorded);
      const raw: Record<FinishReason, readonly (string | null)[]> = {
        stop: ['tool_use', 'end_turn', 'stop_sequence'],
        length: ['max_tokens', 'model_context_window_exceeded', 'pause_turn'],
        refusal: ['refusal'],
        other: [null, 'unknown_reason'],
      };
      // The API parses tool input itself: only a JSON object can be a tool call; anything else is text.
      let input: unknown;
      try {
        input = JSON.parse(reply.text);
      } catch {
        input = undefined;
      }
      const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
      const content = isObject
        ? [{ type: 'tool_use', id: 'toolu_fuzz', name: body.tools?.[0]?.name ?? 'memory_operations', input }]
        : [{ type: 'text', text: reply.text }];
      return {
        status: 200,
        body: {
          id: 'msg_fuzz',
          type: 'message',
          role: 'assistant',
          model: body.model ?? 'claude-haiku-4-5',
          content,
          stop_reason: pick(raw[reply.finishReason], reply.variant),
          stop_sequence: null,
          usage: { input_tokens: 100, output_tokens: 50 },
        },
      };
    };
    return {
      llm: new AnthropicLLM({ apiKey: 'sk-ant-fuzz', baseURL: anthropicServer.baseURL, maxTokens: MAX_TOKENS, maxRetries: 0 }),
      requests: () => requests,
    };
  },
};

const OPENAI_MODES: readonly OpenAIStructuredOutput[] = ['json_schema', 'json_object', 'tool'];
const AI_SDK_MODES: readonly AISDKStructuredOutput[] = ['json_schema', 'json', 'tool', 'text'];

const TRANSPORTS: readonly ModelTransport[] = [
  ...OPENAI_MODES.map((mode) =>
    openAITransport(
      `OpenAILLM (${mode})`,
      'openai',
      mode === 'tool',
      (baseURL) => new OpenAILLM({ apiKey: 'sk-fuzz', baseURL, structuredOutput: mode, maxTokens: MAX_TOKENS, maxRetries: 0 }),
    ),
  ),
  anthropicTransport,
  ...AI_SDK_MODES.map((mode) =>
    openAITransport(
      `AISDKLLM on @ai-sdk/openai (${mode})`,
      'ai-sdk',
      mode === 'tool',
      (baseURL) =>
        new AISDKLLM({
          model: createOpenAI({ apiKey: 'sk-fuzz', baseURL }).chat('gpt-4.1-mini'),
          structuredOutput: mode,
          maxTokens: MAX_TOKENS,
          maxRetries: 0,
        }),
    ),
  ),
];

describe('model output fuzzing through every adapter structured-output mode, over the wire', () => {
  for (const transport of TRANSPORTS) {
    it(`${transport.name}: the invariants of the model output fuzzing hold`, async () => {
      await fuzz('adapters', {
        arbitrary: caseArbitrary({ min: 0, max: 8 }),
        runs: scaled(30, 400),
        stores: inMemory,
        transport,
        backend: 'in-memory',
      });
    });
  }
});
