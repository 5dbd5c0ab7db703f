#!/usr/bin/env node
import { MemError } from '@mem/core';
import { handleSignals, startServer } from './start';

// `npm run server` (or `pnpm --filter @mem/server start`): configuration from the environment (see README). Relative paths
// (./mem.db, ./mem-keys.json) mean the directory the command was typed in, not the package's.
if (process.env.npm_lifecycle_event && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

// The server takes its settings from MEM_* variables and MEM_CONFIG only. An argument such as
// `npm run server -- --port 9000` would otherwise be ignored and the server start on 8420.
const args = process.argv[2] === '--' ? process.argv.slice(3) : process.argv.slice(2);
const HELP = `mem server: the REST API and the memory browser. It takes no arguments: settings come from
MEM_* variables or a MEM_CONFIG file (apps/server/README.md, Configuration), e.g.
  MEM_PORT=9000 npm run server
or start it from the CLI with options: npm run mem -- serve --port 9000 --host 127.0.0.1
`;
if (args.length > 0) {
  const help = args.length === 1 && (args[0] === '--help' || args[0] === '-h');
  if (!help) process.stderr.write(`mem server: unexpected argument ${JSON.stringify(args[0])}.\n`);
  (help ? process.stdout : process.stderr).write(HELP);
  process.exit(help ? 0 : 2);
}

startServer().then(
  ({ server, url }) => {
    process.stderr.write(`\nmem is listening. Memory browser: ${url}/ (sign in with an API key). API page: ${url}/docs\n\n`);
    handleSignals(server);
  },
  (error: unknown) => {
    process.stderr.write(
      `mem server failed to start: ${MemError.is(error) ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
    );
    process.exit(1);
  },
);
