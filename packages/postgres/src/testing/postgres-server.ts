import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A real PostgreSQL server started by {@link startPostgresServer}, with its data in a temporary directory. */
export interface PostgresTestServer {
  /** e.g. `postgres://postgres@127.0.0.1:41234/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  /** The postmaster's process id (for measuring its memory). */
  readonly pid: number;
  /** The data directory (deleted by `stop`). */
  readonly dataDirectory: string;
  /** Stops the server (fast shutdown) and deletes its data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startPostgresServer}. */
export interface PostgresTestServerOptions {
  /** Directory holding `initdb` and `postgres`. @default '/usr/lib/postgresql/15/bin' */
  readonly binDirectory?: string;
  /**
   * Keep the server's durability settings (`fsync`, `synchronous_commit`, `full_page_writes` on),
   * e.g. for benchmarks. Tests turn them off: their data is thrown away, and a killed client
   * (not server) loses nothing either way.
   * @default false
   */
  readonly durable?: boolean;
  /** Extra `-c name=value` server settings, e.g. `{ shared_buffers: '1GB' }`. */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long to wait for the server to accept connections, in milliseconds. @default 60_000 */
  readonly startTimeoutMs?: number;
}

/** Where Debian's postgresql-15 package puts the server programs. */
export const DEFAULT_POSTGRES_BIN_DIRECTORY = '/usr/lib/postgresql/15/bin';
/** The pgvector version the tests and CI build (`scripts/install-postgres.sh`). */
export const PGVECTOR_VERSION = '0.8.6';
const INSTALL_HINT =
  'run `bash scripts/install-postgres.sh` as root (Debian: postgresql-15, postgresql-server-dev-15, pgvector from shared/vendor)';

/**
 * Starts a real PostgreSQL server (Debian's PostgreSQL 15 with pgvector) on a free 127.0.0.1 port,
 * with a fresh data directory under the system temp directory, and waits until it accepts
 * connections. As root it runs as the `postgres` user (PostgreSQL refuses to run as root). The
 * server is stopped when `stop()` is called or when this process exits (its stdin closes).
 *
 * @throws Error naming what is missing (programs, pgvector) and how to install it, or with the tail
 * of the server log when it does not start.
 */
export async function startPostgresServer(options: PostgresTestServerOptions = {}): Promise<PostgresTestServer> {
  const bin = options.binDirectory ?? DEFAULT_POSTGRES_BIN_DIRECTORY;
  for (const program of ['initdb', 'postgres', 'pg_config']) {
    if (!existsSync(join(bin, program))) throw new Error(`${join(bin, program)} is missing: ${INSTALL_HINT}`);
  }
  checkPgvector(bin);
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  const home = mkdtempSync(join(tmpdir(), 'mem-postgres-'));
  const dataDirectory = join(home, 'data');
  const cleanup = () => rmSync(home, { recursive: true, force: true });
  try {
    if (owner) chownSync(home, owner.uid, owner.gid);
    const identity = owner ? { uid: owner.uid, gid: owner.gid } : {};
    execFileSync(
      join(bin, 'initdb'),
      ['-D', dataDirectory, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions'],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: home, ...identity },
    );
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: home,
      max_connections: '300',
      ...(options.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
      ...options.settings,
    };
    const args = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    // A shell stays between us and the server: when our stdin pipe closes (stop(), or this process
    // dies), `read` returns and the server gets a fast shutdown, so it never outlives the tests.
    const child = spawn(
      'sh',
      [
        '-c',
        '"$0" "$@" & server=$!; read _ignored; kill -INT "$server"; wait "$server"',
        join(bin, 'postgres'),
        '-D',
        dataDirectory,
        ...args,
      ],
      { cwd: home, stdio: ['pipe', 'ignore', 'pipe'], ...identity },
    );
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-6_000);
    });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        await terminate(child, exited);
        cleanup();
      })());
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitForPostgres(url, options.startTimeoutMs ?? 60_000, () => child.exitCode !== null || child.signalCode !== null);
    } catch (error) {
      await stop();
      throw new Error(`The PostgreSQL test server did not start: ${(error as Error).message}\n--- server log ---\n${log}`);
    }
    const pid = Number(readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { url, port, pid, dataDirectory, stop };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** Resolves once a server at `url` answers `SELECT 1`. */
export async function waitForPostgres(url: string, timeoutMs = 30_000, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (gaveUp()) throw new Error('the server exited');
      if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms (${(error as Error).message})`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What a vitest global setup needs: a server URL, or (off CI) the reason there is none. */
export interface PostgresForTests {
  /** The server's URL; `''` when none could be had (the tests then skip with {@link skip}). */
  readonly url: string;
  /** Why there is no server, for the skip reason; `''` when there is one. */
  readonly skip: string;
  stop(): Promise<void>;
}

/**
 * Starts the PostgreSQL server a package's tests share (see {@link startPostgresServer}). Like
 * `serverEnv` of `@mem/conformance`: under `CI=true` a server that cannot be started fails the
 * run; elsewhere the tests skip, visibly, with the reason.
 *
 * @throws Error under `CI=true` when the server cannot be started.
 */
export async function postgresForTests(options: PostgresTestServerOptions = {}): Promise<PostgresForTests> {
  try {
    const server = await startPostgresServer(options);
    return { url: server.url, skip: '', stop: server.stop };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    return {
      url: '',
      skip: `no PostgreSQL 15 + pgvector server (${(error as Error).message.split('\n')[0]})`,
      stop: async () => {},
    };
  }
}

/**
 * A vitest global setup (`export default postgresGlobalSetup` in `test/global-setup.ts`): starts the
 * server with {@link postgresForTests} and provides `postgresUrl` and `postgresSkip` to the tests
 * (`inject('postgresUrl')`); stops it on teardown.
 */
export async function postgresGlobalSetup(project: {
  provide(key: 'postgresUrl' | 'postgresSkip', value: string): void;
}): Promise<() => Promise<void>> {
  const server = await postgresForTests();
  project.provide('postgresUrl', server.url);
  project.provide('postgresSkip', server.skip);
  return () => server.stop();
}

function checkPgvector(bin: string): void {
  let sharedir: string;
  let pkglibdir: string;
  try {
    sharedir = execFileSync(join(bin, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
    pkglibdir = execFileSync(join(bin, 'pg_config'), ['--pkglibdir'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(`pg_config failed (${(error as Error).message.split('\n')[0]}): ${INSTALL_HINT}`);
  }
  const control = join(sharedir, 'extension', 'vector.control');
  if (!existsSync(control) || !existsSync(join(pkglibdir, 'vector.so'))) throw new Error(`pgvector is not installed: ${INSTALL_HINT}`);
  if (!readFileSync(control, 'utf8').includes(`default_version = '${PGVECTOR_VERSION}'`)) {
    throw new Error(`pgvector is installed, but not version ${PGVECTOR_VERSION}: ${INSTALL_HINT}`);
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error(`running as root, and there is no postgres user to run the server as: ${INSTALL_HINT}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
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

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
