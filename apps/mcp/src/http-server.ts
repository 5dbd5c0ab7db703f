import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { integerOption } from '@mem/core/adapter';
import { InvalidInputError, MissingSettingError, type Memory, type Scope } from '@mem/core';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { checkUserScope, createMemMcpServer } from './mcp-server';

/** Options of {@link startMemHttpServer}. */
export interface MemHttpServerOptions {
  /** The memory every request reads and writes. {@link MemHttpServer.close} does not close it. */
  readonly memory: Memory;
  /**
   * Without tokens: whose memories every request sees, e.g. `{ userId: 'alice' }`. Only allowed on a
   * loopback address, where the machine's own users are the clients. Give `scope` or `tokens`.
   */
  readonly scope?: Scope;
  /**
   * Bearer tokens and the scope each one may read and write, e.g.
   * `{ 'token-of-alice': { userId: 'alice' }, 'token-of-bob': { userId: 'bob', agentId: 'cursor' } }`.
   * When given, every request needs `Authorization: Bearer <token>` and sees only its token's scope.
   */
  readonly tokens?: ReadonlyMap<string, Scope> | { readonly [token: string]: Scope };
  /** Address to listen on. Anything but loopback requires `tokens`. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on; `0` picks a free one (see {@link MemHttpServer.port}). @default 8765 */
  readonly port?: number;
  /** Whether `add_memory` extracts facts when a call leaves `infer` out. Pass `true` only with an LLM. @default false */
  readonly inferByDefault?: boolean;
  /** Largest request body, in bytes; larger ones get 413. @default 4194304 (4 MiB) */
  readonly maxRequestBodyBytes?: number;
  /** Called with the tool name and the error when a tool fails with something that is not a `MemError`. */
  readonly onUnexpectedError?: (tool: string, error: unknown) => void;
}

/** A running Streamable HTTP MCP server. */
export interface MemHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8765/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and resolves once in-flight requests have been answered. */
  close(): Promise<void>;
}

/** The default port of the HTTP transport. */
export const DEFAULT_HTTP_PORT = 8765;
/** The path of the MCP endpoint. */
export const MCP_PATH = '/mcp';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Serves mem's MCP tools over Streamable HTTP (stateless: every POST is authenticated and answered
 * on its own, so no session can carry one client's scope to another).
 *
 * Safety: binds 127.0.0.1 by default; on loopback, requests whose `Host` is not a loopback name
 * are refused (DNS rebinding), and so is any request from a browser page of another origin.
 *
 * @throws {MissingSettingError} when neither `scope` nor `tokens` is given.
 * @throws {InvalidInputError} for both at once, a scope without `userId`, a bad port, or a
 *   non-loopback `host` without tokens.
 * @example
 * const server = await startMemHttpServer({ memory, tokens: { [process.env.MEM_MCP_TOKEN!]: { userId: 'alice' } } });
 * console.error(`MCP endpoint: ${server.url}`);
 */
export async function startMemHttpServer(options: MemHttpServerOptions): Promise<MemHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const port = integerOption(options.port, 'port', DEFAULT_HTTP_PORT, 0, 65_535);
  const maxRequestBodySize = integerOption(options.maxRequestBodyBytes, 'maxRequestBodyBytes', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const tokens = tokenTable(options.tokens);
  const loopback = LOOPBACK_HOSTS.has(host);
  if (tokens.length > 0 && options.scope !== undefined) {
    throw new InvalidInputError(
      'scope',
      'is given together with tokens',
      'Give scope (one user, no authentication, loopback only) or tokens (one scope per token), not both.',
    );
  }
  if (tokens.length === 0 && options.scope === undefined) {
    throw new MissingSettingError(
      'scope or tokens',
      'Give the user whose memories the server serves (--user-id), or bearer tokens (MEM_MCP_TOKEN, --tokens-file).',
    );
  }
  if (tokens.length === 0 && !loopback) {
    throw new InvalidInputError(
      'host',
      `is ${host}, not a loopback address, and no tokens are configured`,
      'Configure bearer tokens (MEM_MCP_TOKEN or --tokens-file), or listen on 127.0.0.1.',
    );
  }
  const fixedScope = options.scope === undefined ? undefined : checkUserScope(options.scope, 'scope');
  let inFlight = 0;

  const server = createServer((request, response) => {
    inFlight += 1;
    response.on('close', () => (inFlight -= 1));
    handle(request, response).catch(() => {
      if (!response.headersSent) sendError(response, 500, -32603, 'Internal error.');
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_PATH) return sendError(response, 404, -32000, `Not found. The MCP endpoint is ${MCP_PATH}.`);
    if (loopback && !isLoopbackHost(request.headers.host))
      return sendError(response, 403, -32000, 'Forbidden: the Host header must name this machine (localhost or 127.0.0.1).');
    const origin = request.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin))
      return sendError(response, 403, -32000, 'Forbidden: requests from web pages of other origins are refused.');
    const scope = fixedScope ?? authenticate(tokens, request.headers.authorization);
    if (!scope) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="mem-mcp"');
      return sendError(response, 401, -32001, 'Unauthorized: send Authorization: Bearer <token> with a configured token.');
    }
    // Stateless: no standalone SSE stream (GET) and no session to end (DELETE).
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      return sendError(response, 405, -32000, 'Method not allowed: this stateless MCP endpoint takes POST only.');
    }
    const mcp = createMemMcpServer({
      memory: options.memory,
      scope,
      inferByDefault: options.inferByDefault ?? false,
      ...(options.onUnexpectedError ? { onUnexpectedError: options.onUnexpectedError } : {}),
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize });
    response.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(request, response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}${MCP_PATH}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        // close() waits for open connections; idle keep-alive ones would hold it forever.
        server.close(() => resolve());
        server.closeIdleConnections();
        if (inFlight === 0) server.closeAllConnections();
      }),
  };
}

interface TokenEntry {
  readonly digest: Buffer;
  readonly scope: Scope;
}

function tokenTable(input: MemHttpServerOptions['tokens']): TokenEntry[] {
  if (input === undefined) return [];
  const entries = input instanceof Map ? [...input.entries()] : Object.entries(input as { readonly [token: string]: Scope });
  return entries.map(([token, scope], index) => {
    if (typeof token !== 'string' || token.length < 16) {
      throw new InvalidInputError(
        `tokens[${index}]`,
        'a token is shorter than 16 characters',
        'Use long random tokens, e.g. `openssl rand -hex 32`.',
      );
    }
    return { digest: digest(token), scope: checkUserScope(scope, `tokens[${index}].scope`) };
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The scope of the bearer token, or undefined. Compares digests in constant time, against every entry. */
function authenticate(tokens: readonly TokenEntry[], header: string | undefined): Scope | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const presented = digest(match[1]!);
  let found: Scope | undefined;
  for (const entry of tokens) {
    if (timingSafeEqual(entry.digest, presented)) found = entry.scope;
  }
  return found;
}

function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  try {
    return LOOPBACK_HOSTS.has(new URL(`http://${header}`).hostname);
  } catch {
    return false;
  }
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}
