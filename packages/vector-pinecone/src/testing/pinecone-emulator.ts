import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileFilter, FilterSyntaxError, type EmulatorMetadata, type MetadataPredicate } from './pinecone-emulator-filter';
import { defaultSpecDirectory, loadPineconeSpec, type PineconePlane, type PineconeSpec, type SpecOperation } from './pinecone-spec';

/**
 * The `X-Pinecone-Api-Version` header `@pinecone-database/pinecone` 8.1.0 sends on every request
 * (`X_PINECONE_API_VERSION` in its generated `db_control` and `db_data` clients). The emulator
 * validates against the spec files of this version and rejects any other header value.
 */
export const PINECONE_API_VERSION = '2026-04';

/** Options of {@link PineconeEmulator.start}. */
export interface PineconeEmulatorOptions {
  /**
   * Directory holding `db_control_<version>.oas.yaml` and `db_data_<version>.oas.yaml`.
   * @default `../shared/specs/pinecone` relative to the repository root. When the files are missing
   * `start` throws if the spec is required ({@link PineconeEmulatorOptions.requireSpec}), else the
   * emulator runs without validation and prints one line saying so; `null` turns validation off silently.
   */
  readonly specDirectory?: string | null;
  /**
   * Whether missing spec files are an error (`start` throws) instead of a warning and a run without
   * validation. @default true under `CI=true`, so CI can never silently stop validating requests
   */
  readonly requireSpec?: boolean;
  /** When set, every request must carry this `Api-Key` (401 otherwise). Any non-empty key is accepted by default. */
  readonly apiKey?: string;
  /**
   * Emulates eventual consistency: a write becomes visible to reads this many milliseconds after it
   * was accepted (writes stay in order). @default 0 (reads see every accepted write)
   */
  readonly visibilityDelayMs?: number;
  /** How many describe calls report a newly created index as `Initializing` before `Ready`. @default 0 */
  readonly initializingDescribes?: number;
}

/** One request the emulator received (the `Api-Key` header is never kept). */
export interface RecordedRequest {
  readonly plane: PineconePlane;
  /** Index name, for data-plane requests. */
  readonly index?: string;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string[]>>;
  readonly body: unknown;
  /** The `X-Pinecone-Api-Version` header. */
  readonly apiVersion: string | undefined;
  /** The status the emulator answered with. */
  status?: number;
}

/** A failure {@link PineconeEmulator.failNext} injects instead of handling a request. */
export interface InjectedFailure {
  /** Only requests to this path (e.g. `/vectors/upsert`) fail. @default every path */
  readonly path?: string;
  readonly status: number;
  /** How many matching requests fail. @default 1 */
  readonly times?: number;
}

interface StoredVector {
  readonly id: string;
  readonly values: readonly number[];
  readonly metadata?: EmulatorMetadata;
}

type Namespaces = Map<string, Map<string, StoredVector>>;
type Write = (namespaces: Namespaces) => void;

interface EmulatedIndex {
  readonly name: string;
  readonly dimension: number;
  readonly metric: 'cosine' | 'euclidean' | 'dotproduct';
  readonly vectorType: 'dense';
  readonly cloud: string;
  readonly region: string;
  readonly deletionProtection: 'enabled' | 'disabled';
  readonly tags?: Readonly<Record<string, string>>;
  host: string;
  server: Server;
  describesUntilReady: number;
  /** Every accepted write applied: what writes check (e.g. whether a namespace exists). */
  readonly latest: Namespaces;
  /** What reads see: writes applied once their visibility time has come. */
  readonly visible: Namespaces;
  readonly pending: { readonly visibleAt: number; readonly write: Write }[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_UPSERT_BYTES = 2 * 1024 * 1024;
const MAX_METADATA_BYTES = 40_960;
const MAX_VECTORS_PER_UPSERT = 1_000;
const MAX_IDS_PER_REQUEST = 1_000;
const MAX_TOP_K = 10_000;
const MAX_TOP_K_WITH_DATA = 1_000;
const INDEX_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$/;
/** gRPC status codes Pinecone's data plane puts in `rpcStatus.code`. */
const GRPC_CODES: Readonly<Record<number, number>> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  409: 6,
  412: 9,
  422: 3,
  429: 8,
  500: 13,
  501: 12,
  503: 14,
};
/** Error codes of the control plane's `ErrorResponse`. */
const CONTROL_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};

