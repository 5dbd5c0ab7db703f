import type { TSchema } from '@sinclair/typebox';
import { COMPONENTS } from './schemas';

/** How a route is protected. */
export type RouteAuth = 'none' | 'key' | 'admin';

/** What the document needs to know about one route (the server registers the same object). */
export interface RouteDocumentation {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Fastify path, e.g. `/v1/memories/:id`. */
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly auth: RouteAuth;
  readonly body?: TSchema;
  readonly querystring?: TSchema;
  readonly params?: TSchema;
  /** Request headers the route reads (names in lower case, as Fastify gives them), validated like the rest. */
  readonly headers?: TSchema;
  readonly status: number;
  readonly response: TSchema;
  /** Error statuses this route can answer with (each with the one error shape). */
  readonly errors: readonly number[];
  /** OpenAPI links of the success response: operations that take a value of this response. */
  readonly links?: Readonly<Record<string, { readonly operationId: string; readonly parameters: Readonly<Record<string, string>> }>>;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (INVALID_INPUT naming the field; MISSING_SETTING or UNSUPPORTED_CAPABILITY for options this server cannot serve).',
  401: 'No or unknown API key (UNAUTHENTICATED).',
  403: 'The key may not use this scope, or is not an admin key (FORBIDDEN).',
  404: 'No memory (or key) with this id in the scope (NOT_FOUND).',
  405: 'Method not allowed on this path (METHOD_NOT_ALLOWED).',
  409: 'Conflicts with the current state (CONFLICT).',
  422: 'The Idempotency-Key was used in this scope for a different request (IDEMPOTENCY_KEY_REUSED); nothing was written.',
  413: 'Body larger than the server accepts, or more images in one add than its images.maxImages (PAYLOAD_TOO_LARGE).',
  415: 'Body is not JSON (UNSUPPORTED_MEDIA_TYPE).',
  429: 'Rate limit of the key exceeded (RATE_LIMITED); see Retry-After.',
  500: 'Internal error (INTERNAL, DIMENSION_MISMATCH).',
  502: 'A provider failed (PROVIDER_REQUEST_FAILED, PROVIDER_RESPONSE_INVALID).',
  503: 'Shutting down or not ready (SHUTTING_DOWN, NOT_READY), or a provider failure worth retrying (PROVIDER_REQUEST_FAILED).',
  504: 'The request took longer than the server allows (TIMEOUT).',
};

/** A JSON copy of a TypeBox schema (symbols dropped) with `$ref: 'Name'` rewritten to the component path. */
function toDocumentSchema(schema: TSchema | object, keepId = false): Record<string, unknown> {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && !child.startsWith('#')) out[key] = `#/components/schemas/${child}`;
      else if (key === '$id' && !keepId) continue;
      else out[key] = rewrite(child);
    }
    return out;
  };
  return rewrite(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
}

/** A reference to a component when the schema is one, else the schema itself. */
function schemaOrRef(schema: TSchema): Record<string, unknown> {
  const id = (schema as { $id?: unknown }).$id;
  return typeof id === 'string' ? { $ref: `#/components/schemas/${id}` } : toDocumentSchema(schema);
}

/** `idempotency-key` → `Idempotency-Key`: header names as documents and clients write them. */
export function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`);
}

function parameters(schema: TSchema | undefined, where: 'query' | 'path' | 'header'): Record<string, unknown>[] {
  if (!schema) return [];
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = toDocumentSchema(property);
    return {
      name: where === 'header' ? headerName(name) : name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

/**
 * Builds the OpenAPI 3.1 document from the route table and the shared schemas: the same schema
 * objects the server validates requests with.
 */
export function buildOpenApiDocument(
  routes: readonly RouteDocumentation[],
  info: { title: string; version: string; description: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Record<string, unknown> = {
      [String(route.status)]: {
        description: 'Success',
        content: { 'application/json': { schema: schemaOrRef(route.response) } },
        ...(route.links ? { links: route.links } : {}),
      },
    };
    for (const status of route.errors) {
      responses[String(status)] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        ...(status === 429
          ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer', minimum: 1 } } } }
          : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      security: route.auth === 'none' ? [] : [{ apiKey: [] }],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.querystring, 'query'), ...parameters(route.headers, 'header')],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOrRef(route.body) } } } } : {}),
      responses,
    };
  }
  const schemas: Record<string, unknown> = {};
  for (const component of COMPONENTS) {
    const id = (component as { $id?: string }).$id!;
    schemas[id] = toDocumentSchema(component);
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    tags: [
      { name: 'memories', description: 'Add, list, get, update and delete memories.' },
      { name: 'search', description: 'Find the memories most relevant to a query.' },
      { name: 'admin', description: 'Reset and API key management (admin keys only).' },
      { name: 'health', description: 'Liveness and readiness (no key needed).' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: `Authorization: Bearer <key>`. Each key is bound to the scopes it may read and write.',
        },
      },
    },
  };
}
