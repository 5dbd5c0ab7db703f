import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { nonEmptySetting, type Environment } from '@mem/core/adapter';
import { InvalidInputError, MissingSettingError, type Scope } from '@mem/core';
import { DEFAULT_HTTP_PORT } from './http-server';
import { checkUserScope } from './mcp-server';

/** What `mem-mcp` runs, resolved from its flags, then its environment variables. */
export type CliSettings =
  | { readonly command: 'help' | 'version' }
  | {
      readonly command: 'serve';
      readonly transport: 'stdio' | 'http';
      /** The instance's scope (`--user-id`, `--agent-id`); absent over HTTP with a tokens file. */
      readonly scope?: Scope;
      /** Bearer token → scope (HTTP only). */
      readonly tokens: ReadonlyMap<string, Scope>;
      readonly host: string;
      readonly port: number;
      /** The SQLite file, when `--db` is given (else `MEM_DB`, the config file, or `./mem.db`). */
      readonly db?: string;
      /** The config file, when `--config` is given (else `MEM_CONFIG`). */
      readonly config?: string;
    };

/** `mem-mcp --help`. */
export const USAGE = `Usage: mem-mcp [options]

Serves mem's memory tools (add_memory, search_memories, list_memories, get_memory,
update_memory, delete_memory) to an MCP client, over stdio (default) or Streamable HTTP.

Options (each falls back to the environment variable shown):
  --user-id <id>        whose memories this server serves          MEM_MCP_USER_ID
  --agent-id <id>       narrow to one agent's memories             MEM_MCP_AGENT_ID
  --transport <t>       stdio | http (default stdio)               MEM_MCP_TRANSPORT
  --port <n>            HTTP port (default ${DEFAULT_HTTP_PORT}; 0 = any free)    MEM_MCP_PORT
  --host <addr>         HTTP address (default 127.0.0.1)           MEM_MCP_HOST
  --tokens-file <path>  HTTP bearer tokens, JSON {"<token>": "<userId>" | {"userId", "agentId"}}
                                                                   MEM_MCP_TOKENS_FILE
                        one token for --user-id                    MEM_MCP_TOKEN
  --db <path>           SQLite file (default ./mem.db)             MEM_DB
  --config <path>       JSON or YAML config (stores, LLM, embedder) MEM_CONFIG
  --help, --version

Providers: ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_BASE_URL (fact extraction and embeddings);
MEM_LLM_MODEL, MEM_EMBEDDING_MODEL and the rest of the shared mem configuration (apps/server).
With none, text is stored as given and embedded offline (lexical, not semantic).
`;

/**
 * Resolves the command line, then the environment. Reads the tokens file when one is named.
 *
 * @param argv - the arguments after the script name
 * @param environment - the variables to read (`process.env` in the CLI)
 * @throws {InvalidInputError | MissingSettingError} naming the flag and its variable.
 */
