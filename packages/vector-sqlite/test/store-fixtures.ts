import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Filter } from '@mem/core/adapter';
import { afterEach, beforeEach } from 'vitest';

/** The running test's own temporary directory (see {@link temporaryDirectoryPerTest}). */
export let directory: string;
const opened: { close(): unknown }[] = [];

/**
 * Gives each test of the file a new temporary directory named `prefix…` in {@link directory}, and
 * after it closes every handle {@link track}ed (last opened first) and removes the directory.
 */
export function temporaryDirectoryPerTest(prefix: string): void {
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const handle of opened.splice(0).reverse()) await handle.close();
    rmSync(directory, { recursive: true, force: true });
  });
}

/** Closes `handle` after the running test (see {@link temporaryDirectoryPerTest}). */
export function track<T extends { close(): unknown }>(handle: T): T {
  opened.push(handle);
  return handle;
}

/** The tests' clock: memories expire before or after it. */
export const NOW = 1_700_000_000_000;
export const notExpired: Filter = { op: 'not', filter: { op: 'lte', field: 'expiresAt', value: NOW } };
export const notProcedural: Filter = { op: 'not', filter: { op: 'eq', field: 'memoryType', value: 'procedural' } };

/**
 * Filters the scope caches answer (core's own, and other shapes on the same keys) and ones on
 * columns they do not hold, which they test in part and leave the rest to SQL (or whole to SQL),
 * answered all the same.
 */
export const FILTERS: readonly (Filter | undefined)[] = [
  undefined,
  notExpired,
  { op: 'and', filters: [notExpired, notProcedural] },
  { op: 'in', field: 'memoryType', values: ['procedural', 'episodic'] },
  {
    op: 'or',
    filters: [
      { op: 'gt', field: 'expiresAt', value: NOW + 5 },
      { op: 'nin', field: 'memoryType', values: ['episodic'] },
    ],
  },
  { op: 'and', filters: [] },
  { op: 'eq', field: 'category', value: 'food' },
  { op: 'and', filters: [notExpired, { op: 'gte', field: 'occurredAt', value: 3 }] },
  // Filters the cache and keyword index test only in part (the rest in SQL on their candidates).
  { op: 'not', filter: { op: 'eq', field: 'category', value: 'food' } },
  { op: 'or', filters: [{ op: 'eq', field: 'category', value: 'food' }, notProcedural] },
  {
    op: 'and',
    filters: [
      notProcedural,
      {
        op: 'or',
        filters: [
          { op: 'eq', field: 'category', value: 'food' },
          { op: 'lt', field: 'expiresAt', value: NOW + 5 },
        ],
      },
    ],
  },
  { op: 'and', filters: [notExpired, { op: 'eq', field: 'category', value: 'none' }] },
];
