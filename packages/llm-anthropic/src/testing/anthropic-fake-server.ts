import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';

/** One request the fake server received, with its JSON body parsed. */
export interface FakeRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  readonly path: string;
  /** Lower-cased header names. */
  readonly headers: { readonly [name: string]: string };
  /** The JSON the client sent; read it typed with {@link messagesBody}. */
  readonly body: unknown;
}

/** An HTTP answer: a fixture file has exactly this shape. `hang` never answers (for abort tests). */
export type FakeReply =
  | { readonly status: number; readonly headers?: { readonly [name: string]: string }; readonly body?: unknown }
  | { readonly hang: true };

/** A reply, or a function computing one from the request. */
export type FakeResponder = FakeReply | ((request: FakeRequest) => FakeReply | Promise<FakeReply>);

/** A local server speaking Anthropic's `/v1/messages` wire protocol (non-streaming). */
export interface AnthropicFakeServer {
  /** `http://127.0.0.1:<port>`: pass it as `baseURL` (the SDK adds `/v1`). */
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

/**
 * Starts a fake Anthropic API on 127.0.0.1 and a free port. Like the real API it rejects a request
 * without `anthropic-version` or with a body missing `model`, `max_tokens` or `messages` (400
 * `invalid_request_error`), then answers from the queue, then the fallback.
 */
export async function startAnthropicFakeServer(options: { fallback?: FakeResponder } = {}): Promise<AnthropicFakeServer> {
  const queue: FakeResponder[] = [];
  const requests: FakeRequest[] = [];
  const waiters: ((request: FakeRequest) => void)[] = [];
  let delivered = 0;
  let fallback = options.fallback;

  const server = createServer((incoming, outgoing) => {
    void handle(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify(errorBody('api_error', `fake server failure: ${String(error)}`)));
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

    const reply = await replyTo(request);
    if ('hang' in reply) return; // answered never; the client aborts or the server closes
    outgoing.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    outgoing.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  async function replyTo(request: FakeRequest): Promise<FakeReply> {
    if (`${request.method} ${request.path}` !== 'POST /v1/messages') {
      return { status: 404, body: errorBody('not_found_error', `Unknown route ${request.method} ${request.path}`) };
    }
    if (!request.headers['anthropic-version']) {
      return { status: 400, body: errorBody('invalid_request_error', 'anthropic-version: header is required') };
    }
    const body = messagesBody(request);
    const missing = (['model', 'max_tokens', 'messages'] as const).filter((field) => body[field] === undefined);
    if (missing.length > 0) return { status: 400, body: errorBody('invalid_request_error', `${missing[0]}: Field required`) };
    const responder = queue.shift() ?? fallback;
    if (responder === undefined)
      return { status: 400, body: errorBody('invalid_request_error', `fake server: no reply scripted for request ${requests.length}`) };
    return typeof responder === 'function' ? responder(request) : responder;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}`,
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

/** The body of a Messages API request, typed as the SDK builds it (tests read what the adapter sent). */
export function messagesBody(request: FakeRequest): MessageCreateParamsNonStreaming {
  return (request.body ?? {}) as MessageCreateParamsNonStreaming;
}

/** The Anthropic error body shape: `{ type: 'error', error: { type, message } }`. */
export function errorBody(type: string, message: string): unknown {
  return { type: 'error', error: { type, message } };
}

type FixtureReply = { readonly status: number; readonly headers?: { readonly [name: string]: string }; readonly body?: unknown };

/** A text reply built on a fixture envelope: `text` replaces the content, `usage` the token counts. */
export function textReply(
  fixture: FixtureReply,
  answer: {
    readonly text: string;
    readonly stopReason?: string;
    readonly usage?: { readonly input_tokens: number; readonly output_tokens: number };
  },
): FakeReply {
  const body = structuredClone(fixture.body) as { content: unknown[]; stop_reason: string; usage: object };
  body.content = [{ type: 'text', text: answer.text }];
  if (answer.stopReason) body.stop_reason = answer.stopReason;
  if (answer.usage) body.usage = { ...body.usage, ...answer.usage };
  return { ...fixture, body };
}

/** A forced-tool reply built on a fixture envelope: `input` replaces the tool input, `name` the tool name. */
export function toolReply(
  fixture: FixtureReply,
  answer: {
    readonly name: string;
    readonly input: unknown;
    readonly usage?: { readonly input_tokens: number; readonly output_tokens: number };
  },
): FakeReply {
  const body = structuredClone(fixture.body) as { content: { type: string; name?: string; input?: unknown }[]; usage: object };
  const block = body.content.find((candidate) => candidate.type === 'tool_use');
  if (!block) throw new Error('toolReply needs a fixture with a tool_use block');
  block.name = answer.name;
  block.input = answer.input;
  if (answer.usage) body.usage = { ...body.usage, ...answer.usage };
  return { ...fixture, body };
}

/** Headers worth asserting: drops the credential, user agent, SDK telemetry and per-connection noise. */
export function stableHeaders(headers: { readonly [name: string]: string }): { [name: string]: string } {
  const noise =
    /^(authorization|x-api-key|user-agent|x-stainless-.*|host|connection|content-length|accept-encoding|accept-language|sec-fetch-mode|traceparent|tracestate)$/;
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => !noise.test(name))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}
