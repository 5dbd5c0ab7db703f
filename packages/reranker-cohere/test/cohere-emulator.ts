import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Cohere's v2 Rerank endpoint (`POST /v2/rerank`), for tests. It checks each
 * request the way Cohere's published API reference describes it (the V2RerankRequest schema the
 * cohere-ai SDK is generated from): bearer authentication, a JSON body whose only fields are
 * `model` (string, required), `query` (string, required), `documents` (array of strings, required,
 * at most 10,000), `top_n` (integer ≥ 1), `max_tokens_per_doc` (integer ≥ 1) and `priority`
 * (integer); anything else, such as a camelCase name leaking onto the wire, is a 400. It answers
 * like the API: `results` sorted by relevance, each `{ index, relevance_score }` in [0, 1], cut to
 * `top_n`, with `id` and `meta`.
 *
 * Relevance is word overlap: the share of the query's words (lower-cased, 3+ letters) found in the
 * document, so a score depends only on the query and the document, never on the batch.
 */
export interface CohereEmulator {
  readonly url: string;
  /** Every request received, parsed, in order (including refused ones). */
  readonly requests: { readonly path: string; readonly authorization: string | undefined; readonly body: unknown }[];
  /** The next calls answer with these instead of ranking: a status with an optional body and headers. */
  readonly failures: { status: number; body?: unknown; headers?: Record<string, string> }[];
  /** When set, the next call answers 200 with this body instead of ranking. */
  rawAnswer: unknown;
  /** Milliseconds to wait before answering (timeouts, aborts). */
  delayMs: number;
  close(): Promise<void>;
}

const ALLOWED_FIELDS = new Set(['model', 'query', 'documents', 'top_n', 'max_tokens_per_doc', 'priority']);

/** The relevance the emulator gives `document` for `query`. */
export function emulatorScore(query: string, document: string): number {
  const words = (text: string) => new Set(text.toLowerCase().match(/\p{L}{3,}/gu) ?? []);
  const asked = words(query);
  if (asked.size === 0) return 0;
  const found = words(document);
  let shared = 0;
  for (const word of asked) if (found.has(word)) shared += 1;
  return shared / asked.size;
}

export async function startCohereEmulator(options: { token?: string } = {}): Promise<CohereEmulator> {
  const token = options.token ?? 'test-key';
  let counter = 0;
  const emulator: CohereEmulator = {
    url: '',
    requests: [],
    failures: [],
    rawAnswer: undefined,
    delayMs: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    emulator.requests.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
    if (emulator.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, emulator.delayMs));
    if (request.method !== 'POST' || request.url !== '/v2/rerank') return send(response, 404, { message: 'not found' });
    if (request.headers.authorization !== `Bearer ${token}`) return send(response, 401, { message: 'invalid api token' });
    const failure = emulator.failures.shift();
    if (failure) return send(response, failure.status, failure.body ?? { message: 'failure' }, failure.headers);
    if (emulator.rawAnswer !== undefined) {
      const raw = emulator.rawAnswer;
      emulator.rawAnswer = undefined;
      return send(response, 200, raw);
    }
    if (!String(request.headers['content-type']).startsWith('application/json')) {
      return send(response, 400, { message: 'content-type must be application/json' });
    }
    const problem = checkBody(body);
    if (problem) return send(response, 400, { message: problem });
    const { query, documents, top_n } = body as { query: string; documents: string[]; top_n?: number };
    const results = documents
      .map((document, index) => ({ index, relevance_score: emulatorScore(query, document) }))
      .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
      .slice(0, top_n ?? documents.length);
    counter += 1;
    return send(response, 200, {
      id: `emulated-${counter}`,
      results,
      meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
    });
  };
  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 500, { message: 'emulator failure' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(emulator, { url: `http://127.0.0.1:${port}` });
}

function checkBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const fields = body as Record<string, unknown>;
  for (const name of Object.keys(fields)) if (!ALLOWED_FIELDS.has(name)) return `unknown field ${name}`;
  if (typeof fields.model !== 'string' || fields.model === '') return 'model: a non-empty string is required';
  if (typeof fields.query !== 'string') return 'query: a string is required';
  if (!Array.isArray(fields.documents) || fields.documents.some((document) => typeof document !== 'string')) {
    return 'documents: an array of strings is required';
  }
  if (fields.documents.length > 10_000) return 'documents: at most 10000';
  for (const name of ['top_n', 'max_tokens_per_doc'] as const) {
    const value = fields[name];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1)) return `${name}: an integer of at least 1`;
  }
  if (fields.priority !== undefined && !Number.isInteger(fields.priority)) return 'priority: an integer';
  return undefined;
}
