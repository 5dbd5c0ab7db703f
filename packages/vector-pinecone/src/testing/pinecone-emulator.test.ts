import { afterEach, describe, expect, it, vi } from 'vitest';
import { PINECONE_API_VERSION, PineconeEmulator } from './pinecone-emulator';
import { compileFilter, FilterSyntaxError } from './pinecone-emulator-filter';
import { defaultSpecDirectory, loadPineconeSpec } from './pinecone-spec';

const specDirectory = defaultSpecDirectory();
const spec = specDirectory === undefined ? undefined : loadPineconeSpec(specDirectory, PINECONE_API_VERSION);
const specMissing = spec
  ? undefined
  : `the Pinecone ${PINECONE_API_VERSION} spec is not under ${specDirectory ?? '../shared/specs/pinecone'}`;
// A missing spec skips the validation cases on a laptop (a fresh clone has no ../shared) but fails
// them under CI=true, where the specs are always laid beside the clone.
const requireSpec = process.env['CI'] === 'true';

const emulators: PineconeEmulator[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function started(options: Parameters<typeof PineconeEmulator.start>[0] = {}): Promise<{ emulator: PineconeEmulator; host: string }> {
  const emulator = await PineconeEmulator.start(options);
  emulators.push(emulator);
  const host = await emulator.createIndex({ name: 'idx', dimension: 2 });
  return { emulator, host };
}

/** A raw request as the SDK would send it (headers included), so the emulator's checks are seen directly. */
async function send(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'Api-Key': 'k', 'X-Pinecone-Api-Version': PINECONE_API_VERSION, 'Content-Type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const vector = (id: string, values: number[], metadata?: Record<string, unknown>) => ({ id, values, ...(metadata ? { metadata } : {}) });

describe.skipIf(specMissing !== undefined && !requireSpec)(
  `validation against the published spec${specMissing ? ` (skipped: ${specMissing})` : ''}`,
  () => {
    it('loads the spec', () => {
      expect(specMissing, 'the Pinecone spec must exist under CI').toBeUndefined();
    });

    it('rejects a body that violates the spec with 400 in the data plane error shape', async () => {
      const { host } = await started();
      const wrongType = await send(`${host}/vectors/upsert`, { body: { vectors: 'not an array' } });
      expect(wrongType).toEqual({ status: 400, body: { code: 3, message: 'Invalid request: body/vectors must be array', details: [] } });
      const misspelt = await send(`${host}/query`, { body: { vector: [1, 0], topk: 3 } });
      expect(misspelt.status).toBe(400);
      expect((misspelt.body as { message: string }).message).toContain('body must NOT have additional properties (topk)');
      const badValue = await send(`${host}/vectors/upsert`, { body: { vectors: [{ id: 'a', values: [1, 'x'] }] } });
      expect((badValue.body as { message: string }).message).toBe('Invalid request: body/vectors/0/values/1 must be number');
    });

    it('validates query parameters and the control plane too', async () => {
      const { emulator, host } = await started();
      const list = await send(`${host}/vectors/list?limit=many`);
      expect(list.status).toBe(400);
      expect((list.body as { message: string }).message).toContain('query/limit must be integer');
      const create = await send(`${emulator.controllerHostUrl}/indexes`, {
        body: { name: 'x', dimension: '8', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } },
      });
      expect(create).toEqual({
        status: 400,
        body: { error: { code: 'INVALID_ARGUMENT', message: 'Invalid request: body/dimension must be integer' }, status: 400 },
      });
    });

    it('asserts the API version header and the API key', async () => {
      const { host } = await started({ apiKey: 'right' });
      const version = await send(`${host}/describe_index_stats`, {
        body: {},
        headers: { 'Api-Key': 'right', 'X-Pinecone-Api-Version': '2025-10' },
      });
      expect(version.status).toBe(400);
      expect((version.body as { message: string }).message).toMatch(/Unsupported X-Pinecone-Api-Version "2025-10"/);
      expect((await send(`${host}/describe_index_stats`, { body: {}, headers: { 'Api-Key': 'wrong' } })).status).toBe(401);
      expect((await send(`${host}/describe_index_stats`, { body: {}, headers: { 'Api-Key': 'right' } })).status).toBe(200);
    });

    it('checks answers against the documented response schemas', () => {
      const query = spec!.find('data', 'POST', '/query')!;
      expect(query.validateResponse(200, { matches: [{ id: 'a', score: 0.5 }], namespace: 'n' })).toEqual([]);
      expect(query.validateResponse(200, { matches: 'none' })).toEqual(['response/matches must be array']);
      expect(spec!.find('control', 'GET', '/indexes/my-index')!.pathParams).toEqual({ index_name: 'my-index' });
    });
  },
);

describe('without the spec', () => {
  it('refuses to start when the spec is required (the default under CI=true)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(PineconeEmulator.start({ specDirectory: '/nonexistent/specs', requireSpec: true })).rejects.toThrow(
      /spec 2026-04 not found under \/nonexistent\/specs, and it is required \(CI=true\)/,
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('elsewhere runs unvalidated and says so in one line', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { emulator, host } = await started({ specDirectory: '/nonexistent/specs', requireSpec: false });
    expect(emulator.spec).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /^\[pinecone-emulator\] Pinecone OpenAPI spec 2026-04 not found under \/nonexistent\/specs; requests are NOT validated \(under CI=true this fails\)\.$/,
    );
    // Pinecone's own rules still apply.
    expect((await send(`${host}/vectors/upsert`, { body: { vectors: [vector('a', [1, 2, 3])] } })).status).toBe(400);
  });
});

