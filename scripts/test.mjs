#!/usr/bin/env node
// Runs every package's tests in one vitest process (root vitest.config.ts lists the projects),
// then prints one closing line, "N passed, N failed, N skipped", that CI reads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

mkdirSync('.tmp', { recursive: true });
const report = '.tmp/vitest-report.json';
rmSync(report, { force: true });
const run = spawnSync(
  'pnpm',
  ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let summary;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  summary = `${json.numPassedTests} passed, ${json.numFailedTests} failed, ${json.numPendingTests + json.numTodoTests} skipped`;
  if (json.numFailedTestSuites > 0 && json.numFailedTests === 0) summary = `${json.numPassedTests} passed, ${json.numFailedTestSuites} failed, ${json.numPendingTests + json.numTodoTests} skipped`;
} catch {
  summary = '0 passed, 1 failed';
}
console.log(`\n${summary}`);
process.exit(run.status ?? 1);
