import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, MemError, type Embedder, type LLM } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import { AnthropicLLM } from '@mem/llm-anthropic';
import {
  startAnthropicFakeServer,
  toolReply as anthropicToolReply,
  type AnthropicFakeServer,
  type FakeReply as AnthropicReply,
  type FakeRequest as AnthropicRequest,
} from '@mem/llm-anthropic/testing';
import { OpenAIEmbedder, OpenAILLM } from '@mem/llm-openai';
import {
  chatReply,
  lexicalEmbeddings,
  startOpenAIFakeServer,
  type FakeReply as OpenAIReply,
  type FakeRequest as OpenAIRequest,
  type OpenAIFakeServer,
} from '@mem/llm-openai/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigure } from './support/figures';

// Secrets: API keys, prompts and memory text never appear in errors or logs. Failures are driven
// through the LLM and embedding adapters against their fake servers, with a sentinel API key, a
// sentinel in the conversation (memory text) and in the custom prompt. The servers are hostile:
// their error messages echo the credential and the whole request body, as a misbehaving proxy would.
// Checked: the error is a typed MemError; its message, stack and fields hold no sentinel; the whole
// error as console.error would print it (cause chain included) never holds the key, nor the memory
// text unless the server itself echoed it (then only inside `cause`, the provider's own words);
// nothing at all was written to the console, stdout or stderr.

const KEY = 'sk-SENTINELKEY-4f7a9c2e81d0b3';
const MEMORY_TEXT = 'SENTINEL-MEMORY my pin code is 4312';
const PROMPT = 'SENTINEL-PROMPT remember only pin codes';
const SENTINELS = { key: KEY, memory: 'SENTINEL-MEMORY', prompt: 'SENTINEL-PROMPT' } as const;

type Reply = OpenAIReply & AnthropicReply;
type Request = OpenAIRequest & AnthropicRequest;

/** Echoes what a hostile or buggy server could: the credential headers and the request body. */
const echo = (request: Request) => `headers=${JSON.stringify(request.headers)} body=${JSON.stringify(request.body)}`;
const openAIError =
  (status: number) =>
  (request: Request): Reply => ({
    status,
    body: { error: { message: echo(request), type: 'invalid_request_error', param: null, code: null } },
  });
const anthropicError =
  (status: number, type: string) =>
  (request: Request): Reply => ({ status, body: { type: 'error', error: { type, message: echo(request) } } });

interface Scenario {
  readonly name: string;
  /** What the server answers (every request). */
  readonly reply: (request: Request) => Reply | { hang: true };
  /** Whether the server's answer echoes the request (so the provider's own text, kept as `cause`, may hold it). */
  readonly echoes: boolean;
  readonly abortAfterMs?: number;
}

const OPENAI_SCENARIOS: readonly Scenario[] = [
  { name: '401 echoing the key and the body', reply: openAIError(401), echoes: true },
  { name: '403 echoing', reply: openAIError(403), echoes: true },
  { name: '400 echoing the body', reply: openAIError(400), echoes: true },
  { name: '404 echoing', reply: openAIError(404), echoes: true },
  {
    name: '429 (retried, then given up)',
    reply: (request) => ({ ...openAIError(429)(request), headers: { 'retry-after-ms': '1' } }),
    echoes: true,
  },
  { name: '500 echoing', reply: openAIError(500), echoes: true },
  {
    name: '200 with a JSON string instead of a completion',
    reply: (request) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: undefined, ...{ raw: echo(request) } }),
    echoes: false,
  },
  { name: '200 with the wrong shape', reply: (request) => ({ status: 200, body: { unexpected: echo(request) } }), echoes: true },
  { name: 'no answer (timeout)', reply: () => ({ hang: true }), echoes: false },
  { name: 'no answer (caller aborts)', reply: () => ({ hang: true }), echoes: false, abortAfterMs: 50 },
];

const ANTHROPIC_SCENARIOS: readonly Scenario[] = [
  { name: '401 echoing the key and the body', reply: anthropicError(401, 'authentication_error'), echoes: true },
  { name: '400 echoing the body', reply: anthropicError(400, 'invalid_request_error'), echoes: true },
  {
    name: '429 (retried, then given up)',
    reply: (request) => ({ ...anthropicError(429, 'rate_limit_error')(request), headers: { 'retry-after': '0' } }),
    echoes: true,
  },
  { name: '529 overloaded echoing', reply: anthropicError(529, 'overloaded_error'), echoes: true },
  { name: '500 echoing', reply: anthropicError(500, 'api_error'), echoes: true },
  { name: '200 with the wrong shape', reply: (request) => ({ status: 200, body: { content: echo(request) } }), echoes: true },
  { name: 'no answer (timeout)', reply: () => ({ hang: true }), echoes: false },
  { name: 'no answer (caller aborts)', reply: () => ({ hang: true }), echoes: false, abortAfterMs: 50 },
];

