import { fork, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigure, scaled } from './support/figures';

// The REST server (apps/server) at the HTTP level, in its own process as clients meet it:
// - every answer the server gives before it has read the body (413 over the body limit, 415 for a
//   body that is not JSON, 401, 403) is readable by a client that is still sending the body (fetch
//   with a content-length or chunked, a raw socket that announces more than it sends): never EPIPE
//   or a connection reset, and the server keeps serving;
// - only application/json is parsed: every other media type, text/plain included, is 415
//   UNSUPPORTED_MEDIA_TYPE on every operation that takes a body, and nothing is stored.

/** The server's default body limit (MEM_BODY_LIMIT). */
const LIMIT = 1024 * 1024;
const KEYS = { tenant: 'tenant-transport-key-000000001', admin: 'admin-transport-key-0000000002' } as const;
const KEY_DEFINITIONS = [
  { id: 'tenant', key: KEYS.tenant, userIds: ['alice'] },
  { id: 'ops', key: KEYS.admin, admin: true, userIds: '*', agentIds: '*', runIds: '*' },
];

interface Operation {
  readonly method: string;
  /** With path parameters filled in. */
  readonly path: string;
  readonly admin: boolean;
  /** A body this operation accepts when sent as JSON (the media type alone must decide the answer). */
  readonly body: string;
}

/**
 * Bodies the operations with a documented request body accept as JSON (an operation of the document
 * with a body but none here fails the suite). Operations without one get `{}`: fastify parses a body
 * for every POST, PUT, PATCH and DELETE, so every one of them is covered.
 */
const VALID_BODIES: Record<string, unknown> = {
  addMemories: { messages: 'Drinks green tea', scope: { userId: 'alice' } },
  listMemoriesFiltered: { scope: { userId: 'alice' } },
  deleteMemoriesFiltered: { scope: { userId: 'alice' }, filter: { op: 'eq', field: 'topic', value: 'none' } },
  purgeExpiredMemories: { scope: { userId: 'alice' } },
  updateMemory: { text: 'Drinks black tea' },
  searchMemories: { query: 'tea', scope: { userId: 'alice' } },
  importMemories: { records: [{ text: 'Drinks green tea', scope: { userId: 'alice' } }] },
  createKey: { id: 'created-by-transport-test', userIds: ['zed'] },
};

let child: ChildProcess;
let url = '';
let operations: Operation[] = [];

