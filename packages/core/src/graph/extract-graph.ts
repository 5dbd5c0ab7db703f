import { MissingSettingError } from '../errors';
import { generateJson } from '../pipeline/llm-output';
import type { AddContext } from '../pipeline/strategy';
import { conversationPrompt, graphSystemPrompt } from '../prompts';
import { GRAPH_SCHEMA, readGraphExtraction } from './graph-extraction';
import { retrieveGraphContext } from './graph-context';
import type { GraphSettings } from './graph-options';
import type { GraphPlan } from './prepare-graph';

/**
 * Graph extraction as its own LLM call, for strategies that do not fold it into their call (the
 * built-in `reconcile` strategy does, so it needs no second call). Shows the user's open relations,
 * so the model can end them.
 */
export async function extractGraph(context: AddContext, settings: GraphSettings): Promise<GraphPlan> {
  if (!context.llm) {
    throw new MissingSettingError(
      'llm',
      'Graph memory extracts entities and relations with an LLM: pass { llm } to new Memory(), or add with { infer: false }.',
    );
  }
  const shown = await retrieveGraphContext({
    settings,
    scope: context.scope,
    vectors: [],
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const extraction = await generateJson({
    llm: context.llm,
    name: 'memory_graph',
    schema: GRAPH_SCHEMA,
    validate: (value) => ({ ok: true, value: readGraphExtraction(value) }),
    meter: context.meter,
    ...(context.signal ? { signal: context.signal } : {}),
    messages: [
      { role: 'system', content: graphSystemPrompt() },
      { role: 'user', content: conversationPrompt({ occurredAt: context.occurredAt, relations: shown, messages: context.messages }) },
    ],
  });
  return { extraction, shown };
}
