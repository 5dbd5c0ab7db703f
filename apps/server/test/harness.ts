import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { expect } from 'vitest';
import { createServer, type MemServer } from '../src/app';
import {
  createMemoryFromConfig,
  loadConfig,
  type ConfiguredMemory,
  type MemConfigInput,
  type MemoryOverrides,
  type RateLimitConfig,
} from '@mem/config';
import { ApiKeyStore, type PlainKeyDefinition } from '../src/keys';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** Keys most tests use: one tenant key per user, a key for two users, and an admin. */
export const KEYS = {
  alice: 'alice-secret-key-0000000001',
  bob: 'bob-secret-key-000000000002',
  team: 'team-secret-key-00000000003',
  admin: 'admin-secret-key-0000000004',
} as const;

export const KEY_DEFINITIONS: PlainKeyDefinition[] = [
  { id: 'alice-app', key: KEYS.alice, userIds: ['alice'] },
  { id: 'bob-app', key: KEYS.bob, userIds: ['bob'] },
  { id: 'team-app', key: KEYS.team, userIds: ['carol', 'dave'], agentIds: ['helper'] },
  { id: 'ops', key: KEYS.admin, admin: true },
];

export interface Response<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface TestServer {
  readonly url: string;
  readonly server: MemServer;
  /** The memory and the parts it was built from (e.g. to seed a graph store directly). */
  readonly configured: ConfiguredMemory;
  readonly dir: string;
  /** Every log line the server wrote. */
  readonly logs: string[];
  /** Sends a request (JSON body when given) and checks the response against the served OpenAPI document. */
  request<T = any>(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<Response<T>>;
  close(): Promise<void>;
}

/** Operations (operationId → statuses) whose responses were checked against the document, across all test servers of a file. */
export const validatedResponses = new Map<string, Set<number>>();

/**
 * Starts the server on 127.0.0.1:0 on a fresh SQLite file (the embedded default, lexical embedder,
 * no LLM unless given), with settings passed explicitly (never read from process.env).
 */
export async function startTestServer(
  options: {
    parts?: MemoryOverrides;
    hasLlm?: boolean;
    keys?: PlainKeyDefinition[];
    keysFile?: string;
    rateLimit?: Partial<RateLimitConfig>;
    bodyLimitBytes?: number;
    requestTimeoutMs?: number;
    /** The server's shutdownGraceMs (default: its own, requestTimeoutMs + 5 s). */
    shutdownGraceMs?: number;
    now?: () => number;
    config?: MemConfigInput;
    /** Folder of the memory browser's files; default: none served. */
    browserAssets?: string;
  } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mem-server-test-'));
  const config = loadConfig({ env: { MEM_DB: join(dir, 'mem.db') }, ...(options.config ? { overrides: options.config } : {}) });
  const configured = await createMemoryFromConfig(config, options.parts);
  const keys = ApiKeyStore.load({ keys: options.keys ?? KEY_DEFINITIONS, ...(options.keysFile ? { file: options.keysFile } : {}) });
  const logs: string[] = [];
  const server = await createServer({
    memory: configured.memory,
    keys,
    hasLlm: options.hasLlm ?? configured.llm !== undefined,
    hasGraph: configured.graphStore !== undefined,
    hasReranker: configured.reranker !== undefined,
    vectorStore: configured.vectorStore,
    embedder: configured.embedder,
    limits: {
      rateLimit: { burst: 10_000, perSecond: 10_000, ...options.rateLimit },
      ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    },
    log: { write: (line: string) => logs.push(line) },
    browserAssets: options.browserAssets ?? false,
    ...(options.now ? { now: options.now } : {}),
    ...(options.shutdownGraceMs ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const validator = await documentValidator(url);
  let closed = false;
  return {
    url,
    server,
    configured,
    dir,
    logs,
    async request(method, path, requestOptions = {}) {
      const headers: Record<string, string> = { ...requestOptions.headers };
      if (requestOptions.key) headers.authorization = `Bearer ${requestOptions.key}`;
      let body: string | undefined;
      if (requestOptions.rawBody !== undefined) body = requestOptions.rawBody;
      else if (requestOptions.body !== undefined) {
        body = JSON.stringify(requestOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await response.text();
      const parsed = text === '' ? undefined : JSON.parse(text);
      validator(method, path, response.status, parsed, response.headers);
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fetches the served document and returns a checker: the response must be documented for the
 * operation (status and JSON body schema); responses of undocumented paths or methods must have the error shape.
 */
async function documentValidator(url: string) {
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
    openapi: string;
    paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, unknown> }> }>>;
  };
  expect(document.openapi).toBe('3.1.0');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (pointer: string) => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json#${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };
  // A static path (`/v1/memories/import`) shadows a parametric one (`/v1/memories/{id}`), as in the server's router.
  const templates = Object.keys(document.paths)
    .map((template) => ({
      template,
      regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      parameters: (template.match(/\{/g) ?? []).length,
    }))
    .sort((a, b) => a.parameters - b.parameters);
  const escapeSegment = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

  return (method: string, path: string, status: number, body: unknown, headers: Headers) => {
    const pathOnly = path.split('?')[0]!;
    const template = templates.find((candidate) => candidate.regex.test(pathOnly))?.template;
    const operation = template ? document.paths[template]![method.toLowerCase()] : undefined;
    if (!operation) {
      expect(status, `${method} ${path} is not documented, so it must be 404 or 405`).toBeOneOf([404, 405]);
      const validate = validatorFor('/components/schemas/Error');
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
      return;
    }
    expect(Object.keys(operation.responses), `${operation.operationId} does not document status ${status}`).toContain(String(status));
    expect(headers.get('content-type') ?? '').toMatch(/^application\/json/);
    const validate = validatorFor(
      `/paths/${escapeSegment(template!)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`,
    );
    expect(validate(body), `${operation.operationId} ${status}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(body)}`).toBe(true);
    if (!validatedResponses.has(operation.operationId)) validatedResponses.set(operation.operationId, new Set());
    validatedResponses.get(operation.operationId)!.add(status);
  };
}

/** A promise with its resolve function outside: lets a test hold a call until it says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