/** Captures everything written to the console, stdout and stderr while `work` runs. */
async function capturingOutput<T>(work: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; output: string }> {
  const chunks: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = methods.map((method) => console[method]);
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  for (const method of methods)
    console[method] = (...args: unknown[]) =>
      void chunks.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 8 }))).join(' '));
  process.stdout.write = ((chunk: unknown) => chunks.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => chunks.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    return { result: await work(), error: undefined, output: chunks.join('\n') };
  } catch (error) {
    return { result: undefined, error, output: chunks.join('\n') };
  } finally {
    methods.forEach((method, index) => (console[method] = saved[index]!));
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

/** The error's own fields (everything but `cause`), as text. */
function ownFields(error: object): string {
  return JSON.stringify(Object.fromEntries(Object.entries(error).filter(([key]) => key !== 'cause')));
}

function leaks(label: string, error: unknown, output: string, echoed: boolean): string[] {
  const found: string[] = [];
  if (!MemError.is(error)) return [`${label}: expected a typed MemError, got ${error === undefined ? 'success' : String(error)}`];
  const surface = `${error.message}\n${error.stack ?? ''}\n${ownFields(error)}`;
  const printed = inspect(error, { depth: 12 });
  for (const [what, sentinel] of Object.entries(SENTINELS)) {
    if (surface.includes(sentinel)) found.push(`${label}: the ${what} appears in the error's message, stack or fields`);
    if (output.includes(sentinel)) found.push(`${label}: the ${what} was written to the console, stdout or stderr`);
    // The key must not be anywhere, even deep in the cause chain; request content only where the server put it there.
    if ((what === 'key' || !echoed) && printed.includes(sentinel))
      found.push(`${label}: the ${what} appears in the printed error (cause chain)`);
  }
  if (output.length > 0) found.push(`${label}: the adapter wrote to the console: ${output.slice(0, 200).replaceAll(KEY, '<key>')}`);
  return found;
}

let openai: OpenAIFakeServer;
let anthropic: AnthropicFakeServer;
let current: Scenario | undefined;
let closedPort: number;

beforeAll(async () => {
  const respond = (request: Request): Reply | Promise<Reply> => {
    const reply = current!.reply(request);
    if ('hang' in reply) return new Promise<Reply>(() => undefined);
    const raw = (reply as { raw?: string }).raw;
    return raw === undefined ? reply : { ...reply, body: raw.slice(0, 10) };
  };
  openai = await startOpenAIFakeServer({ fallback: (request) => respond(request as Request) });
  anthropic = await startAnthropicFakeServer({ fallback: (request) => respond(request as Request) });
  closedPort = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => resolve(address.port));
    });
  });
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});

function memoryWith(llm: LLM, embedder: Embedder): Memory {
  return new Memory({ llm, embedder, vectorStore: new InMemoryVectorStore(), historyStore: new InMemoryHistoryStore() });
}

async function drive(label: string, memory: Memory, scenario: Scenario): Promise<string[]> {
  current = scenario;
  const controller = new AbortController();
  if (scenario.abortAfterMs !== undefined) setTimeout(() => controller.abort(), scenario.abortAfterMs);
  const { error, output } = await capturingOutput(() =>
    memory.add([{ role: 'user', content: MEMORY_TEXT }], { scope: { userId: 'u1' }, prompt: PROMPT, signal: controller.signal }),
  );
  return leaks(label, error, output, scenario.echoes);
}

const connection = { apiKey: KEY, maxRetries: 1, retryInitialDelayMs: 1, retryMaxDelayMs: 2, timeoutMs: 300 };

