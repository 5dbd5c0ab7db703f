import { ProviderResponseInvalidError } from '../contract/errors';
import type { JsonSchema, LLM, LLMMessage } from '../contract/interfaces';
import type { UsageMeter } from './usage-meter';

/** A validator of parsed JSON: returns the typed value, or a short description of the first problem. */
export type Validator<T> = (value: unknown) => { ok: true; value: T } | { ok: false; problem: string };

const UNTERMINATED_REASONING = {
  ok: false,
  problem: 'the answer is still inside a <think> reasoning block that never closes (nothing in it is acted on)',
} as const;

/**
 * Extracts a JSON value from model output that may wrap it: `<think>` reasoning blocks (nested
 * ones too, and the reasoning of an answer whose opening tag was in the prompt, ended by a lone
 * `</think>`), Markdown code fences, prose before or after, trailing commas. JSON inside reasoning
 * never counts, and an answer with a reasoning block that never closes is refused whatever JSON it
 * holds (a draft is not an answer). Returns the problem when nothing usable parses.
 */
export function parseLenientJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  const reasoning = stripReasoning(text);
  if (!reasoning.ok) return reasoning;
  let body = reasoning.body;
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(body);
  if (fence) {
    if (opensReasoning(body.slice(0, fence.index) + body.slice(fence.index + fence[0].length))) return UNTERMINATED_REASONING;
    body = fence[1]!;
  }
  body = body.trim();
  if (body.length === 0) return { ok: false, problem: 'the answer was empty' };
  const direct = tryParse(body);
  if (direct.ok) return direct;
  const start = body.search(/[{[]/);
  if (start < 0) {
    return opensReasoning(body)
      ? UNTERMINATED_REASONING
      : { ok: false, problem: `no JSON object in an answer of ${text.length} characters` };
  }
  const end = matchingClose(body, start);
  if (end < 0) return { ok: false, problem: `the JSON starting at character ${start} never closes (truncated answer?)` };
  // A reasoning block opened around the JSON (not inside one of its strings) and never closed.
  if (opensReasoning(body.slice(0, start) + body.slice(end + 1))) return UNTERMINATED_REASONING;
  const candidate = body.slice(start, end + 1);
  const parsed = tryParse(candidate);
  if (parsed.ok) return parsed;
  const repaired = tryParse(candidate.replace(/,\s*([}\]])/g, '$1'));
  return repaired.ok ? repaired : { ok: false, problem: `invalid JSON (${parsed.problem})` };
}

/**
 * The answer without its reasoning: blocks at the start removed with their nested blocks (one that
 * never closes is refused), then closed blocks anywhere, then everything up to a lone closing tag.
 */
function stripReasoning(text: string): { ok: true; body: string } | typeof UNTERMINATED_REASONING {
  let rest = text;
  for (;;) {
    const trimmed = rest.trimStart();
    if (!/^<think\s*>/i.test(trimmed)) break;
    const end = endOfBlock(trimmed);
    if (end < 0) return UNTERMINATED_REASONING;
    rest = trimmed.slice(end);
  }
  return { ok: true, body: rest.replace(/<think\s*>[\s\S]*?<\/think\s*>/gi, '').replace(/^[\s\S]*<\/think\s*>/i, '') };
}

/** Index just after the tag closing the block that opens `text`, counting nested blocks; -1 when it never closes. */
function endOfBlock(text: string): number {
  const tag = /<(\/?)think\s*>/gi;
  let depth = 0;
  for (let match = tag.exec(text); match; match = tag.exec(text)) {
    depth += match[1] ? -1 : 1;
    if (depth === 0) return tag.lastIndex;
  }
  return -1;
}

/** Whether text (outside the JSON, closed blocks already removed) still opens a reasoning block. */
function opensReasoning(text: string): boolean {
  return /<think\s*>/i.test(text);
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
 *
 * An answer cut off by its token limit (`finishReason: 'length'`) is never used, even when what
 * arrived happens to validate (operations may be missing): the retry asks for twice the limit the
 * call reported, up to `llm.capabilities.maxOutputTokens`. A refusal fails at once.
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
  let maxTokens: number | undefined;
  let cutOff = false;
  let lastLimit: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await meter.generate(llm, {
      messages,
      responseFormat: { type: 'json', name, schema },
      temperature: 0,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(signal ? { signal } : {}),
    });
    if (response.finishReason === 'refusal') {
      throw new ProviderResponseInvalidError(
        llm.provider,
        'generate',
        'the model refused to answer; nothing was stored. Retry, or check the conversation for content the model will not process.',
      );
    }
    cutOff = response.finishReason === 'length';
    if (cutOff) {
      lastLimit = response.maxTokens ?? maxTokens;
      problem = `the answer was cut off by the token limit${lastLimit === undefined ? '' : ` of ${lastLimit}`}`;
      maxTokens = largerLimit(llm, lastLimit) ?? maxTokens;
    } else {
      const parsed = parseLenientJson(response.text);
      const checked = parsed.ok ? validate(parsed.value) : parsed;
      if (checked.ok) return checked.value;
      problem = checked.problem;
    }
    messages.push(
      { role: 'assistant', content: response.text },
      {
        role: 'user',
        content: `That answer cannot be used: ${problem}. Reply again with only one JSON object that matches the schema${cutOff ? ', keeping it short' : ''}.`,
      },
    );
  }
  throw new ProviderResponseInvalidError(
    llm.provider,
    'generate',
    cutOff
      ? `the answer was cut off by the token limit twice${lastLimit === undefined ? '' : ` (the last limit: ${lastLimit} tokens)`}. Nothing was stored; raise the model's maxTokens, or add shorter conversations.`
      : `after one corrective retry the answer still did not match the "${name}" schema: ${problem}. Nothing was stored; the call can be retried.`,
  );
}

/** Twice `limit`, up to what the adapter honours; undefined when it cannot be raised. */
function largerLimit(llm: LLM, limit: number | undefined): number | undefined {
  const ceiling = llm.capabilities.maxOutputTokens;
  if (limit === undefined || !(ceiling > limit)) return undefined;
  return Math.min(ceiling, limit * 2);
}
