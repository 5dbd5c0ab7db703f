import { AsyncLocalStorage } from 'node:async_hooks';
import { MemError, MissingSettingError } from '../contract/errors';
import type { Scope } from '../contract/types';

// OpenTelemetry through `@opentelemetry/api` only, an optional peer dependency: core never imports
// it statically (the layers test allows no package), and no type below comes from it, so the
// published .d.ts files need it neither. The few members core calls are typed structurally here;
// the API's own `Tracer` and `Span` satisfy them.

/** A value of a span attribute. */
export type TelemetryAttributeValue = string | number | boolean | string[] | number[];

/** The attributes of a span. */
export type TelemetryAttributes = { [key: string]: TelemetryAttributeValue | undefined };

/** The members of an OpenTelemetry `Span` that mem calls. */
export interface TelemetrySpan {
  setAttribute(key: string, value: TelemetryAttributeValue): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  isRecording(): boolean;
  end(): void;
}

/** The member of an OpenTelemetry `Tracer` that mem calls: `trace.getTracer('my-app')` is one. */
export interface TelemetryTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: TelemetryAttributes }, context?: unknown): TelemetrySpan;
}

/** Settings of `Memory`'s OpenTelemetry spans (the `telemetry` option). */
export interface TelemetryOptions {
  /**
   * The tracer spans are started with. Default: `trace.getTracer('@mem/core')` of
   * `@opentelemetry/api`, when that package is installed (spans are recorded only once an SDK is
   * registered; without one the API is a no-op).
   */
  readonly tracer?: TelemetryTracer;
  /**
   * Also record memory text: the search query, the memories an operation stored or returned, the
   * messages sent to the LLM and its answers. Off by default: they hold personal data.
   * @default false
   */
  readonly recordContent?: boolean;
  /**
   * Also record the scope's ids (`mem.scope.user_id`, `mem.scope.agent_id`, `mem.scope.run_id`)
   * on the operation spans. Off by default: user ids are often emails or account ids.
   * @default false
   */
  readonly recordScope?: boolean;
}

/** The parts of `@opentelemetry/api` core uses. */
interface OpenTelemetryApi {
  readonly trace: {
    getTracer(name: string): TelemetryTracer;
    setSpan(context: unknown, span: TelemetrySpan): unknown;
  };
  readonly context: {
    active(): unknown;
    with<T>(context: unknown, work: () => T): T;
  };
}

/** OpenTelemetry span kinds and status codes (the values of the API's enums). */
export const SPAN_KIND = { internal: 0, client: 2 } as const;
const STATUS_ERROR = 2;

// A variable, not a literal, so that an app's bundler does not fail on a package it did not install.
const API_PACKAGE = '@opentelemetry/api';
let loadedApi: OpenTelemetryApi | null | undefined;
let loadingApi: Promise<OpenTelemetryApi | null> | undefined;

/** `@opentelemetry/api`, loaded once per process; `null` when it is not installed. */
function loadApi(): Promise<OpenTelemetryApi | null> {
  loadingApi ??= import(/* webpackIgnore: true */ /* @vite-ignore */ API_PACKAGE).then(
    (module: { default?: OpenTelemetryApi } & Partial<OpenTelemetryApi>) => {
      const api = module.trace && module.context ? (module as OpenTelemetryApi) : (module.default ?? null);
      loadedApi = api;
      return api;
    },
    () => {
      loadedApi = null;
      return null;
    },
  );
  return loadingApi;
}

/** What the spans of one `Memory` operation share: how to start its children, and what to record. */
interface OperationContext {
  readonly api: OpenTelemetryApi;
  readonly tracer: TelemetryTracer;
  /** The OpenTelemetry context holding the innermost mem span. */
  readonly context: unknown;
  readonly recordContent: boolean;
}

// The operation a call runs in. Only set while a recording span is open, so that with telemetry off
// (no API, no SDK, or a sampler that drops the trace) no child span is ever started. Core keeps its
// own store rather than relying on the API's context manager alone, so that the children of an
// operation nest under it even where the app registered a tracer provider without one.
const operations = new AsyncLocalStorage<OperationContext>();

/** What an operation span records once its work has succeeded. */
export type Describe<T> = (result: T, recordContent: boolean) => TelemetryAttributes;

/**
 * The telemetry of one `Memory`: runs each public operation in a GenAI memory span and the calls
 * of its parts in child spans.
 */
export class Telemetry {
  private readonly tracer: TelemetryTracer | undefined;
  readonly recordContent: boolean;
  readonly recordScope: boolean;
  private defaultTracer: TelemetryTracer | undefined;

  constructor(options: TelemetryOptions) {
    this.tracer = options.tracer;
    this.recordContent = options.recordContent === true;
    this.recordScope = options.recordScope === true;
  }

