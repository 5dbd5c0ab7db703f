import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EmulatorBadRequestError,
  EmulatorNotImplementedError,
  canonicalPointId,
  comparePointIds,
  matchesFilter,
  type PointId,
} from './qdrant-emulator-filter';
import { QdrantOpenApiValidator, defaultSpecPath, type QdrantOperation } from './qdrant-openapi-validator';

/**
 * A Qdrant REST server in process, for tests: `node:http` on 127.0.0.1 with a free port. Every
 * request is validated against Qdrant's published OpenAPI document (400 with Qdrant's error shape
 * when it does not conform), and so is every answer the emulator gives (500 when its own answer
 * would not conform). Collections, points, filters, Cosine/Dot/Euclid/Manhattan scores, scroll
 * pages and id order follow the real server. Exported as `@mem/vector-qdrant/testing`, for tests only.
 */

/** Options of {@link QdrantEmulator.start}. */
export interface QdrantEmulatorOptions {
  /**
   * The OpenAPI document to validate against. `undefined`: the repository's
   * `../shared/specs/qdrant/openapi.json`; `null`: no validation (on purpose, silently).
   */
  readonly specPath?: string | null;
  /**
   * Whether a missing spec file is an error (`start` throws) instead of a warning and a run without
   * validation. @default true under `CI=true`, so CI can never silently stop validating requests
   */
  readonly requireSpec?: boolean;
  /** Version reported by `GET /`. @default '1.18.0' (the pinned client's own, so its check passes) */
  readonly version?: string;
  /** When set, requests must carry it in the `api-key` header (else 401). */
  readonly apiKey?: string;
  /** Where the one-line warning about a missing spec goes (when it is not required). @default console.warn */
  readonly log?: (line: string) => void;
}

/** One request the emulator received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/collections/mem_1/points/scroll`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The status the emulator answered. */
  status: number;
}

interface StoredPoint {
  readonly id: PointId;
  readonly vector: number[];
  readonly payload: Record<string, unknown>;
  readonly version: number;
}

interface Collection {
  readonly size: number;
  readonly distance: 'Cosine' | 'Euclid' | 'Dot' | 'Manhattan';
  readonly onDiskPayload: boolean;
  readonly hnsw: Record<string, unknown>;
  readonly quantization: unknown;
  readonly points: Map<PointId, StoredPoint>;
  readonly indexes: Map<string, { readonly type: string; readonly params: Record<string, unknown> | undefined }>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let missingSpecNoticePrinted = false;

/** An in-process Qdrant REST server for tests. Start it with {@link QdrantEmulator.start}. */
export class QdrantEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Whether requests are validated against the OpenAPI document. */
  readonly validating: boolean;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = [];
  private readonly collections = new Map<string, Collection>();
  private readonly failures: { status: number; retryAfterSeconds?: number }[] = [];
  private readonly holds: { matches: (request: RecordedRequest) => boolean; arrived: () => void; released: Promise<void> }[] = [];
  private operationCounter = 0;