export function resolveCliSettings(
  argv: readonly string[],
  environment: Environment,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): CliSettings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      // `pnpm start -- --flag` passes the separator through.
      args: argv[0] === '--' ? argv.slice(1) : [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'user-id': { type: 'string' },
        'agent-id': { type: 'string' },
        transport: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'tokens-file': { type: 'string' },
        db: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (error) {
    // parseArgs names the flag in its message, e.g. "Unknown option '--usr-id'".
    const problem = error instanceof Error ? error.message.replace(/\.\s.*$/s, '') : 'cannot be parsed';
    throw new InvalidInputError('command line', problem, 'Run mem-mcp --help for the options.');
  }
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const setting = (flag: string, variable: string): string | undefined =>
    nonEmptySetting(values[flag] as string | undefined) ?? nonEmptySetting(environment[variable]);

  const transport = setting('transport', 'MEM_MCP_TRANSPORT') ?? 'stdio';
  if (transport !== 'stdio' && transport !== 'http') {
    throw new InvalidInputError(
      '--transport (MEM_MCP_TRANSPORT)',
      'expected stdio or http',
      'Pass --transport http for Streamable HTTP; leave it out for stdio.',
    );
  }
  const userId = setting('user-id', 'MEM_MCP_USER_ID');
  const agentId = setting('agent-id', 'MEM_MCP_AGENT_ID');
  if (agentId !== undefined && userId === undefined) {
    throw new MissingSettingError('--user-id (MEM_MCP_USER_ID)', "--agent-id narrows a user's memories to one agent: give the user too.");
  }
  const scope =
    userId === undefined ? undefined : checkUserScope({ userId, ...(agentId === undefined ? {} : { agentId }) }, '--user-id/--agent-id');

  const portText = setting('port', 'MEM_MCP_PORT');
  const port = portText === undefined ? DEFAULT_HTTP_PORT : Number(portText);
  if (!/^\d+$/.test(portText ?? '0') || !Number.isInteger(port) || port > 65_535) {
    throw new InvalidInputError('--port (MEM_MCP_PORT)', 'expected an integer from 0 to 65535', `Pass e.g. --port ${DEFAULT_HTTP_PORT}.`);
  }
  const host = setting('host', 'MEM_MCP_HOST') ?? '127.0.0.1';

  const tokens = new Map<string, Scope>();
  const singleToken = nonEmptySetting(environment.MEM_MCP_TOKEN);
  if (singleToken !== undefined) {
    if (!scope)
      throw new MissingSettingError('--user-id (MEM_MCP_USER_ID)', "MEM_MCP_TOKEN grants access to one user's memories: say whose.");
    tokens.set(singleToken, scope);
  }
  const tokensFile = setting('tokens-file', 'MEM_MCP_TOKENS_FILE');
  if (tokensFile !== undefined) {
    for (const [token, tokenScope] of readTokensFile(tokensFile, readFile)) {
      if (tokens.has(token))
        throw new InvalidInputError(
          '--tokens-file (MEM_MCP_TOKENS_FILE)',
          'a token is listed twice (or equals MEM_MCP_TOKEN)',
          'Give every client its own token.',
        );
      tokens.set(token, tokenScope);
    }
  }
  if (transport === 'stdio') {
    if (!scope)
      throw new MissingSettingError('--user-id (MEM_MCP_USER_ID)', 'Say whose memories this server serves, e.g. mem-mcp --user-id alice.');
    if (tokens.size > 0)
      throw new InvalidInputError(
        'MEM_MCP_TOKEN / --tokens-file',
        'tokens apply to the HTTP transport only',
        'Pass --transport http, or remove the tokens.',
      );
  } else if (!scope && tokens.size === 0) {
    throw new MissingSettingError(
      '--user-id (MEM_MCP_USER_ID) or --tokens-file (MEM_MCP_TOKENS_FILE)',
      'Say whose memories this server serves, or which token serves whom.',
    );
  }
  const db = nonEmptySetting(values.db as string | undefined);
  const config = nonEmptySetting(values.config as string | undefined);
  return {
    command: 'serve',
    transport,
    // With tokens, each request's scope is its token's; the instance scope only named MEM_MCP_TOKEN's user.
    ...(scope && tokens.size === 0 ? { scope } : {}),
    tokens,
    host,
    port,
    ...(db === undefined ? {} : { db }),
    ...(config === undefined ? {} : { config }),
  };
}

function readTokensFile(path: string, readFile: (path: string) => string): Map<string, Scope> {
  const setting = '--tokens-file (MEM_MCP_TOKENS_FILE)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFile(path));
  } catch (error) {
    const problem = (error as { code?: string }).code === 'ENOENT' ? 'names a file that does not exist' : 'is not a readable JSON file';
    throw new InvalidInputError(
      setting,
      problem,
      'Write JSON such as {"<token>": "alice", "<token 2>": {"userId": "bob", "agentId": "cursor"}}.',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new InvalidInputError(setting, 'expected a non-empty JSON object of token → user', 'Write JSON such as {"<token>": "alice"}.');
  }
  const tokens = new Map<string, Scope>();
  Object.entries(parsed).forEach(([token, value], index) => {
    // Entries are named by position: a token never appears in a message.
    const scope = typeof value === 'string' ? { userId: value } : value;
    tokens.set(token, checkUserScope(scope, `${setting} entry ${index + 1}`));
  });
  return tokens;
}
