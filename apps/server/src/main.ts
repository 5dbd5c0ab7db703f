#!/usr/bin/env node
import { MemError } from '@mem/core';
import { handleSignals, startServer } from './start';

// `pnpm --filter @mem/server start`: configuration from the environment (see README). Relative paths
// (./mem.db, ./mem-keys.json) mean the directory the command was typed in, not the package's.
if (process.env.npm_lifecycle_event && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
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
