import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'mem-tracing-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: string | number;
  readonly arrayValue?: { readonly values: readonly OtlpValue[] };
}
interface OtlpSpan {
  readonly name: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly attributes: readonly { readonly key: string; readonly value: OtlpValue }[];
  readonly status?: { readonly code?: number };
}
interface OtlpExport {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly { readonly key: string; readonly value: OtlpValue }[] };
    readonly scopeSpans: readonly { readonly spans: readonly OtlpSpan[] }[];
  }[];
}

/** A stand-in OpenTelemetry collector: takes OTLP/HTTP JSON exports on /v1/traces and keeps them. */
async function startCollector(): Promise<{ url: string; exports: OtlpExport[]; close(): void }> {
  const exports: OtlpExport[] = [];
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server = createServer((request, response) => {
    read(request).then((body) => {
      if (request.method === 'POST' && request.url === '/v1/traces' && request.headers['content-type']?.includes('json')) {
        exports.push(JSON.parse(body) as OtlpExport);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports, close: () => server.close() };
}

describe('the server with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('exports the GenAI memory spans of its requests over OTLP/HTTP, with no memory text, and flushes them on SIGTERM', async () => {
    const collector = await startCollector();
    const key = 'tracing-test-key-0123456789';
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        MEM_PORT: '0',
        MEM_DB: join(dir, 'traced.db'),
        MEM_API_KEYS: JSON.stringify([{ id: 'tester', key, userIds: ['u1'] }]),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'mem-under-test',
        // No timed export: the spans can only reach the collector through the flush on shutdown.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"msg":"listening","url":"([^"]+)"/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.on('exit', () => reject(new Error(`exited before listening:\n${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const call = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await call('/v1/memories', { messages: 'Likes oolong tea', scope: { userId: 'u1' }, infer: false })).status).toBe(200);
    expect((await call('/v1/search', { query: 'oolong', scope: { userId: 'u1' } })).status).toBe(200);
    expect(collector.exports).toEqual([]); // batched: nothing sent before the server stops
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    collector.close();

    expect(output).toContain(`"traces":"${collector.url}/v1/traces"`);
    const resources = collector.exports.flatMap((exported) => exported.resourceSpans);
    const spans = resources.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
    const names = spans.map((span) => span.name);
    expect(names).toContain('create_memory');
    expect(names).toContain('search_memory');
    expect(names).toContain('embeddings hashing-512');
    const search = spans.find((span) => span.name === 'search_memory')!;
    const attribute = (span: OtlpSpan, name: string) => span.attributes.find((entry) => entry.key === name)?.value;
    expect(attribute(search, 'gen_ai.operation.name')).toEqual({ stringValue: 'search_memory' });
    expect(Number(attribute(search, 'gen_ai.memory.record.count')?.intValue)).toBe(1);
    const embedding = spans.find((span) => span.name === 'embeddings hashing-512' && span.parentSpanId === search.spanId);
    expect(embedding).toBeDefined();
    expect(resources[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'mem-under-test' } });
    const everything = JSON.stringify(collector.exports);
    expect(everything).not.toContain('oolong');
    expect(everything).not.toContain('"u1"');
  });
});
