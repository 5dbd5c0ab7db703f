import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import neo4j from 'neo4j-driver';
// Brings the module into this file so that the augmentation below can find it.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bolt URI of the Neo4j server the tests use; `''` when none could be had (laptop only). */
    neo4jUri: string;
    neo4jUsername: string;
    neo4jPassword: string;
    /** Database name; `''` for the server's default database. */
    neo4jDatabase: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    neo4jSkip: string;
  }
}

/** A real Neo4j 5.26 Community server run by `neo4j-server/` (embedded database + Bolt connector). */
export interface Neo4jTestServer {
  /** e.g. `bolt://127.0.0.1:41234` */
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  /** The server's process id (for measuring its memory). */
  readonly pid: number;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

/** Folder of the Maven project that builds the launcher. */
export const SERVER_DIRECTORY = fileURLToPath(new URL('../neo4j-server/', import.meta.url));
const SOURCES = ['pom.xml', 'src/main/java/dev/mem/neo4j/Neo4jTestServer.java'];
const STAMP = join(SERVER_DIRECTORY, 'target', 'mem-build-stamp');
/** Neo4j requires passwords of at least 8 characters; authentication is on, as in production. */
const PASSWORD = 'mem-test-password';
const BUILD_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 180_000;
const JAVA_OPTIONS = ['-Xms256m', '-XX:+ExitOnOutOfMemoryError'];

/**
 * Builds the launcher with `mvn -q -B package` (jars from Maven Central into `neo4j-server/target/lib`)
 * unless `neo4j-server/target` already holds a build of the current `pom.xml` and Java source.
 *
 * @returns whether a build ran, and how long it took.
 * @throws Error with the tail of Maven's output when the build fails or Maven/Java is missing.
 */
export async function buildNeo4jServer(): Promise<{ built: boolean; milliseconds: number }> {
  const started = performance.now();
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(await readFile(join(SERVER_DIRECTORY, file)));
  const stamp = hash.digest('hex');
  const lib = join(SERVER_DIRECTORY, 'target', 'lib');
  if (existsSync(STAMP) && (await readFile(STAMP, 'utf8')) === stamp && existsSync(lib) && (await readdir(lib)).length > 0) {
    return { built: false, milliseconds: performance.now() - started };
  }
  await rm(join(SERVER_DIRECTORY, 'target'), { recursive: true, force: true });
  const { code, output } = await run('mvn', ['-q', '-B', 'package'], SERVER_DIRECTORY, BUILD_TIMEOUT_MS);
  if (code !== 0) {
    throw new Error(
      `\`mvn -q -B package\` in ${SERVER_DIRECTORY} failed (${code}). It needs Maven 3.8+, a JDK 17+ and Maven Central.\n--- maven output ---\n${output}`,
    );
  }
  await writeFile(STAMP, stamp);
  return { built: true, milliseconds: performance.now() - started };
}

/**
 * Starts Neo4j on a free 127.0.0.1 port with a fresh data directory (building the launcher
 * first if needed) and waits until Bolt answers `verifyConnectivity`.
 *
 * @throws Error with the tail of the server's output when it exits or does not answer in time.
 */
export async function startNeo4jServer(
  options: { readonly pageCacheMb?: number; readonly heapMb?: number } = {},
): Promise<Neo4jTestServer> {
  await buildNeo4jServer();
  const home = await mkdtemp(join(tmpdir(), 'mem-neo4j-'));
  const classpath = [join(SERVER_DIRECTORY, 'target', 'classes'), join(SERVER_DIRECTORY, 'target', 'lib', '*')].join(':');
  const javaOptions = [...JAVA_OPTIONS, `-Xmx${options.heapMb ?? 1024}m`];
  const child = spawn(
    'java',
    [...javaOptions, '-cp', classpath, 'dev.mem.neo4j.Neo4jTestServer', home, '0', PASSWORD, String(options.pageCacheMb ?? 64)],
    {
      // stdin stays open: the server shuts down when it closes, so it never outlives this process.
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-6_000);
  };
  child.stderr!.on('data', keep);
  // 'exit' does not fire when java cannot be spawned at all; 'error' does.
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      spawnError = error;
      resolve(null);
    });
  });
  const stop = async () => {
    await terminate(child, exited);
    await rm(home, { recursive: true, force: true });
  };
  try {
    const uri = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no READY line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        keep(chunk);
        const ready = /READY (bolt:\/\/\S+)/.exec(output);
        if (ready) {
          clearTimeout(timer);
          resolve(ready[1]!);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(
            spawnError ? `could not run java (${spawnError.message}); Java 17 or 21 must be on the PATH` : `it exited with code ${code}`,
          ),
        );
      });
    });
    await waitForBolt(uri, 'neo4j', PASSWORD);
    return { uri, username: 'neo4j', password: PASSWORD, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw new Error(`The Neo4j test server did not start: ${(error as Error).message}\n--- server output ---\n${output}`);
  }
}

