/**
 * What every conformance case receives besides its subject.
 */
export interface CaseHelpers {
  /** The unique namespace of this test, e.g. `mem_3f9a1c2b7d`; the harness received the same one. */
  readonly namespace: string;
  /**
   * Runs `check` until it stops throwing and returns its value. When the subject declares
   * `readAfterWrite: 'eventual'`, `check` is retried (with a growing pause between attempts) until
   * `timeoutMs` has passed; otherwise it runs once, so a failure shows at once.
   * Wrap every read that must observe an earlier write in it.
   * @throws the last error of `check` when it never passed.
   */
  eventually<T>(check: () => T | Promise<T>, options?: { readonly timeoutMs?: number }): Promise<T>;
  /**
   * Ends the case as skipped with `reason`, visibly (vitest's `context.skip`), never as a pass.
   * Never returns.
   */
  skip(reason: string): never;
}

/**
 * One conformance case: plain data, so the suite can run it under vitest or directly.
 * `run` throws (an assertion error) when the subject does not conform.
 */
export interface ConformanceCase<T, H extends CaseHelpers = CaseHelpers> {
  /** Test title, e.g. `scope: query never returns another scope's records`. */
  readonly name: string;
  /**
   * Tells why `subject` cannot run this case (e.g. a missing capability), or `undefined` when it can.
   * The case is then reported as skipped with that reason.
   */
  readonly requires?: (subject: T) => string | undefined;
  run(subject: T, helpers: H): Promise<void>;
}

/** The result of running one case directly with a `run*Case` function. */
export type CaseOutcome = { readonly status: 'passed' } | { readonly status: 'skipped'; readonly reason: string };

/** Thrown by `helpers.skip(reason)` when a case runs outside vitest; `run*Case` turns it into `{ status: 'skipped' }`. */
export class CaseSkipped extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`Skipped: ${reason}`);
    this.name = 'CaseSkipped';
    this.reason = reason;
  }
}

/** Default time `helpers.eventually` keeps retrying, in milliseconds. */
export const DEFAULT_EVENTUALLY_TIMEOUT_MS = 5_000;

/**
 * Runs `check` until it stops throwing, pausing 25 ms, then 50 ms, … up to 500 ms between attempts.
 *
 * @param options.timeoutMs - give up after this many milliseconds. @default 5000
 * @throws the last error of `check` when the time ran out.
 * @example
 * await eventually(async () => assert.equal((await store.get({ scope, ids: [id] })).length, 1));
 */
export async function eventually<T>(check: () => T | Promise<T>, options: { readonly timeoutMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_EVENTUALLY_TIMEOUT_MS);
  let pauseMs = 25;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() + pauseMs > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, 500);
  }
}

/** Creates a fresh namespace: `mem_` followed by 12 random lowercase hex digits (valid as a table, collection or index name). */
export function createNamespace(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return `mem_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** Builds the helpers every case gets. */
export function baseHelpers(options: {
  readonly namespace: string;
  readonly consistency: 'immediate' | 'eventual';
  readonly eventuallyTimeoutMs?: number;
  readonly skip?: (reason: string) => never;
}): CaseHelpers {
  return {
    namespace: options.namespace,
    eventually: (check, eventuallyOptions) =>
      options.consistency === 'eventual'
        ? eventually(check, { timeoutMs: eventuallyOptions?.timeoutMs ?? options.eventuallyTimeoutMs })
        : Promise.resolve().then(check),
    skip:
      options.skip ??
      ((reason: string): never => {
        throw new CaseSkipped(reason);
      }),
  };
}

/** Options of the `run*Case` functions. */
export interface RunCaseOptions {
  /** Namespace handed to the case. @default a fresh `mem_<random>` */
  readonly namespace?: string;
  /** How long `helpers.eventually` retries for eventually consistent subjects, in milliseconds. @default 5000 */
  readonly eventuallyTimeoutMs?: number;
  /**
   * Called by `helpers.skip(reason)` and for an unmet `requires`; must throw. The vitest suite
   * passes `context.skip`. @default throws {@link CaseSkipped}
   */
  readonly skip?: (reason: string) => never;
}

/** Runs a case with prepared helpers, turning {@link CaseSkipped} into an outcome. */
export async function runPrepared<T, H extends CaseHelpers>(
  testCase: ConformanceCase<T, H>,
  subject: T,
  helpers: H,
  prepare?: () => Promise<void>,
): Promise<CaseOutcome> {
  try {
    const missing = testCase.requires?.(subject);
    if (missing !== undefined) helpers.skip(missing);
    await prepare?.();
    await testCase.run(subject, helpers);
    return { status: 'passed' };
  } catch (error) {
    if (error instanceof CaseSkipped) return { status: 'skipped', reason: error.reason };
    throw error;
  }
}
