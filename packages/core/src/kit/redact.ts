/** Shortest string treated as a secret: shorter ones would redact ordinary words. */
const MIN_SECRET_LENGTH = 8;
/** How deep into fields and causes the scrub goes. */
const MAX_DEPTH = 8;

/**
 * Replaces every occurrence of the given secrets (API keys) with `[redacted]` in an error: its
 * message, stack, fields and cause chain, in place. Returns the same value. Adapters call it on what
 * a provider SDK threw before keeping it as `cause`, because a server or proxy may echo the
 * credential in its error message and a caller logging the error would print it.
 *
 * @example
 * throw toProviderError(redactSecrets(error, [client.apiKey]));
 */
export function redactSecrets<T>(value: T, secrets: readonly (string | null | undefined)[]): T {
  const list = secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH);
  if (list.length === 0) return value;
  const scrub = (text: string) =>
    list.reduce((result, secret) => (result.includes(secret) ? result.split(secret).join('[redacted]') : result), text);
  const seen = new Set<object>();
  const visit = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return scrub(node);
    if (typeof node !== 'object' || node === null || seen.has(node) || depth > MAX_DEPTH) return node;
    seen.add(node);
    const keys = new Set([...Object.getOwnPropertyNames(node), ...(node instanceof Error ? ['message', 'stack', 'cause'] : [])]);
    for (const key of keys) {
      let current: unknown;
      try {
        current = (node as Record<string, unknown>)[key];
      } catch {
        continue; // a throwing getter: nothing to read, nothing to leak through it here
      }
      const next = visit(current, depth + 1);
      if (next === current) continue;
      try {
        (node as Record<string, unknown>)[key] = next;
      } catch {
        // A read-only field keeps its value; it was not written by mem.
      }
    }
    return node;
  };
  return visit(value, 0) as T;
}
