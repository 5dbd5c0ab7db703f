import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CATEGORIES_KEY, EXPIRES_AT_KEY, MEMORY_TYPE_KEY, hashText, uuidv7, validateScope } from '@mem/core/adapter';
import {
  INPUT_LIMITS,
  InvalidInputError,
  MemError,
  type CategoryDefinition,
  type ChatContentPart,
  type ChatMessage,
  type FilterInput,
  type MemoryType,
  type MemoryItem,
  type MemoryRecord,
  type Metadata,
  type Scope,
} from '@mem/core';
import { createMemoryFromConfig, loadConfig, type ConfiguredMemory } from '@mem/config';
import { ApiKeyStore, DEFAULT_KEYS_FILE, ERROR_CODES, handleSignals, startServer, type Allowed } from '@mem/server';
import { detectFormat, parseJsonl, parseLocomo, type ImportItem } from './import-formats';
import { progressBar, shortDate, table, truncate, type CliIo } from './output';

/** Exit codes scripts can rely on. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** A runtime or provider failure (a store or API failed, an import line failed). */
  RUNTIME: 1,
  /** Bad usage or invalid input: unknown command or option, a value core rejects. */
  USAGE: 2,
  /** The memory (or key) does not exist in the scope. */
  NOT_FOUND: 3,
} as const;

/** A usage error: exit code 2 with the message and a hint to `--help`. */
class UsageError extends Error {}
/** Nothing found: exit code 3. */
class NotFound extends Error {}

const VERSION = '0.0.0';