/** A Neo4j server for a test run: its address, or why there is none. */
export interface FoundNeo4j {
  /** Bolt URI; `''` when there is no server (then {@link FoundNeo4j.skip} says why). */
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  /** Database name; `''` for the server's default database. */
  readonly database: string;
  /** Why there is no server, to show as the skip reason; `''` when there is one. */
  readonly skip: string;
  /** Stops the server if this call started it. */
  stop(): Promise<void>;
}

/**
 * Finds or starts the Neo4j server a test run uses: `NEO4J_URI` (with `NEO4J_USERNAME`,
 * `NEO4J_PASSWORD`, `NEO4J_DATABASE`) when set, otherwise {@link startNeo4jServer}. A server that
 * cannot be had **throws under `CI=true`** and elsewhere returns the reason as `skip`, so tests skip
 * visibly instead of passing.
 *
 * The vitest global setups of one run share the server it starts (they run in one process): the
 * first call starts it, the last `stop()` stops it, so several packages cost one JVM. Tests keep
 * apart by namespace.
 */
export async function findOrStartNeo4j(
  environment: Readonly<Record<string, string | undefined>> = process.env,
  options: { readonly pageCacheMb?: number; readonly heapMb?: number } = {},
): Promise<FoundNeo4j> {
  const configured = environment['NEO4J_URI'];
  if (configured) {
    const username = environment['NEO4J_USERNAME'] || 'neo4j';
    const password = environment['NEO4J_PASSWORD'] ?? '';
    await waitForBolt(configured, username, password, 10_000);
    return { uri: configured, username, password, database: environment['NEO4J_DATABASE'] ?? '', skip: '', stop: async () => {} };
  }
  try {
    const server = await sharedNeo4jServer(options);
    return { uri: server.uri, username: server.username, password: server.password, database: '', skip: '', stop: server.stop };
  } catch (error) {
    if (environment['CI'] === 'true') throw error;
    const reason = (error as Error).message.split('\n')[0];
    return {
      uri: '',
      username: '',
      password: '',
      database: '',
      skip: `no Neo4j server: set NEO4J_URI or fix the local one (${reason})`,
      stop: async () => {},
    };
  }
}

/**
 * A vitest global setup (`export { setupNeo4j as default } from '@mem/test-servers/neo4j'`): finds
 * or starts Neo4j with {@link findOrStartNeo4j} and provides `neo4jUri`, `neo4jUsername`,
 * `neo4jPassword`, `neo4jDatabase` and `neo4jSkip` to the tests (`inject('neo4jUri')`).
 */
export async function setupNeo4j(project: TestProject): Promise<() => Promise<void>> {
  const server = await findOrStartNeo4j();
  project.provide('neo4jUri', server.uri);
  project.provide('neo4jUsername', server.username);
  project.provide('neo4jPassword', server.password);
  project.provide('neo4jDatabase', server.database);
  project.provide('neo4jSkip', server.skip);
  return () => server.stop();
}

/** The server this process's global setups share, on `globalThis` so that every module instance sees it. */
const SHARED = Symbol.for('mem.test-servers.neo4j');

interface SharedNeo4j {
  readonly started: Promise<Neo4jTestServer>;
  users: number;
}

/** {@link startNeo4jServer} once per process; `stop()` stops it when its last user has called it. */
async function sharedNeo4jServer(options: { readonly pageCacheMb?: number; readonly heapMb?: number }): Promise<Neo4jTestServer> {
  const registry = globalThis as { [SHARED]?: SharedNeo4j };
  const shared = (registry[SHARED] ??= { started: startNeo4jServer(options), users: 0 });
  shared.users++;
  const server = await shared.started;
  let stopped = false;
  return {
    ...server,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      shared.users--;
      if (shared.users > 0) return;
      if (registry[SHARED] === shared) delete registry[SHARED];
      await server.stop();
    },
  };
}

/** Resolves once a Bolt server at `uri` accepts these credentials. */
export async function waitForBolt(uri: string, username: string, password: string, timeoutMs = 30_000): Promise<void> {
  const driver = neo4j.driver(uri, neo4j.auth.basic(username, password), { connectionTimeout: 5_000, maxConnectionPoolSize: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await driver.verifyConnectivity();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await driver.close();
  }
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // Closing stdin asks for a clean shutdown; the data directory is thrown away, so do not wait long.
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-6_000);
    };
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: (error as NodeJS.ErrnoException).code ?? 'spawn error', output: `${output}${error.message}` });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'killed', output });
    });
  });
}