describe("Pinecone's semantics", () => {
  it('enforces the documented limits', async () => {
    const { host } = await started();
    expect((await send(`${host}/vectors/upsert`, { body: { vectors: [vector('café', [1, 0])] } })).body).toMatchObject({
      message: 'ID must be ASCII, but got "café"',
    });
    expect((await send(`${host}/vectors/fetch?ids=with%20space`)).status).toBe(400);
    const many = Array.from({ length: 1_001 }, (_, index) => vector(`v${index}`, [1, 0]));
    expect((await send(`${host}/vectors/upsert`, { body: { vectors: many } })).status).toBe(400);
    expect(
      (await send(`${host}/vectors/upsert`, { body: { vectors: [vector('big', [1, 0], { note: 'x'.repeat(41_000) })] } })).body,
    ).toMatchObject({
      message: 'Metadata size is 41011 bytes, which exceeds the limit of 40960 bytes per vector',
    });
    expect((await send(`${host}/vectors/upsert`, { body: { vectors: [vector('zero', [0, 0])] } })).status).toBe(400);
    expect((await send(`${host}/query`, { body: { vector: [1, 0], topK: 1_001, includeMetadata: true } })).status).toBe(400);
    expect((await send(`${host}/query`, { body: { vector: [1, 0], topK: 1_001 } })).status).toBe(200);
    expect((await send(`${host}/vectors/delete`, { body: { ids: Array.from({ length: 1_001 }, (_, index) => `v${index}`) } })).status).toBe(
      400,
    );
    expect((await send(`${host}/vectors/delete`, { body: { ids: ['a'], namespace: 'nobody-wrote-here' } })).status).toBe(404);
  });

  it('scores by cosine similarity over float32 values', async () => {
    const { host } = await started();
    await send(`${host}/vectors/upsert`, {
      body: { vectors: [vector('same', [0.1, 0.2]), vector('opposite', [-1, -2]), vector('orthogonal', [2, -1])] },
    });
    const answer = (await send(`${host}/query`, { body: { vector: [1, 2], topK: 3, includeValues: true } })).body as {
      matches: { id: string; score: number; values: number[] }[];
    };
    expect(answer.matches.map((match) => [match.id, Math.round(match.score * 1e6) / 1e6])).toEqual([
      ['same', 1],
      ['orthogonal', 0],
      ['opposite', -1],
    ]);
    expect(answer.matches[0]!.values).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });

  it('pages list in bitwise UTF-8 order and fetch_by_metadata in an order unrelated to ids, each id exactly once', async () => {
    const { host } = await started();
    const ids = Array.from({ length: 25 }, (_, index) => `id-${String(index).padStart(2, '0')}`).concat(['ID-1', '_x', '~']);
    await send(`${host}/vectors/upsert`, { body: { vectors: ids.map((id, index) => vector(id, [1, index], { even: index % 2 === 0 })) } });
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = (await send(`${host}/vectors/list?limit=10${token ? `&paginationToken=${encodeURIComponent(token)}` : ''}`)).body as {
        vectors: { id: string }[];
        pagination?: { next: string };
      };
      listed.push(...page.vectors.map((item) => item.id));
      token = page.pagination?.next;
    } while (token);
    expect(listed).toEqual([...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(listed.slice(0, 2)).toEqual(['ID-1', '_x']);
    const fetched: string[] = [];
    do {
      const page = (
        await send(`${host}/vectors/fetch_by_metadata`, {
          body: { filter: { even: true }, limit: 4, ...(token ? { paginationToken: token } : {}) },
        })
      ).body as {
        vectors: Record<string, unknown>;
        pagination?: { next: string };
      };
      fetched.push(...Object.keys(page.vectors));
      token = page.pagination?.next;
    } while (token);
    const even = ids.filter((_, index) => index % 2 === 0);
    expect([...fetched].sort()).toEqual([...even].sort());
    expect(fetched).not.toEqual([...even].sort());
  });
});

describe('filter evaluation', () => {
  const records = {
    food: { category: 'food', rating: 5, vegan: true, tags: ['travel', 'food'] },
    lookalike: { category: 'food', rating: '5', vegan: 'true', flag: 1 },
    bare: {},
  };
  const select = (filter: unknown) =>
    Object.entries(records)
      .filter(([, metadata]) => compileFilter(filter)(metadata))
      .map(([name]) => name);

  it('compares types strictly and matches list elements', () => {
    expect(select({ rating: 5 })).toEqual(['food']);
    expect(select({ rating: { $eq: '5' } })).toEqual(['lookalike']);
    expect(select({ vegan: true })).toEqual(['food']);
    expect(select({ flag: { $eq: true } })).toEqual([]);
    expect(select({ tags: 'travel' })).toEqual(['food']);
    expect(select({ tags: { $in: ['x', 'food'] } })).toEqual(['food']);
    expect(select({ rating: { $gte: 5 } })).toEqual(['food']);
  });

  it('does not match a missing field with $ne or $nin (only $exists: false does)', () => {
    expect(select({ category: { $ne: 'travel' } })).toEqual(['food', 'lookalike']);
    expect(select({ flag: { $nin: [2] } })).toEqual(['lookalike']);
    expect(select({ tags: { $ne: 'travel' } })).toEqual([]);
    expect(select({ category: { $exists: false } })).toEqual(['bare']);
    expect(select({ $or: [{ flag: 1 }, { vegan: true }] })).toEqual(['food', 'lookalike']);
  });

  it('rejects what Pinecone documents as invalid', () => {
    for (const filter of [
      { $not: { a: 1 } },
      { a: { $contains: 'x' } },
      { a: { $in: [true] } },
      { a: { $in: [] } },
      { a: { $gt: '1' } },
      { $and: [] },
      { a: {} },
      { a: null },
    ]) {
      expect(() => compileFilter(filter), JSON.stringify(filter)).toThrow(FilterSyntaxError);
    }
  });
});
