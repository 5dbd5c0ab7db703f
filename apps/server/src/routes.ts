import { NotFoundError, type HistoryEvent, type Memory, type MemoryItem, type SearchResponse, type AddResult } from '@mem/core';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './http-errors';
import { authorizeScope, type ApiKey, type ApiKeyStore } from './keys';
import type { RouteDocumentation } from './openapi';
import {
  AddResponseSchema,
  CreateKeyRequestSchema,
  CreateKeyResponseSchema,
  DeleteAllRequestSchema,
  DeleteAllResponseSchema,
  DeleteResponseSchema,
  HealthResponseSchema,
  HistoryResponseSchema,
  IdParamsSchema,
  KeyIdParamsSchema,
  KeyListResponseSchema,
  ListQuerySchema,
  ListRequestSchema,
  ListResponseSchema,
  MemoryItemSchema,
  OpenApiDocumentSchema,
  ReadyResponseSchema,
  ResetResponseSchema,
  RevokeKeyResponseSchema,
  ScopeQuerySchema,
  SearchRequestSchema,
  SearchResponseSchema,
  UpdateRequestSchema,
  UpdateResponseSchema,
  addRequestSchema,
  type AddRequest,
  type CreateKeyRequest,
  type DeleteAllRequest,
  type ListQuery,
  type ListRequest,
  type ScopeQuery,
  type SearchRequest,
  type UpdateRequest,
} from './schemas';

/** What the route handlers share. */
export interface RouteContext {
  readonly memory: Memory;
  readonly keys: ApiKeyStore;
  readonly hasLlm: boolean;
  readonly isShuttingDown: () => boolean;
  /** The OpenAPI document (built after the routes). */
  readonly document: () => Record<string, unknown>;
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

  return [
    {
      method: 'POST',
      url: '/v1/memories',
      operationId: 'addMemories',
      summary: 'Add memories from a conversation',
      description:
        'Learns from messages: with an LLM (infer: true), extracts facts and reconciles them with what is stored (ADD, UPDATE, DELETE, NONE); with infer: false, stores the messages as given. Returns one event per fact, the memories created or updated, and the providers usage.',
      tag: 'memories',
      auth: 'key',
      body: addRequestSchema(context.hasLlm),
      status: 200,
      response: AddResponseSchema,
      errors: BODY_ERRORS,
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
        const result = await memory.add(body.messages, {
          scope,
          infer: body.infer ?? context.hasLlm,
          ...(body.metadata ? { metadata: body.metadata } : {}),
          ...(body.prompt ? { prompt: body.prompt } : {}),
          ...(body.occurredAt !== undefined ? { occurredAt: body.occurredAt } : {}),
          signal,
        });
        return addResultJson(result);
      },
    },
    {
      method: 'GET',
      url: '/v1/memories',
      operationId: 'listMemories',
      summary: 'List the memories of a scope',
      description:
        'Pages through the memories of a scope in id (creation) order. Pass nextCursor as cursor for the next page. To filter by metadata, use POST /v1/memories/list.',
      tag: 'memories',
      auth: 'key',
      querystring: ListQuerySchema,
      status: 200,
      response: ListResponseSchema,
      errors: KEY_ERRORS,
      async handle({ request, key, signal }) {
        const query = request.query as ListQuery;
        const page = await memory.getAll({
          scope: queryScope(request, key),
          ...(query.pageSize ? { pageSize: query.pageSize } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
          signal,
        });
        return { results: page.results.map(itemJson), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
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
        const page = await memory.getAll({
          scope: authorizeScope(keyOf(key), body.scope),
          ...(body.filter ? { filter: body.filter } : {}),
          ...(body.pageSize ? { pageSize: body.pageSize } : {}),
          ...(body.cursor ? { cursor: body.cursor } : {}),
          signal,
        });
        return { results: page.results.map(itemJson), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
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
      description: 'Changes the text (re-embedded) and/or merges metadata keys. Scope ids never change.',
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
        const { memory: updated, usage } = await memory.update(idOf(request), body, { scope: queryScope(request, key), signal });
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
      body: SearchRequestSchema,
      status: 200,
      response: SearchResponseSchema,
      errors: BODY_ERRORS,
      async handle({ request, key, signal }) {
        const body = request.body as SearchRequest;
        const { query, scope, ...rest } = body;
        const response = await memory.search(query, { ...rest, scope: authorizeScope(keyOf(key), scope), signal });
        return searchJson(response);
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
