import { createRequire } from 'node:module';
import { validateScope } from '@mem/core/adapter';
import { InvalidInputError, MemError, type Memory, type Scope } from '@mem/core';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { invalidArguments, toToolError } from './tool-errors';
import { MEM_TOOLS, SERVER_INSTRUCTIONS, type MemTool } from './tools';

/** Options of {@link createMemMcpServer}. */
export interface MemMcpServerOptions {
  /** The memory every tool call reads and writes. The server never closes it. */
  readonly memory: Memory;
  /**
   * Whose memories this server sees, e.g. `{ userId: 'alice' }` or `{ userId: 'alice', agentId: 'cursor' }`.
   * A `userId` is required. Tools take no scope argument, so the model cannot reach another user's memories.
   */
  readonly scope: Scope;
  /** Whether `add_memory` extracts facts with the LLM when the call leaves `infer` out. Pass `true` only with an LLM. @default false */
  readonly inferByDefault?: boolean;
  /**
   * Called when a tool fails with an error that is not a `MemError` (a bug or a store failure); the
   * model only sees a generic `INTERNAL` tool error. Gets the tool name and the error.
   * @default ignore
   */
  readonly onUnexpectedError?: (tool: string, error: unknown) => void;
  /** Called with every tool call as it starts; the promise settles when it ends (never rejects). For graceful shutdown. */
  readonly onCall?: (call: Promise<unknown>) => void;
}

const packageJson = createRequire(import.meta.url)('../package.json') as { version: string };

/** The name and version the server reports to clients on `initialize`. */
export const SERVER_INFO = { name: 'mem', title: 'mem: long-term memory', version: packageJson.version } as const;

// Draft-07 is what the SDK's own McpServer emits and its client's validator reads.
const TOOL_DEFINITIONS: Tool[] = MEM_TOOLS.map((tool) => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: jsonSchema(tool.inputSchema, 'input') as Tool['inputSchema'],
  outputSchema: jsonSchema(tool.outputSchema, 'output') as NonNullable<Tool['outputSchema']>,
  annotations: { title: tool.title, ...tool.annotations },
}));

function jsonSchema(schema: z.ZodObject, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io });
  return rest;
}

const TOOLS_BY_NAME = new Map<string, MemTool>(MEM_TOOLS.map((tool) => [tool.name, tool]));

/**
 * Builds an MCP server (the SDK's low-level `Server`) exposing mem's six tools for one scope:
 * `add_memory`, `search_memories`, `list_memories`, `get_memory`, `update_memory`, `delete_memory`.
 * Connect it to a transport (`StdioServerTransport`, `StreamableHTTPServerTransport`) with
 * `server.connect(transport)`. Every failure is a tool error (`isError`, text `CODE: message`).
 *
 * @throws {InvalidInputError} when `scope` is invalid or has no `userId`.
 * @example
 * const server = createMemMcpServer({ memory, scope: { userId: 'alice' } });
 * await server.connect(new StdioServerTransport());
 */
export function createMemMcpServer(options: MemMcpServerOptions): Server {
  const scope = checkUserScope(options.scope, 'scope');
  const server = new Server(SERVER_INFO, { capabilities: { tools: {} }, instructions: SERVER_INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOL_DEFINITIONS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = TOOLS_BY_NAME.get(request.params.name);
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool. Available: ${MEM_TOOLS.map((each) => each.name).join(', ')}.`);
    }
    const parsed = tool.inputSchema.safeParse(request.params.arguments ?? {});
    if (!parsed.success) return toToolError(invalidArguments(parsed.error));
    const call = (async (): Promise<CallToolResult> => {
      try {
        const output = await tool.run(parsed.data, {
          memory: options.memory,
          scope,
          inferByDefault: options.inferByDefault ?? false,
          signal: extra.signal,
        });
        return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
      } catch (error) {
        if (!MemError.is(error)) options.onUnexpectedError?.(tool.name, error);
        return toToolError(error);
      }
    })();
    options.onCall?.(call);
    return call;
  });
  return server;
}

/**
 * Validates a scope the configuration gives (never the model): a valid core scope with a `userId`.
 * @throws {InvalidInputError} naming `field`.
 */
export function checkUserScope(input: unknown, field: string): Scope {
  const scope = validateScope(input, field);
  if (scope.userId === undefined) {
    throw new InvalidInputError(`${field}.userId`, 'is missing', 'Memories are kept per user: set a userId (e.g. --user-id alice).');
  }
  return scope;
}
