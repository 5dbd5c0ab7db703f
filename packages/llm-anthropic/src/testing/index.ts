/**
 * `@mem/llm-anthropic/testing`: the local server speaking Anthropic's Messages API that this
 * package's tests use, for other packages' tests (point any Anthropic client's `baseURL` at it).
 * Not for production use.
 */
export {
  startAnthropicFakeServer,
  messagesBody,
  errorBody,
  textReply,
  toolReply,
  stableHeaders,
  type AnthropicFakeServer,
  type FakeReply,
  type FakeRequest,
  type FakeResponder,
} from './anthropic-fake-server';
