#!/usr/bin/env node
import { run } from './cli';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// exitCode rather than exit(): output piped to another program is flushed before the process ends.
run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, readStdin }).then((code) => {
  process.exitCode = code;
});
