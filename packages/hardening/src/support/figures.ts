import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

/** How many cases the tests generate: `fast` for `npm test`, `stress` for `pnpm test:stress`. */
export type Profile = 'fast' | 'stress';

/** One measurement: how many cases a test tried against one backend, and how many broke an invariant. */
export interface Figure {
  readonly category: string;
  readonly backend: string;
  readonly cases: number;
  readonly violations: number;
}

/** The active profile. */
export function profile(): Profile {
  return inject('hardeningProfile');
}

/** `fast` in the normal run, `stress` under `pnpm test:stress`. */
export function scaled(fast: number, stress: number): number {
  return profile() === 'stress' ? stress : fast;
}

/** Appends a figure for the summary table printed when the run ends. */
export function recordFigure(figure: Figure): void {
  appendFileSync(join(inject('hardeningFigures'), `${process.pid}.jsonl`), `${JSON.stringify(figure)}\n`);
}
