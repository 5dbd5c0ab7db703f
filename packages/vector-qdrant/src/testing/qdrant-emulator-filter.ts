/**
 * Qdrant's filter semantics, for the emulator: payload key paths, `must` / `should` / `must_not` /
 * `min_should`, and the conditions `match` (value, any), `range` (numbers), `values_count`,
 * `is_empty`, `is_null` and `has_id`. Conditions the emulator does not model answer 501, so a test
 * never passes on a guess.
 */

/** A request the real server would reject (the emulator answers 400). */
export class EmulatorBadRequestError extends Error {}

/** A feature the emulator does not model (it answers 501). */
export class EmulatorNotImplementedError extends Error {}

/** The point id forms the emulator stores: unsigned integers and lowercase hyphenated UUIDs. */
export type PointId = number | string;

/** A stored point, as the filter sees it. */
export interface FilterablePoint {
  readonly id: PointId;
  readonly payload: Record<string, unknown>;
}

type PathItem = { readonly key: string } | { readonly index: number } | { readonly wildcard: true };

const RAW_KEY = /^[A-Za-z0-9_-]+/;

/**
 * Parses a payload key path in Qdrant's syntax: `a`, `a.b`, `a."key.with.dots"`, `a[0]`, `a[]`.
 * @throws {EmulatorBadRequestError} on a malformed path.
 */
export function parseKeyPath(key: string): PathItem[] {
  const items: PathItem[] = [];
  let rest = key;
  let first = true;
  while (rest.length > 0) {
    if (!first && rest.startsWith('[]')) {
      items.push({ wildcard: true });
      rest = rest.slice(2);
      continue;
    }
    const index = first ? null : /^\[(\d+)\]/.exec(rest);
    if (index) {
      items.push({ index: Number(index[1]) });
      rest = rest.slice(index[0].length);
      continue;
    }
    if (!first) {
      if (!rest.startsWith('.')) throw new EmulatorBadRequestError(`Bad request: invalid key path "${key}"`);
      rest = rest.slice(1);
    }
    const quoted = /^"([^"\\]*)"/.exec(rest);
    const raw = RAW_KEY.exec(rest);
    const token = quoted ?? raw;
    if (!token) throw new EmulatorBadRequestError(`Bad request: invalid key path "${key}"`);
    items.push({ key: quoted ? quoted[1]! : token[0] });
    rest = rest.slice(token[0].length);
    first = false;
  }
  if (items.length === 0) throw new EmulatorBadRequestError('Bad request: empty key path');
  return items;
}

/**
 * The values at `key` in `payload`, as Qdrant reads them for conditions: the value itself, or the
 * elements of an array value. An absent key gives no values.
 */
