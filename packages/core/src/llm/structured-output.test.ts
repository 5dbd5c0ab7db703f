import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLenientJson } from './structured-output';

describe('parseLenientJson', () => {
  it.each([
    ['{"a": 1}', { a: 1 }],
    ['```json\n{"a": 1}\n```', { a: 1 }],
    ['```\n{"a": [1, 2,],}\n```', { a: [1, 2] }],
    ['<think>{"wrong": true}</think>{"a": 1}', { a: 1 }],
    ['Sure! Here is the JSON: {"a": "b}"} Hope that helps.', { a: 'b}' }],
    ['[1, 2]', [1, 2]],
  ])('reads %j', (text, expected) => {
    expect(parseLenientJson(text)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', /empty/],
    ['no json at all', /no JSON object/],
    ['{"a": [1, 2', /never closes/],
  ])('explains why %j is unusable, without quoting it', (text, problem) => {
    const result = parseLenientJson(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });

  it('recovers any JSON object wrapped in fences, think blocks and prose', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.constantFrom('', 'Here it is:\n', '<think>let me think { about it</think>'),
        fc.boolean(),
        fc.constantFrom('', '\nThanks!'),
        (value, prefix, fenced, suffix) => {
          const json = JSON.stringify(value);
          const text = `${prefix}${fenced ? `\`\`\`json\n${json}\n\`\`\`` : json}${suffix}`;
          const result = parseLenientJson(text);
          expect(result).toEqual({ ok: true, value: JSON.parse(json) });
        },
      ),
      { numRuns: 500 },
    );
  });
});
