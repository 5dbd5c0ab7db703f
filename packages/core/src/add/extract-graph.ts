import { MissingSettingError } from '../contract/errors';
import type { GraphSettings } from '../graph/graph-options';
import { conversationPrompt, graphSystemPrompt } from '../llm/prompts';
import { generateJson } from '../llm/structured-output';
import type { AddContext, GraphPlan } from './add-strategy';
import { GRAPH_SCHEMA, readGraphExtraction } from './graph-answer';
import { withImages } from './images';
import { retrieveGraphContext } from './shown-relations';

/**
 * Graph extraction as its own LLM call, for strategies that do not fold it into their call (the
 * built-in `reconcile` strategy does, so it needs no second call). Shows the user's open relations,
 * so the model can end them.
 */
export async function extractGraph(
  context: Pick<AddContext, 'llm' | 'meter' | 'scope' | 'occurredAt' | 'messages' | 'images' | 'signal'>,
  settings: GraphSettings,
): Promise<GraphPlan> {
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
      {
        role: 'user',
        ...withImages(conversationPrompt({ occurredAt: context.occurredAt, relations: shown, messages: context.messages }), context.images),
      },
    ],
  });
  return { extraction, shown };
}
