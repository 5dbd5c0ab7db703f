import type { TestProject } from 'vitest/node';
import { startChromaServer, waitForHeartbeat, type ChromaServer } from './chroma-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the Chroma server the tests use; `''` when none could be started (laptop only). */
    chromaUrl: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    chromaSkip: string;
  }
}

let server: ChromaServer | undefined;

/**
 * Finds or starts the Chroma server for this package's tests: `CHROMA_URL` when set, otherwise a
 * fresh `chroma run` from the chromadb npm package on a free port, stopped on teardown. Like
 * `serverEnv`, a server that cannot be had fails the run under `CI=true` and skips (visibly, with the
 * reason) elsewhere.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.CHROMA_URL;
  if (configured) {
    await waitForHeartbeat(configured.replace(/\/$/, ''), undefined, 10_000);
    project.provide('chromaUrl', configured);
    project.provide('chromaSkip', '');
    return async () => {};
  }
  try {
    server = await startChromaServer();
    project.provide('chromaUrl', server.url);
    project.provide('chromaSkip', '');
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    project.provide('chromaUrl', '');
    project.provide('chromaSkip', `no Chroma server: set CHROMA_URL or fix the local one (${(error as Error).message.split('\n')[0]})`);
  }
  return async () => {
    await server?.stop();
    server = undefined;
  };
}
