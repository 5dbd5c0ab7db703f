import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresForTests } from '@mem/postgres/testing';
import { findOrStartChroma } from '@mem/test-servers/chroma';
import type { TestProject } from 'vitest/node';
import type { Figure, Profile } from '../src/support/figures';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `fast` in `npm test`, `stress` in `pnpm test:stress`: how many cases each test generates. */
    hardeningProfile: Profile;
    /** Directory where tests append their figures (one JSON line per measurement). */
    hardeningFigures: string;
    /** Base URL of a real Chroma server; `''` when none could be started (laptop only). */
    chromaUrl: string;
    /** Why there is no Chroma server, shown as the skip reason; `''` when there is one. */
    chromaSkip: string;
    /** URL of a real PostgreSQL 15 + pgvector server; `''` when none could be started (laptop only). */
    postgresUrl: string;
    /** Why there is no PostgreSQL server, shown as the skip reason; `''` when there is one. */
    postgresSkip: string;
  }
}

/**
 * Starts what the hardening tests share (a real Chroma server from the chromadb npm CLI, or
 * CHROMA_URL; a real PostgreSQL 15 + pgvector server from Debian's packages), gives the tests a
 * figures directory, and prints the summary table on teardown.
 */
export function hardeningSetup(profile: Profile) {
  return async function setup(project: TestProject): Promise<() => Promise<void>> {
    const figures = mkdtempSync(join(tmpdir(), 'mem-hardening-figures-'));
    const startedAt = Date.now();
    project.provide('hardeningProfile', profile);
    project.provide('hardeningFigures', figures);
    const server = await findOrStartChroma();
    project.provide('chromaUrl', server.url);
    project.provide('chromaSkip', server.skip);
    const postgres = await postgresForTests();
    project.provide('postgresUrl', postgres.url);
    project.provide('postgresSkip', postgres.skip);
    return async () => {
      await server.stop();
      await postgres.stop();
      const rows: Figure[] = [];
      for (const file of readdirSync(figures)) {
        for (const line of readFileSync(join(figures, file), 'utf8').split('\n')) if (line.trim()) rows.push(JSON.parse(line) as Figure);
      }
      rmSync(figures, { recursive: true, force: true });
      if (rows.length > 0) process.stdout.write(`\n${summaryTable(rows, profile, Date.now() - startedAt)}\n`);
    };
  };
}

/** One line per category and backend: cases tried and invariant violations (a violation also fails its test). */
export function summaryTable(rows: readonly Figure[], profile: Profile, elapsedMs: number): string {
  const merged = new Map<string, Figure>();
  for (const row of rows) {
    const key = `${row.category}\u0000${row.backend}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, cases: seen.cases + row.cases, violations: seen.violations + row.violations } : { ...row });
  }
  const sorted = [...merged.values()].sort((a, b) => a.category.localeCompare(b.category) || a.backend.localeCompare(b.backend));
  const header = ['category', 'backend', 'cases', 'violations'];
  const table = [header, ...sorted.map((row) => [row.category, row.backend, String(row.cases), String(row.violations)])];
  const widths = header.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) =>
    `| ${line.map((cell, column) => (column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ')} |`;
  const totalCases = sorted.reduce((sum, row) => sum + row.cases, 0);
  const totalViolations = sorted.reduce((sum, row) => sum + row.violations, 0);
  return [
    `mem hardening (${profile}): ${totalCases} cases, ${totalViolations} violations, ${(elapsedMs / 1000).toFixed(1)} s`,
    format(header),
    `|${widths.map((width, column) => (column >= 2 ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`,
    ...sorted.map((row) => format([row.category, row.backend, String(row.cases), String(row.violations)])),
  ].join('\n');
}