const GLOBAL_OPTIONS = {
  db: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  user: { type: 'string', short: 'u' },
  agent: { type: 'string', short: 'a' },
  run: { type: 'string', short: 'r' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const COMMAND_OPTIONS = {
  add: {
    metadata: { type: 'string' },
    infer: { type: 'boolean' },
    'no-infer': { type: 'boolean' },
    'occurred-at': { type: 'string' },
    'expires-at': { type: 'string' },
    prompt: { type: 'string' },
    'idempotency-key': { type: 'string' },
    messages: { type: 'boolean' },
    'memory-type': { type: 'string' },
    categories: { type: 'string' },
    image: { type: 'string', multiple: true },
  },
  search: {
    limit: { type: 'string', short: 'n' },
    filter: { type: 'string' },
    threshold: { type: 'string' },
    'no-keyword': { type: 'boolean' },
    'include-expired': { type: 'boolean' },
    rerank: { type: 'boolean' },
  },
  list: {
    filter: { type: 'string' },
    'page-size': { type: 'string' },
    cursor: { type: 'string' },
    all: { type: 'boolean' },
    'include-expired': { type: 'boolean' },
  },
  get: {},
  history: {},
  delete: { all: { type: 'boolean' }, filter: { type: 'string' }, expired: { type: 'boolean' } },
  import: { format: { type: 'string' }, infer: { type: 'boolean' }, 'no-infer': { type: 'boolean' }, 'stop-on-error': { type: 'boolean' } },
  export: { filter: { type: 'string' }, output: { type: 'string', short: 'o' } },
  serve: { host: { type: 'string' }, port: { type: 'string' }, 'read-workers': { type: 'string' } },
  keys: {
    'keys-file': { type: 'string' },
    id: { type: 'string' },
    'user-id': { type: 'string', multiple: true },
    'agent-id': { type: 'string', multiple: true },
    'run-id': { type: 'string', multiple: true },
    admin: { type: 'boolean' },
  },
} as const satisfies Record<string, ParseArgsConfig['options']>;

type Command = keyof typeof COMMAND_OPTIONS;

const USAGE = `mem — long-term memory from the terminal

Usage: mem <command> [arguments] [options]

Commands:
  add <text…> | -           Remember a message (- reads standard input; --messages: a JSON array of
                            chat messages, e.g. an agent's run for --memory-type procedural)
  search <query…>           Find the most relevant memories
  list                      List memories (--all for every page)
  get <id>                  Show one memory
  history <id>              Show the change log of a memory
  delete <id> | --all       Delete one memory, or every one in the scope (--filter to narrow; --expired: the expired ones)
  import <file>             Import JSONL (messages or a mem export) or LOCOMO conversations;
                            --user/--agent/--run re-scope every line (mem export of bob, then
                            mem import --user carol, gives carol copies with new ids)
  export                    Write the scope's memories as JSONL (stdout, or -o file)
  serve                     Start the REST server (see apps/server/README.md)
  keys create|list|revoke   Manage the API keys of the keys file (hashes only)

Scope (every data command needs at least one):
  -u, --user <id>   -a, --agent <id>   -r, --run <id>

Options:
  --db <path>        SQLite file of the embedded stores (default: MEM_DB, else ./mem.db)
  --config <file>    JSON or YAML configuration (default: MEM_CONFIG)
  --json             Machine-readable output
  -h, --help         Help for a command: mem <command> --help

Command options:
  add      --metadata <json>  --infer | --no-infer  --occurred-at <date>  --expires-at <date>  --prompt <text>
           --messages  --memory-type semantic|procedural  --categories <json>
           --idempotency-key <key>   (a retry with the same key and text prints the first result, writes nothing)
           --image <file.png|.jpg|.gif|.webp | https URL>… (read with MEM_IMAGES=describe and an LLM that sees images)
  search   -n, --limit <n>  --filter <json>  --threshold <-1..1>  --no-keyword  --include-expired  --rerank
  list     --filter <json>  --page-size <n>  --cursor <id>  --all  --include-expired
  delete   --all  --filter <json>  --expired
  import   --format auto|jsonl|locomo  --infer | --no-infer  --stop-on-error
  export   --filter <json>  -o, --output <file>
  serve    --host <address>  --port <port>  --read-workers <0-64> (searches in worker threads; 0: on the main thread)
  keys     --keys-file <file>  --id <id>  --user-id <id>…  --agent-id <id>…  --run-id <id>…  --admin

Exit codes: 0 ok, 1 runtime or provider error, 2 usage or invalid input, 3 not found.
Without an LLM configured (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENAI_BASE_URL or MEM_LLM), messages
are stored as given; with one, facts are extracted (infer). See apps/cli/README.md.
`;

/**
 * Runs one `mem` command. Never throws: failures are printed on stderr and returned as exit codes
 * ({@link EXIT}). `serve` resolves only when the server stops.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(USAGE);
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.OK;
  }
  if (!(first in COMMAND_OPTIONS)) {
    io.stderr.write(`mem: unknown command "${first}". Run ${typedAs(io.env)} --help.\n`);
    return EXIT.USAGE;
  }
  const command = first as Command;
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    io.stderr.write(`mem ${command}: ${(error as Error).message}. Run ${typedAs(io.env)} --help.\n`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    io.stdout.write(USAGE);
    return EXIT.OK;
  }
  const json = parsed.values.json === true;
  let configured: ConfiguredMemory | undefined;
  const context: Context = {
    io,
    json,
    values: parsed.values,
    positionals: parsed.positionals,
    scope: scopeOf(parsed.values),
    open: async () => {
      configured ??= await createMemoryFromConfig(
        loadConfig({
          env: io.env,
          ...(typeof parsed.values.config === 'string' ? { file: parsed.values.config } : {}),
          ...(typeof parsed.values.db === 'string' ? { overrides: { db: parsed.values.db } } : {}),
        }),
      );
      return configured;
    },
  };
  try {
    return await COMMANDS[command](context);
  } catch (error) {
    return report(error, io, json);
  } finally {
    await configured?.close();
  }
}

function report(error: unknown, io: CliIo, json: boolean): number {
  const documented = documentedError(error);
  const code =
    error instanceof UsageError
      ? EXIT.USAGE
      : error instanceof NotFound
        ? EXIT.NOT_FOUND
        : documented
          ? documented.exitCode
          : exitCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const memCode = MemError.is(error)
      ? error.code
      : error instanceof NotFound
        ? 'NOT_FOUND'
        : error instanceof UsageError
          ? 'USAGE'
          : (documented?.code ?? 'ERROR');
    const field = MemError.is(error) && 'field' in error ? error.field : documented?.field;
    io.stderr.write(`${JSON.stringify({ error: { code: memCode, message, ...(field ? { field } : {}) } })}\n`);
  } else {
    const userFacing = MemError.is(error) || error instanceof UsageError || error instanceof NotFound || documented !== undefined;
    io.stderr.write(`mem: ${userFacing ? message : `${(error as Error)?.name ?? 'Error'}: ${message}`}\n`);
  }
  return code;
}

/**
 * The errors `@mem/server`'s key store throws for the user's own mistakes (a key id that is taken, a
 * key that does not exist) carry an HTTP status and one of the server's documented codes; their
 * messages are written for people, so the CLI prints them as they are, like a MemError.
 */
function documentedError(error: unknown): { code: string; field?: string; exitCode: number } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, code, field } = error as { status?: unknown; code?: unknown; field?: unknown };
  if (typeof status !== 'number' || typeof code !== 'string' || !(ERROR_CODES as readonly string[]).includes(code)) return undefined;
  const exitCode = status === 404 ? EXIT.NOT_FOUND : status >= 400 && status < 500 ? EXIT.USAGE : EXIT.RUNTIME;
  return { code, exitCode, ...(typeof field === 'string' ? { field } : {}) };
}