describe('secrets never reach errors or logs', () => {
  it('OpenAILLM and OpenAIEmbedder: every failure of the fake server, and a server that is not there', async () => {
    const violations: string[] = [];
    let cases = 0;
    for (const scenario of OPENAI_SCENARIOS) {
      // The LLM fails (embeddings work), then the embedder fails.
      openai.fallback = (request) =>
        request.path.endsWith('/embeddings') ? lexicalEmbeddings(request) : (current!.reply(request as Request) as OpenAIReply);
      current = scenario;
      violations.push(
        ...(await drive(
          `openai chat: ${scenario.name}`,
          memoryWith(
            new OpenAILLM({ ...connection, baseURL: openai.baseURL }),
            new OpenAIEmbedder({ ...connection, baseURL: openai.baseURL }),
          ),
          scenario,
        )),
      );
      openai.fallback = (request) => {
        const reply = current!.reply(request as Request);
        return 'hang' in reply ? new Promise<OpenAIReply>(() => undefined) : (reply as OpenAIReply);
      };
      violations.push(
        ...(await drive(
          `openai embeddings: ${scenario.name}`,
          memoryWith(
            new OpenAILLM({ ...connection, baseURL: openai.baseURL }),
            new OpenAIEmbedder({ ...connection, baseURL: openai.baseURL }),
          ),
          scenario,
        )),
      );
      cases += 2;
    }
    // A chat answer that stays unusable after the corrective retry: the model's text holds the memory.
    openai.fallback = (request) =>
      request.path.endsWith('/embeddings')
        ? lexicalEmbeddings(request)
        : chatReply(OPENAI_COMPLETION, { content: `I cannot format this. The user said: ${MEMORY_TEXT}; ${PROMPT}` });
    violations.push(
      ...(await drive(
        'openai chat: unusable answer twice',
        memoryWith(
          new OpenAILLM({ ...connection, baseURL: openai.baseURL }),
          new OpenAIEmbedder({ ...connection, baseURL: openai.baseURL }),
        ),
        { name: 'unusable', reply: () => ({ hang: true }), echoes: false },
      )),
    );
    // Nothing listening.
    const nowhere = `http://127.0.0.1:${closedPort}/v1`;
    violations.push(
      ...(await drive(
        'openai: connection refused',
        memoryWith(new OpenAILLM({ ...connection, baseURL: nowhere }), new OpenAIEmbedder({ ...connection, baseURL: nowhere })),
        { name: 'refused', reply: () => ({ hang: true }), echoes: false },
      )),
    );
    cases += 2;
    recordFigure({
      category: 'secrets (errors and logs scanned)',
      backend: 'llm-openai (fake server)',
      cases,
      violations: violations.length,
    });
    expect(violations).toEqual([]);
  });

  it('AnthropicLLM: every failure of the fake server, and a server that is not there', async () => {
    const violations: string[] = [];
    let cases = 0;
    anthropic.fallback = (request) => {
      const reply = current!.reply(request as Request);
      return 'hang' in reply ? new Promise<AnthropicReply>(() => undefined) : (reply as AnthropicReply);
    };
    for (const scenario of ANTHROPIC_SCENARIOS) {
      violations.push(
        ...(await drive(
          `anthropic: ${scenario.name}`,
          memoryWith(new AnthropicLLM({ ...connection, baseURL: anthropic.baseURL }), new HashEmbedder()),
          scenario,
        )),
      );
      cases++;
    }
    anthropic.fallback = (request) => toolReply(request, `I refuse. The user said: ${MEMORY_TEXT}; ${PROMPT}`);
    violations.push(
      ...(await drive(
        'anthropic: unusable answer twice',
        memoryWith(new AnthropicLLM({ ...connection, baseURL: anthropic.baseURL }), new HashEmbedder()),
        { name: 'unusable', reply: () => ({ hang: true }), echoes: false },
      )),
    );
    violations.push(
      ...(await drive(
        'anthropic: connection refused',
        memoryWith(new AnthropicLLM({ ...connection, baseURL: `http://127.0.0.1:${closedPort}` }), new HashEmbedder()),
        { name: 'refused', reply: () => ({ hang: true }), echoes: false },
      )),
    );
    cases += 2;
    recordFigure({
      category: 'secrets (errors and logs scanned)',
      backend: 'llm-anthropic (fake server)',
      cases,
      violations: violations.length,
    });
    expect(violations).toEqual([]);
  });
});

/** A chat completion in the documented shape; `chatReply` puts the answer in. */
const OPENAI_COMPLETION = {
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: {
    id: 'chatcmpl-hardening',
    object: 'chat.completion',
    created: 1751026198,
    model: 'gpt-4.1-mini-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 212, completion_tokens: 14, total_tokens: 226 },
  },
};

/** A forced-tool message in the documented shape; `toolReply` puts the tool name and input in. */
const ANTHROPIC_TOOL_USE = {
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: {
    id: 'msg_hardening',
    type: 'message',
    role: 'assistant',
    model: 'claude-haiku-4-5-20251001',
    content: [{ type: 'tool_use', id: 'toolu_hardening', name: 'facts', input: {} }],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 642, output_tokens: 58 },
  },
};

/** A forced-tool answer whose input is not the operations object. */
function toolReply(request: AnthropicRequest, text: string): AnthropicReply {
  const sent = request.body as { tool_choice?: { name?: string } };
  return anthropicToolReply(ANTHROPIC_TOOL_USE, { name: sent.tool_choice?.name ?? 'memory_operations', input: { note: text } });
}
