#!/usr/bin/env node
import { MemError } from '@mem/core';
import { handleSignals, startServer } from './start';

// `pnpm --filter @mem/server start`: configuration from the environment (see README).
startServer().then(
  ({ server }) => handleSignals(server),
  (error: unknown) => {
    process.stderr.write(`mem server failed to start: ${MemError.is(error) ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(1);
  },
);
