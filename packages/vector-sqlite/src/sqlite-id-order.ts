/**
 * The sort key of an id: its UTF-16 code units, big-endian. SQLite compares BLOBs with memcmp, so
 * these keys sort exactly like JavaScript strings (`<`, core's `compareIds`). The TEXT column alone
 * would sort by UTF-8 bytes, which puts characters above U+FFFF after U+E000–U+FFFF instead of
 * before them.
 */
export function idOrderKey(id: string): Buffer {
  return Buffer.from(id, 'utf16le').swap16();
}
