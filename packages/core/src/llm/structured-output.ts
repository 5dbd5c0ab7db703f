import { ProviderResponseInvalidError } from '../contract/errors';
import type { JsonSchema, LLM, LLMMessage } from '../contract/interfaces';
import type { UsageMeter } from './usage-meter';

/** A validator of parsed JSON: returns the typed value, or a short description of the first problem. */
export type Validator<T> = (value: unknown) => { ok: true; value: T } | { ok: false; problem: string };

/**
 * Extracts a JSON value from model output that may wrap it: `<think>` blocks, Markdown code
 * fences, prose before or after, trailing commas. Returns the problem when nothing parses.
 */
export function parseLenientJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  let body = text.replace(/<think>[\s\S]*?<\/think>/gi, '').replace(/^[\s\S]*<\/think>/i, '');
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(body);
  if (fence) body = fence[1]!;
  body = body.trim();
  if (body.length === 0) return { ok: false, problem: 'the answer was empty' };
  const direct = tryParse(body);
  if (direct.ok) return direct;
  const start = body.search(/[{[]/);
  if (start < 0) return { ok: false, problem: `no JSON object in an answer of ${text.length} characters` };
  const end = matchingClose(body, start);
  if (end < 0) return { ok: false, problem: `the JSON starting at character ${start} never closes (truncated answer?)` };
  const candidate = body.slice(start, end + 1);
  const parsed = tryParse(candidate);
  if (parsed.ok) return parsed;
  const repaired = tryParse(candidate.replace(/,\s*([}\]])/g, '$1'));
  return repaired.ok ? repaired : { ok: false, problem: `invalid JSON (${parsed.problem})` };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // The message of JSON.parse names a position but may quote input: keep only the position.
    const position = /position (\d+)/.exec(String(error))?.[1];
    return { ok: false, problem: position ? `syntax error at character ${position}` : 'syntax error' };
  }
}

/** Index of the bracket closing the one at `start`, skipping strings; -1 when it never closes. */
function matchingClose(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') stack.push('}');
    else if (char === '[') stack.push(']');
    else if (char === '}' || char === ']') {
      if (stack.pop() !== char) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/**
 * Asks the LLM for JSON matching `schema` and validates it. Uses structured output where the model
 * has it; parses leniently otherwise. On an unusable answer it makes ONE corrective call that shows
 * the model its answer and the problem, then throws {@link ProviderResponseInvalidError} describing
 * what came back (never the text itself, which may hold personal data).
 */
export async function generateJson<T>(options: {
  llm: LLM;
  messages: readonly LLMMessage[];
  name: string;
  schema: JsonSchema;
  validate: Validator<T>;
  meter: UsageMeter;
  signal?: AbortSignal;
}): Promise<T> {
  const { llm, name, schema, validate, meter, signal } = options;
  const messages = [...options.messages];
  let problem = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await meter.generate(llm, {
      messages,
      responseFormat: { type: 'json', name, schema },
      temperature: 0,
      ...(signal ? { signal } : {}),
    });
    if (response.finishReason === 'refusal') {
      throw new ProviderResponseInvalidError(
        llm.provider,
        'generate',
        'the model refused to answer; nothing was stored. Retry, or check the conversation for content the model will not process.',
      );
    }
    const parsed = parseLenientJson(response.text);
    const checked = parsed.ok ? validate(parsed.value) : parsed;
    if (checked.ok) return checked.value;
    problem = response.finishReason === 'length' ? `the answer was cut off by the token limit (${checked.problem})` : checked.problem;
    messages.push(
      { role: 'assistant', content: response.text },
      {
        role: 'user',
        content: `That answer cannot be used: ${problem}. Reply again with only one JSON object that matches the schema${response.finishReason === 'length' ? ', keeping it short' : ''}.`,
      },
    );
  }
  throw new ProviderResponseInvalidError(
    llm.provider,
    'generate',
    `after one corrective retry the answer still did not match the "${name}" schema: ${problem}. Nothing was stored; the call can be retried.`,
  );
}