beforeAll(async () => {
  child = fork(fileURLToPath(new URL('../test/server-child.mjs', import.meta.url)), [JSON.stringify(KEY_DEFINITIONS)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { url: string }) => resolve(message.url));
    child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before listening:\n${stderr}`)));
  });
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { operationId: string; requestBody?: unknown }>>;
  };
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
      const body = VALID_BODIES[operation.operationId];
      if (operation.requestBody && body === undefined) throw new Error(`add a valid body for ${operation.operationId} to VALID_BODIES`);
      operations.push({
        method: method.toUpperCase(),
        path: template.replace(/\{[^}]+\}/g, 'some-id'),
        admin: template.startsWith('/v1/admin'),
        body: JSON.stringify(body ?? {}),
      });
    }
  }
  operations = operations.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
  // Every body route of the document is covered; if the document lost them, the classes would test nothing.
  expect(operations.length).toBeGreaterThanOrEqual(10);
});

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  await exited;
});

type KeyChoice = 'tenant' | 'admin' | 'wrong' | 'none';

function authorization(key: KeyChoice): Record<string, string> {
  if (key === 'none') return {};
  return { authorization: `Bearer ${key === 'wrong' ? 'wrong-transport-key-00000000003' : KEYS[key]}` };
}

/** How a client sends a body larger than the limit. */
type Transfer =
  | { readonly kind: 'fetch-length'; readonly bytes: number }
  | { readonly kind: 'fetch-chunked'; readonly bytes: number }
  /** A raw socket announcing `announced` bytes and sending `sent` of them, reading the answer meanwhile. */
  | { readonly kind: 'socket'; readonly announced: number; readonly sent: number };

const SIZES = [LIMIT + 1, 3 * 1024 * 1024, 50_000_000] as const;
/** One buffer for every large body: the bytes never reach a parser, only their number matters. */
const FILLER = Buffer.alloc(50_000_000, 'x');
FILLER.write('{"messages":"');

const transferArbitrary: fc.Arbitrary<Transfer> = fc.oneof(
  fc.constantFrom(...SIZES).map((bytes): Transfer => ({ kind: 'fetch-length', bytes })),
  fc.constantFrom(...SIZES).map((bytes): Transfer => ({ kind: 'fetch-chunked', bytes })),
  fc
    .tuple(fc.constantFrom(...SIZES), fc.constantFrom(0, 0.01, 0.5, 1))
    .map(([announced, fraction]): Transfer => ({ kind: 'socket', announced, sent: Math.floor(announced * fraction) })),
);

interface EarlyCase {
  readonly operation: number;
  readonly key: KeyChoice;
  readonly json: boolean;
  readonly transfer: Transfer;
}

/** The answer the server owes before reading the body: authentication, then authorisation, then the media type, then the size. */
function expectedAnswer(operation: Operation, testCase: EarlyCase): { status: number; code: string } {
  if (testCase.key === 'none' || testCase.key === 'wrong') return { status: 401, code: 'UNAUTHENTICATED' };
  if (operation.admin && testCase.key !== 'admin') return { status: 403, code: 'FORBIDDEN' };
  if (!testCase.json) return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' };
  return { status: 413, code: 'PAYLOAD_TOO_LARGE' };
}

/** Sends one oversized request; resolves to the status and parsed body, or rejects with what the client saw. */
async function sendLarge(operation: Operation, testCase: EarlyCase): Promise<{ status: number; body: any }> {
  const headers = { ...authorization(testCase.key), 'content-type': testCase.json ? 'application/json' : 'text/plain' };
  const transfer = testCase.transfer;
  if (transfer.kind === 'socket') return rawRequest(operation, headers, transfer);
  const body =
    transfer.kind === 'fetch-length'
      ? FILLER.subarray(0, transfer.bytes)
      : new ReadableStream<Uint8Array>({
          start(controller) {
            for (let offset = 0; offset < transfer.bytes; offset += 256 * 1024)
              controller.enqueue(FILLER.subarray(offset, Math.min(transfer.bytes, offset + 256 * 1024)));
            controller.close();
          },
        });
  const response = await fetch(`${url}${operation.path}`, {
    method: operation.method,
    headers,
    body,
    ...(transfer.kind === 'fetch-chunked' ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: response.status, body: await response.json() };
}

/** HTTP/1.1 over a plain socket: headers announcing `announced` bytes, then `sent` bytes in chunks; reads the answer while writing. */
function rawRequest(
  operation: Operation,
  headers: Record<string, string>,
  transfer: { readonly announced: number; readonly sent: number },
): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (outcome: { status: number; body: any } | Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const headerEnd = text.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headerEnd))?.[1] ?? Number.NaN);
      if (received.length < headerEnd + 4 + length) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      finish({ status, body: JSON.parse(received.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8')) });
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`the connection closed before a whole answer arrived (${received.length} bytes)`)));
    socket.on('connect', () => {
      const lines = [
        `${operation.method} ${operation.path} HTTP/1.1`,
        `host: ${hostname}:${port}`,
        `content-length: ${transfer.announced}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      let offset = 0;
      const writeMore = () => {
        while (!done && offset < transfer.sent) {
          const end = Math.min(transfer.sent, offset + 256 * 1024);
          const flushed = socket.write(FILLER.subarray(offset, end));
          offset = end;
          if (!flushed) return void socket.once('drain', writeMore);
        }
      };
      writeMore();
    });
  });
}

