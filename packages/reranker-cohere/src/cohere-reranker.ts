import {
  AbortedError,
  InvalidInputError,
  MemError,
  MissingSettingError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  checkHttpUrl,
  integerOption,
  nonEmptySetting,
  processEnvironment,
  redactSecrets,
  retryAfterFromHeaders,
  retryPolicyFromOptions,
  throwIfAborted,
  urlOrigin,
  withRetries,
  type Call,
  type Environment,
  type Reranker,
  type RetryOptions,
  type RetryPolicy,
} from '@mem/core/adapter';
import { CohereClientV2, CohereError, CohereTimeoutError } from 'cohere-ai';

/** Rerank model ids; any other id the server knows works too. */
export type CohereRerankModelId = 'rerank-v3.5' | 'rerank-v4.0-pro' | 'rerank-v4.0-fast' | 'rerank-multilingual-v3.0' | (string & {});

/** Options of {@link CohereReranker}. */
export interface CohereRerankerOptions extends RetryOptions {
  /** The rerank model. @default 'rerank-v3.5' */
  readonly model?: CohereRerankModelId;
  /**
   * API key, sent as a bearer token. A local server that needs none still needs a placeholder.
   * @default process.env.CO_API_KEY
   */
  readonly apiKey?: string;
  /**
   * Base URL of a server that speaks Cohere's v2 Rerank API (`POST {baseUrl}/v2/rerank`), e.g.
   * `http://localhost:8000` for vLLM serving a reranker.
   * @default process.env.CO_API_URL, else `https://api.cohere.com`
   */
  readonly baseUrl?: string;
  /** Longest document in tokens; the server cuts longer ones (`max_tokens_per_doc`). @default the server's (4096 on Cohere) */
  readonly maxTokensPerDoc?: number;
  /** Most documents sent in one request; more are split into several. Cohere advises at most 1,000. @default 1000 */
  readonly maxBatchSize?: number;
  /** Time limit of one attempt, in milliseconds. @default 60000 */
  readonly timeoutMs?: number;
  /** A `fetch` implementation (proxies, tests). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Environment variables to read instead of `process.env` (tests). */
  readonly environment?: Environment;
}

const PROVIDER = 'cohere';
const OPERATION = 'rerank';
const DEFAULT_MODEL = 'rerank-v3.5';
const DEFAULT_BASE_URL = 'https://api.cohere.com';
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * A {@link Reranker} on Cohere's Rerank API (v2), or on any server that speaks it (vLLM's
 * `/v2/rerank`, and other Cohere-compatible rerank endpoints), through the official `cohere-ai` SDK.
 * Pass it to `new Memory({ reranker })` and search with `rerank: true`: core fetches the candidates
 * by hybrid search and this re-orders them. Scores are the server's relevance scores (0 to 1 on
 * Cohere), one per document, in the order the documents were given.
 *
 * Retries follow core's policy (`maxRetries`, backoff, `retry-after`); the SDK's own are off.
 * Errors are typed (`ProviderRequestError` with the HTTP status, `ProviderResponseInvalidError`,
 * `AbortedError`, `MissingSettingError`) and never quote the key, the query or the documents.
 *
 * @example
 * import { CohereReranker } from '@mem/reranker-cohere';
 * const reranker = new CohereReranker(); // rerank-v3.5, key from CO_API_KEY
 * const memory = new Memory({ embedder, vectorStore, historyStore, reranker });
 * const { results } = await memory.search('where does alice live?', { scope, rerank: true });
 */
export class CohereReranker implements Reranker {
  readonly provider = PROVIDER;
  readonly model: string;
  private readonly client: CohereClientV2;
  private readonly apiKey: string;
  private readonly keySource: string;
  private readonly origin: string;
  private readonly timeoutMs: number;
  private readonly maxBatchSize: number;
  private readonly maxTokensPerDoc: number | undefined;
  private readonly retry: RetryPolicy;