/** The exit code of a failure: 2 for invalid input or settings (a reused idempotency key too), 3 for not found, else 1. */
export function exitCodeOf(error: unknown): number {
  if (
    MemError.is(error, 'INVALID_INPUT') ||
    MemError.is(error, 'MISSING_SETTING') ||
    MemError.is(error, 'UNSUPPORTED_CAPABILITY') ||
    MemError.is(error, 'IDEMPOTENCY_KEY_REUSED')
  )
    return EXIT.USAGE;
  if (MemError.is(error, 'NOT_FOUND')) return EXIT.NOT_FOUND;
  return EXIT.RUNTIME;
}

interface Context {
  readonly io: CliIo;
  readonly json: boolean;
  readonly values: Record<string, unknown>;
  readonly positionals: string[];
  readonly scope: Scope;
  open(): Promise<ConfiguredMemory>;
}

function scopeOf(values: Record<string, unknown>): Scope {
  return {
    ...(typeof values.user === 'string' ? { userId: values.user } : {}),
    ...(typeof values.agent === 'string' ? { agentId: values.agent } : {}),
    ...(typeof values.run === 'string' ? { runId: values.run } : {}),
  };
}

function jsonOption<T>(values: Record<string, unknown>, name: string): T | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new InvalidInputError(`--${name}`, 'is not valid JSON', `Quote it for the shell, e.g. --${name} '{"category":"food"}'.`);
  }
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** `--image` values as image parts: an http(s) URL as it is, a file read into a data URL. */
function imageParts(values: unknown): ChatContentPart[] {
  const list = Array.isArray(values) ? (values as string[]) : [];
  return list.map((value): ChatContentPart => {
    if (/^https?:\/\//i.test(value)) return { type: 'image_url', image_url: { url: value } };
    const type = IMAGE_TYPES[/\.([a-z]+)$/i.exec(value)?.[1]?.toLowerCase() ?? ''];
    if (!type) throw new UsageError(`--image ${value}: expected a .png, .jpg, .gif or .webp file, or an https URL.`);
    if (!existsSync(value)) throw new UsageError(`--image ${value}: no such file.`);
    return { type: 'image_url', image_url: { url: `data:${type};base64,${readFileSync(value).toString('base64')}` } };
  });
}

function integerOption(
  values: Record<string, unknown>,
  name: string,
  range: { readonly min: number; readonly max: number; readonly example: number },
): number | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  const number = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(number) || number < range.min || number > range.max) {
    throw new InvalidInputError(
      `--${name}`,
      `expected an integer from ${range.min} to ${range.max}, got "${text}"`,
      `Pass e.g. --${name} ${range.example}.`,
    );
  }
  return number;
}

/** `--limit` and `--page-size`: what core accepts. */
const COUNT = { min: 1, max: INPUT_LIMITS.maxLimit, example: 20 } as const;

/** Quotes a value for a POSIX shell when it needs it, so a printed command can be pasted back. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The options of this run that choose what is listed (scope, filter, page size, database, config), as command-line words. */
/**
 * How the user started `mem`, for the commands it prints to paste: `npm run mem --` when started by
 * the repository root's `npm run mem -- …` (the README's form, where no `mem` is on the PATH),
 * else `mem` (the bin, or the alias the CLI README suggests).
 */
function typedAs(env: CliIo['env']): string {
  return env['npm_lifecycle_event'] === 'mem' ? 'npm run mem --' : 'mem';
}