  /**
   * Runs `work` in a span named `name` (a `gen_ai.operation.name`), parented by the caller's active
   * span. On success `describe` adds what the result holds; on failure the span gets status ERROR
   * and `error.type` (the error's class name), never its message.
   */
  async operation<T>(name: string, attributes: () => TelemetryAttributes, work: () => Promise<T>, describe: Describe<T>): Promise<T> {
    const api = loadedApi === undefined ? await loadApi() : loadedApi;
    if (api === null) {
      if (this.tracer) {
        throw new MissingSettingError(
          'telemetry.tracer',
          `A tracer was given but ${API_PACKAGE} cannot be loaded: install it (npm install ${API_PACKAGE}) or drop the telemetry option.`,
        );
      }
      return work();
    }
    const tracer = this.tracer ?? (this.defaultTracer ??= api.trace.getTracer('@mem/core'));
    // The caller's active span is the parent: the app's own, or a mem operation this one runs in.
    const parent = operations.getStore()?.context ?? api.context.active();
    const span = tracer.startSpan(
      name,
      { kind: SPAN_KIND.internal, attributes: { 'gen_ai.operation.name': name, ...attributes() } },
      parent,
    );
    if (!span.isRecording()) {
      span.end();
      return work();
    }
    return runInSpan({ api, tracer, context: parent, recordContent: this.recordContent }, span, work, (result) =>
      describe(result, this.recordContent),
    );
  }

  /**
   * Whether tracing is known to be impossible: `@opentelemetry/api` is not installed and no tracer
   * was given. Operations then skip the span machinery altogether.
   */
  get unavailable(): boolean {
    return loadedApi === null && this.tracer === undefined;
  }

  /** The scope attributes of an operation span: the ids when `recordScope` is on, nothing otherwise. */
  scopeAttributes(scope: Scope | undefined): TelemetryAttributes {
    if (!this.recordScope || typeof scope !== 'object' || scope === null) return {};
    const id = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return { 'mem.scope.user_id': id(scope.userId), 'mem.scope.agent_id': id(scope.agentId), 'mem.scope.run_id': id(scope.runId) };
  }
}

/** Whether a `Memory` operation with a recording span is running here (children are traced only then). */
export function tracing(): boolean {
  return operations.getStore() !== undefined;
}

/** Whether the running operation records memory text. */
export function recordingContent(): boolean {
  return operations.getStore()?.recordContent === true;
}

/**
 * Runs `work` in a child span of the running operation's innermost span, or just runs it when no
 * operation is being traced. `describe` adds what the result holds.
 */
export function childSpan<T>(
  name: string,
  kind: number,
  attributes: TelemetryAttributes,
  work: () => Promise<T>,
  describe?: (result: T) => TelemetryAttributes,
): Promise<T> {
  const parent = operations.getStore();
  if (!parent) return work();
  const span = parent.tracer.startSpan(name, { kind, attributes }, parent.context);
  return runInSpan(parent, span, work, describe);
}

/** A child span left open across yields (a listing read page by page); `end` after `fail` only closes it. */
export interface OpenSpan {
  fail(error: unknown): void;
  end(attributes?: TelemetryAttributes): void;
}

/** Opens a child span of the running operation's innermost span, or returns undefined when none is traced. */
export function openChildSpan(name: string, kind: number, attributes: TelemetryAttributes): OpenSpan | undefined {
  const parent = operations.getStore();
  if (!parent) return undefined;
  const span = parent.tracer.startSpan(name, { kind, attributes }, parent.context);
  let failed = false;
  return {
    fail(error) {
      failed = true;
      markFailed(span, error);
    },
    end(attributes) {
      if (!failed && attributes) setAttributes(span, attributes);
      span.end();
    },
  };
}

async function runInSpan<T>(
  parent: OperationContext,
  span: TelemetrySpan,
  work: () => Promise<T>,
  describe: ((result: T) => TelemetryAttributes) | undefined,
): Promise<T> {
  const { api } = parent;
  const context = api.trace.setSpan(parent.context, span);
  try {
    // Both stores: mem's own for its child spans, the API's context for spans other instrumentations
    // start meanwhile (e.g. the HTTP request of an LLM SDK), where the app has a context manager.
    const result = await operations.run({ ...parent, context }, () => api.context.with(context, work));
    if (describe) setAttributes(span, describe(result));
    return result;
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function markFailed(span: TelemetrySpan, error: unknown): void {
  setAttributes(span, errorAttributes(error));
  span.setStatus({ code: STATUS_ERROR, message: errorType(error) });
}

function setAttributes(span: TelemetrySpan, attributes: TelemetryAttributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) span.setAttribute(key, value);
  }
}

/** `error.type` (a class name, low cardinality) and, for mem's errors, `mem.error.code`; never the message. */
function errorAttributes(error: unknown): TelemetryAttributes {
  return { 'error.type': errorType(error), 'mem.error.code': MemError.is(error) ? error.code : undefined };
}

function errorType(error: unknown): string {
  const name = error instanceof Error || MemError.is(error) ? (error as Error).name : undefined;
  return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : '_OTHER';
}