/**
 * A local Pinecone for tests: the control plane (list, create, describe, delete index) and one data
 * plane per index (upsert, query, fetch, fetch_by_metadata, list, delete, describe_index_stats,
 * delete namespace), on `127.0.0.1` with ports chosen by the OS.
 *
 * Every request is validated against Pinecone's published OpenAPI spec for
 * {@link PINECONE_API_VERSION} (headers, query parameters and body; objects are closed, so unknown
 * fields fail) and against the limits Pinecone documents (1000 vectors and 2 MB per upsert, 40 KB
 * of metadata, 1000 ids per fetch or delete, topK 1000 with values or metadata). An invalid request
 * gets 400 in Pinecone's error shape. Every answer is checked against the documented response schema
 * (a violation is a 500, so the test fails). Semantics follow Pinecone: cosine scores over float32
 * vectors, metadata filters (see `pinecone-emulator-filter.ts`), namespaces created by the first
 * upsert and gone after `deleteAll`, 404 when deleting from a missing namespace, ASCII-only ids
 * (no spaces in fetch), id listing in bitwise order, and `fetch_by_metadata` pages in an order
 * unrelated to ids.
 */
export class PineconeEmulator {
  /** URL for `controllerHostUrl`, e.g. `http://127.0.0.1:41233`. */
  readonly controllerHostUrl: string;
  /** The spec requests are validated against; `undefined` when validation is off. */
  readonly spec: PineconeSpec | undefined;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = [];

