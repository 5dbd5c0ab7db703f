import { CATEGORIES_KEY, EXPIRES_AT_KEY, MEMORY_TYPE_KEY, hashText, uuidv7 } from '@mem/core/adapter';
import {
  MemError,
  MissingSettingError,
  NotFoundError,
  UsageMeter,
  type AddResult,
  type Embedder,
  type HistoryEvent,
  type Memory,
  type MemoryItem,
  type MemoryRecord,
  type Scope,
  type SearchResponse,
  type Usage,
} from '@mem/core';
import type { FastifyRequest } from 'fastify';
import type { MemoryCatalog } from './browse';
import { HttpError } from './http-errors';
import { authorizeScope, type ApiKey, type ApiKeyStore } from './keys';
import type { RouteDocumentation } from './openapi';
import type { UsageEntry, UsageLog } from './usage-log';
import {
  AddHeadersSchema,
  AddResponseSchema,
  CreateKeyRequestSchema,
  CreateKeyResponseSchema,
  DeleteAllRequestSchema,
  DeleteAllResponseSchema,
  DeleteResponseSchema,
  HealthResponseSchema,
  HistoryResponseSchema,
  IdParamsSchema,
  ImportRequestSchema,
  ImportResponseSchema,
  KeyIdParamsSchema,
  KeyListResponseSchema,
  ListQuerySchema,
  ListRequestSchema,
  ListResponseSchema,
  LimitQuerySchema,
  MemoryItemSchema,
  OpenApiDocumentSchema,
  ReadyResponseSchema,
  ResetResponseSchema,
  RevokeKeyResponseSchema,
  ScopeListResponseSchema,
  ScopeQuerySchema,
  ScopeRequestSchema,
  searchRequestSchema,
  SearchResponseSchema,
  UpdateRequestSchema,
  UpdateResponseSchema,
  UsageResponseSchema,
  WhoAmIResponseSchema,
  addRequestSchema,
  IDEMPOTENCY_KEY_HEADER,
  type AddHeaders,
  type AddRequest,
  type CreateKeyRequest,
  type DeleteAllRequest,
  type ImportRequest,
  type ListQuery,
  type ListRequest,
  type ScopeQuery,
  type ScopeRequest,
  type SearchRequest,
  type UpdateRequest,
} from './schemas';

/** What the route handlers share. */
export interface RouteContext {
  readonly memory: Memory;
  /** `POST /v1/search`: `memory.search`, or the search workers (`MEM_READ_WORKERS`). */
  readonly search: Memory['search'];
  readonly keys: ApiKeyStore;
  readonly hasLlm: boolean;
  /** Whether the memory has a reranker: decides what `rerank` the document allows. */
  readonly hasReranker: boolean;
  readonly isShuttingDown: () => boolean;
  /** The OpenAPI document (built after the routes). */
  readonly document: () => Record<string, unknown>;
  /** Scopes with counts and newest-first listing (the memory browser's needs). */
  readonly catalog: MemoryCatalog;
  /** What the last add / search / update / import requests cost. */
  readonly usage: UsageLog;
  /** Re-embeds imported memories; without it, import answers MISSING_SETTING. */
  readonly embedder: Embedder | undefined;
  /** Whether the memory has a graph store. */
  readonly hasGraph: boolean;
}

/** A route: its documentation (which the server also validates with) and its handler. */
export interface Route extends RouteDocumentation {
  handle(call: { request: FastifyRequest; key: ApiKey | undefined; signal: AbortSignal }): Promise<unknown>;
}

const KEY_ERRORS = [400, 401, 403, 429, 500, 502, 503, 504] as const;
const BODY_ERRORS = [...KEY_ERRORS, 413, 415] as const;
const ADMIN_ERRORS = [400, 401, 403, 429, 500, 503] as const;

