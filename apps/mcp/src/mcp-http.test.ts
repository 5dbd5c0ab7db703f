import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callError, callOk, expectAllTools, expectInvalidInputErrors, expectRoundTrip, type MemoryOutput } from '../test/mcp-client';
import { createMemoryFromEnvironment, type ConfiguredMemory } from './config';
import { startMemHttpServer, type MemHttpServer } from './http-server';

const ALICE_TOKEN = 'alice-token-0123456789abcdef';
const BOB_TOKEN = 'bob-token-0123456789abcdef';
const directory = mkdtempSync(join(tmpdir(), 'mem-mcp-http-'));
const clients: Client[] = [];
afterEach(async () => {
  while (clients.length > 0) await clients.pop()!.close();
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function connect(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(
    new URL(url),
    token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {},
  );
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** A raw HTTP request, so tests can set headers fetch refuses (Host) and read statuses. */
function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

describe('mem-mcp over Streamable HTTP with bearer tokens (SDK client, in-process server)', () => {
  let configured: ConfiguredMemory;
  let server: MemHttpServer;
  beforeAll(async () => {
    // The CLI's own configuration path, on an empty environment: SQLite file, no LLM, lexical embedder.
    configured = await createMemoryFromEnvironment({}, { db: join(directory, 'tokens.db') });
    server = await startMemHttpServer({
      memory: configured.memory,
      tokens: { [ALICE_TOKEN]: { userId: 'alice' }, [BOB_TOKEN]: { userId: 'bob' } },
      port: 0,
    });
    return async () => {
      await server.close();
      await configured.memory.close();
    };
  });

  it('listens on 127.0.0.1 and lists the six tools with descriptions and schemas', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/mcp`);
    await expectAllTools(await connect(server.url, ALICE_TOKEN));
  });

  it('adds, searches, lists, gets, updates and deletes', async () => {
    await expectRoundTrip(await connect(server.url, ALICE_TOKEN));
  });

  it('returns invalid arguments as tool errors naming the argument', async () => {
    await expectInvalidInputErrors(await connect(server.url, BOB_TOKEN));
  });

  it("gives each token its own memories: another user's ids are NOT_FOUND for get, update and delete", async () => {
    const alice = await connect(server.url, ALICE_TOKEN);
    const bob = await connect(server.url, BOB_TOKEN);
    const added = await callOk<{ events: { id: string }[] }>(alice, 'add_memory', {
      text: 'Secret project codename is Bluebird',
      metadata: { topic: 'work' },
    });
    const id = added.events[0]!.id;
    await callOk(bob, 'add_memory', { text: 'Plays the cello', metadata: { topic: 'music' } });

    const bobSearch = await callOk<{ results: MemoryOutput[] }>(bob, 'search_memories', {
      query: 'secret project codename Bluebird',
      limit: 100,
    });
    expect(bobSearch.results.map((result) => result.text)).not.toContain('Secret project codename is Bluebird');
    const bobList = await callOk<{ memories: MemoryOutput[] }>(bob, 'list_memories', { pageSize: 100 });
    expect(bobList.memories.map((memory) => memory.id)).not.toContain(id);
    const bobFiltered = await callOk<{ memories: MemoryOutput[] }>(bob, 'list_memories', { filter: { topic: 'work' } });
    expect(bobFiltered.memories).toEqual([]);
    for (const [tool, args] of [
      ['get_memory', { id }],
      ['update_memory', { id, text: 'Codename leaked' }],
      ['delete_memory', { id }],
    ] as const) {
      expect(await callError(bob, tool, args, 'NOT_FOUND')).toContain('No memory with id');
    }
    const still = await callOk<{ memory: MemoryOutput }>(alice, 'get_memory', { id });
    expect(still.memory.text).toBe('Secret project codename is Bluebird');
    const aliceList = await callOk<{ memories: MemoryOutput[] }>(alice, 'list_memories', { pageSize: 100 });
    expect(aliceList.memories.map((memory) => memory.text)).not.toContain('Plays the cello');
  });

  it('refuses requests without a valid token (401 with WWW-Authenticate)', async () => {
    await expect(connect(server.url)).rejects.toThrow(/401|Unauthorized/);
    await expect(connect(server.url, 'wrong-token-0123456789abcdef')).rejects.toThrow(/401|Unauthorized/);
    const response = await rawRequest(server.url, { headers: { ...MCP_HEADERS, Authorization: 'Bearer nope' }, body: INITIALIZE });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="mem-mcp"');
    expect(JSON.parse(response.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
  });

  it('refuses a foreign Host (DNS rebinding) or Origin with 403, and answers GET with 405', async () => {
    const authorized = { ...MCP_HEADERS, Authorization: `Bearer ${ALICE_TOKEN}` };
    expect(
      (await rawRequest(server.url, { headers: { ...authorized, Host: `evil.example:${server.port}` }, body: INITIALIZE })).status,
    ).toBe(403);
    expect((await rawRequest(server.url, { headers: { ...authorized, Origin: 'https://evil.example' }, body: INITIALIZE })).status).toBe(
      403,
    );
    expect(
      (await rawRequest(server.url, { headers: { ...authorized, Origin: `http://localhost:${server.port}` }, body: INITIALIZE })).status,
    ).toBe(200);
    const get = await rawRequest(server.url, { method: 'GET', headers: { ...authorized, Accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await rawRequest(server.url.replace('/mcp', '/other'), { headers: authorized, body: INITIALIZE })).status).toBe(404);
  });
});

describe('startMemHttpServer settings', () => {
  it('serves one fixed user without tokens on loopback', async () => {
    const configured = await createMemoryFromEnvironment({}, { db: join(directory, 'fixed.db') });
    const server = await startMemHttpServer({ memory: configured.memory, scope: { userId: 'carol' }, port: 0 });
    try {
      const client = await connect(server.url);
      const { events } = await callOk<{ events: { id: string }[] }>(client, 'add_memory', { text: 'Runs marathons' });
      expect((await configured.memory.get(events[0]!.id, { scope: { userId: 'carol' } }))?.text).toBe('Runs marathons');
    } finally {
      await clients.pop()?.close();
      await server.close();
      await configured.memory.close();
    }
  });

  it('refuses unsafe or ambiguous settings before listening', async () => {
    const { memory } = await createMemoryFromEnvironment({}, { db: join(directory, 'settings.db') });
    try {
      await expect(startMemHttpServer({ memory, scope: { userId: 'alice' }, host: '0.0.0.0', port: 0 })).rejects.toThrow(
        /Invalid host: is 0\.0\.0\.0, not a loopback address, and no tokens are configured/,
      );
      await expect(startMemHttpServer({ memory, port: 0 })).rejects.toThrow(/Missing setting scope or tokens/);
      await expect(
        startMemHttpServer({ memory, scope: { userId: 'alice' }, tokens: { [ALICE_TOKEN]: { userId: 'alice' } }, port: 0 }),
      ).rejects.toThrow(/Invalid scope: is given together with tokens/);
      await expect(startMemHttpServer({ memory, tokens: { short: { userId: 'alice' } }, port: 0 })).rejects.toThrow(
        /shorter than 16 characters/,
      );
      await expect(startMemHttpServer({ memory, tokens: { [ALICE_TOKEN]: { agentId: 'cursor' } }, port: 0 })).rejects.toThrow(
        /Invalid tokens\[0\]\.scope\.userId: is missing/,
      );
    } finally {
      await memory.close();
    }
  });
});

describe('mem-mcp --transport http (SDK client, child process)', () => {
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const tokensFile = join(directory, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ [BOB_TOKEN]: { userId: 'bob', agentId: 'cursor' } }));
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--transport', 'http', '--port', '0', '--tokens-file', tokensFile], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? '', MEM_DB: join(directory, 'child.db'), MEM_MCP_USER_ID: 'alice', MEM_MCP_TOKEN: ALICE_TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // The CLI reports its endpoint on stderr once it listens.
    url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
        const match = /listening on (http:\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`mem-mcp exited with ${code}: ${stderr}`)));
    });
    return async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    };
  });

  it('serves MEM_MCP_TOKEN as --user-id and each tokens-file entry as its own scope', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const alice = await connect(url, ALICE_TOKEN);
    const bob = await connect(url, BOB_TOKEN);
    await expectAllTools(bob);
    await callOk(alice, 'add_memory', { text: 'Speaks Portuguese' });
    await callOk(bob, 'add_memory', { text: 'Prefers dark mode' });
    expect((await callOk<{ memories: MemoryOutput[] }>(alice, 'list_memories', {})).memories.map((memory) => memory.text)).toEqual([
      'Speaks Portuguese',
    ]);
    expect((await callOk<{ memories: MemoryOutput[] }>(bob, 'list_memories', {})).memories.map((memory) => memory.text)).toEqual([
      'Prefers dark mode',
    ]);
    await expect(connect(url)).rejects.toThrow(/401|Unauthorized/);
  });
});