  private readonly indexes = new Map<string, EmulatedIndex>();
  private readonly failures: { path?: string; status: number; remaining: number }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly options: PineconeEmulatorOptions,
    spec: PineconeSpec | undefined,
  ) {
    this.controllerHostUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.spec = spec;
  }

  /** Starts the control plane on a free port. */
  static async start(options: PineconeEmulatorOptions = {}): Promise<PineconeEmulator> {
    let spec: PineconeSpec | undefined;
    if (options.specDirectory !== null) {
      const directory = options.specDirectory ?? defaultSpecDirectory();
      spec = directory === undefined ? undefined : loadPineconeSpec(directory, PINECONE_API_VERSION);
      if (!spec) {
        const where = directory ?? '../shared/specs/pinecone';
        if (options.requireSpec ?? process.env['CI'] === 'true') {
          throw new Error(
            `[pinecone-emulator] Pinecone OpenAPI spec ${PINECONE_API_VERSION} not found under ${where}, and it is required (CI=true): ` +
              'requests must be validated. Lay the specs beside the repository (../shared/specs), or pass specDirectory.',
          );
        }
        // One line, once per emulator: a fresh clone without ../shared/specs still runs the tests.
        console.warn(
          `[pinecone-emulator] Pinecone OpenAPI spec ${PINECONE_API_VERSION} not found under ${where}; requests are NOT validated (under CI=true this fails).`,
        );
      }
    }
    const server = createServer();
    await listen(server);
    const emulator = new PineconeEmulator(server, options, spec);
    server.on('request', (request, response) => void emulator.handle('control', undefined, request, response));
    return emulator;
  }

  /** Creates an index directly (without a request), e.g. one with another metric. Returns its host URL. */
  async createIndex(index: { name: string; dimension: number; metric?: 'cosine' | 'euclidean' | 'dotproduct' }): Promise<string> {
    const created = await this.addIndex({
      name: index.name,
      dimension: index.dimension,
      metric: index.metric ?? 'cosine',
      cloud: 'aws',
      region: 'us-east-1',
      deletionProtection: 'disabled',
    });
    created.describesUntilReady = 0;
    return created.host;
  }

  /** Makes the next `times` requests (to `path`, if given) fail with `status`, in Pinecone's error shape. */
  failNext(failure: InjectedFailure): void {
    this.failures.push({
      ...(failure.path === undefined ? {} : { path: failure.path }),
      status: failure.status,
      remaining: failure.times ?? 1,
    });
  }

  /** Ids stored in a namespace as reads currently see them, in ascending order; for assertions. */
  ids(index: string, namespace: string): string[] {
    const found = this.indexes.get(index);
    if (!found) return [];
    this.applyDue(found);
    return [...(found.visible.get(namespaceName(namespace))?.keys() ?? [])].sort();
  }

  /** Names of the namespaces of an index that hold records (as reads see them). */
  namespaces(index: string): string[] {
    const found = this.indexes.get(index);
    if (!found) return [];
    this.applyDue(found);
    return [...found.visible.keys()].sort();
  }

  /** Stops every server. */
  async close(): Promise<void> {
    await Promise.all([...this.indexes.values()].map((index) => stop(index.server)));
    this.indexes.clear();
    await stop(this.server);
  }

  // -------------------------------------------------------------------------------------------

  private async handle(
    plane: PineconePlane,
    index: EmulatedIndex | undefined,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const method = (request.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      plane,
      ...(index ? { index: index.name } : {}),
      method,
      path: url.pathname,
      query: Object.fromEntries([...new Set(url.searchParams.keys())].map((key) => [key, url.searchParams.getAll(key)])),
      body: undefined,
      apiVersion: header(request, 'x-pinecone-api-version'),
    };
    this.requests.push(record);
    let operation: SpecOperation | undefined;
    let status = 500;
    let payload: unknown;
    try {
      const raw = await readBody(request);
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'The request body is not valid JSON.');
        }
      }
      (record as { body: unknown }).body = body;
      const apiKey = header(request, 'api-key');
      if (!apiKey || (this.options.apiKey !== undefined && apiKey !== this.options.apiKey)) throw new HttpError(401, 'Invalid API key.');
      if (record.apiVersion !== PINECONE_API_VERSION) {
        throw new HttpError(
          400,
          `Unsupported X-Pinecone-Api-Version ${JSON.stringify(record.apiVersion ?? null)}; this emulator implements ${PINECONE_API_VERSION}.`,
        );
      }
      const failure = this.failures.find((candidate) => candidate.path === undefined || candidate.path === url.pathname);
      if (failure) {
        failure.remaining -= 1;
        if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
        throw new HttpError(failure.status, `Injected failure (HTTP ${failure.status}).`);
      }
      operation = this.spec?.find(plane, method, url.pathname);
      if (this.spec && !operation)
        throw new HttpError(404, `${method} ${url.pathname} is not an operation of the ${plane} API ${PINECONE_API_VERSION}.`);
      const problems = operation?.validateRequest({ headers: request.headers, query: url.searchParams, body }) ?? [];
      if (problems.length > 0) throw new HttpError(400, `Invalid request: ${problems.join('; ')}`);
      const result =
        plane === 'control'
          ? await this.control(method, url.pathname, body)
          : this.data(index!, method, url.pathname, url.searchParams, body, raw.length);
      status = result.status;
      payload = result.body;
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        payload = errorBody(plane, error.status, error.message);
      } else {
        status = 500;
        payload = errorBody(plane, 500, `Emulator failure: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (operation && payload !== undefined) {
      const problems = operation.validateResponse(status, payload);
      if (problems.length > 0) {
        status = 500;
        payload = errorBody(plane, 500, `The emulator's answer violates the ${PINECONE_API_VERSION} spec: ${problems.join('; ')}`);
      }
    }
    record.status = status;
    const text = payload === undefined ? '' : JSON.stringify(payload);
    response.writeHead(status, text ? { 'content-type': 'application/json' } : {});
    response.end(text);
  }

  // Control plane ------------------------------------------------------------------------------

  private async control(method: string, path: string, body: unknown): Promise<{ status: number; body?: unknown }> {
    if (path === '/indexes' && method === 'GET') return { status: 200, body: { indexes: [...this.indexes.values()].map(indexModel) } };
    if (path === '/indexes' && method === 'POST') {
      const request = body as Record<string, unknown>;
      const name = String(request['name']);
      if (!INDEX_NAME_PATTERN.test(name))
        throw new HttpError(
          400,
          'Name must consist of lowercase alphanumeric characters or "-", and start and end with an alphanumeric character.',
        );
      if (this.indexes.has(name)) throw new HttpError(409, `Resource ${name} already exists`);
      const vectorType = request['vector_type'] ?? 'dense';
      if (vectorType !== 'dense') throw new HttpError(501, 'This emulator implements dense indexes only.');
      const dimension = request['dimension'];
      if (typeof dimension !== 'number') throw new HttpError(400, 'Dimension is required for dense indexes.');
      const metric = (request['metric'] ?? 'cosine') as string;
      if (metric !== 'cosine' && metric !== 'euclidean' && metric !== 'dotproduct') throw new HttpError(400, `Invalid metric ${metric}.`);
      const spec = request['spec'] as { serverless?: { cloud?: string; region?: string } } | undefined;
      if (!spec?.serverless) throw new HttpError(501, 'This emulator implements serverless indexes only.');
      const created = await this.addIndex({
        name,
        dimension,
        metric,
        cloud: String(spec.serverless.cloud),
        region: String(spec.serverless.region),
        deletionProtection: request['deletion_protection'] === 'enabled' ? 'enabled' : 'disabled',
        ...(request['tags'] ? { tags: request['tags'] as Record<string, string> } : {}),
      });
      return { status: 201, body: indexModel(created) };
    }
    const match = /^\/indexes\/([^/]+)$/.exec(path);
    if (match) {
      const name = decodeURIComponent(match[1]!);
      const found = this.indexes.get(name);
      if (!found) throw new HttpError(404, `Resource ${name} not found`);
      if (method === 'GET') {
        const model = indexModel(found);
        if (found.describesUntilReady > 0) found.describesUntilReady -= 1;
        return { status: 200, body: model };
      }
      if (method === 'DELETE') {
        if (found.deletionProtection === 'enabled') throw new HttpError(403, `Deletion protection is enabled for index ${name}.`);
        this.indexes.delete(name);
        await stop(found.server);
        return { status: 202 };
      }
    }
    throw new HttpError(501, `${method} ${path} is not implemented by the emulator.`);
  }

  private async addIndex(
    spec: Omit<EmulatedIndex, 'host' | 'server' | 'describesUntilReady' | 'latest' | 'visible' | 'pending' | 'vectorType'>,
  ): Promise<EmulatedIndex> {
    const server = createServer();
    await listen(server);
    const index: EmulatedIndex = {
      ...spec,
      vectorType: 'dense',
      host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      server,
      describesUntilReady: this.options.initializingDescribes ?? 0,
      latest: new Map(),
      visible: new Map(),
      pending: [],
    };
    server.on('request', (request, response) => void this.handle('data', index, request, response));
    this.indexes.set(spec.name, index);
    return index;
  }

  // Data plane ---------------------------------------------------------------------------------

  private data(
    index: EmulatedIndex,
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    bodyBytes: number,
  ): { status: number; body?: unknown } {
    if (!this.indexes.has(index.name)) throw new HttpError(404, 'Index not found.');
    this.applyDue(index);
    const request = (body ?? {}) as Record<string, unknown>;
    const namespace = namespaceName(
      method === 'GET' ? (query.get('namespace') ?? '') : typeof request['namespace'] === 'string' ? request['namespace'] : '',
    );
    const read = index.visible.get(namespace);
    if (method === 'POST' && path === '/vectors/upsert') return { status: 200, body: this.upsert(index, namespace, request, bodyBytes) };
    if (method === 'POST' && path === '/query') return { status: 200, body: query_(index, namespace, read, request) };
    if (method === 'GET' && path === '/vectors/fetch') {
      const ids = query.getAll('ids');
      if (ids.length === 0) throw new HttpError(400, 'At least one id is required.');
      if (ids.length > MAX_IDS_PER_REQUEST) throw new HttpError(400, `At most ${MAX_IDS_PER_REQUEST} ids can be fetched at once.`);
      // The spec: "The vector IDs to fetch. Does not accept values containing spaces."
      if (ids.some((id) => id.includes(' '))) throw new HttpError(400, 'Fetch ids must not contain spaces.');
      const vectors: Record<string, unknown> = {};
      for (const id of ids) {
        const vector = read?.get(id);
        if (vector) vectors[id] = vectorJson(vector, true, true);
      }
      return { status: 200, body: { vectors, namespace, usage: { readUnits: Math.max(1, Math.ceil(Object.keys(vectors).length / 10)) } } };
    }
    if (method === 'POST' && path === '/vectors/fetch_by_metadata') return { status: 200, body: fetchByMetadata(namespace, read, request) };
    if (method === 'GET' && path === '/vectors/list') return { status: 200, body: listIds(namespace, read, query) };
    if (method === 'POST' && path === '/vectors/delete') return { status: 200, body: this.deleteVectors(index, namespace, request) };
    if (method === 'POST' && path === '/describe_index_stats') {
      if (request['filter'] !== undefined)
        throw new HttpError(400, 'Serverless indexes do not support filtering describe_index_stats by metadata.');
      const namespaces = Object.fromEntries([...index.visible].map(([name, vectors]) => [name, { vectorCount: vectors.size }]));
      const total = [...index.visible.values()].reduce((sum, vectors) => sum + vectors.size, 0);
      return {
        status: 200,
        body: {
          namespaces,
          dimension: index.dimension,
          indexFullness: 0,
          totalVectorCount: total,
          metric: index.metric,
          vectorType: index.vectorType,
        },
      };
    }
    const namespaceMatch = /^\/namespaces\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && namespaceMatch) {
      const name = namespaceName(decodeURIComponent(namespaceMatch[1]!));
      if (!index.latest.has(name)) throw new HttpError(404, 'Namespace not found');
      this.write(index, (namespaces) => namespaces.delete(name));
      return { status: 200, body: {} };
    }
    throw new HttpError(501, `${method} ${path} is not implemented by the emulator.`);
  }

  private upsert(index: EmulatedIndex, namespace: string, request: Record<string, unknown>, bodyBytes: number): unknown {
    if (bodyBytes > MAX_UPSERT_BYTES)
      throw new HttpError(400, `Request size ${bodyBytes} bytes exceeds the maximum supported size of ${MAX_UPSERT_BYTES} bytes.`);
    const vectors = request['vectors'];
    if (!Array.isArray(vectors) || vectors.length === 0) throw new HttpError(400, 'At least one vector is required.');
    if (vectors.length > MAX_VECTORS_PER_UPSERT)
      throw new HttpError(400, `At most ${MAX_VECTORS_PER_UPSERT} vectors can be upserted at once.`);
    const accepted = vectors.map((vector: Record<string, unknown>, position): StoredVector => {
      const id = vector['id'];
      if (typeof id !== 'string' || id.length === 0) throw new HttpError(400, `vectors[${position}]: id is required.`);
      // eslint-disable-next-line no-control-regex
      if (/[^\x00-\x7f]/.test(id)) throw new HttpError(400, `ID must be ASCII, but got ${JSON.stringify(id)}`);
      if (vector['sparseValues'] !== undefined)
        throw new HttpError(400, 'Sparse values are not supported by a dense index with metric cosine.');
      const values = vector['values'];
      if (!Array.isArray(values)) throw new HttpError(400, `vectors[${position}]: values are required for a dense index.`);
      if (values.length !== index.dimension)
        throw new HttpError(400, `Vector dimension ${values.length} does not match the dimension of the index ${index.dimension}`);
      if (index.metric === 'cosine' && values.every((value) => value === 0))
        throw new HttpError(400, 'Dense vectors must contain at least one non-zero value.');
      const metadata = vector['metadata'];
      if (metadata !== undefined) checkMetadata(metadata, position);
      // Pinecone keeps float32 values.
      return {
        id,
        values: values.map((value: number) => Math.fround(value)),
        ...(metadata === undefined ? {} : { metadata: structuredClone(metadata as EmulatorMetadata) }),
      };
    });
    this.write(index, (namespaces) => {
      let target = namespaces.get(namespace);
      if (!target) namespaces.set(namespace, (target = new Map()));
      for (const vector of accepted) target.set(vector.id, vector);
    });
    return { upsertedCount: accepted.length };
  }

  private deleteVectors(index: EmulatedIndex, namespace: string, request: Record<string, unknown>): unknown {
    const ids = request['ids'];
    const deleteAll = request['deleteAll'] === true;
    const filter = request['filter'];
    if ([ids !== undefined, deleteAll, filter !== undefined].filter(Boolean).length !== 1) {
      throw new HttpError(400, 'Exactly one of ids, deleteAll and filter must be given.');
    }
    let predicate: MetadataPredicate | undefined;
    if (filter !== undefined) predicate = compile(filter);
    if (Array.isArray(ids) && (ids.length === 0 || ids.length > MAX_IDS_PER_REQUEST))
      throw new HttpError(400, `Between 1 and ${MAX_IDS_PER_REQUEST} ids can be deleted at once.`);
    if (!index.latest.has(namespace)) throw new HttpError(404, 'Namespace not found');
    this.write(index, (namespaces) => {
      const target = namespaces.get(namespace);
      if (!target) return;
      if (deleteAll) {
        namespaces.delete(namespace);
        return;
      }
      if (Array.isArray(ids)) for (const id of ids) target.delete(String(id));
      if (predicate) for (const [id, vector] of target) if (predicate(vector.metadata)) target.delete(id);
      if (target.size === 0) namespaces.delete(namespace);
    });
    return {};
  }

  /** Applies a write to `latest` now and to `visible` now or after the visibility delay. */
  private write(index: EmulatedIndex, write: Write): void {
    write(index.latest);
    const delay = this.options.visibilityDelayMs ?? 0;
    if (delay <= 0 && index.pending.length === 0) write(index.visible);
    else index.pending.push({ visibleAt: Date.now() + delay, write });
  }

  private applyDue(index: EmulatedIndex): void {
    const now = Date.now();
    while (index.pending.length > 0 && index.pending[0]!.visibleAt <= now) index.pending.shift()!.write(index.visible);
  }
}

