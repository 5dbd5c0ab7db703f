import { MemError, type ProviderRequestError } from '@mem/core/adapter';
import { Errors } from '@pinecone-database/pinecone';
import { describe, expect, it } from 'vitest';
import { PineconeIndexNotFoundError, toMemError } from './pinecone-errors';

const request = (status: number, message = 'Vector dimension 3 does not match; metadata "my secret memory"') => ({
  status,
  url: 'https://idx.svc.pinecone.io/vectors/upsert',
  message,
});

function asRequestError(error: MemError): ProviderRequestError {
  expect(error.code).toBe('PROVIDER_REQUEST_FAILED');
  return error as ProviderRequestError;
}

describe('toMemError', () => {
  it('maps each HTTP error of the SDK to ProviderRequestError with its status; core decides retryable', () => {
    const cases: [Error, number | undefined, number, boolean][] = [
      [new Errors.PineconeBadRequestError(request(400)), undefined, 400, false],
      [new Errors.PineconeBadRequestError(request(403)), 403, 403, false],
      [new Errors.PineconeAuthorizationError(request(401)), undefined, 401, false],
      [new Errors.PineconeNotFoundError(request(404)), undefined, 404, false],
      [new Errors.PineconeConflictError(request(409)), undefined, 409, true],
      [new Errors.PineconeUnprocessableEntityError(request(422)), undefined, 422, false],
      [new Errors.PineconeUnmappedHttpError(request(429)), 429, 429, true],
      [new Errors.PineconeInternalServerError(request(500)), undefined, 500, true],
      [new Errors.PineconeUnavailableError(request(503)), undefined, 503, true],
      // With maxRetries 0 the SDK reports every 5xx this way, without a status: the adapter's fetch saw it.
      [new Errors.PineconeMaxRetriesExceededError(0), 502, 502, true],
    ];
    for (const [error, observed, status, retryable] of cases) {
      const mapped = asRequestError(
        toMemError(error, { operation: 'upsert', responded: true, ...(observed === undefined ? {} : { status: observed }) }),
      );
      expect({ name: error.name, status: mapped.status, retryable: mapped.retryable }).toEqual({ name: error.name, status, retryable });
      expect(mapped.provider).toBe('pinecone');
      expect(mapped.operation).toBe('upsert');
      expect(mapped.cause).toBe(error);
      // Pinecone's text may echo request data: it stays in `cause`, never in the message.
      expect(mapped.message).not.toContain('secret');
    }
  });

  it('names the setting to fix for a rejected key', () => {
    const mapped = toMemError(new Errors.PineconeAuthorizationError(request(401)), { operation: 'query', responded: true, status: 401 });
    expect(mapped.message).toBe(
      'pinecone query failed (HTTP 401): Pinecone rejected the API key. Check the apiKey option or PINECONE_API_KEY',
    );
  });

  it('treats a request that got no answer as a retryable connection failure', () => {
    const error = new Errors.PineconeConnectionError(new TypeError('fetch failed'));
    const mapped = asRequestError(toMemError(error, { operation: 'query', responded: false }));
    expect(mapped.status).toBeUndefined();
    expect(mapped.retryable).toBe(true);
    expect(mapped.message).toMatch(/could not reach Pinecone/);
  });

  it('turns a fired AbortSignal into ABORTED, whatever the SDK threw', () => {
    const controller = new AbortController();
    controller.abort();
    const mapped = toMemError(new Errors.PineconeConnectionError(new Error('aborted')), {
      operation: 'list',
      responded: false,
      signal: controller.signal,
    });
    expect(MemError.is(mapped, 'ABORTED')).toBe(true);
  });

  it('does not retry what the client rejected before sending, or a broken answer', () => {
    const argument = asRequestError(
      toMemError(new Errors.PineconeArgumentError('Must pass in at least 1 record to upsert.'), { operation: 'upsert', responded: false }),
    );
    expect(argument.retryable).toBe(false);
    const unparsable = toMemError(new SyntaxError('Unexpected token < in JSON'), { operation: 'query', responded: true, status: 200 });
    expect(unparsable.code).toBe('PROVIDER_RESPONSE_INVALID');
    const noHost = toMemError(new Errors.PineconeUnableToResolveHostError('no host'), {
      operation: 'ensureCollection',
      responded: true,
      status: 200,
    });
    expect(noHost.code).toBe('PROVIDER_RESPONSE_INVALID');
  });

  it('passes mem errors through unchanged', () => {
    const original = new PineconeIndexNotFoundError('memories', 1536);
    expect(toMemError(original, { operation: 'ensureCollection', responded: true })).toBe(original);
    expect(original.code).toBe('NOT_FOUND');
    expect(original.message).toContain('createIndex: { cloud: "aws", region: "us-east-1" }');
    expect(original.message).toContain('dimension 1536, metric cosine');
  });
});