function listingArguments(values: Record<string, unknown>): string {
  const words: string[] = [];
  for (const [option, flag] of [
    ['user', '--user'],
    ['agent', '--agent'],
    ['run', '--run'],
    ['filter', '--filter'],
    ['page-size', '--page-size'],
    ['db', '--db'],
    ['config', '--config'],
  ] as const) {
    const value = values[option];
    if (typeof value === 'string') words.push(flag, shellWord(value));
  }
  // The next page lists the same memories: expired ones too when this one did.
  if (values['include-expired'] === true) words.push('--include-expired');
  return words.join(' ');
}

function inferOption(values: Record<string, unknown>, configured: ConfiguredMemory): boolean {
  if (values.infer === true && values['no-infer'] === true) throw new UsageError('Pass --infer or --no-infer, not both.');
  if (values.infer === true) return true;
  if (values['no-infer'] === true) return false;
  return configured.llm !== undefined;
}

function oneId(context: Context, command: string): string {
  if (context.positionals.length !== 1) throw new UsageError(`mem ${command} takes one memory id, e.g. mem ${command} 0190… --user alice.`);
  return context.positionals[0]!;
}

function itemJson(item: MemoryItem) {
  return {
    id: item.id,
    text: item.text,
    hash: item.hash,
    metadata: item.metadata,
    scope: item.scope,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
    occurredAt: item.occurredAt.toISOString(),
    ...(item.expiresAt ? { expiresAt: item.expiresAt.toISOString() } : {}),
    ...(item.memoryType ? { memoryType: item.memoryType } : {}),
    ...(item.categories ? { categories: [...item.categories] } : {}),
  };
}

const width = (context: Context) => context.io.stdout.columns ?? 120;
const print = (context: Context, value: unknown) => context.io.stdout.write(`${JSON.stringify(value)}\n`);

