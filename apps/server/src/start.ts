import type { Environment } from '@mem/core/adapter';
import { processEnvironment } from '@mem/core/adapter';
import { createServer, type MemServer } from './app';
import { createMemoryFromConfig, loadConfig, type ConfiguredMemory, type MemConfigInput, type MemoryOverrides } from '@mem/config';
import { ApiKeyStore } from './keys';
import { ReadPool, readWorkersApply } from './read-pool';
import { createLogger, type LogSink } from './logger';
import { startTracing } from './tracing';

/** Keys file used when no key source is configured at all (created with one admin key on first start). */
export const DEFAULT_KEYS_FILE = './mem-keys.json';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** Environment to read `MEM_*` variables from. @default process.env */
  readonly env?: Environment;
  /** Settings that win over the environment and the config file (CLI flags). */
  readonly overrides?: MemConfigInput;
  /** Parts to use instead of building them from the configuration (tests). */
  readonly parts?: MemoryOverrides;
  /** Where the structured log lines go. @default process.stderr */
  readonly log?: LogSink | 'silent';
  /**
   * Told the secret of an admin key created on first start (no keys configured anywhere).
   * @default prints it once on stderr
   */
  readonly onBootstrapKey?: (secret: string, keysFile: string) => void;
}

/** A started server. */
export interface StartedServer {
  readonly server: MemServer;
  readonly configured: ConfiguredMemory;
  /** Base URL, e.g. `http://127.0.0.1:8420`. */
  readonly url: string;
  /** The search workers (`MEM_READ_WORKERS`), when searches run in them; closed by `server.shutdown()`. */
  readonly readPool?: ReadPool;
}

/**
 * Loads the configuration, builds the memory and the keys, and listens: what `pnpm --filter
 * @mem/server start` and `mem serve` run.
 *
 * Keys: the keys file (`MEM_KEYS_FILE`), `MEM_API_KEYS` and `MEM_ADMIN_KEY`. With none of them,
 * `./mem-keys.json` is used, and when it holds no key an admin key is created and shown once.
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartedServer> {
  const env = options.env ?? processEnvironment();
  const config = loadConfig({ env, ...(options.overrides ? { overrides: options.overrides } : {}) });
  const definitions = ApiKeyStore.definitionsFromEnvironment(env);
  const keysFile = config.server.keysFile ?? (definitions.length === 0 ? DEFAULT_KEYS_FILE : undefined);
  const keys = ApiKeyStore.load({ ...(keysFile ? { file: keysFile } : {}), keys: definitions });
  if (keys.size === 0 && keysFile) {
    const { key } = await keys.create({ id: 'admin', admin: true, userIds: '*', agentIds: '*', runIds: '*' });
    (options.onBootstrapKey ?? printBootstrapKey)(key, keysFile);
  }
  // Before the memory is built, so that it is given the server's tracer (README, Tracing).
  const tracing = await startTracing(env);
  const parts = tracing ? { telemetry: tracing.telemetry, ...options.parts } : options.parts;
  let configured: ConfiguredMemory;
  try {
    configured = await createMemoryFromConfig(config, parts);
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  let readPool: ReadPool | undefined;
  try {
    // Settle what a crashed previous run left half done (pending history events) before serving.
    // The server is meant to be the only writer of its database while it runs.
    const recovered = await configured.memory.recover();
    // Idempotency keys past their retention (MEM_IDEMPOTENCY_RETENTION_MS, 24 h by default) are
    // ignored already; deleting them at each start keeps the table from growing across restarts.
    const idempotencyKeysPurged = configured.historyStore.capabilities.idempotencyRecords
      ? (await configured.memory.purgeIdempotencyKeys()).purged
      : 0;
    // Searches in worker threads (MEM_READ_WORKERS) when each worker can rebuild the same memory from
    // the configuration: the embedded SQLite default, parts not replaced, and no tracing (a worker's
    // search would make no spans).
    readPool =
      config.server.readWorkers > 0 && readWorkersApply(config) && !tracing && !options.parts
        ? ReadPool.start({ memory: configured.memory, config, logger: createLogger(options.log), size: config.server.readWorkers })
        : undefined;
    const server = await createServer({
      memory: configured.memory,
      keys,
      hasLlm: configured.llm !== undefined,
      hasGraph: configured.graphStore !== undefined,
      hasReranker: configured.reranker !== undefined,
      vectorStore: configured.vectorStore,
      embedder: configured.embedder,
      limits: config.server,
      ...(options.log ? { log: options.log } : {}),
      ...(readPool ? { searcher: readPool } : {}),
    });
    server.logger.info({
      msg: 'starting',
      description: configured.description,
      recovered,
      idempotencyKeysPurged,
      readWorkers: readPool?.size ?? 0,
      ...(tracing ? { traces: tracing.url } : {}),
    });
    const url = await server.listen({ host: config.server.host, port: config.server.port });
    // The spans of the last requests are exported once the server has stopped.
    const traced: MemServer = tracing ? { ...server, shutdown: () => server.shutdown().finally(() => tracing.shutdown()) } : server;
    return { server: traced, configured, url, ...(readPool ? { readPool } : {}) };
  } catch (error) {
    await readPool?.close();
    await configured.close();
    await tracing?.shutdown();
    throw error;
  }
}

function printBootstrapKey(secret: string, keysFile: string): void {
  process.stderr.write(
    [
      '',
      `No API key was configured, so an admin key was created (its hash is in ${keysFile}).`,
      'It is shown only this once; keep it somewhere safe:',
      '',
      `  ${secret}`,
      '',
      'Create tenant keys with POST /v1/admin/keys or `mem keys create`.',
      '',
    ].join('\n'),
  );
}

/**
 * Shuts the server down gracefully on SIGTERM and SIGINT (in-flight requests finish, then the
 * stores close) and exits; a second signal exits at once.
 */
export function handleSignals(server: MemServer, exit: (code: number) => void = (code) => process.exit(code)): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      exit(1);
      return;
    }
    stopping = true;
    server.logger.info({ msg: `received ${signal}` });
    server.shutdown().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
