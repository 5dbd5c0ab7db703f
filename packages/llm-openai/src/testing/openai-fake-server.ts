import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashEmbedder } from '@mem/core/testing';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';

/** One request the fake server received, with its JSON body parsed. */
export interface FakeRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** The query string parameters, e.g. Azure's `api-version`. */
  readonly query: { readonly [name: string]: string };
  /** Lower-cased header names. */
  readonly headers: { readonly [name: string]: string };
  /** The JSON the client sent; read it typed with {@link chatBody} or {@link embeddingBody}. */
  readonly body: unknown;
}

/**
 * An HTTP answer: a fixture file has exactly this shape. `events` answers as a server-sent event
 * stream (`data: <json>` per event, then `data: [DONE]`), as the API does for `stream: true`; build
 * one with {@link chatStreamReply}. `hang` never answers (for abort tests).
 */
export type FakeReply =
  | { readonly status: number; readonly headers?: { readonly [name: string]: string }; readonly body?: unknown }
  | { readonly status: number; readonly headers?: { readonly [name: string]: string }; readonly events: readonly unknown[] }
  | { readonly hang: true };

/** A reply, or a function computing one from the request. */
export type FakeResponder = FakeReply | ((request: FakeRequest) => FakeReply | Promise<FakeReply>);

/** A local server speaking OpenAI's `/v1/chat/completions` and `/v1/embeddings` wire protocol. */
export interface OpenAIFakeServer {
  /** `http://127.0.0.1:<port>/v1`: pass it as `baseURL`. */
  readonly baseURL: string;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[];
  /** Queues replies, used one per request in order, before the fallback. */
  enqueue(...replies: FakeResponder[]): void;
  /** Answers requests once the queue is empty. @default a 400 error naming the unscripted request */
  fallback: FakeResponder | undefined;
  /** Resolves with the next request that arrives (or the one already waiting). */
  nextRequest(): Promise<FakeRequest>;
  /** Forgets requests and queued replies. */
  reset(): void;
  close(): Promise<void>;
}

const ROUTES = new Set(['POST /v1/chat/completions', 'POST /v1/embeddings']);

/**
 * Starts a fake OpenAI server on 127.0.0.1 and a free port. Replies come from the queue, then the
 * fallback. Embedding vectors in a reply are written as JSON arrays; the server encodes them as
 * base64 float32 little-endian when the request asks for `encoding_format: 'base64'`, as the API does.
 */