describe('apps/server over HTTP, in its own process', () => {
  it('an early answer (413, 415, 401, 403) is readable by a client still sending its body, and the server keeps serving', async () => {
    const outcomes = new Map<string, number>();
    let failure = '';
    // One case of each early answer runs every time, whatever the seed: 403 needs an admin route and the
    // tenant key, which 48 random cases drew too seldom to count on (a seed without it failed CI once).
    const admin = operations.findIndex((operation) => operation.admin);
    const plain = operations.findIndex((operation) => !operation.admin);
    expect(admin).toBeGreaterThanOrEqual(0);
    expect(plain).toBeGreaterThanOrEqual(0);
    const everyAnswer: [EarlyCase][] = [
      [{ operation: plain, key: 'none', json: true, transfer: { kind: 'fetch-length', bytes: LIMIT + 1 } }],
      [{ operation: admin, key: 'tenant', json: true, transfer: { kind: 'fetch-chunked', bytes: 3 * 1024 * 1024 } }],
      [{ operation: plain, key: 'admin', json: false, transfer: { kind: 'socket', announced: LIMIT + 1, sent: 0 } }],
      [{ operation: plain, key: 'tenant', json: true, transfer: { kind: 'fetch-length', bytes: LIMIT + 1 } }],
    ];
    const details = await fc.check(
      fc.asyncProperty(
        fc.record({
          operation: fc.nat({ max: 1_000 }),
          key: fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom<KeyChoice>('tenant', 'admin') },
            { weight: 1, arbitrary: fc.constantFrom<KeyChoice>('wrong', 'none') },
          ),
          json: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          transfer: transferArbitrary,
        }),
        async (testCase) => {
          const operation = operations[testCase.operation % operations.length]!;
          const expected = expectedAnswer(operation, testCase);
          let answer: { status: number; body: any };
          try {
            answer = await sendLarge(operation, testCase);
          } catch (error) {
            const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code ?? '';
            failure = `${operation.method} ${operation.path} ${JSON.stringify(testCase)}: the client could not read the answer (${String(error)} ${cause})`;
            throw new Error(failure);
          }
          outcomes.set(String(answer.status), (outcomes.get(String(answer.status)) ?? 0) + 1);
          if (answer.status !== expected.status || answer.body?.error?.code !== expected.code) {
            failure = `${operation.method} ${operation.path} ${JSON.stringify(testCase)}: ${answer.status} ${JSON.stringify(answer.body)}, expected ${expected.status} ${expected.code}`;
            throw new Error(failure);
          }
          const health = await fetch(`${url}/healthz`);
          if (health.status !== 200) throw new Error(`after ${JSON.stringify(testCase)} the server answers /healthz with ${health.status}`);
        },
      ),
      { numRuns: scaled(48, 600), endOnFailure: true, examples: everyAnswer },
    );
    recordFigure({
      category: 'server: early answers readable',
      backend: 'apps/server (own process)',
      cases: details.numRuns,
      violations: details.failed ? 1 : 0,
    });
    if (details.failed) throw new Error(`${failure}\nseed ${details.seed}, path ${details.counterexamplePath}`);
    // Every kind of early answer occurred (the examples above make sure of it).
    expect([...outcomes.keys()].sort()).toEqual(['401', '403', '413', '415']);
  });

  it('only application/json is parsed: every other media type is 415 on every body operation, and nothing is stored', async () => {
    const statuses = new Map<string, number>();
    let failure = '';
    const details = await fc.check(
      fc.asyncProperty(fc.nat({ max: 1_000 }), mediaTypeArbitrary, async (index, mediaType) => {
        const operation = operations[index % operations.length]!;
        const response = await fetch(`${url}${operation.path}`, {
          method: operation.method,
          headers: {
            authorization: `Bearer ${KEYS.admin}`,
            ...(mediaType.header === undefined ? {} : { 'content-type': mediaType.header }),
          },
          body: operation.body,
        });
        const body = (await response.json()) as { error?: { code?: string } };
        statuses.set(mediaType.json ? 'json' : 'other', (statuses.get(mediaType.json ? 'json' : 'other') ?? 0) + 1);
        const unsupported = response.status === 415 && body.error?.code === 'UNSUPPORTED_MEDIA_TYPE';
        if (unsupported === mediaType.json) {
          failure = `${operation.method} ${operation.path} with content-type ${JSON.stringify(mediaType.header)}: ${response.status} ${JSON.stringify(body)}`;
          throw new Error(failure);
        }
      }),
      { numRuns: scaled(300, 3_000), endOnFailure: true },
    );
    recordFigure({
      category: 'server: JSON only (415)',
      backend: 'apps/server (own process)',
      cases: details.numRuns,
      violations: details.failed ? 1 : 0,
    });
    if (details.failed) throw new Error(`${failure}\nseed ${details.seed}, path ${details.counterexamplePath}`);
    expect(statuses.get('other') ?? 0).toBeGreaterThan(0);
    expect(statuses.get('json') ?? 0).toBeGreaterThan(0);
    // Only JSON bodies reached the handlers: what is stored came from them alone.
    const listed = await fetch(`${url}/v1/memories?userId=alice`, { headers: authorization('admin') });
    const { results } = (await listed.json()) as { results: { text: string }[] };
    expect(results.every((memory) => memory.text === 'Drinks green tea' || memory.text === 'Drinks black tea')).toBe(true);
  });
});

/** Media types that are not JSON, and spellings of JSON (the control): case, parameters, spaces. */
const NOT_JSON = [
  'text/plain',
  'text/html',
  'text/csv',
  'text/xml',
  'text/json',
  'text/javascript',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----mem',
  'application/octet-stream',
  'application/javascript',
  'application/x-json',
  'application/jsonx',
  'application/json-seq',
  'application/x-ndjson',
  'application/vnd.api+json',
  'application/problem+json',
  'application/yaml',
  'image/png',
  'json',
  '',
];

const mediaTypeArbitrary: fc.Arbitrary<{ header: string | undefined; json: boolean }> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...NOT_JSON), fc.constantFrom('as-is', 'upper', 'charset', 'spaces', 'charset-upper'))
      .map(([type, variant]) => ({ header: spell(type, variant), json: false })),
  },
  { weight: 1, arbitrary: fc.constant({ header: undefined, json: false }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('as-is', 'upper', 'charset', 'spaces', 'charset-upper')
      .map((variant) => ({ header: spell('application/json', variant), json: true })),
  },
);

function spell(type: string, variant: string): string {
  switch (variant) {
    case 'upper':
      return type.toUpperCase();
    case 'charset':
      return type === '' ? type : `${type}; charset=utf-8`;
    case 'spaces':
      return ` ${type} `;
    case 'charset-upper':
      return type === '' ? type : `${type.toUpperCase()};charset=UTF-8`;
    default:
      return type;
  }
}