  /**
   * @throws {MissingSettingError} when no API key is given and `CO_API_KEY` is unset.
   * @throws {InvalidInputError} for an invalid option.
   */
  constructor(options: CohereRerankerOptions = {}) {
    const environment = options.environment ?? processEnvironment();
    this.model = options.model ?? DEFAULT_MODEL;
    if (typeof this.model !== 'string' || this.model.trim() === '') {
      throw new InvalidInputError('options.model', 'is empty', `Pass a rerank model id such as '${DEFAULT_MODEL}', or leave it out.`);
    }
    this.retry = retryPolicyFromOptions(options);
    this.timeoutMs = integerOption(options.timeoutMs, 'options.timeoutMs', DEFAULT_TIMEOUT_MS, 1, 3_600_000);
    this.maxBatchSize = integerOption(options.maxBatchSize, 'options.maxBatchSize', 1000, 1, 10_000);
    this.maxTokensPerDoc =
      options.maxTokensPerDoc === undefined
        ? undefined
        : integerOption(options.maxTokensPerDoc, 'options.maxTokensPerDoc', 4096, 1, 1_000_000);
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new InvalidInputError('options.fetch', 'is not a function', 'Pass a fetch implementation, or leave it out.');
    }
    const fromOption = nonEmptySetting(options.apiKey);
    const apiKey = fromOption ?? nonEmptySetting(environment['CO_API_KEY']);
    if (apiKey === undefined) {
      throw new MissingSettingError(
        'CO_API_KEY',
        "Set the CO_API_KEY environment variable or pass { apiKey } to CohereReranker. A local server that needs no key still needs a placeholder, e.g. { apiKey: 'local' }.",
      );
    }
    this.apiKey = apiKey;
    this.keySource = fromOption !== undefined ? 'the apiKey option (it takes precedence over CO_API_KEY)' : 'CO_API_KEY';
    const baseUrlSetting = options.baseUrl !== undefined ? 'options.baseUrl' : 'CO_API_URL';
    const baseUrl = nonEmptySetting(options.baseUrl) ?? nonEmptySetting(environment['CO_API_URL']);
    if (baseUrl !== undefined) checkHttpUrl(baseUrl, baseUrlSetting, DEFAULT_BASE_URL);
    const resolvedBaseUrl = (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.origin = urlOrigin(resolvedBaseUrl);
    this.client = new CohereClientV2({
      token: apiKey,
      baseUrl: resolvedBaseUrl,
      // Each attempt is timed by its own signal (see rerankBatch); the SDK's timer only backs it up.
      timeoutInSeconds: this.timeoutMs / 1000 + 5,
      maxRetries: 0,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /**
   * Scores each document for `query`, one score per document in the same order; higher is more
   * relevant. Documents are sent in batches of at most `maxBatchSize`.
   * @throws {InvalidInputError} when `query` is not a string or `documents` not an array of strings.
   * @throws {ProviderRequestError} when a request fails after the retries (status, cause and fix in the message).
   * @throws {ProviderResponseInvalidError} when a score is missing, repeated, out of range or not a number.
   * @throws {AbortedError} (code `ABORTED`) when `signal` aborts.
   */
  async rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]> {
    throwIfAborted(request.signal, `${PROVIDER} ${OPERATION}`);
    if (typeof request.query !== 'string') throw new InvalidInputError('request.query', 'expected a string', 'Pass the search query.');
    const { documents } = request;
    if (!Array.isArray(documents)) {
      throw new InvalidInputError(
        'request.documents',
        'expected an array of strings',
        'Pass the texts to score, e.g. { documents: ["…"] }.',
      );
    }
    documents.forEach((document, index) => {
      if (typeof document !== 'string') {
        throw new InvalidInputError(`request.documents[${index}]`, 'is not a string', 'Pass the texts to score as strings.');
      }
    });
    if (documents.length === 0) return [];
    const scores: number[] = [];
    for (let start = 0; start < documents.length; start += this.maxBatchSize) {
      scores.push(...(await this.rerankBatch(request.query, documents.slice(start, start + this.maxBatchSize), request.signal)));
    }
    return scores;
  }

  private async rerankBatch(query: string, documents: readonly string[], signal: AbortSignal | undefined): Promise<number[]> {
    // The attempt's time limit is our own signal: the SDK's timer aborts fetch with a string reason,
    // which it then cannot tell from other failures.
    let timer: AbortSignal | undefined;
    const response = await withRetries({
      provider: PROVIDER,
      operation: OPERATION,
      policy: this.retry,
      signal,
      attempt: () => {
        timer = AbortSignal.timeout(this.timeoutMs);
        return this.client.rerank(
          {
            model: this.model,
            query,
            documents: [...documents],
            topN: documents.length,
            ...(this.maxTokensPerDoc === undefined ? {} : { maxTokensPerDoc: this.maxTokensPerDoc }),
          },
          { maxRetries: 0, abortSignal: signal ? AbortSignal.any([signal, timer]) : timer },
        );
      },
      // A server or proxy may echo the key in its error body: scrub it before the SDK error is kept as `cause`.
      toError: (error, retries) => this.toError(redactSecrets(error, [this.apiKey]), retries, signal, timer?.aborted === true),
      retryAfterMs: (raw) =>
        raw instanceof CohereError && raw.rawResponse ? retryAfterFromHeaders((name) => raw.rawResponse!.headers.get(name)) : undefined,
    });
    return readScores(response, documents.length);
  }

  /** Maps what the SDK throws to a typed mem error; messages name the status and the fix, never the server's text. */
  private toError(error: unknown, retries: number, signal: AbortSignal | undefined, timedOut: boolean): MemError {
    if (MemError.is(error)) return error;
    if (signal?.aborted) return new AbortedError(`${PROVIDER} ${OPERATION}`, { cause: error });
    const retried = retries === 0 ? 'not retried' : `after ${retries} ${retries === 1 ? 'retry' : 'retries'}`;
    if (timedOut || error instanceof CohereTimeoutError) {
      return new ProviderRequestError({
        provider: PROVIDER,
        operation: OPERATION,
        message: `no answer from ${this.origin} within the timeout of ${this.timeoutMs} ms; ${retried}. Raise timeoutMs, or check the server's load.`,
        cause: error,
        // The SDK raises it for its own timer; core decides from no status that it is not retryable, but a timeout is.
        retryable: true,
      });
    }
    if (error instanceof CohereError && typeof error.statusCode === 'number') {
      return new ProviderRequestError({
        provider: PROVIDER,
        operation: OPERATION,
        status: error.statusCode,
        message: `${describeStatus(error.statusCode, this.model, this.keySource)}; ${retried}.`,
        cause: error,
      });
    }
    if (error instanceof CohereError) {
      // No status: the request never got an answer (connection refused, reset, DNS).
      return new ProviderRequestError({
        provider: PROVIDER,
        operation: OPERATION,
        message: `could not reach ${this.origin}; ${retried}. Check the network and the baseUrl option or CO_API_URL.`,
        cause: error,
        retryable: true,
      });
    }
    return new ProviderResponseInvalidError(PROVIDER, OPERATION, 'the SDK could not read the response; see error.cause', { cause: error });
  }
}

function describeStatus(status: number, model: string, keySource: string): string {
  if (status === 401) return `the API key was refused. Check ${keySource}`;
  if (status === 403) return `the API key may not use this model or endpoint. Check ${keySource} and the model '${model}'`;
  if (status === 404)
    return `no rerank endpoint or model '${model}' here. Check the model id and that baseUrl points at a server with POST /v2/rerank`;
  if (status === 400 || status === 422)
    return `the server refused the request. Check the model '${model}' and options such as maxTokensPerDoc`;
  if (status === 429) return 'rate limited. Slow down, or raise maxRetries so waits follow retry-after';
  if (status >= 500) return 'the server failed. Try again later';
  return 'the request failed';
}

/** Puts the server's results (sorted by relevance, each with its document's index) back in document order and checks each. */
function readScores(response: unknown, expected: number): number[] {
  const invalid = (problem: string) => new ProviderResponseInvalidError(PROVIDER, OPERATION, problem);
  const results = (response as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results)) throw invalid('the response holds no results array. Check that baseUrl points at a v2 Rerank API.');
  if (results.length !== expected) throw invalid(`${expected} documents were sent but ${results.length} scores came back`);
  const scores = new Array<number | undefined>(expected).fill(undefined);
  for (const result of results as { index?: unknown; relevanceScore?: unknown }[]) {
    const index = result?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected || scores[index] !== undefined) {
      throw invalid(`a result has a missing, repeated or out-of-range index (${String(index)})`);
    }
    const score = result.relevanceScore;
    if (typeof score !== 'number' || !Number.isFinite(score)) throw invalid(`the score of document ${index} is not a finite number`);
    scores[index] = score;
  }
  return scores as number[];
}
