import type { AddResult } from '../add/run-add';
import { InvalidInputError } from '../contract/errors';
import type { MemoryItem } from '../contract/memory-item';
import type { Scope, Usage } from '../contract/types';
import type { SearchResponse } from '../search/run-search';
import { Telemetry, type Describe, type TelemetryAttributes, type TelemetryOptions } from '../telemetry/telemetry';

// The span of each public `Memory` operation, following the OpenTelemetry GenAI memory conventions
// (`gen_ai.memory.client` spans, semantic-conventions-genai, stability "development"): the span is
// named after its `gen_ai.operation.name`, carries `gen_ai.memory.record.id` / `.record.count`,
// and records memory text (`gen_ai.memory.query.text`, `gen_ai.memory.records`) only on opt-in.
// The methods are wrapped here, once, so that memory.ts keeps its validate-then-delegate bodies.

/** At most this many ids in `mem.memory.record.ids`, so that a large search or import keeps its span small. */
export const MAX_RECORDED_IDS = 100;

/** How one method's span is named and described: from its arguments before the call, from its result after. */
interface OperationSpan {
  readonly name: (args: readonly unknown[]) => string;
  /** The argument holding `{ scope }`. */
  readonly optionsAt: number;
  readonly before?: (args: readonly unknown[], recordContent: boolean) => TelemetryAttributes;
  readonly describe: Describe<never>;
}

type Method = (...args: never[]) => Promise<unknown>;

const OPERATION_SPANS = {
  add: {
    // `infer: false` stores the messages as new memories; otherwise the LLM decides between
    // creating, updating and deleting, which the conventions call an upsert.
    name: (args) => ((args[1] as { infer?: unknown } | undefined)?.infer === false ? 'create_memory' : 'upsert_memory'),
    optionsAt: 1,
    describe: ((result: AddResult, recordContent: boolean) => {
      const count = { ADD: 0, UPDATE: 0, DELETE: 0, NONE: 0 };
      for (const event of result.events) count[event.kind]++;
      const changed = result.events.filter((event) => event.kind !== 'NONE').map((event) => event.id);
      return {
        'gen_ai.memory.record.count': count.ADD + count.UPDATE,
        'mem.memory.added_count': count.ADD,
        'mem.memory.updated_count': count.UPDATE,
        'mem.memory.deleted_count': count.DELETE,
        'mem.memory.unchanged_count': count.NONE,
        'mem.memory.record.ids': changed.slice(0, MAX_RECORDED_IDS),
        ...usageAttributes(result.usage),
        'gen_ai.memory.records': recordContent ? records(result.memories) : undefined,
      };
    }) as Describe<never>,
  },
  search: {
    name: () => 'search_memory',
    optionsAt: 1,
    before: (args, recordContent) => ({ 'gen_ai.memory.query.text': recordContent && typeof args[0] === 'string' ? args[0] : undefined }),
    describe: ((response: SearchResponse, recordContent: boolean) => ({
      'gen_ai.memory.record.count': response.results.length,
      'mem.memory.record.ids': response.results.slice(0, MAX_RECORDED_IDS).map((result) => result.id),
      'mem.graph.relation_count': response.relations?.length,
      ...usageAttributes(response.usage),
      'gen_ai.memory.records': recordContent ? records(response.results) : undefined,
    })) as Describe<never>,
  },
  update: {
    name: () => 'update_memory',
    optionsAt: 2,
    before: (args) => recordId(args[0]),
    describe: ((result: { memory: MemoryItem; usage: Usage }, recordContent: boolean) => ({
      'gen_ai.memory.record.count': 1,
      ...usageAttributes(result.usage),
      'gen_ai.memory.records': recordContent ? records([result.memory]) : undefined,
    })) as Describe<never>,
  },
  delete: {
    name: () => 'delete_memory',
    optionsAt: 1,
    before: (args) => recordId(args[0]),
    describe: ((result: { deleted: boolean }) => ({
      'gen_ai.memory.record.count': 1,
      'mem.memory.deleted_count': result.deleted ? 1 : 0,
    })) as Describe<never>,
  },
  // No `gen_ai.memory.record.id`: the conventions read that as "every record" (of the scope, here).
  deleteAll: {
    name: () => 'delete_memory',
    optionsAt: 0,
    describe: ((result: { deleted: number }) => ({
      'gen_ai.memory.record.count': result.deleted,
      'mem.memory.deleted_count': result.deleted,
    })) as Describe<never>,
  },
  purgeExpired: {
    name: () => 'delete_memory',
    optionsAt: 0,
    before: () => ({ 'mem.delete.expired_only': true }),
    describe: ((result: { deleted: number }) => ({
      'gen_ai.memory.record.count': result.deleted,
      'mem.memory.deleted_count': result.deleted,
    })) as Describe<never>,
  },
  importRecords: {
    name: () => 'upsert_memory',
    optionsAt: -1,
    describe: ((result: { added: number; updated: number }) => ({
      'gen_ai.memory.record.count': result.added + result.updated,
      'mem.memory.added_count': result.added,
      'mem.memory.updated_count': result.updated,
    })) as Describe<never>,
  },
} satisfies Record<string, OperationSpan>;

