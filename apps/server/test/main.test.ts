import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'mem-main-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `src/main.ts` (what `pnpm start` runs, from source) with exactly this environment. */
function startProcess(env: Record<string, string>): {
  child: ChildProcess;
  stderr: () => string;
  url: Promise<string>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', MEM_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"msg":"listening","url":"([^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on('exit', () => reject(new Error(`exited before listening:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => output, url, exited };
}

describe('the server process', () => {
  it('starts from the environment, serves, and stops on SIGTERM with exit code 0', async () => {
    const key = 'process-test-key-0123456789';
    const server = startProcess({
      MEM_DB: join(dir, 'sigterm.db'),
      MEM_API_KEYS: JSON.stringify([{ id: 'tester', key, userIds: ['u1'] }]),
    });
    const url = await server.url;
    const added = await fetch(`${url}/v1/memories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: 'kept across the restart', scope: {} }),
    });
    expect(added.status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toContain('"msg":"stopped"');
    expect(server.stderr()).not.toContain(key);
    expect(server.stderr()).not.toContain('kept across the restart');
  });

  it('creates an admin key on first start when none is configured, shows it once, and stops on SIGINT', async () => {
    const keysFile = join(dir, 'keys.yaml');
    const server = startProcess({ MEM_DB: join(dir, 'bootstrap.db'), MEM_KEYS_FILE: keysFile });
    const url = await server.url;
    const secret = /\n {2}(mem_[A-Za-z0-9_-]{43})\n/.exec(server.stderr())?.[1];
    expect(secret).toBeDefined();
    expect(readFileSync(keysFile, 'utf8')).not.toContain(secret!);
    const keys = await fetch(`${url}/v1/admin/keys`, { headers: { authorization: `Bearer ${secret}` } });
    expect(keys.status).toBe(200);
    expect(((await keys.json()) as { keys: { id: string; admin: boolean }[] }).keys).toEqual([
      expect.objectContaining({ id: 'admin', admin: true }),
    ]);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  });

  it('refuses arguments (exit 2, saying where settings go) instead of ignoring them, and prints that help for --help', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', MEM_PORT: '0', MEM_DB: join(dir, 'arguments.db') },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    // What npm passes for `npm run server -- --port 9000`.
    const refused = await run(['--', '--port', '9000']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('mem server: unexpected argument "--port".');
    expect(refused.stderr).toContain('MEM_PORT=9000 npm run server');
    expect(refused.stderr).toContain('npm run mem -- serve --port 9000');
    expect(refused.stderr).not.toContain('listening');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('It takes no arguments');
  });

  it('exits with code 1 and a message naming the setting when the configuration is wrong', async () => {
    const server = startProcess({ MEM_DB: join(dir, 'bad.db'), MEM_VECTOR_STORE: 'mongo', MEM_ADMIN_KEY: 'x'.repeat(32) });
    await expect(server.url).rejects.toThrow();
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toContain('vectorStore.provider');
  });
});