// Data-plane operations ------------------------------------------------------------------------

function query_(
  index: EmulatedIndex,
  namespace: string,
  read: Map<string, StoredVector> | undefined,
  request: Record<string, unknown>,
): unknown {
  const topK = request['topK'];
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K)
    throw new HttpError(400, `topK must be an integer from 1 to ${MAX_TOP_K}.`);
  const includeValues = request['includeValues'] === true;
  const includeMetadata = request['includeMetadata'] === true;
  if ((includeValues || includeMetadata) && topK > MAX_TOP_K_WITH_DATA) {
    throw new HttpError(400, `topK must be at most ${MAX_TOP_K_WITH_DATA} when includeValues or includeMetadata is true.`);
  }
  if (request['queries'] !== undefined) throw new HttpError(400, 'The queries parameter is no longer supported; pass vector or id.');
  if ((request['vector'] === undefined) === (request['id'] === undefined))
    throw new HttpError(400, 'Exactly one of vector and id must be given.');
  let vector = request['vector'] as number[] | undefined;
  if (vector === undefined) {
    const byId = read?.get(String(request['id']));
    if (!byId) return { matches: [], namespace, usage: { readUnits: 1 } };
    vector = [...byId.values];
  }
  if (vector.length !== index.dimension)
    throw new HttpError(400, `Query vector dimension ${vector.length} does not match the dimension of the index ${index.dimension}`);
  if (index.metric === 'cosine' && vector.every((value) => value === 0))
    throw new HttpError(400, 'Query vector must contain at least one non-zero value.');
  const predicate = request['filter'] === undefined ? undefined : compile(request['filter']);
  const query = vector.map((value) => Math.fround(value));
  const scored = [...(read?.values() ?? [])]
    .filter((stored) => !predicate || predicate(stored.metadata))
    .map((stored) => ({ stored, score: Math.fround(score(index.metric, query, stored.values)) }))
    // Pinecone does not order equal scores; the emulator orders them by a hash, not by id.
    .sort(
      (a, b) =>
        (index.metric === 'euclidean' ? a.score - b.score : b.score - a.score) ||
        orderKey(a.stored.id).localeCompare(orderKey(b.stored.id)),
    )
    .slice(0, topK);
  return {
    matches: scored.map(({ stored, score }) => ({ ...vectorJson(stored, includeValues, includeMetadata), score })),
    namespace,
    usage: { readUnits: 5 },
  };
}

