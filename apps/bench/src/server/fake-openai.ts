import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LexicalEmbedder } from '@mem/core';
import { countTokens } from 'gpt-tokenizer';
import { answerChat, classifyChat, contentText, type ChatKind, type ChatRequestBody } from './answers';

/** Counters of one request kind. */
export interface KindStats {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Texts embedded (embedding requests only). */
  inputs: number;
  /** Time spent handling these requests inside the server, in milliseconds (request received → response sent). */
  serverMs: number;
}

/** Everything the server counted since it started (or since the last reset). */
export interface ServerStats {
  readonly kinds: Record<string, KindStats>;
  readonly totalServerMs: number;
}

export interface FakeOpenAIServerOptions {
  /** Latency added to every request, modelling a real API. @default 0 */
  readonly latencyMs?: number;
  /** Port to listen on (127.0.0.1 only). @default 0 (any free port) */
  readonly port?: number;
}

const NATIVE_DIMENSIONS: Record<string, number> = { 'text-embedding-3-large': 3072 };
const DEFAULT_DIMENSIONS = 1536;

/**
 * A local OpenAI-compatible server for the benchmarks: `POST /v1/chat/completions` and
 * `POST /v1/embeddings`, answered deterministically (see `answers.ts`), with token counts from
 * gpt-tokenizer (o200k). `GET /_stats` returns the counters, `POST /_reset` clears them.
 *
 * Prompt tokens follow OpenAI's accounting for gpt-4o-family chat models: the tokens of each
 * message's content plus 3 per message and 3 to prime the reply; a `json_schema` response format or
 * a tool adds the tokens of its JSON (the schema is part of what the model reads).
 */
export class FakeOpenAIServer {
  private readonly server: Server;
  private readonly latencyMs: number;
  private readonly embedders = new Map<number, LexicalEmbedder>();
  private kinds: Record<string, KindStats> = {};
  private totalServerMs = 0;

  constructor(private readonly options: FakeOpenAIServerOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  stats(): ServerStats {
    return { kinds: structuredClone(this.kinds), totalServerMs: this.totalServerMs };
  }

  reset(): void {
    this.kinds = {};
    this.totalServerMs = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private count(kind: string): KindStats {
    return (this.kinds[kind] ??= { calls: 0, promptTokens: 0, completionTokens: 0, inputs: 0, serverMs: 0 });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const start = performance.now();
    let kind: string | undefined;
    response.on('finish', () => {
      if (kind === undefined) return;
      const elapsed = performance.now() - start;
      this.count(kind).serverMs += elapsed;
      this.totalServerMs += elapsed;
    });
    try {
      const path = (request.url ?? '').split('?')[0]!;
      if (request.method === 'GET' && path === '/_stats') return send(response, 200, this.stats());
      if (request.method === 'POST' && path === '/_reset') {
        this.reset();
        return send(response, 200, { ok: true });
      }
      const body = await readJson(request);
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      if (request.method === 'POST' && path.endsWith('/chat/completions')) {
        const chatKind = classifyChat(body as ChatRequestBody);
        kind = `chat:${chatKind}`;
        return send(response, 200, this.chat(chatKind, body as ChatRequestBody));
      }
      if (request.method === 'POST' && path.endsWith('/embeddings')) {
        kind = 'embeddings';
        return send(response, 200, this.embeddings(body as EmbeddingRequestBody));
      }
      return send(response, 404, { error: { message: `No route ${request.method} ${path}`, type: 'invalid_request_error' } });
    } catch (error) {
      return send(response, 400, {
        error: { message: error instanceof Error ? error.message : 'bad request', type: 'invalid_request_error' },
      });
    }
  }

  private chat(kind: ChatKind, body: ChatRequestBody): unknown {
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw new Error('messages is required');
    const text = answerChat(kind, body);
    let promptTokens = 3;
    for (const message of body.messages) promptTokens += 3 + countTokens(contentText(message.content));
    if (body.response_format?.type === 'json_schema') promptTokens += countTokens(JSON.stringify(body.response_format.json_schema ?? {}));
    if (body.tools) promptTokens += countTokens(JSON.stringify(body.tools));
    const completionTokens = countTokens(text);
    const stats = this.count(`chat:${kind}`);
    stats.calls++;
    stats.promptTokens += promptTokens;
    stats.completionTokens += completionTokens;
    const tool = body.tools?.[0]?.function?.name;
    const message =
      tool && body.tool_choice !== 'none'
        ? {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_bench', type: 'function', function: { name: tool, arguments: text } }],
          }
        : { role: 'assistant', content: text, refusal: null };
    return {
      id: `chatcmpl-bench-${stats.calls}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model: body.model ?? 'bench',
      choices: [{ index: 0, message, finish_reason: tool ? 'tool_calls' : 'stop', logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }

  private embeddings(body: EmbeddingRequestBody): unknown {
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input) => typeof input === 'string')) {
      throw new Error('input must be a string or an array of strings');
    }
    const dimensions = body.dimensions ?? NATIVE_DIMENSIONS[body.model ?? ''] ?? DEFAULT_DIMENSIONS;
    let embedder = this.embedders.get(dimensions);
    if (!embedder) this.embedders.set(dimensions, (embedder = new LexicalEmbedder({ dimensions })));
    let tokens = 0;
    const data = inputs.map((input, index) => {
      tokens += countTokens(input);
      const vector = embedder.vectorOf(input);
      return {
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : vector,
      };
    });
    const stats = this.count('embeddings');
    stats.calls++;
    stats.promptTokens += tokens;
    stats.inputs += inputs.length;
    return { object: 'list', data, model: body.model ?? 'text-embedding-3-small', usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }
}

interface EmbeddingRequestBody {
  readonly input?: unknown;
  readonly model?: string;
  readonly dimensions?: number;
  readonly encoding_format?: 'float' | 'base64';
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
