import { createHash } from 'node:crypto';

/** A lowercase, hyphenated UUID: the only string form Qdrant gives back unchanged. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Namespace of the UUID v5 point ids, `6b1f7c2e-94d5-4a0f-b8e3-5d6a0c4f2e91` (chosen once for mem; never change it). */
const NAMESPACE = Buffer.from('6b1f7c2e94d54a0fb8e35d6a0c4f2e91', 'hex');

/** Hyphen positions of a canonical UUID. */
const HYPHENS = new Set([8, 13, 18, 23]);
const UUID_LENGTH = 36;
const HEX_DIGITS = '0123456789abcdef';

/**
 * Whether Qdrant stores `id` as its own point id. Qdrant accepts only unsigned integers and UUIDs
 * as point ids, and answers UUIDs in lowercase hyphenated form, so only that form round-trips.
 */
export function isNativePointId(id: string): boolean {
  return CANONICAL_UUID.test(id);
}

/**
 * The Qdrant point id of a memory id: the id itself when it is a canonical UUID, otherwise the
 * standard UUID v5 (RFC 9562) of the UTF-8 id in mem's namespace, so other tools can compute it.
 * The original id always travels in the payload, so every id round-trips.
 */
export function toPointId(id: string): string {
  if (isNativePointId(id)) return id;
  const digest = createHash('sha1').update(NAMESPACE).update(id, 'utf8').digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The smallest canonical UUID that sorts after `after` as a JavaScript string, or `undefined`
 * when none does. Qdrant scrolls UUID points in byte order, which for canonical UUIDs is the same
 * as string order, so this is where a scroll for "ids after `after`" starts.
 */
export function firstUuidAfter(after: string): string | undefined {
  // Try the longest usable prefix of `after` first: the answer shares as much of it as possible.
  for (let length = Math.min(after.length, UUID_LENGTH); length >= 0; length--) {
    const prefix = after.slice(0, length);
    if (!isUuidPrefix(prefix)) continue;
    if (length === after.length && length < UUID_LENGTH) {
      // `after` is itself a proper prefix: any completion is longer, hence greater.
      return prefix + smallestCompletion(length);
    }
    if (length === after.length) continue; // `after` is a full UUID: a greater one differs earlier
    const next = nextCharacter(length, after.charCodeAt(length));
    if (next !== undefined) return prefix + next + smallestCompletion(length + 1);
  }
  return undefined;
}

function isUuidPrefix(prefix: string): boolean {
  for (let position = 0; position < prefix.length; position++) {
    const character = prefix[position]!;
    if (HYPHENS.has(position) ? character !== '-' : !HEX_DIGITS.includes(character)) return false;
  }
  return true;
}

/** The smallest character allowed at `position` that is greater than the code unit `code`. */
function nextCharacter(position: number, code: number): string | undefined {
  const allowed = HYPHENS.has(position) ? '-' : HEX_DIGITS;
  for (const character of allowed) if (character.charCodeAt(0) > code) return character;
  return undefined;
}

function smallestCompletion(from: number): string {
  let completion = '';
  for (let position = from; position < UUID_LENGTH; position++) completion += HYPHENS.has(position) ? '-' : '0';
  return completion;
}