function fetchByMetadata(namespace: string, read: Map<string, StoredVector> | undefined, request: Record<string, unknown>): unknown {
  const filter = request['filter'];
  if (typeof filter !== 'object' || filter === null || Object.keys(filter).length === 0)
    throw new HttpError(400, 'A non-empty filter is required.');
  const predicate = compile(filter);
  const limit = request['limit'] ?? 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new HttpError(400, 'limit must be an integer from 1 to 10000.');
  const start = decodeToken(request['paginationToken']);
  // Pinecone does not define the order of fetch_by_metadata; the emulator pages in hash order so a
  // caller that needs id order has to sort.
  const matching = [...(read?.values() ?? [])]
    .filter((stored) => predicate(stored.metadata))
    .map((stored) => ({ stored, key: orderKey(stored.id) }))
    .sort((a, b) => a.key.localeCompare(b.key))
    .filter(({ key }) => start === undefined || key > start);
  const page = matching.slice(0, limit);
  const vectors = Object.fromEntries(page.map(({ stored }) => [stored.id, vectorJson(stored, true, true)]));
  return {
    vectors,
    namespace,
    usage: { readUnits: Math.max(1, Math.ceil(page.length / 10)) },
    ...(matching.length > limit ? { pagination: { next: encodeToken(page.at(-1)!.key) } } : {}),
  };
}

