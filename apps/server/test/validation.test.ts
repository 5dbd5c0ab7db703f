import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestServer, type TestServer } from './harness';

// Bad requests get 400 INVALID_INPUT naming the field, whether the schema or core found the problem.
describe('validation errors', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(async () => {
    await api?.close();
  });

  const expectInvalid = async (response: Promise<{ status: number; body: any }>, field: string) => {
    const { status, body } = await response;
    expect(status).toBe(400);
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.field).toBe(field);
    expect(body.error.message).toContain(field);
    return body.error.message as string;
  };

  it('names a missing required field', async () => {
    await expectInvalid(api.request('POST', '/v1/search', { key: KEYS.alice, body: { scope: { userId: 'alice' } } }), 'query');
    await expectInvalid(api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'hi there' } }), 'scope');
  });

  it('names a field of the wrong type or out of range, without coercing body values', async () => {
    await expectInvalid(api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, limit: '5' } }), 'limit');
    await expectInvalid(api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, limit: 1001 } }), 'limit');
    await expectInvalid(
      api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, threshold: 2 } }),
      'threshold',
    );
    await expectInvalid(api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: '   ', scope: {} } }), 'query');
  });

  it('refuses dates without an RFC 3339 form (after year 9999), found by the fuzzer', async () => {
    await expectInvalid(
      api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'x', scope: {}, occurredAt: 8_640_000_000_000_000 } }),
      'occurredAt',
    );
    const latest = await api.request('POST', '/v1/memories', {
      key: KEYS.alice,
      body: { messages: 'x', scope: {}, occurredAt: 253_402_300_799_999 },
    });
    expect(latest.body.memories[0].occurredAt).toBe('9999-12-31T23:59:59.999Z');
  });

  it('names nested fields: message roles, scope ids, metadata keys', async () => {
    await expectInvalid(
      api.request('POST', '/v1/memories', {
        key: KEYS.alice,
        body: {
          messages: [
            { role: 'user', content: 'a' },
            { role: 'robot', content: 'b' },
          ],
          scope: {},
        },
      }),
      'messages[1].role',
    );
    await expectInvalid(
      api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'x', scope: { userId: 'alice', tenant: 'x' } } }),
      'scope.tenant',
    );
    await expectInvalid(
      api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'x', scope: {}, metadata: { userId: 'bob' } } }),
      'metadata.userId',
    );
    await expectInvalid(
      api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'x', scope: {}, metadata: { tags: [] } } }),
      'metadata.tags',
    );
  });

  it('names the offending part of a filter', async () => {
    await expectInvalid(
      api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, filter: { rating: { $regex: 'x' } } } }),
      'filter.rating.$regex',
    );
    await expectInvalid(
      api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, filter: { $or: [] } } }),
      'filter.$or',
    );
    await expectInvalid(
      api.request('POST', '/v1/memories/list', { key: KEYS.alice, body: { scope: {}, filter: { occurredAt: { $gte: 'last tuesday' } } } }),
      'filter.occurredAt.$gte',
    );
  });

  // The messages say what to do, as the library's do: never Ajv's own text.
  it('explains each problem and its fix like the library: ranges with both bounds, types, enums, blanks, dates', async () => {
    const cases: [Promise<{ status: number; body: any }>, string, string][] = [
      [
        api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, limit: '5' } }),
        'limit',
        'Invalid limit: expected an integer, got a string. Write it without quotes.',
      ],
      [
        api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, limit: 1001 } }),
        'limit',
        'Invalid limit: expected an integer from 1 to 1000, got 1001. Pass a value in that range, or leave it out.',
      ],
      [
        api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, threshold: 2 } }),
        'threshold',
        'Invalid threshold: expected a number from -1 to 1, got 2. Pass a value in that range, or leave it out.',
      ],
      [
        api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: '   ', scope: {} } }),
        'query',
        'Invalid query: is blank. Send some text, not only spaces.',
      ],
      [
        api.request('POST', '/v1/memories', {
          key: KEYS.alice,
          body: { messages: [{ role: 'robot', content: 'b' }], scope: {} },
        }),
        'messages[0].role',
        'Invalid messages[0].role: expected "user", "assistant", "system" or "tool". Set the role of each message.',
      ],
      // Each role has its own message shape in the document; core's words name what is wrong.
      [
        api.request('POST', '/v1/memories', {
          key: KEYS.alice,
          body: { messages: [{ role: 'user', content: 'b', toolCallId: 'call_1' }], scope: {}, infer: false },
        }),
        'messages[0].toolCallId',
        'Invalid messages[0].toolCallId: is set on a "user" message. Only a "tool" message (a tool\'s result) names a toolCallId.',
      ],
      [
        api.request('POST', '/v1/memories', {
          key: KEYS.alice,
          body: { messages: [{ role: 'tool', content: 'b', toolCalls: [{ name: 'x' }] }], scope: {}, infer: false },
        }),
        'messages[0].toolCalls',
        'Invalid messages[0].toolCalls: is set on a "tool" message. Tool calls belong to "assistant" messages; results go in "tool" messages.',
      ],
      [
        api.request('POST', '/v1/memories', {
          key: KEYS.alice,
          body: { messages: [{ role: 'assistant', content: null }], scope: {}, infer: false },
        }),
        'messages[0].content',
        'Invalid messages[0].content: expected a string, got null. Pass text.',
      ],
      [
        api.request('POST', '/v1/memories', { key: KEYS.alice, body: { messages: 'x', scope: {}, occurredAt: 'last tuesday' } }),
        'occurredAt',
        'Invalid occurredAt: expected an RFC 3339 date-time with a time zone, up to year 9999. Send e.g. "2024-06-10T12:00:00Z" (or, for dates, epoch milliseconds).',
      ],
      [
        api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, topK: 3 } }),
        'topK',
        'Invalid topK: unknown property. Remove it (names are case-sensitive). See /openapi.json for the request schema.',
      ],
    ];
    for (const [response, field, message] of cases) {
      const { status, body } = await response;
      expect(status).toBe(400);
      expect(body.error).toEqual({ code: 'INVALID_INPUT', field, message });
      expect(body.error.message).not.toMatch(/must (be|match|have|NOT)/);
    }
  });

  it("explains a bad filter with core's own words, listing the valid operators", async () => {
    const typo = await api.request('POST', '/v1/search', {
      key: KEYS.alice,
      body: { query: 'tea', scope: {}, filter: { rating: { $gtt: 3 } } },
    });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toEqual({
      code: 'INVALID_INPUT',
      field: 'filter.rating.$gtt',
      message: 'Invalid filter.rating.$gtt: unknown operator. Use one of $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $contains.',
    });
    const listed = await api.request('POST', '/v1/memories/list', {
      key: KEYS.alice,
      body: { scope: {}, filter: { $or: [] } },
    });
    expect(listed.body.error.field).toBe('filter.$or');
    expect(listed.body.error.message).toMatch(/^Invalid filter\.\$or: .+\. .+\.$/);
    expect(listed.body.error.message).not.toMatch(/must (be|match|have|NOT)/);
  });

  it('rejects unknown properties instead of dropping them', async () => {
    await expectInvalid(api.request('POST', '/v1/search', { key: KEYS.alice, body: { query: 'tea', scope: {}, topK: 3 } }), 'topK');
    await expectInvalid(api.request('GET', '/v1/memories?user=alice', { key: KEYS.alice }), 'user');
  });

  it('names query parameters', async () => {
    await expectInvalid(api.request('GET', '/v1/memories?pageSize=0', { key: KEYS.alice }), 'pageSize');
    await expectInvalid(api.request('GET', '/v1/memories?pageSize=ten', { key: KEYS.alice }), 'pageSize');
  });

  it('rejects a PATCH with nothing to change', async () => {
    const { status, body } = await api.request('PATCH', '/v1/memories/some-id', { key: KEYS.alice, body: {} });
    expect(status).toBe(400);
    expect(body.error.code).toBe('INVALID_INPUT');
  });

  it('answers malformed JSON with 400 and a non-JSON body with 415', async () => {
    const broken = await api.request('POST', '/v1/search', {
      key: KEYS.alice,
      rawBody: '{"query": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'body' });
    const form = await api.request('POST', '/v1/search', {
      key: KEYS.alice,
      rawBody: 'query=tea',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown path with 404 ROUTE_NOT_FOUND and a wrong method with 405 and Allow', async () => {
    const unknown = await api.request('GET', '/v1/nothing-here', { key: KEYS.alice });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ROUTE_NOT_FOUND');
    const wrong = await api.request('PUT', '/v1/search', { key: KEYS.alice, body: { query: 'x' } });
    expect(wrong.status).toBe(405);
    expect(wrong.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(wrong.headers.get('allow')).toBe('POST');
    // A static path shadows the parametric one: /v1/memories/list is not a memory id.
    const shadowed = await api.request('GET', '/v1/memories/list', { key: KEYS.alice });
    expect(shadowed.status).toBe(405);
    expect(shadowed.headers.get('allow')).toBe('POST');
    expect((await api.request('DELETE', '/v1/history/some-id', { key: KEYS.alice })).headers.get('allow')).toBe('GET');
  });
});
