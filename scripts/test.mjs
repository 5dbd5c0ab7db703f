#!/usr/bin/env node
// Runs every package's tests in one vitest process (root vitest.config.ts lists the projects),
// then prints one closing line, "N passed, N failed, N skipped", that CI reads. The formatter and
// linter (Biome, `npm run lint`) run first; a finding counts as one failed test and fails the run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const lint = spawnSync('pnpm', ['exec', 'biome', 'ci', '.', '--max-diagnostics=50'], { stdio: 'inherit' });
const lintFailed = lint.status !== 0;
if (lintFailed) console.error('\nFormatting or lint findings above: run `npm run format` to fix what Biome can fix.\n');

mkdirSync('.tmp', { recursive: true });
const report = '.tmp/vitest-report.json';
rmSync(report, { force: true });
const run = spawnSync(
  'pnpm',
  ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 1;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  skipped = json.numPendingTests + json.numTodoTests;
  failed = json.numFailedTests > 0 ? json.numFailedTests : json.numFailedTestSuites;
} catch {
  // No report: vitest itself failed; counted as one failure.
}
if (lintFailed) failed += 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(lintFailed && run.status === 0 ? 1 : (run.status ?? 1));