function listIds(namespace: string, read: Map<string, StoredVector> | undefined, query: URLSearchParams): unknown {
  const prefix = query.get('prefix') ?? '';
  const limit = query.has('limit') ? Number(query.get('limit')) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new HttpError(400, 'limit must be an integer from 1 to 10000.');
  const start = decodeToken(query.get('paginationToken') ?? undefined);
  // Pinecone lists ids in bitwise ("C" collation) order of their UTF-8 bytes.
  const ids = [...(read?.keys() ?? [])]
    .filter((id) => id.startsWith(prefix))
    .sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
    .filter((id) => start === undefined || Buffer.compare(Buffer.from(id, 'utf8'), Buffer.from(start, 'utf8')) > 0);
  const page = ids.slice(0, limit);
  return {
    vectors: page.map((id) => ({ id })),
    namespace,
    usage: { readUnits: 1 },
    ...(ids.length > limit ? { pagination: { next: encodeToken(page.at(-1)!) } } : {}),
  };
}

// Helpers ---------------------------------------------------------------------------------------

/** Pinecone names its default namespace `__default__`; `''` means the same (the SDK sends `__default__`). */
function namespaceName(namespace: string): string {
  return namespace === '' ? '__default__' : namespace;
}

function checkMetadata(metadata: unknown, position: number): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new HttpError(400, `vectors[${position}]: metadata must be an object.`);
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith('$')) throw new HttpError(400, `vectors[${position}]: metadata keys must not start with "$".`);
    const valid =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string'));
    if (!valid)
      throw new HttpError(400, `vectors[${position}]: metadata value of key ${key} must be a string, number, boolean or list of strings.`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES)
    throw new HttpError(400, `Metadata size is ${bytes} bytes, which exceeds the limit of ${MAX_METADATA_BYTES} bytes per vector`);
}

