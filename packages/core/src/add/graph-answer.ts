import type { JsonSchema } from '../contract/interfaces';

/** What the LLM found for the graph in one conversation, before normalisation and resolution. */
export interface GraphExtraction {
  readonly entities: readonly { readonly name: string; readonly type: string }[];
  readonly relations: readonly { readonly source: string; readonly relation: string; readonly target: string }[];
  /** Aliases (`g1`, `g2`, …) of shown existing relations the conversation ends. */
  readonly ended: readonly string[];
}

/** An empty extraction: nothing for the graph. */
export const EMPTY_GRAPH_EXTRACTION: GraphExtraction = Object.freeze({ entities: [], relations: [], ended: [] });

/**
 * The JSON Schema properties of the graph part of an answer. Every property is required (OpenAI's
 * strict mode demands it); "nothing" is an empty array.
 */
export const GRAPH_OUTPUT_PROPERTIES: { readonly [name: string]: JsonSchema } = {
  entities: {
    type: 'array',
    items: {
      type: 'object',
      properties: { name: { type: 'string' }, type: { type: 'string' } },
      required: ['name', 'type'],
      additionalProperties: false,
    },
  },
  relations: {
    type: 'array',
    items: {
      type: 'object',
      properties: { source: { type: 'string' }, relation: { type: 'string' }, target: { type: 'string' } },
      required: ['source', 'relation', 'target'],
      additionalProperties: false,
    },
  },
  ended: { type: 'array', items: { type: 'string' } },
};

/** The schema of a graph-only extraction call. */
export const GRAPH_SCHEMA: JsonSchema = {
  type: 'object',
  properties: GRAPH_OUTPUT_PROPERTIES,
  required: Object.keys(GRAPH_OUTPUT_PROPERTIES),
  additionalProperties: false,
};

/**
 * Reads the graph part of an answer leniently: the graph is a side product of the call, so a
 * malformed item is dropped instead of failing the call (and costing a retry). Missing lists are empty.
 */
export function readGraphExtraction(value: unknown): GraphExtraction {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return EMPTY_GRAPH_EXTRACTION;
  const { entities, relations, ended } = value as Record<string, unknown>;
  const strings = (item: unknown, fields: readonly string[]): Record<string, string> | undefined => {
    if (typeof item !== 'object' || item === null) return undefined;
    const result: Record<string, string> = {};
    for (const field of fields) {
      const text = (item as Record<string, unknown>)[field];
      if (typeof text !== 'string' || text.trim() === '') return undefined;
      result[field] = text;
    }
    return result;
  };
  return {
    entities: (Array.isArray(entities) ? entities : []).flatMap((item) => {
      const read = strings(item, ['name']);
      if (!read) return [];
      const type = (item as { type?: unknown }).type;
      return [{ name: read.name!, type: typeof type === 'string' && type.trim() !== '' ? type : 'entity' }];
    }),
    relations: (Array.isArray(relations) ? relations : []).flatMap((item) => {
      const read = strings(item, ['source', 'relation', 'target']);
      return read ? [{ source: read.source!, relation: read.relation!, target: read.target! }] : [];
    }),
    ended: (Array.isArray(ended) ? ended : []).flatMap((item) =>
      typeof item === 'string' ? [item.trim()] : typeof item === 'number' ? [`g${item}`] : [],
    ),
  };
}
