import { randomUUID } from 'node:crypto';
import { MemError, type Embedder, type Memory, type SearchOptions, type SearchResponse, type VectorStore } from '@mem/core';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RateLimitConfig, ServerConfig } from '@mem/config';
import { memoryCatalog } from './browse';
import { registerBrowser } from './browser-assets';
import { HttpError, toErrorResponse } from './http-errors';
import type { ApiKey, ApiKeyStore } from './keys';
import { createLogger, type LogSink, type Logger } from './logger';
import { buildOpenApiDocument, type RouteAuth, type RouteDocumentation } from './openapi';
import { RateLimiter } from './rate-limit';
import { COMPONENTS, ERROR_CODES } from './schemas';
import { memoryRoutes, type RouteContext } from './routes';
import { UsageLog } from './usage-log';

// ajv-formats is CommonJS with a default export; under ESM interop the function may sit on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
  formats?: string[],
) => Ajv;

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** The memory the API serves. The server closes it on {@link MemServer.shutdown}. */
  readonly memory: Memory;
  readonly keys: ApiKeyStore;
  /** Whether the memory has an LLM: decides the default of `infer` and what the document allows. */
  readonly hasLlm: boolean;
  /** Whether the memory has a reranker (`MEM_RERANKER`): decides what `rerank` on search the document allows. @default false */
  readonly hasReranker?: boolean;
  /** Whether the memory has a graph store (the memory browser then shows the graph). @default false */
  readonly hasGraph?: boolean;
  /**
   * The memory's vector store. The embedded SQLite store lets `GET /v1/scopes` list scopes and
   * `order=newest` read its index backwards; other stores (or none given) list newest first by
   * reading the whole scope, and cannot list scopes.
   */
  readonly vectorStore?: VectorStore;
  /** The memory's embedder: `POST /v1/memories/import` re-embeds with it (without it, import answers 400 MISSING_SETTING). */
  readonly embedder?: Embedder;
  /** How many add / search / update / import requests `GET /v1/usage` remembers. @default 500 */
  readonly usageCapacity?: number;
  /**
   * Folder of the memory browser's built files (`index.html`, `app.js`, `app.css`), served at `/`;
   * `false` serves no page. @default the package's `dist/browser`
   */
  readonly browserAssets?: string | false;
  /** Limits; missing ones take the defaults of `loadConfig`. */
  readonly limits?: Partial<Pick<ServerConfig, 'bodyLimitBytes' | 'requestTimeoutMs'>> & { readonly rateLimit?: Partial<RateLimitConfig> };
  /** Where the structured log lines go. @default process.stderr */
  readonly log?: LogSink | 'silent';
  /** Clock of the rate limiter, in milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Longest wait for in-flight requests on shutdown before connections are cut, in milliseconds. @default requestTimeoutMs + 5000 */
  readonly shutdownGraceMs?: number;
  /** Version in the OpenAPI document. */
  readonly version?: string;
  /**
   * Runs `POST /v1/search` instead of `memory.search` (the search workers of `MEM_READ_WORKERS`,
   * see {@link ReadPool}); the server closes it on {@link MemServer.shutdown}, before the memory.
   */
  readonly searcher?: Searcher;
}

/** Something that answers `Memory.search` calls, e.g. a pool of worker threads. */
export interface Searcher {
  search(query: string, options: SearchOptions): Promise<SearchResponse>;
  close(): Promise<void>;
}

