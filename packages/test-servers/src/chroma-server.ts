import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A Chroma server started from the chromadb npm package's CLI (`chroma run`). */
export interface ChromaServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

/** How long the server may take to answer its heartbeat, in milliseconds. */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts `node <chromadb>/dist/cli.mjs run --path <tmp> --host 127.0.0.1 --port <free>` and waits
 * for `GET /api/v2/heartbeat`.
 *
 * @throws Error with the tail of the server's output when it exits or does not answer in time.
 */
export async function startChromaServer(): Promise<ChromaServer> {
  // chromadb's package.json exports only ".", which resolves to dist/cjs/chromadb.cjs; the CLI sits in dist/.
  const cli = join(dirname(createRequire(import.meta.url).resolve('chromadb')), '..', 'cli.mjs');
  const dataDir = await mkdtemp(join(tmpdir(), 'mem-chroma-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [cli, 'run', '--path', dataDir, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    await terminate(child, exited);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHeartbeat(url, exited);
  } catch (error) {
    await stop();
    throw new Error(`The Chroma server (${cli}) did not start: ${(error as Error).message}\n--- server output ---\n${output}`);
  }
  return { url, stop };
}

/** A Chroma server for a test run: its address, or why there is none. */
export interface FoundChroma {
  /** Base URL; `''` when there is no server (then {@link FoundChroma.skip} says why). */
  readonly url: string;
  /** Why there is no server, to show as the skip reason; `''` when there is one. */
  readonly skip: string;
  /** Stops the server if this call started it. */
  stop(): Promise<void>;
}

/**
 * Finds or starts the Chroma server a test run uses: `CHROMA_URL` when set, otherwise
 * {@link startChromaServer}. A server that cannot be had **throws under `CI=true`** and elsewhere
 * returns the reason as `skip`, so tests skip visibly instead of passing.
 */
export async function findOrStartChroma(environment: Readonly<Record<string, string | undefined>> = process.env): Promise<FoundChroma> {
  const configured = environment['CHROMA_URL'];
  if (configured) {
    await waitForHeartbeat(configured.replace(/\/$/, ''), undefined, 10_000);
    return { url: configured, skip: '', stop: async () => {} };
  }
  try {
    const server = await startChromaServer();
    return { url: server.url, skip: '', stop: server.stop };
  } catch (error) {
    if (environment['CI'] === 'true') throw error;
    const reason = (error as Error).message.split('\n')[0];
    return { url: '', skip: `no Chroma server: set CHROMA_URL or fix the local one (${reason})`, stop: async () => {} };
  }
}

/** Resolves once `url` answers its heartbeat. */
export async function waitForHeartbeat(url: string, exited?: Promise<number | null>, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited?.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (exitCode !== undefined) throw new Error(`it exited with code ${exitCode}`);
    try {
      const response = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no heartbeat from ${url} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