/** The API's routes, in the order the document lists them. */
export function memoryRoutes(context: RouteContext): Route[] {
  const { memory } = context;
  const keyOf = (key: ApiKey | undefined): ApiKey => {
    if (!key) throw new HttpError(401, 'UNAUTHENTICATED', 'Send an API key: Authorization: Bearer <key>.');
    return key;
  };
  const queryScope = (request: FastifyRequest, key: ApiKey | undefined) => {
    const query = request.query as ScopeQuery;
    return authorizeScope(
      keyOf(key),
      {
        ...(query.userId ? { userId: query.userId } : {}),
        ...(query.agentId ? { agentId: query.agentId } : {}),
        ...(query.runId ? { runId: query.runId } : {}),
      },
      '',
    );
  };
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  /** Remembers what a request spent (counts only, never its content). */
  const recordUsage = (operation: UsageEntry['operation'], key: ApiKey | undefined, scope: Scope, started: number, usage: Usage) =>
    context.usage.record({
      at: new Date(),
      operation,
      keyId: keyOf(key).id,
      scope,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      usage,
    });
  /** A page of a scope, in id order or newest first. */
  const listPage = async (request: {
    scope: Scope;
    filter?: ListRequest['filter'];
    pageSize?: number;
    cursor?: string;
    order?: ListRequest['order'];
    includeExpired?: boolean;
    signal: AbortSignal;
  }) => {
    const { scope, filter, pageSize, cursor, order, signal } = request;
    const includeExpired = request.includeExpired === true ? { includeExpired: true } : {};
    const page =
      order === 'newest'
        ? await context.catalog.newest({
            scope,
            pageSize: pageSize ?? 100,
            ...(filter ? { filter } : {}),
            ...(cursor ? { cursor } : {}),
            ...includeExpired,
            signal,
          })
        : await memory.getAll({
            scope,
            ...(filter ? { filter } : {}),
            ...(pageSize ? { pageSize } : {}),
            ...(cursor ? { cursor } : {}),
            ...includeExpired,
            signal,
          });
    return { results: page.results.map(itemJson), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  };

  return [
    {
      method: 'POST',
      url: '/v1/memories',
      operationId: 'addMemories',
      summary: 'Add memories from a conversation',
      description:
        'Learns from messages: with an LLM (infer: true), extracts facts and reconciles them with what is stored (ADD, UPDATE, DELETE, NONE); with infer: false, stores the messages as given; with memoryType: procedural, summarises the run of an agent (tool calls and results included) into one new procedural memory with one LLM call. Returns one event per fact, the memories created or updated, and the providers usage. With an Idempotency-Key header the request is safe to retry: a retry (same key, scope and body) gets the first response and writes nothing.',
      tag: 'memories',
      auth: 'key',
      body: addRequestSchema(context.hasLlm),
      headers: AddHeadersSchema,
      status: 200,
      response: AddResponseSchema,
      errors: [...BODY_ERRORS, 422],
      links: Object.fromEntries(
        (['getMemory', 'updateMemory', 'deleteMemory', 'memoryHistory'] as const).map((operationId) => [
          operationId,
          {
            operationId,
            parameters: { 'path.id': '$response.body#/memories/0/id', 'query.userId': '$response.body#/memories/0/scope/userId' },
          },
        ]),
      ),
      async handle({ request, key, signal }) {
        const body = request.body as AddRequest;
        const scope = authorizeScope(keyOf(key), body.scope);
        const idempotencyKey = (request.headers as AddHeaders)['idempotency-key'];
        const started = performance.now();
        const result = await memory
          .add(body.messages, {
            scope,
            // A procedural memory always needs the LLM: without one, core says so (MISSING_SETTING).
            infer: body.infer ?? (context.hasLlm || body.memoryType === 'procedural'),
            ...(body.metadata ? { metadata: body.metadata } : {}),
            ...(body.prompt ? { prompt: body.prompt } : {}),
            ...(body.occurredAt !== undefined ? { occurredAt: body.occurredAt } : {}),
            ...(body.expiresAt !== undefined ? { expiresAt: body.expiresAt } : {}),
            ...(body.memoryType !== undefined ? { memoryType: body.memoryType } : {}),
            ...(body.categories !== undefined ? { categories: body.categories } : {}),
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
            signal,
          })
          .catch((error: unknown) => {
            if (!MemError.is(error, 'IDEMPOTENCY_KEY_REUSED')) throw error;
            throw new HttpError(
              422,
              'IDEMPOTENCY_KEY_REUSED',
              `The ${IDEMPOTENCY_KEY_HEADER} header was already used in this scope for a request with a different body; nothing was written. Retry with exactly the same body, or send a fresh key for a new request.`,
              { field: IDEMPOTENCY_KEY_HEADER },
            );
          });
        recordUsage('add', key, scope, started, result.usage);
        return addResultJson(result);
      },
    },
    {
      method: 'GET',
      url: '/v1/memories',
      operationId: 'listMemories',
      summary: 'List the memories of a scope',
      description:
        'Pages through the memories of a scope in id (creation) order, or newest first with order=newest. Pass nextCursor as cursor for the next page. To filter by metadata, use POST /v1/memories/list.',
      tag: 'memories',
      auth: 'key',
      querystring: ListQuerySchema,
      status: 200,
      response: ListResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key, signal }) {
        const query = request.query as ListQuery;
        return listPage({
          scope: queryScope(request, key),
          ...(query.pageSize ? { pageSize: query.pageSize } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.order ? { order: query.order } : {}),
          ...(query.includeExpired ? { includeExpired: true } : {}),
          signal,
        });
      },
    },
    {
      method: 'POST',
      url: '/v1/memories/list',
      operationId: 'listMemoriesFiltered',
      summary: 'List the memories of a scope, filtered',
      description: 'Like GET /v1/memories, with a metadata filter in the body.',
      tag: 'memories',
      auth: 'key',
      body: ListRequestSchema,
      status: 200,
      response: ListResponseSchema,
      errors: BODY_ERRORS,
      async handle({ request, key, signal }) {
        const body = request.body as ListRequest;
        return listPage({
          scope: authorizeScope(keyOf(key), body.scope),
          ...(body.filter ? { filter: body.filter } : {}),
          ...(body.pageSize ? { pageSize: body.pageSize } : {}),
          ...(body.cursor ? { cursor: body.cursor } : {}),
          ...(body.order ? { order: body.order } : {}),
          ...(body.includeExpired ? { includeExpired: true } : {}),
          signal,
        });
      },
    },
    {
      method: 'DELETE',
      url: '/v1/memories',
      operationId: 'deleteAllMemories',
      summary: 'Delete every memory of a scope',
      description:
        'Deletes all memories of the scope (however many); their history is kept. To delete only those matching a filter, use POST /v1/memories/delete.',
      tag: 'memories',
      auth: 'key',
      querystring: ScopeQuerySchema,
      status: 200,
      response: DeleteAllResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key, signal }) {
        return memory.deleteAll({ scope: queryScope(request, key), signal });
      },
    },
    {
      method: 'POST',
      url: '/v1/memories/delete',
      operationId: 'deleteMemoriesFiltered',
      summary: 'Delete the memories of a scope that match a filter',
      description: 'Deletes every memory of the scope matching the filter (all of them without one).',
      tag: 'memories',
      auth: 'key',
      body: DeleteAllRequestSchema,
      status: 200,
      response: DeleteAllResponseSchema,
      errors: BODY_ERRORS,
      async handle({ request, key, signal }) {
        const body = request.body as DeleteAllRequest;
        return memory.deleteAll({ scope: authorizeScope(keyOf(key), body.scope), ...(body.filter ? { filter: body.filter } : {}), signal });
      },
    },
    {
      method: 'POST',
      url: '/v1/memories/purge-expired',
      operationId: 'purgeExpiredMemories',
      summary: 'Delete the expired memories of a scope',
      description:
        'Deletes every memory of the scope whose expiresAt has passed, however many (each gets a DELETE in its history). Expired memories are already left out of search and list; this removes them for good.',
      tag: 'memories',
      auth: 'key',
      body: ScopeRequestSchema,
      status: 200,
      response: DeleteAllResponseSchema,
      errors: BODY_ERRORS,
      async handle({ request, key, signal }) {
        const body = request.body as ScopeRequest;
        return memory.purgeExpired({ scope: authorizeScope(keyOf(key), body.scope), signal });
      },
    },
    {
      method: 'GET',
      url: '/v1/memories/:id',
      operationId: 'getMemory',
      summary: 'Get one memory',
      description: 'The memory with this id in the scope; 404 when there is none (also when it belongs to another scope).',
      tag: 'memories',
      auth: 'key',
      params: IdParamsSchema,
      querystring: ScopeQuerySchema,
      status: 200,
      response: MemoryItemSchema,
      errors: [...KEY_ERRORS, 404],
      async handle({ request, key, signal }) {
        const id = idOf(request);
        const item = await memory.get(id, { scope: queryScope(request, key), signal });
        if (!item) throw new NotFoundError('memory', id);
        return itemJson(item);
      },
    },
    {
      method: 'PATCH',
      url: '/v1/memories/:id',
      operationId: 'updateMemory',
      summary: 'Update a memory',
      description:
        'Changes the text (re-embedded), merges metadata keys and/or sets the expiry (null: never expires). Scope ids never change. Expired memories can be updated.',
      tag: 'memories',
      auth: 'key',
      params: IdParamsSchema,
      querystring: ScopeQuerySchema,
      body: UpdateRequestSchema,
      status: 200,
      response: UpdateResponseSchema,
      errors: [...BODY_ERRORS, 404],
      async handle({ request, key, signal }) {
        const body = request.body as UpdateRequest;
        const scope = queryScope(request, key);
        const started = performance.now();
        const { memory: updated, usage } = await memory.update(idOf(request), body, { scope, signal });
        recordUsage('update', key, scope, started, usage);
        return { memory: itemJson(updated), usage };
      },
    },
    {
      method: 'DELETE',
      url: '/v1/memories/:id',
      operationId: 'deleteMemory',
      summary: 'Delete a memory',
      description: 'Deletes the memory with this id in the scope; its history is kept. `deleted: false` when there was none in the scope.',
      tag: 'memories',
      auth: 'key',
      params: IdParamsSchema,
      querystring: ScopeQuerySchema,
      status: 200,
      response: DeleteResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key, signal }) {
        return memory.delete(idOf(request), { scope: queryScope(request, key), signal });
      },
    },
    {
      method: 'GET',
      url: '/v1/history/:id',
      operationId: 'memoryHistory',
      summary: 'The change log of a memory',
      description:
        'Every ADD, UPDATE and DELETE of the memory, oldest first; empty when the memory never belonged to the scope. A resource of its own (not under /v1/memories/{id}): it outlives the memory, whose last event is its DELETE.',
      tag: 'memories',
      auth: 'key',
      params: IdParamsSchema,
      querystring: ScopeQuerySchema,
      status: 200,
      response: HistoryResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key, signal }) {
        const events = await memory.history(idOf(request), { scope: queryScope(request, key), signal });
        return { results: events.map(historyJson) };
      },
    },
    {
      method: 'POST',
      url: '/v1/search',
      operationId: 'searchMemories',
      summary: 'Search the memories of a scope',
      description:
        'Semantic similarity fused with keyword (BM25) search, filtered by metadata, best first. With graph memory, also the relations around the query.',
      tag: 'search',
      auth: 'key',
      body: searchRequestSchema(context.hasReranker),
      status: 200,
      response: SearchResponseSchema,
      errors: BODY_ERRORS,
      async handle({ request, key, signal }) {
        const body = request.body as SearchRequest;
        const { query, scope, ...rest } = body;
        const authorized = authorizeScope(keyOf(key), scope);
        const started = performance.now();
        const response = await context.search(query, { ...rest, scope: authorized, signal });
        recordUsage('search', key, authorized, started, response.usage);
        return searchJson(response);
      },
    },
    {
      method: 'POST',
      url: '/v1/memories/import',
      operationId: 'importMemories',
      summary: 'Restore memories as they were',
      description: `Stores memories with their ids, dates and metadata (lines of an export), re-embedding each text; no LLM is involved. A record whose id is already stored in its scope is replaced (an UPDATE in its history), a new one is added (an ADD); an id that names a memory of another scope is a 409 CONFLICT naming the record. Up to 500 records per request, all checked before any is written.`,
      tag: 'memories',
      auth: 'key',
      body: ImportRequestSchema,
      status: 200,
      response: ImportResponseSchema,
      errors: [...BODY_ERRORS, 409],
      async handle({ request, key, signal }) {
        const body = request.body as ImportRequest;
        const apiKey = keyOf(key);
        const scopes = body.records.map((record, index) => authorizeScope(apiKey, record.scope, `records[${index}].scope.`));
        if (!context.embedder) {
          throw new MissingSettingError(
            'embedder',
            'This server was started without its embedder, so it cannot re-embed imported memories.',
          );
        }
        const started = performance.now();
        const meter = new UsageMeter();
        const vectors = await meter.embed(context.embedder, {
          texts: body.records.map((record) => record.text),
          purpose: 'document',
          signal,
        });
        const now = new Date();
        const records: MemoryRecord[] = body.records.map((record, index) => {
          const createdAt = record.createdAt === undefined ? now : new Date(record.createdAt);
          return {
            id: record.id ?? uuidv7(createdAt.getTime()),
            vector: vectors[index]!,
            text: record.text,
            hash: hashText(record.text),
            scope: scopes[index]!,
            metadata: {
              ...record.metadata,
              ...(record.expiresAt === undefined ? {} : { [EXPIRES_AT_KEY]: Date.parse(record.expiresAt) }),
              ...(record.memoryType === 'procedural' ? { [MEMORY_TYPE_KEY]: record.memoryType } : {}),
              ...(record.categories === undefined ? {} : { [CATEGORIES_KEY]: record.categories }),
            },
            createdAt,
            updatedAt: record.updatedAt === undefined ? createdAt : new Date(record.updatedAt),
            occurredAt: record.occurredAt === undefined ? createdAt : new Date(record.occurredAt),
          };
        });
        const counts = await memory.importRecords(records, { signal });
        recordUsage('import', key, scopes[0]!, started, meter.usage);
        return { ...counts, usage: meter.usage };
      },
    },
    {
      method: 'GET',
      url: '/v1/scopes',
      operationId: 'listScopes',
      summary: 'The scopes this key may use that hold memories, with counts',
      description:
        'One entry per exact combination of userId, agentId and runId holding memories, ordered by userId, agentId, runId; only those the key may read (every field the key restricts is set to one of its ids). 400 UNSUPPORTED_CAPABILITY when the vector store cannot list its scopes (only the embedded SQLite store can).',
      tag: 'memories',
      auth: 'key',
      querystring: LimitQuerySchema(1000, 10_000),
      status: 200,
      response: ScopeListResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key, signal }) {
        const { limit } = request.query as { limit?: number };
        return context.catalog.scopes({ key: keyOf(key), limit: limit ?? 1000, signal });
      },
    },
    {
      method: 'GET',
      url: '/v1/usage',
      operationId: 'listUsage',
      summary: 'What the last add, search, update and import requests cost',
      description:
        'LLM calls, tokens and embedding calls of the last requests the server remembers (in memory, newest first, lost on restart), with totals. A key sees its own requests; an admin key sees every key’s.',
      tag: 'memories',
      auth: 'key',
      querystring: LimitQuerySchema(50, 500),
      status: 200,
      response: UsageResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key }) {
        const apiKey = keyOf(key);
        const { limit } = request.query as { limit?: number };
        const { entries, totals, requests } = context.usage.list({ keyId: apiKey.admin ? undefined : apiKey.id, limit: limit ?? 50 });
        return {
          entries: entries.map((entry) => ({ ...entry, at: entry.at.toISOString() })),
          totals,
          requests,
          capacity: context.usage.capacity,
        };
      },
    },
    {
      method: 'GET',
      url: '/v1/me',
      operationId: 'whoAmI',
      summary: 'The calling key and what this server offers',
      description:
        'The scopes the key may use and whether it is an admin key, and what the server has: an LLM, graph memory, scope listing, import. The memory browser signs in with it.',
      tag: 'memories',
      auth: 'key',
      status: 200,
      response: WhoAmIResponseSchema,
      errors: KEY_ERRORS,
      async handle({ key }) {
        const apiKey = keyOf(key);
        return {
          key: { id: apiKey.id, userIds: apiKey.userIds, agentIds: apiKey.agentIds, runIds: apiKey.runIds, admin: apiKey.admin },
          server: {
            llm: context.hasLlm,
            graph: context.hasGraph,
            scopes: context.catalog.listsScopes,
            import: context.embedder !== undefined,
            rerank: context.hasReranker,
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/v1/admin/reset',
      operationId: 'reset',
      summary: 'Delete everything (admin)',
      description: 'Deletes every memory, every history event and the graph, in every scope. Admin keys only.',
      tag: 'admin',
      auth: 'admin',
      status: 200,
      response: ResetResponseSchema,
      errors: ADMIN_ERRORS,
      async handle() {
        await memory.reset();
        return { reset: true };
      },
    },
    {
      method: 'GET',
      url: '/v1/admin/keys',
      operationId: 'listKeys',
      summary: 'List API keys (admin)',
      description: 'Ids, scopes and origin of every key; never a secret or hash.',
      tag: 'admin',
      auth: 'admin',
      status: 200,
      response: KeyListResponseSchema,
      errors: ADMIN_ERRORS,
      async handle() {
        return { keys: context.keys.list().map(keyJson) };
      },
    },
    {
      method: 'POST',
      url: '/v1/admin/keys',
      operationId: 'createKey',
      summary: 'Create an API key (admin)',
      description:
        'Creates a key bound to scopes and returns its secret once. Written to the keys file when the server has one (MEM_KEYS_FILE), else kept until restart.',
      tag: 'admin',
      auth: 'admin',
      body: CreateKeyRequestSchema,
      status: 201,
      response: CreateKeyResponseSchema,
      errors: [...ADMIN_ERRORS, 409, 413, 415],
      links: { revokeKey: { operationId: 'revokeKey', parameters: { 'path.id': '$response.body#/info/id' } } },
      async handle({ request }) {
        const created = await context.keys.create(request.body as CreateKeyRequest);
        return { key: created.key, info: keyJson(created.info), persisted: created.persisted };
      },
    },
    {
      method: 'DELETE',
      url: '/v1/admin/keys/:id',
      operationId: 'revokeKey',
      summary: 'Revoke an API key (admin)',
      description: 'The key stops working at once. Keys from MEM_API_KEYS or MEM_ADMIN_KEY cannot be revoked here (409).',
      tag: 'admin',
      auth: 'admin',
      params: KeyIdParamsSchema,
      status: 200,
      response: RevokeKeyResponseSchema,
      errors: [...ADMIN_ERRORS, 404, 409],
      async handle({ request }) {
        await context.keys.revoke((request.params as { id: string }).id);
        return { revoked: true };
      },
    },
    {
      method: 'GET',
      url: '/healthz',
      operationId: 'health',
      summary: 'Liveness',
      description: 'The process is up. No key needed.',
      tag: 'health',
      auth: 'none',
      status: 200,
      response: HealthResponseSchema,
      errors: [],
      async handle() {
        return { status: 'ok' };
      },
    },
    {
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      description:
        'The OpenAPI 3.1 document of this server (its schemas are the ones requests are validated with). No key needed; browsable at /docs.',
      tag: 'health',
      auth: 'none',
      status: 200,
      response: OpenApiDocumentSchema,
      errors: [],
      async handle() {
        return context.document();
      },
    },
    {
      method: 'GET',
      url: '/readyz',
      operationId: 'ready',
      summary: 'Readiness',
      description: 'The stores answer and the server is not shutting down. No key needed.',
      tag: 'health',
      auth: 'none',
      status: 200,
      response: ReadyResponseSchema,
      errors: [503],
      async handle({ signal }) {
        if (context.isShuttingDown()) throw new HttpError(503, 'SHUTTING_DOWN', 'The server is shutting down.');
        try {
          // A read through the whole stack: the vector store answers (an id no one has, in a scope no one uses).
          await memory.get('readiness-probe', { scope: { userId: '__mem_readiness__' }, signal });
        } catch {
          throw new HttpError(503, 'NOT_READY', 'The stores do not answer yet; see the server log.');
        }
        return { status: 'ready' };
      },
    },
  ];
}

function itemJson(item: MemoryItem) {
  return {
    id: item.id,
    text: item.text,
    hash: item.hash,
    metadata: item.metadata,
    scope: item.scope,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
    occurredAt: item.occurredAt.toISOString(),
    ...(item.expiresAt ? { expiresAt: item.expiresAt.toISOString() } : {}),
    ...(item.memoryType ? { memoryType: item.memoryType } : {}),
    ...(item.categories ? { categories: [...item.categories] } : {}),
  };
}

function addResultJson(result: AddResult) {
  return {
    events: result.events.map((event) => ({
      kind: event.kind,
      id: event.id,
      text: event.text,
      ...(event.previousText === undefined ? {} : { previousText: event.previousText }),
    })),
    memories: result.memories.map(itemJson),
    usage: result.usage,
    ...(result.notes
      ? { notes: result.notes.map(({ code, reason, message, parts }) => ({ code, reason, message, parts: [...parts] })) }
      : {}),
    ...(result.graph
      ? {
          graph: {
            entities: result.graph.entities.map(({ name, type }) => ({ name, type })),
            relations: result.graph.relations.map(({ source, relation, target }) => ({ source, relation, target })),
            invalidated: result.graph.invalidated.map(({ source, relation, target }) => ({ source, relation, target })),
          },
        }
      : {}),
  };
}

function searchJson(response: SearchResponse) {
  return {
    results: response.results.map((result) => ({
      ...itemJson(result),
      score: result.score,
      ...(result.keywordScore === undefined ? {} : { keywordScore: result.keywordScore }),
      ...(result.rerankScore === undefined ? {} : { rerankScore: result.rerankScore }),
    })),
    ...(response.relations
      ? {
          relations: response.relations.map((relation) => ({
            source: relation.source,
            relation: relation.relation,
            target: relation.target,
            scope: relation.scope,
            validFrom: relation.validFrom.toISOString(),
            validTo: relation.validTo === null ? null : relation.validTo.toISOString(),
            score: relation.score,
          })),
        }
      : {}),
    ...(response.entities ? { entities: response.entities.map(({ name, type, scope, score }) => ({ name, type, scope, score })) } : {}),
    usage: response.usage,
  };
}

function historyJson(event: HistoryEvent) {
  return {
    id: event.id,
    memoryId: event.memoryId,
    kind: event.kind,
    previousText: event.previousText,
    text: event.text,
    scope: event.scope,
    validAt: event.validAt.toISOString(),
    createdAt: event.createdAt.toISOString(),
    actor: event.actor,
  };
}

function keyJson(key: ApiKey) {
  return {
    id: key.id,
    userIds: key.userIds,
    agentIds: key.agentIds,
    runIds: key.runIds,
    admin: key.admin,
    source: key.source,
    createdAt: key.createdAt.toISOString(),
  };
}
