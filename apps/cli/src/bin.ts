#!/usr/bin/env node
import { run } from './cli';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// Started as a package script (`pnpm --filter @mem/cli start -- …`), relative paths such as ./mem.db
// mean the directory the command was typed in, not the package's.
if (process.env.npm_lifecycle_event && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
// A package manager may pass the `--` that separated its own options from the script's.
const args = process.argv[2] === '--' ? process.argv.slice(3) : process.argv.slice(2);

// exitCode rather than exit(): output piped to another program is flushed before the process ends.
run(args, { stdout: process.stdout, stderr: process.stderr, env: process.env, readStdin }).then((code) => {
  process.exitCode = code;
});