export function valuesAt(payload: Record<string, unknown>, key: string): unknown[] {
  let current: unknown[] = [payload];
  for (const item of parseKeyPath(key)) {
    const next: unknown[] = [];
    for (const value of current) {
      if ('key' in item) {
        if (isRecord(value) && Object.hasOwn(value, item.key)) next.push(value[item.key]);
      } else if ('index' in item) {
        if (Array.isArray(value) && item.index < value.length) next.push(value[item.index]);
      } else if (Array.isArray(value)) {
        next.push(...value);
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

/** Whether the raw value at `key` is absent, null or an empty array (Qdrant's `is_empty`). */
function isEmptyAt(payload: Record<string, unknown>, key: string): boolean {
  return valuesAt(payload, key).every((value) => value === null);
}

/** Whether `filter` (a Qdrant Filter object) selects `point`. */
export function matchesFilter(filter: unknown, point: FilterablePoint): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isRecord(filter)) throw new EmulatorBadRequestError('Bad request: a filter must be an object');
  const list = (value: unknown): unknown[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);
  const must = list(filter['must']);
  const mustNot = list(filter['must_not']);
  if (!must.every((condition) => matchesCondition(condition, point))) return false;
  if (mustNot.some((condition) => matchesCondition(condition, point))) return false;
  if (filter['should'] !== undefined && filter['should'] !== null) {
    const should = list(filter['should']);
    if (should.length === 0) throw new EmulatorNotImplementedError('emulator: the meaning of an empty "should" is not modelled');
    if (!should.some((condition) => matchesCondition(condition, point))) return false;
  }
  const minShould = filter['min_should'];
  if (isRecord(minShould)) {
    const conditions = list(minShould['conditions']);
    const needed = Number(minShould['min_count']);
    if (conditions.filter((condition) => matchesCondition(condition, point)).length < needed) return false;
  }
  return true;
}

/** Whether one condition (field condition, id condition or nested filter) selects `point`. */
export function matchesCondition(condition: unknown, point: FilterablePoint): boolean {
  if (!isRecord(condition)) throw new EmulatorBadRequestError('Bad request: a condition must be an object');
  if ('key' in condition) return matchesFieldCondition(condition, point);
  if ('is_empty' in condition) return isEmptyAt(point.payload, keyOf(condition['is_empty']));
  if ('is_null' in condition) return valuesAtRaw(point.payload, keyOf(condition['is_null'])).some((value) => value === null);
  if ('has_id' in condition) {
    const ids = (condition['has_id'] as unknown[]).map(canonicalPointId);
    return ids.some((id) => id === point.id);
  }
  if ('has_vector' in condition || 'nested' in condition) {
    throw new EmulatorNotImplementedError(`emulator: the condition ${Object.keys(condition).join(', ')} is not modelled`);
  }
  return matchesFilter(condition, point);
}

function matchesFieldCondition(condition: Record<string, unknown>, point: FilterablePoint): boolean {
  const key = String(condition['key']);
  const checks: boolean[] = [];
  const values = () => valuesAt(point.payload, key);
  const match = condition['match'];
  if (isRecord(match)) {
    if ('value' in match) {
      const expected = match['value'];
      checks.push(values().some((value) => sameScalar(value, expected)));
    } else if ('any' in match) {
      const expected = match['any'] as unknown[];
      checks.push(values().some((value) => expected.some((candidate) => sameScalar(value, candidate))));
    } else {
      throw new EmulatorNotImplementedError(`emulator: match ${Object.keys(match).join(', ')} is not modelled`);
    }
  }
  const range = condition['range'];
  if (isRecord(range)) {
    const bounds = Object.entries(range).filter(([, bound]) => bound !== null && bound !== undefined);
    if (bounds.some(([, bound]) => typeof bound !== 'number'))
      throw new EmulatorNotImplementedError('emulator: datetime ranges are not modelled');
    checks.push(
      values().some(
        (value) =>
          typeof value === 'number' &&
          bounds.every(([name, bound]) => {
            const limit = bound as number;
            if (name === 'gt') return value > limit;
            if (name === 'gte') return value >= limit;
            if (name === 'lt') return value < limit;
            return value <= limit;
          }),
      ),
    );
  }
  const count = condition['values_count'];
  if (isRecord(count)) {
    const size = values().length;
    checks.push(
      Object.entries(count).every(([name, bound]) => {
        if (bound === null || bound === undefined) return true;
        const limit = bound as number;
        if (name === 'gt') return size > limit;
        if (name === 'gte') return size >= limit;
        if (name === 'lt') return size < limit;
        return size <= limit;
      }),
    );
  }
  if (condition['is_empty'] === true) checks.push(isEmptyAt(point.payload, key));
  if (condition['is_empty'] === false) checks.push(!isEmptyAt(point.payload, key));
  if (condition['is_null'] === true) checks.push(valuesAtRaw(point.payload, key).some((value) => value === null));
  if (condition['is_null'] === false) checks.push(!valuesAtRaw(point.payload, key).some((value) => value === null));
  for (const geo of ['geo_bounding_box', 'geo_radius', 'geo_polygon']) {
    if (condition[geo] !== undefined && condition[geo] !== null) throw new EmulatorNotImplementedError(`emulator: ${geo} is not modelled`);
  }
  if (checks.length === 0) throw new EmulatorBadRequestError(`Bad request: the condition on "${key}" has no match, range or other check`);
  return checks.every(Boolean);
}

/** Values at `key` without flattening arrays (for `is_null`, which tests the stored value itself). */
function valuesAtRaw(payload: Record<string, unknown>, key: string): unknown[] {
  const items = parseKeyPath(key);
  let current: unknown[] = [payload];
  for (const item of items) {
    current = current.flatMap((value) => {
      if ('key' in item) return isRecord(value) && Object.hasOwn(value, item.key) ? [value[item.key]] : [];
      if ('index' in item) return Array.isArray(value) && item.index < value.length ? [value[item.index]] : [];
      return Array.isArray(value) ? value : [];
    });
  }
  return current;
}

/** Qdrant's typed equality: strings with strings, integers with integers, booleans with booleans. */
function sameScalar(stored: unknown, expected: unknown): boolean {
  if (typeof expected === 'string' || typeof expected === 'boolean') return stored === expected;
  if (typeof expected === 'number') return typeof stored === 'number' && Number.isInteger(stored) && stored === expected;
  return false;
}

function keyOf(field: unknown): string {
  if (isRecord(field) && typeof field['key'] === 'string') return field['key'];
  throw new EmulatorBadRequestError('Bad request: expected { key }');
}

/**
 * Qdrant's own form of a point id: integers as they are, UUIDs lowercase and hyphenated.
 * @throws {EmulatorBadRequestError} for anything else.
 */
export function canonicalPointId(id: unknown): PointId {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'string') {
    const hex = id
      .replace(/^urn:uuid:/i, '')
      .replace(/^\{|\}$/g, '')
      .replace(/-/g, '')
      .toLowerCase();
    if (/^[0-9a-f]{32}$/.test(hex))
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  throw new EmulatorBadRequestError('Bad request: a point id must be an unsigned integer or a UUID');
}

/** Qdrant's point order: integers first (ascending), then UUIDs by their bytes (= hex string order). */
export function comparePointIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
