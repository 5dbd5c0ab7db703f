#!/usr/bin/env node
import { MemError } from '@mem/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { resolveCliSettings, USAGE } from './cli-settings';
import { createMemoryFromEnvironment } from './config';
import { startMemHttpServer } from './http-server';
import { SERVER_INFO, createMemMcpServer } from './mcp-server';

// stdout carries the protocol over stdio, so everything human-readable goes to stderr.
function log(line: string): void {
  process.stderr.write(`mem-mcp: ${line}\n`);
}

// Names the tool and the error class only: messages of unexpected errors may quote data.
function logUnexpected(tool: string, error: unknown): void {
  log(`${tool} failed unexpectedly (${error instanceof Error ? error.name : typeof error}).`);
}

async function main(): Promise<void> {
  // Started as a package script (`npm run mcp`, `pnpm --filter @mem/mcp start`), relative paths such as
  // ./mem.db mean the directory the command was typed in, as for the REST server and the CLI.
  if (process.env.npm_lifecycle_event && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  const settings = resolveCliSettings(process.argv.slice(2), process.env);
  if (settings.command !== 'serve') {
    process.stdout.write(settings.command === 'help' ? USAGE : `${SERVER_INFO.version}\n`);
    return;
  }

  const { memory, infer, description } = await createMemoryFromEnvironment(process.env, {
    ...(settings.db === undefined ? {} : { db: settings.db }),
    ...(settings.config === undefined ? {} : { file: settings.config }),
  });
  let stop: () => Promise<void>;
  if (settings.transport === 'stdio') {
    const calls = new Set<Promise<unknown>>();
    const server = createMemMcpServer({
      memory,
      scope: settings.scope!,
      inferByDefault: infer,
      onUnexpectedError: logUnexpected,
      onCall: (call) => {
        calls.add(call);
        void call.finally(() => calls.delete(call));
      },
    });
    const transport = new StdioServerTransport();
    await server.connect(transport);
    log(`serving user ${settings.scope!.userId} over stdio; ${description}`);
    stop = async () => {
      await Promise.allSettled([...calls]);
      await server.close();
    };
    // The client closing our stdin is the normal end of a stdio session.
    process.stdin.on('end', () => void shutdown());
  } else {
    const http = await startMemHttpServer({
      memory,
      ...(settings.tokens.size > 0 ? { tokens: settings.tokens } : { scope: settings.scope! }),
      host: settings.host,
      port: settings.port,
      inferByDefault: infer,
      onUnexpectedError: logUnexpected,
    });
    const who = settings.tokens.size > 0 ? `${settings.tokens.size} bearer token(s)` : `user ${settings.scope!.userId}, no authentication`;
    log(`listening on ${http.url} (${who}); ${description}`);
    stop = () => http.close();
  }

  let stopping = false;
  async function shutdown(): Promise<void> {
    if (stopping) return;
    stopping = true;
    // Finish in-flight calls (writes included) before closing the database.
    await stop();
    await memory.close();
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  if (MemError.is(error)) {
    log(`${error.code}: ${error.message}`);
    process.exit(2);
  }
  // System errors (a port in use, an unwritable database path) name what to fix; others may quote data.
  const systemError = error instanceof Error && 'syscall' in error;
  log(`failed to start: ${systemError ? error.message : error instanceof Error ? error.name : typeof error}.`);
  process.exit(1);
});
