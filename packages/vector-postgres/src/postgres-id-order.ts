/**
 * The sort key of an id: its UTF-16 code units, big-endian. PostgreSQL compares `bytea` with
 * memcmp, so these keys sort exactly like JavaScript strings (`<`, core's `compareIds`); the text
 * column would sort by its collation, or by UTF-8 bytes under "C", which puts characters above
 * U+FFFF after U+E000–U+FFFF instead of before them.
 */
export function idOrderKey(id: string): Buffer {
  return Buffer.from(id, 'utf16le').swap16();
}
