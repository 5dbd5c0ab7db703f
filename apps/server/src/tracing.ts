import type { TelemetryOptions } from '@mem/core';
import type { Environment } from '@mem/core/adapter';

/** Traces exported over OTLP/HTTP, started by {@link startTracing}. */
export interface Tracing {
  /** What the server's `Memory` is given: the server's tracer, and whether memory text is recorded. */
  readonly telemetry: TelemetryOptions;
  /** Where the spans go, e.g. `http://localhost:4318/v1/traces`. */
  readonly url: string;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts exporting traces when the standard OpenTelemetry variables ask for it:
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL), or `OTEL_EXPORTER_OTLP_ENDPOINT` (the base,
 * `/v1/traces` appended), unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The
 * service is `OTEL_SERVICE_NAME` (default `mem-server`). Memory text is recorded only with
 * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`, scope ids only with `MEM_TRACE_SCOPE=true`.
 * The SDK is imported only then, so a server without these variables loads none of it.
 *
 * @returns the tracing, or `undefined` when not asked for.
 */
export async function startTracing(env: Environment): Promise<Tracing | undefined> {
  const value = (name: string) => env[name]?.trim() || undefined;
  const base = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  const url = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url || value('OTEL_SDK_DISABLED') === 'true' || value('OTEL_TRACES_EXPORTER') === 'none') return undefined;
  const [{ BatchSpanProcessor, NodeTracerProvider }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': value('OTEL_SERVICE_NAME') ?? 'mem-server' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // Global too (with the AsyncLocalStorage context manager), for code that uses the global API.
  provider.register();
  return {
    telemetry: {
      tracer: provider.getTracer('@mem/server'),
      recordContent: value('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT') === 'true',
      recordScope: value('MEM_TRACE_SCOPE') === 'true',
    },
    url,
    shutdown: () => provider.shutdown(),
  };
}
