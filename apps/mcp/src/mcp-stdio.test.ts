import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { callOk, expectAllTools, expectInvalidInputErrors, expectRoundTrip, type MemoryOutput } from '../test/mcp-client';

// The real CLI, run from source by tsx, as `mem-mcp` runs it: a child process speaking MCP on stdio.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = ['--import', 'tsx', 'src/cli.ts'];
const directory = mkdtempSync(join(tmpdir(), 'mem-mcp-stdio-'));
// StdioClientTransport passes only PATH, HOME and the like to the child, so no provider key of
// this machine reaches it: the server runs on the offline default (no LLM, lexical embedder).
const clients: Client[] = [];
afterEach(async () => {
  while (clients.length > 0) await clients.pop()!.close();
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let databases = 0;
function newDatabase(): string {
  return join(directory, `mem-${++databases}.db`);
}

async function startStdio(args: string[], env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [...cli, ...args], cwd: packageDir, env, stderr: 'pipe' });
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

describe('mem-mcp over stdio (SDK client, child process)', () => {
  it('lists the six tools with descriptions and schemas', async () => {
    const client = await startStdio(['--user-id', 'alice', '--db', newDatabase()]);
    await expectAllTools(client);
    expect(client.getInstructions()).toMatch(/search_memories/);
  });

  it('adds, searches, lists, gets, updates and deletes', async () => {
    await expectRoundTrip(await startStdio(['--user-id', 'alice', '--db', newDatabase()]));
  });

  it('returns invalid arguments as tool errors naming the argument', async () => {
    await expectInvalidInputErrors(await startStdio(['--user-id', 'alice', '--db', newDatabase()]));
  });

  it('keeps memories in the SQLite file across restarts, per user (MEM_DB, MEM_MCP_USER_ID)', async () => {
    const db = newDatabase();
    const first = await startStdio([], { MEM_DB: db, MEM_MCP_USER_ID: 'alice' });
    const { events } = await callOk<{ events: { id: string }[] }>(first, 'add_memory', { text: 'Allergic to peanuts' });
    await clients.pop()!.close();

    const again = await startStdio([], { MEM_DB: db, MEM_MCP_USER_ID: 'alice' });
    const { memory } = await callOk<{ memory: MemoryOutput }>(again, 'get_memory', { id: events[0]!.id });
    expect(memory.text).toBe('Allergic to peanuts');
    const bob = await startStdio(['--user-id', 'bob'], { MEM_DB: db });
    expect((await callOk<{ memories: MemoryOutput[] }>(bob, 'list_memories', {})).memories).toEqual([]);
    expect((await callOk<{ results: MemoryOutput[] }>(bob, 'search_memories', { query: 'peanuts allergy' })).results).toEqual([]);
  });

  it('started as a package script (npm run mcp), keeps ./mem.db in the directory the command was typed in, like the server and CLI', async () => {
    // npm and pnpm run scripts in the package's folder and name the caller's folder in INIT_CWD.
    const caller = join(directory, 'caller');
    mkdirSync(caller);
    const client = await startStdio(['--user-id', 'alice'], { npm_lifecycle_event: 'mcp', INIT_CWD: caller });
    await callOk(client, 'add_memory', { text: 'Drinks green tea' });
    expect(existsSync(join(caller, 'mem.db'))).toBe(true);
    expect(existsSync(join(packageDir, 'mem.db'))).toBe(false);
  });

  it('refuses to start without a user, naming the flag and its variable (exit code 2)', () => {
    const run = spawnSync(process.execPath, [...cli, '--db', newDatabase()], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      input: '',
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('mem-mcp: MISSING_SETTING: Missing setting --user-id (MEM_MCP_USER_ID).');
  });
});