export async function startOpenAIFakeServer(options: { fallback?: FakeResponder } = {}): Promise<OpenAIFakeServer> {
  const queue: FakeResponder[] = [];
  const requests: FakeRequest[] = [];
  const waiters: ((request: FakeRequest) => void)[] = [];
  let delivered = 0;
  let fallback = options.fallback;

  const server = createServer((incoming, outgoing) => {
    void handle(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
      outgoing.end(
        JSON.stringify({ error: { message: `fake server failure: ${String(error)}`, type: 'server_error', param: null, code: null } }),
      );
    });
  });

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const request: FakeRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(
        Object.entries(incoming.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
      ),
      body: text.length > 0 ? JSON.parse(text) : undefined,
    };
    requests.push(request);
    const waiter = waiters.shift();
    if (waiter) {
      delivered++;
      waiter(request);
    }

    // Azure puts the deployment in the path: /openai/deployments/<name>/chat/completions.
    const route = `${request.method} ${request.path.replace(/^\/openai\/deployments\/[^/]+/, '/v1')}`;
    const responder = ROUTES.has(route)
      ? (queue.shift() ?? fallback)
      : { status: 404, body: errorBody(`Unknown route ${route}`, 'invalid_request_error') };
    const reply =
      responder === undefined
        ? {
            status: 400,
            body: errorBody(`fake server: no reply scripted for request ${requests.length} (${route})`, 'invalid_request_error'),
          }
        : typeof responder === 'function'
          ? await responder(request)
          : responder;
    if ('hang' in reply) return; // answered never; the client aborts or the server closes
    if ('events' in reply) {
      outgoing.writeHead(reply.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
      for (const event of reply.events) outgoing.write(`data: ${JSON.stringify(event)}\n\n`);
      outgoing.end('data: [DONE]\n\n');
      return;
    }
    const body =
      route === 'POST /v1/embeddings' && embeddingBody(request).encoding_format === 'base64' ? encodeEmbeddings(reply.body) : reply.body;
    outgoing.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    outgoing.end(body === undefined ? '' : JSON.stringify(body));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    get fallback() {
      return fallback;
    },
    set fallback(responder) {
      fallback = responder;
    },
    nextRequest: () => {
      if (delivered < requests.length) return Promise.resolve(requests[delivered++]!);
      return new Promise((resolve) => waiters.push(resolve));
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      delivered = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The body of a chat completions request, typed as the SDK builds it (tests read what the adapter sent). */
export function chatBody(request: FakeRequest): ChatCompletionCreateParamsNonStreaming {
  return (request.body ?? {}) as ChatCompletionCreateParamsNonStreaming;
}

/** The body of an embeddings request, typed as the SDK builds it. */
export function embeddingBody(request: FakeRequest): EmbeddingCreateParams {
  return (request.body ?? {}) as EmbeddingCreateParams;
}

/** The OpenAI error body shape: `{ error: { message, type, param, code } }`. */
export function errorBody(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

/** Replaces the JSON-array vectors of an embeddings reply by base64 float32 little-endian strings. */
function encodeEmbeddings(body: unknown): unknown {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data)) return body;
  return {
    ...(body as object),
    data: data.map((item: { embedding?: unknown }) => {
      if (!Array.isArray(item.embedding)) return item;
      const floats = Float32Array.from(item.embedding as number[]);
      const bytes = Buffer.alloc(floats.length * 4);
      floats.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
      return { ...item, embedding: bytes.toString('base64') };
    }),
  };
}

/**
 * A chat completion reply built on a fixture envelope with another answer: `content` replaces the
 * message content, `usage` the token counts.
 */
export function chatReply(
  fixture: { readonly status: number; readonly headers?: { readonly [name: string]: string }; readonly body?: unknown },
  answer: {
    readonly content: string;
    readonly finishReason?: string;
    readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
  },
): FakeReply {
  const body = structuredClone(fixture.body) as {
    choices: { message: { content: string | null }; finish_reason: string }[];
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  };
  body.choices[0]!.message.content = answer.content;
  if (answer.finishReason) body.choices[0]!.finish_reason = answer.finishReason;
  if (answer.usage) body.usage = { ...answer.usage, total_tokens: answer.usage.prompt_tokens + answer.usage.completion_tokens };
  return { ...fixture, body };
}

/**
 * A streamed chat completion (`stream: true`) answering `content`: a role chunk, the content in
 * word-sized chunks, a chunk with `finish_reason`, and, when the request asked for it with
 * `stream_options.include_usage`, a last chunk with `usage` and no choices, as the API sends them.
 */
export function chatStreamReply(
  request: FakeRequest,
  answer: { readonly content: string; readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } },
): FakeReply {
  const body = chatBody(request) as { model?: string; stream_options?: { include_usage?: boolean } };
  const envelope = { id: 'chatcmpl-fake-stream', object: 'chat.completion.chunk', created: 1751026135, model: body.model ?? 'unknown' };
  const chunk = (delta: object, finishReason: string | null = null) => ({
    ...envelope,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  const pieces = answer.content.match(/\S+\s*|\s+/g) ?? [];
  const usage = answer.usage ?? { prompt_tokens: 0, completion_tokens: pieces.length };
  return {
    status: 200,
    events: [
      chunk({ role: 'assistant', content: '', refusal: null }),
      ...pieces.map((piece) => chunk({ content: piece })),
      chunk({}, 'stop'),
      ...(body.stream_options?.include_usage
        ? [{ ...envelope, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }]
        : []),
    ],
  };
}

/**
 * Answers an embeddings request with lexical vectors (core's `HashEmbedder`): texts that share words
 * are close, so searches rank as a reader expects. Honours `dimensions` (default 64). Reports as
 * billed tokens what `countTokens` counts (default: words, roughly what a tokenizer counts).
 */
export function lexicalEmbeddings(request: FakeRequest, countTokens: (text: string) => number = countWords): FakeReply {
  const { input, dimensions, model } = embeddingBody(request);
  const texts = Array.isArray(input) ? (input as string[]) : [String(input)];
  const embedder = new HashEmbedder({ dimensions: dimensions ?? 64 });
  const tokens = texts.reduce((sum, text) => sum + countTokens(text), 0);
  return {
    status: 200,
    body: {
      object: 'list',
      data: texts.map((text, index) => ({ object: 'embedding', index, embedding: embedder.vectorOf(text) })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Headers worth asserting: drops the credential, user agent, SDK telemetry and per-connection noise. */
export function stableHeaders(headers: { readonly [name: string]: string }): { [name: string]: string } {
  const noise =
    /^(authorization|api-key|user-agent|x-stainless-.*|host|connection|content-length|accept-encoding|accept-language|sec-fetch-mode|traceparent|tracestate)$/;
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => !noise.test(name))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}
