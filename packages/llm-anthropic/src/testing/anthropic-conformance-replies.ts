import { llmCasePrompts } from '@mem/conformance';
import cachedPrompt from '../__fixtures__/anthropic-messages-cached-prompt.json';
import messageText from '../__fixtures__/anthropic-messages-text.json';
import toolUse from '../__fixtures__/anthropic-messages-tool-use.json';
import { errorBody, messagesBody, textReply, type FakeReply, type FakeRequest } from './anthropic-fake-server';

/**
 * Answers the requests of `@mem/conformance`'s LLM cases from the fixtures. The case is recognised
 * by its exact messages (`llmCasePrompts`) once the system prompt is put back in front, since the
 * adapter moves system messages to the `system` parameter. Anything else gets a 400.
 */
export function anthropicConformanceReplies(request: FakeRequest): FakeReply {
  const body = messagesBody(request);
  const system = typeof body.system === 'string' ? [{ role: 'system', content: body.system }] : [];
  const messages = JSON.stringify([...system, ...(body.messages ?? [])]);
  const sameAs = (prompt: { readonly messages: readonly unknown[] }) => messages === JSON.stringify(prompt.messages);
  if (sameAs(llmCasePrompts.plain)) return messageText;
  if (sameAs(llmCasePrompts.systemAndUser)) return cachedPrompt;
  if (sameAs(llmCasePrompts.cutOff))
    return textReply(messageText, { text: '2, 3, 5, 7', stopReason: 'max_tokens', usage: { input_tokens: 19, output_tokens: 5 } });
  if (sameAs(llmCasePrompts.json) && body.tool_choice?.type === 'tool' && body.tool_choice.name === llmCasePrompts.json.responseFormat.name)
    return toolUse;
  return { status: 400, body: errorBody('invalid_request_error', 'fake server: not a conformance request') };
}
