import { MemError } from '@mem/core';
import { describe, expect, it } from 'vitest';
import { resolveCliSettings } from './cli-settings';
import { createMemoryFromEnvironment } from './config';

const TOKEN = 'token-of-alice-0123456789';
const noFile = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
};

function failure(run: () => unknown): MemError {
  try {
    run();
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a MemError');
}

describe('resolveCliSettings', () => {
  it('serves stdio for --user-id by default, flags winning over variables', () => {
    expect(resolveCliSettings(['--user-id', 'alice', '--agent-id', 'cursor', '--db', 'x.db'], { MEM_MCP_USER_ID: 'bob' })).toEqual({
      command: 'serve',
      transport: 'stdio',
      scope: { userId: 'alice', agentId: 'cursor' },
      tokens: new Map(),
      host: '127.0.0.1',
      port: 8765,
      db: 'x.db',
    });
    expect(
      resolveCliSettings([], { MEM_MCP_USER_ID: 'bob', MEM_MCP_TRANSPORT: 'http', MEM_MCP_PORT: '9000', MEM_MCP_AGENT_ID: '' }),
    ).toMatchObject({
      transport: 'http',
      scope: { userId: 'bob' },
      port: 9000,
    });
    expect(resolveCliSettings(['--help'], {})).toEqual({ command: 'help' });
    // `pnpm start -- --user-id alice` passes the separator on.
    expect(resolveCliSettings(['--', '--user-id', 'alice'], {})).toMatchObject({ command: 'serve', scope: { userId: 'alice' } });
  });

  it('maps MEM_MCP_TOKEN to the instance user and each tokens-file entry to its scope', () => {
    const file = JSON.stringify({ 'token-of-bob-0123456789': 'bob', 'token-of-carol-0123456789': { userId: 'carol', agentId: 'cursor' } });
    const settings = resolveCliSettings(
      ['--transport', 'http', '--user-id', 'alice', '--tokens-file', 'tokens.json'],
      { MEM_MCP_TOKEN: TOKEN },
      () => file,
    );
    expect(settings).toMatchObject({ command: 'serve', transport: 'http' });
    if (settings.command !== 'serve') throw new Error('expected serve');
    // With tokens, every request's scope is its token's: no instance scope is left to fall back to.
    expect(settings.scope).toBeUndefined();
    expect([...settings.tokens.values()]).toEqual([{ userId: 'alice' }, { userId: 'bob' }, { userId: 'carol', agentId: 'cursor' }]);
  });

  it('names the flag and its variable for every missing or bad setting, and never a token', () => {
    expect(failure(() => resolveCliSettings([], {})).message).toBe(
      'Missing setting --user-id (MEM_MCP_USER_ID). Say whose memories this server serves, e.g. mem-mcp --user-id alice.',
    );
    expect(failure(() => resolveCliSettings(['--transport', 'http'], {})).message).toMatch(
      /^Missing setting --user-id \(MEM_MCP_USER_ID\) or --tokens-file/,
    );
    expect(failure(() => resolveCliSettings(['--agent-id', 'cursor'], {})).message).toMatch(/^Missing setting --user-id/);
    expect(failure(() => resolveCliSettings(['--transport', 'sse', '--user-id', 'a'], {})).message).toMatch(
      /^Invalid --transport \(MEM_MCP_TRANSPORT\): expected stdio or http/,
    );
    expect(failure(() => resolveCliSettings(['--port', 'http', '--user-id', 'a'], {})).message).toMatch(/^Invalid --port \(MEM_MCP_PORT\)/);
    expect(failure(() => resolveCliSettings(['--port', '70000', '--user-id', 'a'], {})).message).toMatch(/^Invalid --port/);
    expect(failure(() => resolveCliSettings(['--usr-id', 'a'], {})).message).toMatch(/^Invalid command line: Unknown option '--usr-id'/);
    expect(failure(() => resolveCliSettings(['--transport', 'http'], { MEM_MCP_TOKEN: TOKEN })).message).toMatch(
      /^Missing setting --user-id.*MEM_MCP_TOKEN/,
    );
    expect(failure(() => resolveCliSettings(['--user-id', 'a'], { MEM_MCP_TOKEN: TOKEN })).message).toMatch(
      /tokens apply to the HTTP transport only/,
    );
    expect(failure(() => resolveCliSettings(['--transport', 'http', '--tokens-file', 'missing.json'], {}, noFile)).message).toMatch(
      /^Invalid --tokens-file \(MEM_MCP_TOKENS_FILE\): names a file that does not exist/,
    );
    const bad = [
      () => resolveCliSettings(['--transport', 'http', '--tokens-file', 't.json'], {}, () => `{"${TOKEN}": {"agentId": "x"}}`),
      () => resolveCliSettings(['--transport', 'http', '--tokens-file', 't.json'], {}, () => `{"${TOKEN}": 42}`),
      () => resolveCliSettings(['--transport', 'http', '--tokens-file', 't.json'], {}, () => `{"${TOKEN}": "alice"`),
      () =>
        resolveCliSettings(
          ['--transport', 'http', '--user-id', 'a', '--tokens-file', 't.json'],
          { MEM_MCP_TOKEN: TOKEN },
          () => `{"${TOKEN}": "b"}`,
        ),
    ];
    for (const run of bad) {
      const error = failure(run);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain('--tokens-file (MEM_MCP_TOKENS_FILE)');
      expect(error.message).not.toContain(TOKEN);
    }
  });
});

describe('createMemoryFromEnvironment (the shared @mem/config)', () => {
  it('needs no setting: SQLite file, no LLM (infer off), the offline lexical embedder', async () => {
    const { memory, infer, description } = await createMemoryFromEnvironment({}, { db: ':memory:' });
    try {
      expect(infer).toBe(false);
      expect(description).toMatch(/^llm none, embedder lexical\/.*, vector sqlite, history sqlite \(:memory:\)$/);
      await memory.add('Likes tea', { scope: { userId: 'alice' }, infer: false });
      expect((await memory.search('tea', { scope: { userId: 'alice' } })).results.map((result) => result.text)).toEqual(['Likes tea']);
    } finally {
      await memory.close();
    }
  });

  it('reads MEM_DB from the given environment, and --db wins over it', async () => {
    const fromEnvironment = await createMemoryFromEnvironment({ MEM_DB: ':memory:', MEM_LLM: 'none' });
    const overridden = await createMemoryFromEnvironment({ MEM_DB: '/nonexistent/dir/mem.db' }, { db: ':memory:' });
    try {
      expect(fromEnvironment.description).toMatch(/\(:memory:\)$/);
      expect(overridden.description).toMatch(/\(:memory:\)$/);
    } finally {
      await Promise.all([fromEnvironment.memory.close(), overridden.memory.close()]);
    }
  });
});
