import assert from 'node:assert/strict';
import type { JsonSchema, LLM, LLMMessage, LLMResponse, ResponseFormat } from '@mem/core/adapter';
import { assertRejectsWithCode } from './assertions';
import {
  baseHelpers,
  createNamespace,
  runPrepared,
  type CaseHelpers,
  type CaseOutcome,
  type ConformanceCase,
  type RunCaseOptions,
} from './case';

/** A conformance case for an {@link LLM}. */
export type LLMCase = ConformanceCase<LLM, CaseHelpers>;

const factsSchema: JsonSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' } } },
  required: ['facts'],
  additionalProperties: false,
};

/**
 * The exact requests the LLM cases send, so a fake server can pick the fixture that answers each.
 * Every request also carries `temperature: 0`. `aborted` is never answered: its signal is aborted first.
 */
export const llmCasePrompts = {
  /** Plain text answer. */
  plain: {
    messages: [{ role: 'user', content: 'Reply with one short sentence that greets the user.' }],
  },
  /** A system and a user message; plain text answer. */
  systemAndUser: {
    messages: [
      { role: 'system', content: 'You are a terse assistant. Answer in at most five words.' },
      { role: 'user', content: 'Name one primary colour.' },
    ],
  },
  /** A JSON answer matching `responseFormat.schema`: `{ "facts": string[] }`. */
  json: {
    messages: [
      { role: 'system', content: 'Extract facts about the user. Answer with JSON: {"facts": [string]}.' },
      { role: 'user', content: 'I am vegetarian and I live in Lisbon.' },
    ],
    responseFormat: { type: 'json', name: 'facts', schema: factsSchema },
  },
  /** Sent with an already aborted signal. */
  aborted: {
    messages: [{ role: 'user', content: 'This request is aborted before it is sent.' }],
  },
  /** A long answer asked for with a limit of 5 answer tokens: it is cut off. */
  cutOff: {
    messages: [{ role: 'user', content: 'List the first 100 prime numbers, separated by commas.' }],
    maxTokens: 5,
  },
} as const satisfies Record<
  string,
  { readonly messages: readonly LLMMessage[]; readonly responseFormat?: ResponseFormat; readonly maxTokens?: number }
>;

const FINISH_REASONS: readonly LLMResponse['finishReason'][] = ['stop', 'length', 'refusal', 'other'];

function assertResponse(response: LLMResponse, where: string): void {
  assert.equal(typeof response.text, 'string', `${where}: text must be a string`);
  assert.ok(response.text.trim().length > 0, `${where}: text is empty`);
  assert.ok(
    FINISH_REASONS.includes(response.finishReason),
    `${where}: finishReason must be one of ${FINISH_REASONS.join(', ')}, got ${String(response.finishReason)}`,
  );
  assert.ok(response.usage && typeof response.usage === 'object', `${where}: usage is missing`);
  for (const field of ['promptTokens', 'completionTokens'] as const) {
    const value = response.usage[field];
    assert.ok(
      typeof value === 'number' && Number.isFinite(value) && value >= 0,
      `${where}: usage.${field} must be a number ≥ 0, got ${String(value)}`,
    );
  }
  assert.ok(
    response.maxTokens === undefined || (Number.isInteger(response.maxTokens) && response.maxTokens > 0),
    `${where}: maxTokens, when reported, must be a positive integer, got ${String(response.maxTokens)}`,
  );
}

/** Every LLM case, in the order the suite runs them. */
export const llmCases: readonly LLMCase[] = [
  {
    name: 'generate: a plain text request returns non-empty text, a finishReason and usage ≥ 0',
    async run(llm) {
      assertResponse(await llm.generate({ ...llmCasePrompts.plain, temperature: 0 }), 'plain request');
    },
  },
  {
    name: 'generate: a system and a user message are accepted',
    async run(llm) {
      assertResponse(await llm.generate({ ...llmCasePrompts.systemAndUser, temperature: 0 }), 'system + user request');
    },
  },
  {
    name: 'generate: responseFormat json returns JSON text matching the schema ({ facts: string[] })',
    async run(llm) {
      const response = await llm.generate({ ...llmCasePrompts.json, temperature: 0 });
      assertResponse(response, 'json request');
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.text);
      } catch {
        assert.fail('json request: text is not valid JSON');
      }
      assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'json request: the JSON must be an object');
      const facts = (parsed as { facts?: unknown }).facts;
      assert.ok(Array.isArray(facts), 'json request: "facts" must be an array');
      assert.ok(
        facts.every((fact) => typeof fact === 'string'),
        'json request: every fact must be a string',
      );
      assert.ok(
        response.finishReason !== 'length' && response.finishReason !== 'refusal',
        `json request: a complete JSON answer cannot finish with "${response.finishReason}"`,
      );
    },
  },
  {
    name: 'generate: an answer cut off by maxTokens finishes with "length" and reports the limit it ran with',
    async run(llm, helpers) {
      const ceiling = llm.capabilities.maxOutputTokens;
      assert.ok(Number.isInteger(ceiling) && ceiling >= 0, `capabilities.maxOutputTokens must be an integer ≥ 0, got ${String(ceiling)}`);
      const { maxTokens } = llmCasePrompts.cutOff;
      if (ceiling < maxTokens) helpers.skip('the adapter does not honour request.maxTokens (capabilities.maxOutputTokens is 0)');
      // Core never acts on a cut-off answer and retries it with a larger limit: both need this report.
      const response = await llm.generate({ ...llmCasePrompts.cutOff, temperature: 0 });
      assert.equal(typeof response.text, 'string', 'cut-off request: text must be a string');
      assert.equal(response.finishReason, 'length', `cut-off request: a 100-prime answer in ${maxTokens} tokens must finish with "length"`);
      assert.equal(response.maxTokens, maxTokens, `cut-off request: maxTokens must report the limit the call ran with (${maxTokens})`);
    },
  },
  {
    name: 'generate: an already aborted signal throws a MemError with code ABORTED',
    async run(llm) {
      const controller = new AbortController();
      controller.abort();
      await assertRejectsWithCode(
        () => llm.generate({ ...llmCasePrompts.aborted, signal: controller.signal }),
        'ABORTED',
        'generate with an aborted signal',
      );
    },
  },
];

/**
 * Runs one LLM case directly (outside `describeLLM`).
 *
 * @returns `{ status: 'passed' }`, or `{ status: 'skipped', reason }`.
 * @throws the case's assertion error when the LLM does not conform.
 */
export async function runLLMCase(testCase: LLMCase, llm: LLM, options: RunCaseOptions = {}): Promise<CaseOutcome> {
  return runPrepared(
    testCase,
    llm,
    baseHelpers({ ...options, namespace: options.namespace ?? createNamespace(), consistency: 'immediate' }),
  );
}
