import { llmCasePrompts } from '@mem/conformance';
import { chatBody, chatStreamReply, errorBody, lexicalEmbeddings, type FakeReply, type FakeRequest } from '@mem/llm-openai/testing';

// Test support (not exported by the package): replies of the local OpenAI wire-protocol server in
// the documented shapes, for the AI SDK's OpenAI providers pointed at it.

/** A chat completion answering `content` (or calling one function), in the shape of OpenAI's API. */
export function completion(
  answer:
    | { readonly content: string; readonly finishReason?: string; readonly usage?: { prompt_tokens: number; completion_tokens: number } }
    | {
        readonly toolCalls: readonly { readonly name: string; readonly arguments: unknown }[];
        readonly usage?: { prompt_tokens: number; completion_tokens: number };
      },
  model = 'gpt-4.1-mini-2025-04-14',
): FakeReply {
  const usage = answer.usage ?? { prompt_tokens: 21, completion_tokens: 7 };
  const message =
    'toolCalls' in answer
      ? {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: answer.toolCalls.map((call, index) => ({
            id: `call_${index}_${call.name}`,
            type: 'function',
            function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
          })),
        }
      : { role: 'assistant', content: answer.content, refusal: null, annotations: [] };
  const finishReason = 'toolCalls' in answer ? 'tool_calls' : (answer.finishReason ?? 'stop');
  return {
    status: 200,
    headers: { 'x-request-id': 'req_fixture' },
    body: {
      id: 'chatcmpl-fixture',
      object: 'chat.completion',
      created: 1751026135,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      system_fingerprint: 'fp_fixture',
    },
  };
}

/** The messages of a chat request as the AI SDK's OpenAI providers send them. */
export function chatMessages(request: FakeRequest): { role: string; content: string | null }[] {
  return chatBody(request).messages as { role: string; content: string | null }[];
}

/**
 * Answers `@mem/conformance`'s LLM and embedder cases: the case is recognised by its user message,
 * the JSON case answered as the request asks (a tool call when it forces one, else JSON content).
 * Anything else gets a 400, so an unexpected request fails the case loudly.
 */
export function conformanceReplies(request: FakeRequest): FakeReply {
  if (request.path.endsWith('/embeddings')) return lexicalEmbeddings(request);
  const messages = chatMessages(request);
  const user = messages.filter((message) => message.role === 'user').at(-1)?.content;
  const body = chatBody(request) as { tools?: unknown[]; stream?: boolean };
  const facts = { facts: ['Is vegetarian', 'Lives in Lisbon'] };
  if (user === llmCasePrompts.plain.messages[0].content) return completion({ content: 'Hello! How can I help you today?' });
  if (user === llmCasePrompts.systemAndUser.messages[1].content) {
    return completion({ content: 'Red.', usage: { prompt_tokens: 31, completion_tokens: 2 } });
  }
  if (user === llmCasePrompts.cutOff.messages[0].content) {
    return completion({ content: '2, 3, 5, 7,', finishReason: 'length', usage: { prompt_tokens: 19, completion_tokens: 5 } });
  }
  if (user === llmCasePrompts.json.messages[1].content) {
    return body.tools ? completion({ toolCalls: [{ name: 'facts', arguments: facts }] }) : completion({ content: JSON.stringify(facts) });
  }
  if (body.stream) return chatStreamReply(request, { content: 'Streamed hello.' });
  return { status: 400, body: errorBody('fake server: not a conformance request', 'invalid_request_error') };
}
