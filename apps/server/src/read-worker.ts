import { parentPort, workerData } from 'node:worker_threads';
import { MemError } from '@mem/core';
import { createMemoryFromConfig } from '@mem/config';
import type { ReadReply, ReadRequest, ReadWorkerData, WireError } from './read-protocol';

// A search worker of the REST server (read-pool.ts): the server's memory built from its
// configuration on a read-only connection to the same SQLite file, answering `search` messages.
// No LLM, reranker or graph store: searches that need them stay on the main thread.

const port = parentPort;
if (!port) throw new Error('read-worker.ts runs as a worker thread of the REST server (read-pool.ts).');
const { config } = workerData as ReadWorkerData;

const opening = createMemoryFromConfig(
  { ...config, llm: { provider: 'none' }, reranker: { provider: 'none' }, graphStore: { provider: 'none' } },
  { telemetry: false },
  { readOnly: true },
);
// The pool sends searches only after `ready`; a failure is reported once (`failed`), never left unhandled.
opening.then(
  () => port.postMessage({ type: 'ready' } satisfies ReadReply),
  (error: unknown) => port.postMessage({ type: 'failed', error: toWireError(error) } satisfies ReadReply),
);

const running = new Map<number, AbortController>();
const post = (reply: ReadReply) => port.postMessage(reply);

port.on('message', (message: ReadRequest) => {
  switch (message.type) {
    case 'search': {
      const controller = new AbortController();
      if (message.aborted) controller.abort();
      running.set(message.id, controller);
      void (async () => {
        try {
          const { memory } = await opening;
          const response = await memory.search(message.query, { ...message.options, signal: controller.signal });
          post({ type: 'result', id: message.id, response });
        } catch (error) {
          post({ type: 'error', id: message.id, error: toWireError(error) });
        } finally {
          running.delete(message.id);
        }
      })();
      return;
    }
    case 'abort':
      running.get(message.id)?.abort();
      return;
    case 'close':
      void opening
        .then((opened) => opened.close())
        .catch(() => undefined)
        .finally(() => {
          post({ type: 'closed' });
          port.close();
        });
      return;
  }
});

/** An error as plain data for the main thread: a `MemError` keeps its class name, code and own scalar fields. */
function toWireError(error: unknown): WireError {
  if (MemError.is(error)) {
    const fields: Record<string, string | number | boolean | undefined> = {};
    for (const [key, value] of Object.entries(error)) {
      if (key === 'code' || key === 'name' || key === 'message' || key === 'stack') continue;
      if (value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    }
    return { mem: true, name: error.name, message: error.message, code: error.code, fields };
  }
  return error instanceof Error
    ? { mem: false, name: error.name, message: error.message }
    : { mem: false, name: 'Error', message: String(error) };
}