function compile(filter: unknown): MetadataPredicate {
  try {
    return compileFilter(filter);
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw new HttpError(400, `Invalid filter: ${error.message}`);
    throw error;
  }
}

function score(metric: EmulatedIndex['metric'], a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  let distance = 0;
  for (let index = 0; index < a.length; index++) {
    const x = a[index]!;
    const y = b[index]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
    distance += (x - y) ** 2;
  }
  if (metric === 'dotproduct') return dot;
  if (metric === 'euclidean') return distance;
  return dot / Math.sqrt(normA * normB);
}

function vectorJson(vector: StoredVector, includeValues: boolean, includeMetadata: boolean): Record<string, unknown> {
  // Pinecone answers values: [] when values were not requested, and leaves metadata out.
  return {
    id: vector.id,
    values: includeValues ? [...vector.values] : [],
    ...(includeMetadata && vector.metadata ? { metadata: structuredClone(vector.metadata) } : {}),
  };
}

function orderKey(id: string): string {
  return createHash('sha1').update(id).digest('hex') + id;
}

function encodeToken(position: string): string {
  return Buffer.from(JSON.stringify({ after: position }), 'utf8').toString('base64');
}

function decodeToken(token: unknown): string | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { after?: unknown };
    if (typeof decoded.after === 'string') return decoded.after;
  } catch {
    // falls through to the 400 below
  }
  throw new HttpError(400, 'Invalid pagination token.');
}

function indexModel(index: EmulatedIndex): unknown {
  const ready = index.describesUntilReady === 0;
  return {
    name: index.name,
    dimension: index.dimension,
    metric: index.metric,
    host: index.host,
    deletion_protection: index.deletionProtection,
    ...(index.tags ? { tags: index.tags } : {}),
    spec: { serverless: { cloud: index.cloud, region: index.region, read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } } } },
    status: { ready, state: ready ? 'Ready' : 'Initializing' },
    vector_type: index.vectorType,
  };
}

function errorBody(plane: PineconePlane, status: number, message: string): unknown {
  if (plane === 'control') return { error: { code: CONTROL_CODES[status] ?? 'UNKNOWN', message }, status };
  return { code: GRPC_CODES[status] ?? 2, message, details: [] };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