const COMMANDS: Record<Command, (context: Context) => Promise<number>> = {
  async add(context) {
    let text = context.positionals.join(' ');
    if (text === '-') text = await context.io.readStdin();
    if (text.trim() === '') throw new UsageError('mem add needs the text to remember, e.g. mem add "I am vegetarian" --user alice.');
    const configured = await context.open();
    const occurredAt = context.values['occurred-at'];
    const expiresAt = context.values['expires-at'];
    const idempotencyKey = context.values['idempotency-key'];
    const metadata = jsonOption<Metadata>(context.values, 'metadata');
    const categories = jsonOption<CategoryDefinition[]>(context.values, 'categories');
    const memoryType = context.values['memory-type'];
    const images = imageParts(context.values.image);
    // --messages: the input is a JSON array of chat messages (core validates each one, content parts included).
    let messages: string | ChatMessage[] = images.length === 0 ? text : [{ role: 'user', content: [{ type: 'text', text }, ...images] }];
    if (context.values.messages === true) {
      if (images.length > 0)
        throw new UsageError(
          '--image cannot be combined with --messages: put the images in the messages as content parts, {"type":"image_url","image_url":{"url":"…"}}.',
        );
      try {
        messages = JSON.parse(text) as ChatMessage[];
      } catch {
        throw new InvalidInputError('messages', 'is not valid JSON', 'Pass a JSON array such as [{"role":"user","content":"…"}].');
      }
    }
    const procedural = memoryType === 'procedural';
    const result = await configured.memory.add(messages, {
      scope: context.scope,
      // A procedural memory is always written by the LLM: without one, core says so.
      infer:
        procedural && context.values.infer !== true && context.values['no-infer'] !== true ? true : inferOption(context.values, configured),
      ...(metadata ? { metadata } : {}),
      ...(typeof memoryType === 'string' ? { memoryType: memoryType as MemoryType } : {}),
      ...(categories ? { categories } : {}),
      ...(typeof occurredAt === 'string' ? { occurredAt } : {}),
      ...(typeof expiresAt === 'string' ? { expiresAt } : {}),
      ...(typeof context.values.prompt === 'string' ? { prompt: context.values.prompt } : {}),
      ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
    });
    if (context.json) {
      print(context, {
        events: result.events,
        memories: result.memories.map(itemJson),
        usage: result.usage,
        ...(result.notes ? { notes: result.notes } : {}),
      });
      return EXIT.OK;
    }
    for (const note of result.notes ?? []) context.io.stderr.write(`Note: ${note.message}\n`);
    if (result.events.length === 0) {
      context.io.stdout.write('Nothing to remember.\n');
    } else {
      context.io.stdout.write(
        table(
          ['EVENT', 'ID', 'TEXT'],
          result.events.map((event) => [event.kind, event.id, event.text]),
          width(context),
        ),
      );
    }
    return EXIT.OK;
  },

  async search(context) {
    const query = context.positionals.join(' ');
    if (query.trim() === '') throw new UsageError('mem search needs a query, e.g. mem search "what does alice eat?" --user alice.');
    const configured = await context.open();
    const limit = integerOption(context.values, 'limit', { ...COUNT, example: 10 });
    const filter = jsonOption<FilterInput>(context.values, 'filter');
    const threshold = typeof context.values.threshold === 'string' ? Number(context.values.threshold) : undefined;
    const response = await configured.memory.search(query, {
      scope: context.scope,
      ...(limit !== undefined ? { limit } : {}),
      ...(filter ? { filter } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(context.values['no-keyword'] === true ? { keyword: false } : {}),
      ...(context.values['include-expired'] === true ? { includeExpired: true } : {}),
      ...(context.values.rerank === true ? { rerank: true } : {}),
    });
    if (context.json) {
      print(context, {
        results: response.results.map((result) => ({
          ...itemJson(result),
          score: result.score,
          ...(result.rerankScore === undefined ? {} : { rerankScore: result.rerankScore }),
        })),
        usage: response.usage,
      });
    } else if (response.results.length === 0) {
      context.io.stdout.write('No memories found.\n');
    } else {
      context.io.stdout.write(
        table(
          ['SCORE', 'ID', 'OCCURRED', 'UPDATED', 'TEXT'],
          response.results.map((result) => [
            result.score.toFixed(3),
            result.id,
            shortDate(result.occurredAt),
            shortDate(result.updatedAt),
            result.text,
          ]),
          width(context),
        ),
      );
    }
    return EXIT.OK;
  },

  async list(context) {
    const configured = await context.open();
    const filter = jsonOption<FilterInput>(context.values, 'filter');
    const pageSize = integerOption(context.values, 'page-size', COUNT);
    let cursor = typeof context.values.cursor === 'string' ? context.values.cursor : undefined;
    const items: MemoryItem[] = [];
    let nextCursor: string | undefined;
    do {
      const page = await configured.memory.getAll({
        scope: context.scope,
        ...(filter ? { filter } : {}),
        ...(pageSize !== undefined ? { pageSize } : {}),
        ...(cursor ? { cursor } : {}),
        ...(context.values['include-expired'] === true ? { includeExpired: true } : {}),
      });
      items.push(...page.results);
      nextCursor = page.nextCursor;
      cursor = nextCursor;
    } while (context.values.all === true && nextCursor !== undefined);
    if (context.json) {
      print(context, { results: items.map(itemJson), ...(nextCursor ? { nextCursor } : {}) });
    } else if (items.length === 0) {
      context.io.stdout.write('No memories.\n');
    } else {
      context.io.stdout.write(
        table(
          ['ID', 'OCCURRED', 'UPDATED', 'TEXT'],
          items.map((item) => [item.id, shortDate(item.occurredAt), shortDate(item.updatedAt), item.text]),
          width(context),
        ),
      );
      if (nextCursor) {
        context.io.stdout.write(
          `More: ${typedAs(context.io.env)} list ${listingArguments(context.values)} --cursor ${nextCursor} (or --all)\n`,
        );
      }
    }
    return EXIT.OK;
  },

  async get(context) {
    const id = oneId(context, 'get');
    const configured = await context.open();
    const item = await configured.memory.get(id, { scope: context.scope });
    if (!item) throw new NotFound(`No memory with id "${id}" in this scope.`);
    if (context.json) {
      print(context, itemJson(item));
    } else {
      const rows: [string, string][] = [
        ['id', item.id],
        ['text', item.text],
        [
          'scope',
          Object.entries(item.scope)
            .map(([key, value]) => `${key}=${value}`)
            .join(' '),
        ],
        ['metadata', JSON.stringify(item.metadata)],
        ['created', shortDate(item.createdAt)],
        ['updated', shortDate(item.updatedAt)],
        ['occurred', shortDate(item.occurredAt)],
        ...(item.expiresAt ? [['expires', shortDate(item.expiresAt)] as [string, string]] : []),
      ];
      context.io.stdout.write(`${rows.map(([key, value]) => `${key.padEnd(9)}${value}`).join('\n')}\n`);
    }
    return EXIT.OK;
  },

  async history(context) {
    const id = oneId(context, 'history');
    const configured = await context.open();
    const events = await configured.memory.history(id, { scope: context.scope });
    if (events.length === 0) throw new NotFound(`No history for id "${id}" in this scope.`);
    if (context.json) {
      print(context, {
        results: events.map((event) => ({ ...event, validAt: event.validAt.toISOString(), createdAt: event.createdAt.toISOString() })),
      });
    } else {
      context.io.stdout.write(
        table(
          ['WHEN', 'EVENT', 'BY', 'CHANGE'],
          events.map((event) => [
            shortDate(event.validAt),
            event.kind,
            event.actor,
            event.kind === 'ADD'
              ? (event.text ?? '')
              : event.kind === 'DELETE'
                ? `${event.previousText ?? ''} → (deleted)`
                : `${event.previousText ?? ''} → ${event.text ?? ''}`,
          ]),
          width(context),
        ),
      );
    }
    return EXIT.OK;
  },

  async delete(context) {
    const configured = await context.open();
    if (context.values.expired === true) {
      if (context.positionals.length > 0 || context.values.all === true || context.values.filter !== undefined)
        throw new UsageError('mem delete --expired takes no id, --all or --filter: it deletes every expired memory of the scope.');
      const { deleted } = await configured.memory.purgeExpired({ scope: context.scope });
      if (context.json) print(context, { deleted });
      else
        context.io.stdout.write(`Deleted ${deleted} expired ${deleted === 1 ? 'memory' : 'memories'}.
`);
      return EXIT.OK;
    }
    if (context.values.all === true) {
      if (context.positionals.length > 0) throw new UsageError('mem delete --all takes no id.');
      const filter = jsonOption<FilterInput>(context.values, 'filter');
      const { deleted } = await configured.memory.deleteAll({ scope: context.scope, ...(filter ? { filter } : {}) });
      if (context.json) print(context, { deleted });
      else context.io.stdout.write(`Deleted ${deleted} ${deleted === 1 ? 'memory' : 'memories'}.\n`);
      return EXIT.OK;
    }
    if (context.values.filter !== undefined)
      throw new UsageError('--filter goes with --all: mem delete --all --filter \'{"category":"food"}\' --user alice.');
    const id = oneId(context, 'delete');
    const { deleted } = await configured.memory.delete(id, { scope: context.scope });
    if (!deleted) throw new NotFound(`No memory with id "${id}" in this scope.`);
    if (context.json) print(context, { deleted });
    else context.io.stdout.write(`Deleted ${id}.\n`);
    return EXIT.OK;
  },

  async import(context) {
    if (context.positionals.length !== 1)
      throw new UsageError('mem import takes one file, e.g. mem import conversations.jsonl --user alice.');
    const file = context.positionals[0]!;
    if (!existsSync(file)) throw new UsageError(`No file ${file}.`);
    const text = readFileSync(file, 'utf8');
    const format =
      typeof context.values.format === 'string' && context.values.format !== 'auto' ? context.values.format : detectFormat(text);
    if (format !== 'jsonl' && format !== 'locomo') throw new UsageError('--format is auto, jsonl or locomo.');
    const items = format === 'locomo' ? parseLocomo(text, context.scope) : parseJsonl(text, context.scope);
    const configured = await context.open();
    const infer = inferOption(context.values, configured);
    const counts = { ADD: 0, UPDATE: 0, DELETE: 0, NONE: 0 };
    const failures: { source: string; message: string }[] = [];
    let records = 0;
    const rescoped = items.filter((item) => item.rescoped).length;
    const bar = progressBar(context.io.stderr, items.length, format === 'locomo' ? 'sessions' : 'lines');
    try {
      for (const item of items) {
        try {
          if (item.kind === 'add') {
            const result = await configured.memory.add(item.messages, {
              scope: item.scope,
              infer,
              ...(item.metadata ? { metadata: item.metadata } : {}),
              ...(item.occurredAt !== undefined ? { occurredAt: item.occurredAt } : {}),
            });
            for (const event of result.events) counts[event.kind] += 1;
          } else {
            await importRecord(configured, item);
            records += 1;
          }
        } catch (error) {
          if (context.values['stop-on-error'] === true) throw error;
          failures.push({
            source: item.source,
            message: MemError.is(error) ? error.message : `${(error as Error).name}: ${(error as Error).message}`,
          });
        }
        bar.tick();
      }
    } finally {
      bar.done();
    }
    const summary = {
      format,
      items: items.length,
      events: counts,
      records,
      rescoped,
      failed: failures.length,
      failures: failures.slice(0, 20),
    };
    if (context.json) {
      print(context, summary);
    } else {
      context.io.stdout.write(
        `Imported ${items.length - failures.length} of ${items.length} ${format === 'locomo' ? 'sessions' : 'lines'} (${format}, infer ${infer ? 'on' : 'off'}): ` +
          `${counts.ADD} added, ${counts.UPDATE} updated, ${counts.DELETE} deleted, ${counts.NONE} unchanged${records ? `, ${records} records restored` : ''}.\n`,
      );
      if (rescoped > 0) {
        context.io.stdout.write(
          `${rescoped} ${rescoped === 1 ? 'line named' : 'lines named'} another scope and went to ${describeScope(context.scope)} as asked (exported memories among them are new memories there, with new ids; the originals are untouched).\n`,
        );
      }
      for (const failure of failures.slice(0, 20))
        context.io.stderr.write(`  failed ${failure.source}: ${truncate(failure.message, 200)}\n`);
      if (failures.length > 20) context.io.stderr.write(`  … and ${failures.length - 20} more\n`);
    }
    return failures.length > 0 ? EXIT.RUNTIME : EXIT.OK;
  },

  async export(context) {
    const configured = await context.open();
    const filter = jsonOption<FilterInput>(context.values, 'filter');
    const lines: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await configured.memory.getAll({
        scope: context.scope,
        pageSize: 1000,
        ...(filter ? { filter } : {}),
        ...(cursor ? { cursor } : {}),
        // An export is a backup: expired memories are still stored, so they go too (with their expiresAt).
        includeExpired: true,
      });
      for (const item of page.results) lines.push(JSON.stringify(itemJson(item)));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const text = lines.map((line) => `${line}\n`).join('');
    if (typeof context.values.output === 'string') {
      writeFileSync(context.values.output, text);
      context.io.stderr.write(`Exported ${lines.length} ${lines.length === 1 ? 'memory' : 'memories'} to ${context.values.output}.\n`);
    } else {
      context.io.stdout.write(text);
    }
    return EXIT.OK;
  },

  async serve(context) {
    const port = integerOption(context.values, 'port', { min: 0, max: 65_535, example: 8420 });
    const readWorkers = integerOption(context.values, 'read-workers', { min: 0, max: 64, example: 2 });
    const started = await startServer({
      env: context.io.env,
      overrides: {
        ...(typeof context.values.db === 'string' ? { db: context.values.db } : {}),
        server: {
          ...(typeof context.values.host === 'string' ? { host: context.values.host } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(readWorkers !== undefined ? { readWorkers } : {}),
        },
      },
    });
    // Runs until SIGTERM or SIGINT; the process exits from the signal handler.
    return new Promise<number>((resolve) => handleSignals(started.server, resolve));
  },

  async keys(context) {
    const [action, ...rest] = context.positionals;
    const file =
      typeof context.values['keys-file'] === 'string'
        ? context.values['keys-file']
        : (context.io.env['MEM_KEYS_FILE'] ?? DEFAULT_KEYS_FILE);
    const store = ApiKeyStore.load({ file });
    const allowed = (name: string): Allowed => {
      const values = context.values[name] as string[] | undefined;
      return values === undefined || values.includes('*') ? '*' : values;
    };
    if (action === 'create') {
      if (typeof context.values.id !== 'string')
        throw new UsageError('mem keys create needs --id, e.g. mem keys create --id alice-app --user-id alice.');
      if (context.values['user-id'] === undefined && context.values.admin !== true) {
        throw new UsageError('Bind the key to users with --user-id <id> (repeatable), or pass --user-id "*" to allow every user.');
      }
      const created = await store.create({
        id: context.values.id,
        userIds: allowed('user-id'),
        agentIds: allowed('agent-id'),
        runIds: allowed('run-id'),
        admin: context.values.admin === true,
      });
      if (context.json) print(context, { key: created.key, id: created.info.id, file });
      else context.io.stdout.write(`Created key "${created.info.id}" in ${file}. It is shown only now:\n\n  ${created.key}\n\n`);
      return EXIT.OK;
    }
    if (action === 'list') {
      const keys = store.list();
      if (context.json) {
        print(context, { keys: keys.map(({ hash: _hash, ...key }) => ({ ...key, createdAt: key.createdAt.toISOString() })) });
      } else {
        const show = (value: Allowed) => (value === '*' ? '*' : value.join(','));
        context.io.stdout.write(
          table(
            ['ID', 'ADMIN', 'USERS', 'AGENTS', 'RUNS'],
            keys.map((key) => [key.id, key.admin ? 'yes' : 'no', show(key.userIds), show(key.agentIds), show(key.runIds)]),
            width(context),
          ),
        );
      }
      return EXIT.OK;
    }
    if (action === 'revoke') {
      if (rest.length !== 1) throw new UsageError('mem keys revoke takes one key id.');
      try {
        await store.revoke(rest[0]!);
      } catch (error) {
        if ((error as { status?: number }).status === 404) throw new NotFound(`No key with id "${rest[0]}" in ${file}.`);
        throw error;
      }
      if (context.json) print(context, { revoked: rest[0] });
      else context.io.stdout.write(`Revoked "${rest[0]}". Restart running servers to drop it there too.\n`);
      return EXIT.OK;
    }
    throw new UsageError('mem keys create|list|revoke');
  },
};

/** `user carol, agent support` */
function describeScope(scope: Scope): string {
  return [
    scope.userId !== undefined ? `user ${scope.userId}` : undefined,
    scope.agentId !== undefined ? `agent ${scope.agentId}` : undefined,
    scope.runId !== undefined ? `run ${scope.runId}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}

/**
 * Re-embeds an exported memory and stores it with its id and dates, or, re-scoped, as a new memory
 * (new id): the original may live in this very store, and keeping its id would move it.
 */
async function importRecord(configured: ConfiguredMemory, item: Extract<ImportItem, { kind: 'record' }>): Promise<void> {
  // importRecords stores records as given, so check what a hand-edited export could get wrong.
  const scope = validateScope(item.scope, `${item.source}.scope`);
  if (item.text.trim() === '') throw new InvalidInputError(`${item.source}.text`, 'is empty', 'Every memory needs a text.');
  if (typeof item.metadata !== 'object' || item.metadata === null || Array.isArray(item.metadata)) {
    throw new InvalidInputError(`${item.source}.metadata`, 'is not an object', 'Write metadata as a JSON object.');
  }
  const { vectors } = await configured.embedder.embed({ texts: [item.text], purpose: 'document' });
  const date = (value: string, field: string) => {
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime()))
      throw new InvalidInputError(`${item.source}.${field}`, 'is not a date', 'Use ISO 8601 dates as mem export writes them.');
    return parsed;
  };
  const record: MemoryRecord = {
    id: item.rescoped ? uuidv7() : item.id,
    vector: vectors[0]!,
    text: item.text,
    hash: hashText(item.text),
    scope,
    metadata: {
      ...item.metadata,
      ...(item.expiresAt === undefined ? {} : { [EXPIRES_AT_KEY]: date(item.expiresAt, 'expiresAt').getTime() }),
      // Core checks both (importRecords): a type other than procedural, or bad names, name the line.
      ...(item.memoryType === undefined || item.memoryType === 'semantic' ? {} : { [MEMORY_TYPE_KEY]: item.memoryType }),
      ...(item.categories === undefined ? {} : { [CATEGORIES_KEY]: item.categories }),
    },
    createdAt: date(item.createdAt, 'createdAt'),
    updatedAt: date(item.updatedAt, 'updatedAt'),
    occurredAt: date(item.occurredAt, 'occurredAt'),
  };
  await configured.memory.importRecords([record]);
}