  private constructor(
    private readonly server: Server,
    private readonly validator: QdrantOpenApiValidator | undefined,
    private readonly options: QdrantEmulatorOptions,
  ) {
    const address = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${address.port}`;
    this.validating = validator !== undefined;
  }

  /** Starts an emulator on 127.0.0.1 with a free port. */
  static async start(options: QdrantEmulatorOptions = {}): Promise<QdrantEmulator> {
    const specPath = options.specPath === undefined ? defaultSpecPath() : options.specPath;
    let validator: QdrantOpenApiValidator | undefined;
    if (specPath !== null && specPath !== undefined && existsSync(specPath)) {
      validator = QdrantOpenApiValidator.fromFile(specPath);
    } else if (specPath !== null) {
      const where = specPath ?? '../shared/specs/qdrant/openapi.json';
      if (options.requireSpec ?? process.env['CI'] === 'true') {
        throw new Error(
          `Qdrant emulator: OpenAPI spec not found at ${where}, and it is required (CI=true): requests must be validated. ` +
            'Lay the specs beside the repository (../shared/specs), or pass specPath.',
        );
      }
      if (!missingSpecNoticePrinted) {
        missingSpecNoticePrinted = true;
        (options.log ?? console.warn)(
          `Qdrant emulator: OpenAPI spec not found at ${where}; requests are NOT validated (under CI=true this fails).`,
        );
      }
    }
    let emulator: QdrantEmulator | undefined;
    const server = createServer((request, response) => {
      void emulator!.handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    emulator = new QdrantEmulator(server, validator, options);
    return emulator;
  }

  /** Stops the server and drops its connections. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the next `count` requests with `status` (and Retry-After when given), then behaves again. */
  failNext(count: number, failure: { readonly status: number; readonly retryAfterSeconds?: number }): void {
    for (let index = 0; index < count; index++) this.failures.push({ ...failure });
  }

  /**
   * Holds the next request (matching `matches`, if given) open until `release()` is called: for
   * abort, timeout and race tests, without sleeping. `received` resolves when it has arrived.
   */
  holdNext(matches: (request: RecordedRequest) => boolean = () => true): { readonly received: Promise<void>; release(): void } {
    let arrived!: () => void;
    let release!: () => void;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ matches, arrived, released });
    return { received, release };
  }

  /** Names of the collections that exist now. */
  collectionNames(): string[] {
    return [...this.collections.keys()];
  }

  /** The stored payloads and vectors of a collection, in point-id order (for assertions). */
  points(collection: string): { id: PointId; vector: number[]; payload: Record<string, unknown> }[] {
    const stored = this.collections.get(collection);
    if (!stored) return [];
    return [...stored.points.values()]
      .sort((a, b) => comparePointIds(a.id, b.id))
      .map(({ id, vector, payload }) => ({ id, vector: [...vector], payload: structuredClone(payload) }));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      headers: { ...request.headers },
      status: 0,
    };
    this.requests.push(recorded);
    const send = (status: number, body: unknown) => {
      recorded.status = status;
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    };
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
      send(status, { status: { error: message }, time: seconds(), result: null });
    };
    try {
      const raw = await readBody(request);
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch (error) {
          throw new HttpError(400, `Format error in JSON body: ${(error as Error).message}`);
        }
      }
      (recorded as { body: unknown }).body = body;
      const holdIndex = this.holds.findIndex((candidate) => candidate.matches(recorded));
      const hold = holdIndex === -1 ? undefined : this.holds.splice(holdIndex, 1)[0];
      if (hold) {
        hold.arrived();
        await hold.released;
        if (response.destroyed || !response.socket || response.socket.destroyed) return; // the client gave up
      }
      if (this.options.apiKey !== undefined && request.headers['api-key'] !== this.options.apiKey) {
        throw new HttpError(401, 'Must provide an API key or an Authorization bearer token');
      }
      const injected = this.failures.shift();
      if (injected) {
        fail(
          injected.status,
          `Service internal error: injected failure ${injected.status}`,
          injected.retryAfterSeconds === undefined ? {} : { 'retry-after': String(injected.retryAfterSeconds) },
        );
        return;
      }
      const operation = this.route(recorded.method, url, body);
      const result = this.execute(operation.operationId, operation.parameters, operation.query, body);
      const answer = operation.operationId === 'root' ? result : { result, status: 'ok', time: seconds() };
      if (this.validator && operation.spec) {
        const problem = this.validator.validateResponse(operation.spec, answer);
        if (problem) throw new HttpError(500, `emulator bug: its answer to ${operation.operationId} violates the OpenAPI spec: ${problem}`);
      }
      send(200, answer);
    } catch (error) {
      if (error instanceof HttpError) fail(error.status, error.message);
      else if (error instanceof EmulatorBadRequestError) fail(400, error.message);
      else if (error instanceof EmulatorNotImplementedError) fail(501, error.message);
      else fail(500, `emulator error: ${(error as Error).message}`);
    }
  }

  /** Finds the operation (validating the request when a spec is loaded). */
  private route(
    method: string,
    url: URL,
    body: unknown,
  ): { operationId: string; parameters: Record<string, string>; query: URLSearchParams; spec?: QdrantOperation } {
    if (this.validator) {
      const outcome = this.validator.validateRequest(method, url.pathname, url.searchParams, body);
      if (!outcome.ok) throw new HttpError(outcome.status, outcome.message);
      return {
        operationId: outcome.operation.operationId,
        parameters: { ...outcome.pathParameters },
        query: url.searchParams,
        spec: outcome.operation,
      };
    }
    for (const [operationId, routeMethod, pattern] of ROUTES) {
      const match = pattern.exec(url.pathname);
      if (match && routeMethod === method)
        return { operationId, parameters: { collection_name: decodeURIComponent(match[1] ?? '') }, query: url.searchParams };
    }
    throw new HttpError(404, `No route for ${method} ${url.pathname}`);
  }

  private execute(operationId: string, parameters: Record<string, string>, query: URLSearchParams, input: unknown): unknown {
    const body = (input ?? {}) as Record<string, unknown>;
    const name = parameters['collection_name'] ?? '';
    switch (operationId) {
      case 'root':
        return { title: 'qdrant - vector search engine', version: this.options.version ?? '1.18.0', commit: null };
      case 'collection_exists':
        return { exists: this.collections.has(name) };
      case 'create_collection':
        return this.createCollection(name, body);
      case 'get_collection':
        return this.collectionInfo(name);
      case 'delete_collection':
        return this.collections.delete(name);
      case 'create_field_index': {
        const collection = this.collection(name);
        const schema = body['field_schema'];
        const type =
          typeof schema === 'string'
            ? schema
            : typeof (schema as Record<string, unknown> | null)?.['type'] === 'string'
              ? String((schema as Record<string, unknown>)['type'])
              : undefined;
        if (type === undefined)
          throw new EmulatorBadRequestError('Bad request: field_schema is required to create an index in this emulator');
        collection.indexes.set(String(body['field_name']), {
          type,
          params: typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>) : undefined,
        });
        return this.updated();
      }
      case 'upsert_points':
        return this.upsert(name, body);
      case 'get_points': {
        const collection = this.collection(name);
        const ids = (body['ids'] as unknown[]).map(canonicalPointId);
        return ids.flatMap((id) => {
          const point = collection.points.get(id);
          return point ? [this.render(point, body['with_payload'] ?? true, body['with_vector'] ?? false)] : [];
        });
      }
      case 'delete_points': {
        const collection = this.collection(name);
        if (Array.isArray(body['points'])) for (const id of body['points']) collection.points.delete(canonicalPointId(id));
        else for (const point of this.matching(collection, body['filter'])) collection.points.delete(point.id);
        return this.updated();
      }
      case 'scroll_points':
        return this.scroll(name, body);
      case 'count_points':
        return { count: this.matching(this.collection(name), body['filter']).length };
      case 'query_points':
        return this.query(name, body);
      default:
        void query;
        throw new EmulatorNotImplementedError(`emulator: operation ${operationId} is not implemented`);
    }
  }

  private collection(name: string): Collection {
    const collection = this.collections.get(name);
    if (!collection) throw new HttpError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return collection;
  }

  private updated(): { operation_id: number; status: 'completed' } {
    return { operation_id: ++this.operationCounter, status: 'completed' };
  }

  private createCollection(name: string, body: Record<string, unknown>): boolean {
    if (this.collections.has(name)) throw new HttpError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const vectors = body['vectors'] as Record<string, unknown> | undefined;
    if (!vectors || typeof vectors['size'] !== 'number')
      throw new EmulatorNotImplementedError('emulator: only one unnamed dense vector per collection is modelled');
    this.collections.set(name, {
      size: vectors['size'],
      distance: vectors['distance'] as Collection['distance'],
      onDiskPayload: (body['on_disk_payload'] as boolean | null | undefined) ?? true,
      hnsw: (body['hnsw_config'] as Record<string, unknown> | null | undefined) ?? {},
      quantization: body['quantization_config'] ?? null,
      points: new Map(),
      indexes: new Map(),
    });
    return true;
  }

  private collectionInfo(name: string): unknown {
    const collection = this.collection(name);
    const indexedPoints = (key: string) => [...collection.points.values()].filter((point) => key in point.payload).length;
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: collection.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: { size: collection.size, distance: collection.distance },
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: collection.onDiskPayload,
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10_000, max_indexing_threads: 0, on_disk: false, ...collection.hnsw },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 10_000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: collection.quantization,
      },
      payload_schema: Object.fromEntries(
        [...collection.indexes].map(([key, index]) => [
          key,
          { data_type: index.type, ...(index.params ? { params: index.params } : {}), points: indexedPoints(key) },
        ]),
      ),
    };
  }

  private upsert(name: string, body: Record<string, unknown>): unknown {
    const collection = this.collection(name);
    let incoming: { id: unknown; vector: unknown; payload: unknown }[];
    if (Array.isArray(body['points'])) {
      incoming = (body['points'] as Record<string, unknown>[]).map((point) => ({
        id: point['id'],
        vector: point['vector'],
        payload: point['payload'],
      }));
    } else {
      const batch = body['batch'] as Record<string, unknown>;
      const ids = batch['ids'] as unknown[];
      const vectors = batch['vectors'] as unknown[];
      const payloads = (batch['payloads'] as unknown[] | null | undefined) ?? [];
      if (!Array.isArray(vectors) || vectors.length !== ids.length)
        throw new EmulatorBadRequestError('Wrong input: the batch has a different number of ids and vectors');
      incoming = ids.map((id, index) => ({ id, vector: vectors[index], payload: payloads[index] }));
    }
    // Validate the whole request before applying any of it, as the server does.
    const prepared = incoming.map((point) => {
      if (!Array.isArray(point.vector) || !point.vector.every((x) => typeof x === 'number')) {
        throw new EmulatorNotImplementedError('emulator: only unnamed dense vectors are modelled');
      }
      if (point.vector.length !== collection.size) {
        throw new EmulatorBadRequestError(
          `Wrong input: Vector dimension error: expected dim: ${collection.size}, got ${point.vector.length}`,
        );
      }
      return {
        id: canonicalPointId(point.id),
        vector: this.storedVector(collection, point.vector as number[]),
        payload: structuredClone((point.payload ?? {}) as Record<string, unknown>),
      };
    });
    const version = ++this.operationCounter;
    for (const point of prepared) collection.points.set(point.id, { ...point, version });
    return { operation_id: version, status: 'completed' };
  }

  /** Vectors as Qdrant keeps them: float32, and unit length for Cosine collections. */
  private storedVector(collection: Collection, vector: number[]): number[] {
    if (collection.distance !== 'Cosine') return vector.map(Math.fround);
    const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
    return norm < 1.1920929e-7 ? vector.map(Math.fround) : vector.map((x) => Math.fround(x / norm));
  }

  private matching(collection: Collection, filter: unknown): StoredPoint[] {
    return [...collection.points.values()].filter((point) => matchesFilter(filter, point)).sort((a, b) => comparePointIds(a.id, b.id));
  }

  private scroll(name: string, body: Record<string, unknown>): unknown {
    const collection = this.collection(name);
    if (body['order_by'] !== undefined && body['order_by'] !== null)
      throw new EmulatorNotImplementedError('emulator: scroll order_by is not modelled');
    const limit = (body['limit'] as number | null | undefined) ?? 10;
    const offset = body['offset'] === undefined || body['offset'] === null ? undefined : canonicalPointId(body['offset']);
    const points = this.matching(collection, body['filter']).filter(
      (point) => offset === undefined || comparePointIds(point.id, offset) >= 0,
    );
    const page = points.slice(0, limit);
    return {
      points: page.map((point) => this.render(point, body['with_payload'] ?? true, body['with_vector'] ?? false)),
      next_page_offset: points.length > limit ? points[limit]!.id : null,
    };
  }

  private query(name: string, body: Record<string, unknown>): unknown {
    const collection = this.collection(name);
    if (body['prefetch'] !== undefined && body['prefetch'] !== null)
      throw new EmulatorNotImplementedError('emulator: prefetch is not modelled');
    if (body['using'] !== undefined && body['using'] !== null && body['using'] !== '')
      throw new EmulatorBadRequestError('Wrong input: Not existing vector name error');
    const limit = (body['limit'] as number | null | undefined) ?? 10;
    const offset = (body['offset'] as number | null | undefined) ?? 0;
    const threshold = body['score_threshold'] as number | null | undefined;
    const raw = body['query'];
    const vector = Array.isArray(raw) ? raw : isNearest(raw) ? raw.nearest : undefined;
    if (raw !== undefined && raw !== null && vector === undefined)
      throw new EmulatorNotImplementedError('emulator: only nearest-vector queries are modelled');
    const candidates = this.matching(collection, body['filter']);
    let scored: { point: StoredPoint; score: number }[];
    if (vector === undefined) {
      scored = candidates.map((point) => ({ point, score: 0 }));
    } else {
      if (!vector.every((x) => typeof x === 'number'))
        throw new EmulatorNotImplementedError('emulator: only dense query vectors are modelled');
      if (vector.length !== collection.size)
        throw new EmulatorBadRequestError(`Wrong input: Vector dimension error: expected dim: ${collection.size}, got ${vector.length}`);
      const query = this.storedVector(collection, vector as number[]);
      const higherIsBetter = collection.distance === 'Cosine' || collection.distance === 'Dot';
      scored = candidates
        .map((point) => ({ point, score: Math.fround(score(collection.distance, query, point.vector)) }))
        .filter(
          ({ score: value }) => threshold === undefined || threshold === null || (higherIsBetter ? value >= threshold : value <= threshold),
        )
        .sort((a, b) => (higherIsBetter ? b.score - a.score : a.score - b.score) || comparePointIds(a.point.id, b.point.id));
    }
    return {
      points: scored.slice(offset, offset + limit).map(({ point, score: value }) => ({
        ...this.render(point, body['with_payload'] ?? false, body['with_vector'] ?? false),
        version: point.version,
        score: value,
      })),
    };
  }

  private render(point: StoredPoint, withPayload: unknown, withVector: unknown): Record<string, unknown> {
    const rendered: Record<string, unknown> = { id: point.id };
    const payload = selectPayload(point.payload, withPayload);
    rendered['payload'] = payload;
    rendered['vector'] = withVector === true || (Array.isArray(withVector) && withVector.includes('')) ? [...point.vector] : null;
    return rendered;
  }
}

function selectPayload(payload: Record<string, unknown>, selector: unknown): Record<string, unknown> | null {
  if (selector === false || selector === null) return null;
  if (selector === true || selector === undefined) return structuredClone(payload);
  const pick = (keys: unknown[], keep: boolean) =>
    Object.fromEntries(Object.entries(structuredClone(payload)).filter(([key]) => keys.includes(key) === keep));
  if (Array.isArray(selector)) return pick(selector, true);
  const object = selector as Record<string, unknown>;
  if (Array.isArray(object['include'])) return pick(object['include'], true);
  if (Array.isArray(object['exclude'])) return pick(object['exclude'], false);
  return structuredClone(payload);
}

function score(distance: Collection['distance'], a: number[], b: number[]): number {
  let total = 0;
  for (let index = 0; index < a.length; index++) {
    const x = a[index]!;
    const y = b[index]!;
    if (distance === 'Euclid') total += (x - y) ** 2;
    else if (distance === 'Manhattan') total += Math.abs(x - y);
    else total += x * y;
  }
  return distance === 'Euclid' ? Math.sqrt(total) : total;
}

function isNearest(value: unknown): value is { nearest: unknown[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { nearest?: unknown }).nearest);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Routes used when no spec is loaded (same operation ids as the spec). */
const ROUTES: readonly (readonly [string, string, RegExp])[] = [
  ['root', 'GET', /^\/$/],
  ['collection_exists', 'GET', /^\/collections\/([^/]+)\/exists$/],
  ['create_collection', 'PUT', /^\/collections\/([^/]+)$/],
  ['get_collection', 'GET', /^\/collections\/([^/]+)$/],
  ['delete_collection', 'DELETE', /^\/collections\/([^/]+)$/],
  ['create_field_index', 'PUT', /^\/collections\/([^/]+)\/index$/],
  ['upsert_points', 'PUT', /^\/collections\/([^/]+)\/points$/],
  ['get_points', 'POST', /^\/collections\/([^/]+)\/points$/],
  ['delete_points', 'POST', /^\/collections\/([^/]+)\/points\/delete$/],
  ['scroll_points', 'POST', /^\/collections\/([^/]+)\/points\/scroll$/],
  ['count_points', 'POST', /^\/collections\/([^/]+)\/points\/count$/],
  ['query_points', 'POST', /^\/collections\/([^/]+)\/points\/query$/],
];
