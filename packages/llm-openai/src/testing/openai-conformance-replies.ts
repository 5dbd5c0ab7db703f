import { llmCasePrompts } from '@mem/conformance';
import jsonSchema from '../__fixtures__/openai-chat-json-schema.json';
import length from '../__fixtures__/openai-chat-length.json';
import chatText from '../__fixtures__/openai-chat-text.json';
import toolCall from '../__fixtures__/openai-chat-tool-call.json';
import { chatBody, chatReply, errorBody, lexicalEmbeddings, type FakeReply, type FakeRequest } from './openai-fake-server';

/**
 * Answers the requests of `@mem/conformance`'s LLM and embedder cases from the fixtures: the case
 * is recognised by its exact messages (`llmCasePrompts`), the JSON case by the structured-output
 * mode the request uses. Anything else gets a 400, so an unexpected request fails the case loudly.
 */
export function openAIConformanceReplies(request: FakeRequest): FakeReply {
  if (request.path.endsWith('/embeddings')) return lexicalEmbeddings(request);
  const body = chatBody(request);
  const messages = JSON.stringify(body.messages);
  const sameAs = (prompt: { readonly messages: readonly unknown[] }) => messages === JSON.stringify(prompt.messages);
  if (sameAs(llmCasePrompts.plain)) return chatText;
  if (sameAs(llmCasePrompts.systemAndUser))
    return chatReply(chatText, { content: 'Red.', usage: { prompt_tokens: 31, completion_tokens: 2 } });
  if (sameAs(llmCasePrompts.json)) return body.tools ? toolCall : jsonSchema;
  if (sameAs(llmCasePrompts.cutOff))
    return chatReply(length, { content: '2, 3, 5, 7,', finishReason: 'length', usage: { prompt_tokens: 19, completion_tokens: 5 } });
  return { status: 400, body: errorBody('fake server: not a conformance request', 'invalid_request_error') };
}
