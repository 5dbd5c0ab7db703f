import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QdrantEmulator } from './qdrant-emulator';
import { defaultSpecPath } from './qdrant-openapi-validator';

const specPath = defaultSpecPath();
const specPresent = specPath !== undefined && existsSync(specPath);
// Like serverEnv: a missing spec skips on a laptop (a fresh clone has no ../shared) but fails under
// CI=true, where the spec is always laid beside the clone, so validation can never silently stop.
const requireSpec = process.env['CI'] === 'true';

async function call(
  emulator: QdrantEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe.skipIf(!specPresent && !requireSpec)(
  `QdrantEmulator validates against the OpenAPI spec${specPresent ? '' : ` (skipped: no spec at ${specPath})`}`,
  () => {
    let emulator: QdrantEmulator;
    beforeAll(async () => {
      emulator = await QdrantEmulator.start();
      await call(emulator, 'PUT', '/collections/c', { vectors: { size: 2, distance: 'Cosine' } });
    });
    afterAll(() => emulator.stop());

    it('loads the spec', () => {
      expect(specPresent, `the Qdrant OpenAPI spec must exist at ${specPath} under CI`).toBe(true);
      expect(emulator.validating).toBe(true);
    });

    it.each([
      ['a scroll limit of 0', 'POST', '/collections/c/points/scroll', { limit: 0 }, /limit must be >= 1/],
      [
        'an unknown filter clause',
        'POST',
        '/collections/c/points/scroll',
        { filter: { must_be: [] } },
        /must NOT have additional properties/,
      ],
      [
        'a point id that is neither a UUID nor an unsigned integer',
        'PUT',
        '/collections/c/points',
        { points: [{ id: 'note-1', vector: [1, 0] }] },
        /body/,
      ],
      ['a match on a float', 'POST', '/collections/c/points/scroll', { filter: { must: [{ key: 'a', match: { value: 1.5 } }] } }, /body/],
      [
        'a match.any mixing strings and integers',
        'POST',
        '/collections/c/points/count',
        { filter: { must: [{ key: 'a', match: { any: ['x', 1] } }] } },
        /body/,
      ],
      ['a distance that does not exist', 'PUT', '/collections/d', { vectors: { size: 2, distance: 'Cosinus' } }, /distance/],
      ['a query parameter of the wrong type', 'PUT', '/collections/c/points?wait=maybe', { points: [] }, /query parameter "wait"/],
      ['an undeclared query parameter', 'POST', '/collections/c/points/scroll?limit=3', {}, /unknown query parameter "limit"/],
    ])("rejects %s with 400 and Qdrant's error shape", async (_, method, path, body, message) => {
      const { status, json } = await call(emulator, method, path, body);
      expect(status).toBe(400);
      expect(json).toEqual({ status: { error: expect.stringMatching(message) }, time: expect.any(Number), result: null });
    });

    it('rejects a body that is not JSON, and answers 404 to an unknown route', async () => {
      expect((await call(emulator, 'POST', '/collections/c/points/scroll', '{"limit":')).status).toBe(400);
      expect((await call(emulator, 'POST', '/collections/c/points/teleport', {})).status).toBe(404);
    });

    it('accepts what the spec allows: keyword index params with on_disk, quoted key paths, nested filters', async () => {
      expect(
        (
          await call(emulator, 'PUT', '/collections/c/index?wait=true', {
            field_name: 'userId',
            field_schema: { type: 'keyword', on_disk: true },
          })
        ).status,
      ).toBe(200);
      const filter = { must: [{ should: [{ key: 'metadata."a.b"', match: { value: true } }, { must_not: [{ has_id: [] }] }] }] };
      expect((await call(emulator, 'POST', '/collections/c/points/scroll', { filter, limit: 5, with_payload: ['id'] })).status).toBe(200);
    });
  },
);

describe('QdrantEmulator without the spec', () => {
  it('refuses to start when the spec is required (the default under CI=true)', async () => {
    const lines: string[] = [];
    await expect(
      QdrantEmulator.start({ specPath: '/nonexistent/openapi.json', requireSpec: true, log: (line) => lines.push(line) }),
    ).rejects.toThrow(/spec not found at \/nonexistent\/openapi\.json, and it is required \(CI=true\)/);
    expect(lines).toEqual([]);
  });

  it('elsewhere prints one line saying so, once, and still serves requests', async () => {
    const lines: string[] = [];
    const options = { specPath: '/nonexistent/openapi.json', requireSpec: false, log: (line: string) => lines.push(line) };
    const first = await QdrantEmulator.start(options);
    const second = await QdrantEmulator.start(options);
    try {
      expect(lines).toEqual([
        expect.stringMatching(/spec not found at \/nonexistent\/openapi\.json; requests are NOT validated \(under CI=true this fails\)/),
      ]);
      expect(first.validating).toBe(false);
      expect((await call(first, 'PUT', '/collections/c', { vectors: { size: 2, distance: 'Cosine' } })).json).toMatchObject({
        result: true,
        status: 'ok',
      });
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

describe('QdrantEmulator semantics', () => {
  let emulator: QdrantEmulator;
  beforeAll(async () => {
    emulator = await QdrantEmulator.start();
  });
  afterAll(() => emulator.stop());

  it('creates a collection once (409 the second time) and answers 404 for a missing one', async () => {
    expect((await call(emulator, 'PUT', '/collections/once', { vectors: { size: 2, distance: 'Dot' } })).status).toBe(200);
    const again = await call(emulator, 'PUT', '/collections/once', { vectors: { size: 2, distance: 'Dot' } });
    expect(again.status).toBe(409);
    expect(again.json['status']).toEqual({ error: 'Wrong input: Collection `once` already exists!' });
    const missing = await call(emulator, 'GET', '/collections/never');
    expect(missing.status).toBe(404);
    expect(missing.json['status']).toEqual({ error: "Not found: Collection `never` doesn't exist!" });
    expect((await call(emulator, 'DELETE', '/collections/once')).json['result']).toBe(true);
    expect((await call(emulator, 'DELETE', '/collections/once')).json['result']).toBe(false);
  });

  it('normalizes Cosine vectors to float32 unit length and scores by cosine', async () => {
    await call(emulator, 'PUT', '/collections/cos', { vectors: { size: 2, distance: 'Cosine' } });
    await call(emulator, 'PUT', '/collections/cos/points?wait=true', {
      points: [
        { id: 1, vector: [3, 4], payload: { n: 1 } },
        { id: 2, vector: [-1, 0], payload: { n: 2 } },
      ],
    });
    expect(emulator.points('cos')[0]!.vector).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const { json } = await call(emulator, 'POST', '/collections/cos/points/query', { query: [6, 8], with_payload: true });
    const points = (json['result'] as { points: { id: number; score: number; payload: unknown }[] }).points;
    expect(points.map((point) => point.id)).toEqual([1, 2]);
    expect(points[0]!.score).toBeCloseTo(1, 6);
    expect(points[1]!.score).toBeCloseTo(-0.6, 6);
    expect(points[0]!.payload).toEqual({ n: 1 });
  });

  it('scrolls in point-id order (integers, then UUIDs) with an inclusive offset and next_page_offset', async () => {
    await call(emulator, 'PUT', '/collections/ids', { vectors: { size: 1, distance: 'Euclid' } });
    const ids = [
      'ffffffff-0000-4000-8000-000000000000',
      7,
      '00000000-0000-4000-8000-000000000001',
      3,
      'A0000000-0000-4000-8000-000000000000',
    ];
    await call(emulator, 'PUT', '/collections/ids/points', { points: ids.map((id) => ({ id, vector: [1] })) });
    const first = await call(emulator, 'POST', '/collections/ids/points/scroll', { limit: 2 });
    expect(first.json['result']).toEqual({
      points: [
        { id: 3, payload: {}, vector: null },
        { id: 7, payload: {}, vector: null },
      ],
      next_page_offset: '00000000-0000-4000-8000-000000000001',
    });
    const second = await call(emulator, 'POST', '/collections/ids/points/scroll', {
      limit: 5,
      offset: '00000000-0000-4000-8000-000000000001',
      with_payload: false,
    });
    expect(second.json['result']).toEqual({
      points: ['00000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000000', 'ffffffff-0000-4000-8000-000000000000'].map(
        (id) => ({ id, payload: null, vector: null }),
      ),
      next_page_offset: null,
    });
  });

  it('evaluates filters the way Qdrant does: typed match, array elements, must_not on missing keys, quoted keys', async () => {
    await call(emulator, 'PUT', '/collections/f', { vectors: { size: 1, distance: 'Dot' } });
    await call(emulator, 'PUT', '/collections/f/points', {
      points: [
        { id: 1, vector: [1], payload: { m: { tags: ['x', 'y'], 'a.b': 1 } } },
        { id: 2, vector: [1], payload: { m: { tags: 'x', n: '1' } } },
        { id: 3, vector: [1], payload: { m: { n: 1, flag: true } } },
        { id: 4, vector: [1], payload: {} },
      ],
    });
    const count = async (filter: unknown) =>
      (
        (await call(emulator, 'POST', '/collections/f/points/scroll', { filter })).json['result'] as { points: { id: number }[] }
      ).points.map((point) => point.id);
    expect(await count({ must: [{ key: 'm.tags', match: { value: 'x' } }] })).toEqual([1, 2]);
    expect(await count({ must: [{ key: 'm.n', match: { value: 1 } }] })).toEqual([3]);
    expect(await count({ must: [{ key: 'm.flag', match: { value: 1 } }] })).toEqual([]);
    expect(await count({ must_not: [{ key: 'm.tags', match: { any: ['y'] } }] })).toEqual([2, 3, 4]);
    expect(await count({ must: [{ key: 'm."a.b"', range: { gte: 1, lte: 1 } }] })).toEqual([1]);
    expect(await count({ must: [{ key: 'm.a.b', range: { gte: 1 } }] })).toEqual([]);
    expect(await count({ should: [{ has_id: [4] }, { is_empty: { key: 'm.tags' } }] })).toEqual([3, 4]);
    expect(
      await count({ min_should: { conditions: [{ has_id: [1, 2] }, { key: 'm.tags', match: { value: 'y' } }], min_count: 2 } }),
    ).toEqual([1]);
  });

  it('fails injected requests with the given status and Retry-After, then recovers', async () => {
    emulator.failNext(1, { status: 429, retryAfterSeconds: 3 });
    const response = await fetch(`${emulator.url}/collections/f/exists`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect((await call(emulator, 'GET', '/collections/f/exists')).json['result']).toEqual({ exists: true });
  });
});
