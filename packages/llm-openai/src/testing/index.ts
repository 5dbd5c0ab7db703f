/**
 * `@mem/llm-openai/testing`: the local server speaking OpenAI's Chat Completions and Embeddings wire
 * protocol that this package's tests use, for other packages' tests (e.g. an AI SDK provider pointed
 * at it). Not for production use.
 */
export {
  startOpenAIFakeServer,
  chatBody,
  embeddingBody,
  errorBody,
  chatReply,
  chatStreamReply,
  lexicalEmbeddings,
  stableHeaders,
  type FakeReply,
  type FakeRequest,
  type FakeResponder,
  type OpenAIFakeServer,
} from './openai-fake-server';
