import assert from 'node:assert/strict';
import { MemError, type MemErrorCode } from '@mem/core/adapter';

/** Collects an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/**
 * Asserts that `action` rejects (or throws) with an error carrying `code`. Accepts a `MemError`
 * from any installed copy of `@mem/core`, or another `Error` whose `code` property equals `code`.
 */
export async function assertRejectsWithCode(action: () => unknown, code: MemErrorCode, what: string): Promise<unknown> {
  let thrown: unknown;
  let threw = false;
  try {
    await action();
  } catch (error) {
    threw = true;
    thrown = error;
  }
  assert.ok(threw, `${what}: expected an error with code ${code}, but the call succeeded`);
  const actualCode = typeof thrown === 'object' && thrown !== null ? (thrown as { code?: unknown }).code : undefined;
  assert.ok(
    MemError.is(thrown, code) || (thrown instanceof Error && actualCode === code),
    `${what}: expected an error with code ${code}, got ${describeError(thrown)}`,
  );
  return thrown;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${code === undefined ? '' : ` (code ${String(code)})`}: ${error.message}`;
  }
  return String(error);
}

/** Asserts `actual` is within `tolerance` of `expected`. */
export function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    typeof actual === 'number' && Number.isFinite(actual) && Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

/** Ids sorted ascending by UTF-16 code units, for set comparisons. */
export function sortedIds(items: readonly { readonly id: string }[]): string[] {
  return items.map((item) => item.id).sort(compareStrings);
}

/** Compares strings by UTF-16 code units (JavaScript's `<`). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
