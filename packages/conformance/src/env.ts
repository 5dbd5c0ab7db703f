import { MissingSettingError } from '@mem/core/adapter';

/** What {@link serverEnv} and {@link liveEnv} return. */
export interface EnvResult<Name extends string = string> {
  /** The value of each variable; `''` for a missing one (the suite is then skipped or has thrown). */
  readonly values: Readonly<Record<Name, string>>;
  /** Why the suite is skipped, naming the missing variables; `undefined` when every variable is set. Pass it as `options.skip`. */
  readonly skip?: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

function read<Name extends string>(names: readonly Name[], env: Environment): { values: Record<Name, string>; missing: Name[] } {
  const values = {} as Record<Name, string>;
  const missing: Name[] = [];
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') missing.push(name);
    values[name] = value ?? '';
  }
  return { values, missing };
}

/** {@link serverEnv} over an explicit environment (tests pass one instead of mutating `process.env`). */
export function resolveServerEnv<Name extends string>(names: readonly Name[], env: Environment): EnvResult<Name> {
  const { values, missing } = read(names, env);
  if (missing.length === 0) return { values };
  const list = missing.join(', ');
  if (env.CI === 'true') {
    throw new MissingSettingError(
      list,
      `CI=true, so the conformance suite needs its server: start it and set ${list} before the tests run. A missing server fails CI instead of skipping.`,
    );
  }
  return { values, skip: `needs a local server: set ${list} to run this suite` };
}

/** {@link liveEnv} over an explicit environment (tests pass one instead of mutating `process.env`). */
export function resolveLiveEnv<Name extends string>(names: readonly Name[], env: Environment): EnvResult<Name> {
  const { values, missing } = read(names, env);
  if (missing.length === 0) return { values };
  return { values, skip: `live test against the provider's API: set ${missing.join(', ')} to run it` };
}

/**
 * Reads the variables that point a conformance suite at a local server (e.g. `QDRANT_URL`).
 * On a laptop a missing variable gives a skip reason; under `CI=true` it throws, so a server that
 * did not start fails CI instead of silently skipping. List each variable under the `test` task's
 * `env` in `turbo.json`, or strict env mode hides it.
 *
 * @throws {MissingSettingError} when `process.env.CI === 'true'` and a variable is missing or empty.
 * @example
 * const qdrant = serverEnv('QDRANT_URL');
 * describeVectorStore('QdrantVectorStore', async ({ namespace }) => { ... }, { skip: qdrant.skip });
 */
export function serverEnv<Name extends string>(...names: Name[]): EnvResult<Name> {
  return resolveServerEnv(names, process.env);
}

/**
 * Reads the variables a live test against a provider's cloud API needs (e.g. `OPENAI_API_KEY`).
 * A missing or empty variable always gives a skip reason naming it, also in CI.
 *
 * @example
 * const openai = liveEnv('OPENAI_API_KEY');
 * describeLLM('OpenAILLM (live)', async () => ({ subject: new OpenAILLM({ apiKey: openai.values.OPENAI_API_KEY }), dispose: async () => {} }), { skip: openai.skip });
 */
export function liveEnv<Name extends string>(...names: Name[]): EnvResult<Name> {
  return resolveLiveEnv(names, process.env);
}