/** The methods of `Memory` that run in an operation span. */
export type TracedMethod = keyof typeof OPERATION_SPANS;

const telemetryOf = new WeakMap<object, Telemetry>();

/**
 * Reads the `telemetry` option and, unless it is `false`, ties a {@link Telemetry} to `memory`.
 * @returns whether the parts should be wrapped in child spans.
 * @throws {InvalidInputError} for a telemetry option of the wrong shape.
 */
export function setUpTelemetry(memory: object, options: TelemetryOptions | false | undefined): boolean {
  if (options === false) return false;
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidInputError(
      'options.telemetry',
      'expected an object or false',
      'Pass { tracer?, recordContent?, recordScope? }, or false to turn tracing off.',
    );
  }
  if (options?.tracer !== undefined && typeof (options.tracer as { startSpan?: unknown })?.startSpan !== 'function') {
    throw new InvalidInputError(
      'options.telemetry.tracer',
      'expected an OpenTelemetry Tracer (an object with startSpan())',
      "Pass trace.getTracer('my-app') from @opentelemetry/api, or leave it out to use the global tracer.",
    );
  }
  for (const flag of ['recordContent', 'recordScope'] as const) {
    if (options?.[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidInputError(
        `options.telemetry.${flag}`,
        'expected true or false',
        `Pass a boolean, or leave it out (default false).`,
      );
    }
  }
  telemetryOf.set(memory, new Telemetry(options ?? {}));
  return true;
}

/**
 * Wraps the traced methods of `prototype` (Memory's) so that each call of an instance with telemetry
 * runs in its operation span; an instance without goes straight to the method.
 */
export function traceOperations(prototype: { [name in TracedMethod]: Method }): void {
  for (const [method, spec] of Object.entries(OPERATION_SPANS) as [TracedMethod, OperationSpan][]) {
    const original = prototype[method];
    prototype[method] = function traced(this: object, ...args: never[]) {
      const telemetry = telemetryOf.get(this);
      if (!telemetry || telemetry.unavailable) return original.apply(this, args);
      // Attributes are worked out only for a span that is recorded.
      const attributes = () => {
        const options = spec.optionsAt >= 0 ? (args[spec.optionsAt] as { scope?: Scope } | undefined) : undefined;
        return { ...telemetry.scopeAttributes(options?.scope), ...spec.before?.(args, telemetry.recordContent) };
      };
      return telemetry.operation(spec.name(args), attributes, () => original.apply(this, args), spec.describe as Describe<unknown>);
    };
  }
}

function recordId(id: unknown): TelemetryAttributes {
  return { 'gen_ai.memory.record.id': typeof id === 'string' ? id : undefined };
}

/** The operation's totals; each LLM and embedding call also has its own child span. */
function usageAttributes(usage: Usage): TelemetryAttributes {
  return { 'mem.usage.llm_calls': usage.llmCalls, 'mem.usage.embedding_calls': usage.embeddingCalls };
}

/** `gen_ai.memory.records` in the conventions' JSON form: id, content and (for search results) score. */
function records(items: readonly (MemoryItem & { score?: number })[]): string {
  return JSON.stringify(
    items.map((item) => ({ id: item.id, content: item.text, ...(item.score === undefined ? {} : { score: item.score }) })),
  );
}
