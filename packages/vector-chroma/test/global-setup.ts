import { findOrStartChroma } from '@mem/test-servers/chroma';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the Chroma server the tests use; `''` when none could be started (laptop only). */
    chromaUrl: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    chromaSkip: string;
  }
}

/**
 * Finds or starts the Chroma server for this package's tests (`@mem/test-servers/chroma`):
 * `CHROMA_URL` when set, otherwise a fresh `chroma run` from the chromadb npm package on a free
 * port, stopped on teardown. Like `serverEnv`, a server that cannot be had fails the run under
 * `CI=true` and skips (visibly, with the reason) elsewhere.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await findOrStartChroma();
  project.provide('chromaUrl', server.url);
  project.provide('chromaSkip', server.skip);
  return () => server.stop();
}
