import { InvalidInputError } from '../contract/errors';

/**
 * Helpers adapters use to resolve their settings: options first, then the provider's environment
 * variables. Reading the environment happens only here, at settings resolution, never in calls.
 */

/** Environment variables, as adapters receive them (tests pass their own object). */
export type Environment = { readonly [name: string]: string | undefined };

/** `process.env` where there is one (Node), else an empty object (edge runtimes, browsers). */
export function processEnvironment(): Environment {
  return (globalThis as { process?: { env?: Environment } }).process?.env ?? {};
}

/** A setting's value, or `undefined` when it is absent or blank (an empty variable counts as unset). */
export function nonEmptySetting(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * Checks an option that must be an integer in a range; returns `fallback` when it is absent.
 * @throws {InvalidInputError} naming `field`.
 */
export function integerOption(value: number | undefined, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(
      field,
      `expected an integer from ${min} to ${max}`,
      `Pass e.g. ${fallback}, or leave it out for the default.`,
    );
  }
  return value;
}

/**
 * Checks a setting holds an absolute http(s) URL.
 * @param example - a valid value for the fix, e.g. `https://api.openai.com/v1`
 * @throws {InvalidInputError} naming `setting` (an option path or an environment variable).
 */
export function checkHttpUrl(value: string, setting: string, example: string): void {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new InvalidInputError(setting, 'is not an absolute URL', `Use e.g. ${example}.`);
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new InvalidInputError(setting, `uses the ${protocol} scheme`, 'Use an http:// or https:// URL.');
  }
}

/** The origin of a URL (scheme, host, port), safe to name in errors: never a path, query or credentials. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured base URL';
  }
}