/** A running (or ready to listen) REST server. */
export interface MemServer {
  readonly app: FastifyInstance;
  /** The OpenAPI 3.1 document served at `/openapi.json`. */
  readonly document: Record<string, unknown>;
  readonly logger: Logger;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:8420`. */
  listen(options: { host: string; port: number }): Promise<string>;
  /**
   * Stops accepting requests, lets in-flight ones finish (writes complete), then closes the stores.
   * Safe to call twice.
   */
  shutdown(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
    startedAt?: bigint;
  }
}

/**
 * Builds the REST server: routes for every `Memory` operation, API keys bound to scopes, an
 * OpenAPI 3.1 document made from the validating schemas, `/docs`, limits, one error shape.
 *
 * @example
 * const configured = await createMemoryFromConfig(loadConfig());
 * const server = await createServer({ memory: configured.memory, hasLlm: Boolean(configured.llm), keys: ApiKeyStore.load({ keys: [...] }) });
 * const url = await server.listen({ host: '127.0.0.1', port: 8420 });
 */
export async function createServer(options: CreateServerOptions): Promise<MemServer> {
  const logger = createLogger(options.log);
  const bodyLimit = options.limits?.bodyLimitBytes ?? 1024 * 1024;
  const requestTimeoutMs = options.limits?.requestTimeoutMs ?? 120_000;
  const limiter = new RateLimiter({
    burst: options.limits?.rateLimit?.burst ?? 60,
    perSecond: options.limits?.rateLimit?.perSecond ?? 20,
    ...(options.now ? { now: options.now } : {}),
  });
  const inflight = new Set<Promise<unknown>>();
  let shuttingDown = false;
  let closing: Promise<void> | undefined;

  const app = Fastify({
    logger: false,
    bodyLimit,
    // Time to receive a whole request (slow clients); handlers have their own limit, requestTimeoutMs.
    requestTimeout: 60_000,
    // Memory ids may be long (and percent-encoded); fastify's default of 100 characters would 404 them.
    routerOptions: { maxParamLength: 4096 },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // We answer 503 in our own error shape while shutting down.
    return503OnClosing: false,
    exposeHeadRoutes: false,
  });

  // The API takes JSON only (415 for anything else, as documented); fastify also parses text/plain by default.
  app.removeContentTypeParser('text/plain');

  // Bodies are validated strictly (no type coercion, unknown properties rejected); query strings and
  // path parameters are text, so numbers in them are coerced.
  // verbose: a violation carries the rejected value and its schema, so the error can name the bounds.
  const ajvOptions = { allErrors: false, strict: true, removeAdditional: false, useDefaults: false, verbose: true } as const;
  const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
  const textAjv = new Ajv({ ...ajvOptions, coerceTypes: true });
  for (const ajv of [bodyAjv, textAjv]) {
    addFormats(ajv, ['date-time']);
    for (const component of COMPONENTS) ajv.addSchema(component);
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  // Responses are plain data shaped like the document's schemas; JSON.stringify writes dates as ISO 8601.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const sendError = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const { status, body, headers } = toErrorResponse(error, request.id, request.body);
    if (status >= 500) {
      logger.error({
        msg: 'request failed',
        requestId: request.id,
        errorCode: body.error.code,
        errorName: error instanceof Error ? error.name : typeof error,
        // The frames only: an error's message may quote data, its stack frames name code.
        ...(status === 500 && error instanceof Error && error.stack
          ? {
              stack: error.stack
                .split('\n')
                .slice(1)
                .map((line) => line.trim())
                .join(' | '),
            }
          : {}),
        route: request.routeOptions.url ?? 'unknown',
      });
    }
    return reply.code(status).headers(headers).send(body);
  };

  app.setErrorHandler((error, request, reply) => {
    // A body over the limit is refused before it is read, and fastify then closes the connection
    // (`connection: close`): a client still sending the rest (fetch sends the whole body before
    // reading) gets EPIPE or a reset instead of the 413. Keeping the connection lets Node read and
    // discard the rest of the body, so the client can read the answer; a client that never finishes
    // sending is cut by the server's request timeout, as any slow request is.
    if ((error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' && !shuttingDown) reply.removeHeader('connection');
    return sendError(request, reply, error);
  });

  const routes: RouteDocumentation[] = [];
  let document: Record<string, unknown> = {};
  const patterns: { regex: RegExp; parameters: number; methods: Set<string> }[] = [];

  const notFound = (method: string, url: string): HttpError => {
    const path = url.split('?')[0]!;
    const allowed = [...allowedMethods(path)];
    if (allowed.length > 0) {
      return new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed.join(', ')}.`, {
        headers: { allow: allowed.join(', ') },
      });
    }
    return new HttpError(404, 'ROUTE_NOT_FOUND', 'No such endpoint. See /openapi.json or /docs.');
  };
  /** Methods of a path: a static path (`/v1/memories/list`) shadows a parametric one (`/v1/memories/:id`). */
  const allowedMethods = (path: string): Set<string> => {
    const matching = patterns.filter((pattern) => pattern.regex.test(path));
    const fewestParameters = Math.min(...matching.map((pattern) => pattern.parameters));
    return new Set(matching.filter((pattern) => pattern.parameters === fewestParameters).flatMap((pattern) => [...pattern.methods]));
  };
  app.setNotFoundHandler((request, reply) => sendError(request, reply, notFound(request.method, request.url)));

  app.addHook('onRequest', async (request, reply) => {
    request.startedAt = process.hrtime.bigint();
    void reply.header('x-request-id', request.id);
    if (shuttingDown && !request.url.startsWith('/healthz')) {
      throw new HttpError(503, 'SHUTTING_DOWN', 'The server is shutting down; retry against another instance.');
    }
    const url = request.routeOptions.url;
    // Unknown path or method: answered here, before the body is parsed. The router would send
    // GET /v1/memories/list to /v1/memories/:id; the document says only POST is allowed there.
    if (url === undefined) throw notFound(request.method, request.url);
    const methods = allowedMethods(request.url.split('?')[0]!);
    if (methods.size > 0 && !methods.has(request.method)) throw notFound(request.method, request.url);
    const auth = request.routeOptions.config.auth ?? (url.startsWith('/v1') ? 'key' : 'none');
    if (auth === 'none') return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const key = match ? options.keys.authenticate(match[1]!) : undefined;
    if (!key) {
      // Failed attempts are rate limited per address, so keys cannot be guessed quickly.
      const decision = limiter.take(`ip:${request.ip}`);
      if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
      throw new HttpError(
        401,
        'UNAUTHENTICATED',
        match ? 'The API key is not valid (unknown or revoked).' : 'Send an API key: Authorization: Bearer <key>.',
        {
          headers: { 'www-authenticate': 'Bearer' },
        },
      );
    }
    request.apiKey = key;
    const decision = limiter.take(`key:${key.id}`);
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
    if (auth === 'admin' && !key.admin) throw new HttpError(403, 'FORBIDDEN', 'This endpoint needs an admin key.');
  });

  // While shutting down, every response (in-flight ones included) closes its connection, so the
  // server is not kept open by idle keep-alive connections.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shuttingDown) void reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const durationMs = request.startedAt === undefined ? undefined : Number(process.hrtime.bigint() - request.startedAt) / 1e6;
    logger.info({
      msg: 'request',
      method: request.method,
      route: request.routeOptions.url ?? 'unknown',
      status: reply.statusCode,
      ...(durationMs === undefined ? {} : { durationMs: Math.round(durationMs * 100) / 100 }),
      ...(request.apiKey ? { keyId: request.apiKey.id } : {}),
      requestId: request.id,
    });
  });

  const context: RouteContext = {
    memory: options.memory,
    search: options.searcher
      ? (query, searchOptions) => options.searcher!.search(query, searchOptions)
      : (query, searchOptions) => options.memory.search(query, searchOptions),
    keys: options.keys,
    hasLlm: options.hasLlm,
    hasReranker: options.hasReranker ?? false,
    isShuttingDown: () => shuttingDown,
    document: () => document,
    catalog: memoryCatalog(options.memory, options.vectorStore),
    usage: new UsageLog(options.usageCapacity),
    embedder: options.embedder,
    hasGraph: options.hasGraph ?? false,
  };
  for (const route of memoryRoutes(context)) {
    routes.push(route);
    const regex = new RegExp(`^${route.url.replace(/:[A-Za-z]+/g, '[^/]+')}/?$`);
    const existing = patterns.find((pattern) => pattern.regex.source === regex.source);
    if (existing) existing.methods.add(route.method);
    else patterns.push({ regex, parameters: (route.url.match(/:/g) ?? []).length, methods: new Set([route.method]) });
    app.route({
      method: route.method,
      url: route.url,
      config: { auth: route.auth },
      schema: {
        ...(route.body ? { body: route.body } : {}),
        ...(route.querystring ? { querystring: route.querystring } : {}),
        ...(route.params ? { params: route.params } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
      },
      handler: async (request, reply) => {
        const signal = AbortSignal.timeout(requestTimeoutMs);
        const work = route.handle({ request, key: request.apiKey, signal });
        inflight.add(work);
        try {
          const result = await work;
          return reply.code(route.status).send(result);
        } catch (error) {
          if (signal.aborted && MemError.is(error, 'ABORTED')) {
            throw new HttpError(
              504,
              'TIMEOUT',
              `The request took longer than ${requestTimeoutMs} ms (MEM_REQUEST_TIMEOUT_MS) and was stopped.`,
            );
          }
          throw error;
        } finally {
          inflight.delete(work);
        }
      },
    });
  }

  document = buildOpenApiDocument(routes, {
    title: 'mem REST API',
    version: options.version ?? '0.0.0',
    description: [
      'Long-term memory for AI assistants. Every data call is scoped (userId, agentId, runId) and authorised by an API key bound to the scopes it may read and write.',
      '',
      `Errors always have the shape { "error": { "code", "message", "field"? } }; code is one of ${ERROR_CODES.join(', ')}.`,
      '',
      options.hasLlm
        ? 'This server has an LLM: add extracts facts (infer defaults to true).'
        : 'This server has no LLM: add stores messages as given (infer is false).',
    ].join('\n'),
  });

  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true }, staticCSP: true });
  if (options.browserAssets !== false) registerBrowser(app, options.browserAssets);

  return {
    app,
    document,
    logger,
    async listen({ host, port }) {
      await app.listen({ host, port });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
      logger.info({ msg: 'listening', url });
      return url;
    },
    shutdown() {
      closing ??= (async () => {
        shuttingDown = true;
        logger.info({ msg: 'shutting down: finishing in-flight requests' });
        const grace = setTimeout(() => app.server.closeAllConnections(), options.shutdownGraceMs ?? requestTimeoutMs + 5_000);
        grace.unref();
        try {
          // Stops accepting connections and waits for the open ones; in-flight handlers run to the end.
          await app.close();
          await Promise.allSettled([...inflight]);
        } finally {
          clearTimeout(grace);
          try {
            await options.searcher?.close();
          } finally {
            await options.memory.close();
          }
          logger.info({ msg: 'stopped' });
        }
      })();
      return closing;
    },
  };
}

function rateLimited(retryAfterSeconds: number): HttpError {
  return new HttpError(429, 'RATE_LIMITED', `Too many requests for this API key; retry in ${retryAfterSeconds} s.`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}
