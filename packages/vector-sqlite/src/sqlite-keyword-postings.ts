/**
 * Compressed postings of the scope keyword index (see ScopeKeywords): for each term, the slots of
 * the memories holding it, in slot order, each as the varint of twice its distance from the one
 * before (the first from -1), plus 1 when the term occurs more than once in the memory, and then
 * the varint of that count minus 2 (most postings are a term's only occurrence: one byte). Varints are
 * little-endian groups of 7 bits, the high bit set on all but the last. Long lists carry a skip
 * entry every {@link SKIP_POSTINGS} postings (where the block starts and the slot before it) and
 * bounds (the highest count, the smallest memory), so a search can step over postings that cannot
 * change its answer.
 */

/** Postings per skip block of a long list. */
export const SKIP_POSTINGS = 32;
/** Lists of at least this many postings in a segment get skip entries and bounds. */
export const SKIP_MIN_POSTINGS = 256;
/** A cursor's slot past its last posting. */
export const DONE = 0x7fffffff;

/** A growable Int32Array. */
export class IntList {
  values: Int32Array;
  length = 0;

  constructor(capacity = 16) {
    this.values = new Int32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** The skip entries and bounds of one long list of a segment. */
export interface Skips {
  /** Per block: the slot of the posting before it (-1 for the first block). */
  readonly slots: Int32Array;
  /** Per block: the byte offset where it starts. */
  readonly offsets: Uint32Array;
  /** The highest count of the list. */
  readonly maxCount: number;
  /** The fewest tokens of a memory of the list (its row size, as bm25() reads it). */
  readonly minSize: number;
}

/**
 * Postings of a run of slots: the terms present (ascending term numbers), where each one's list
 * starts in `data`, its number of postings, and skip entries of its long lists. The slots of a later
 * segment are all above those of an earlier one (memories take new slots as they come).
 */
export class Segment {
  constructor(
    readonly terms: Int32Array,
    /** Byte offset of the list of `terms[i]`: from starts[i] to starts[i + 1]. */
    readonly starts: Uint32Array,
    readonly lengths: Uint32Array,
    readonly data: Uint8Array,
    /** The highest slot of the segment. */
    readonly last: number,
    readonly skips: ReadonlyMap<number, Skips>,
  ) {
    let total = 0;
    for (const length of lengths) total += length;
    this.postings = total;
  }

  /** Postings of all lists. */
  readonly postings: number;

  get bytes(): number {
    let skipBytes = 0;
    for (const skip of this.skips.values()) skipBytes += skip.slots.byteLength + skip.offsets.byteLength + 64;
    return this.data.byteLength + this.terms.byteLength + this.starts.byteLength + this.lengths.byteLength + skipBytes + 128;
  }

  /** The index of `term` in `terms`, or -1. */
  find(term: number): number {
    const terms = this.terms;
    let low = 0;
    let high = terms.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = terms[middle]!;
      if (value < term) low = middle + 1;
      else if (value > term) high = middle - 1;
      else return middle;
    }
    return -1;
  }
}

/** Writes a segment list by list, in ascending term order, each list's postings in slot order. */
export class SegmentWriter {
  private data: Uint8Array;
  private at = 0;
  private readonly terms = new IntList();
  private readonly starts = new IntList();
  private readonly lengths = new IntList();
  private readonly skips = new Map<number, Skips>();
  private term = -1;
  private previous = -1;
  private count = 0;
  private maxCount = 0;
  private minSize = DONE;
  private last = -1;
  private blockSlots = new IntList();
  private blockOffsets = new IntList();

  /** @param sizes the memories' row sizes by slot (for the bounds of long lists) */
  constructor(
    private readonly sizes: Int32Array,
    capacity: number,
  ) {
    this.data = new Uint8Array(Math.max(64, capacity));
  }

  begin(term: number): void {
    this.term = term;
    this.previous = -1;
    this.count = 0;
    this.maxCount = 0;
    this.minSize = DONE;
    this.blockSlots = new IntList();
    this.blockOffsets = new IntList();
    this.terms.push(term);
    this.starts.push(this.at);
  }

  add(slot: number, count: number): void {
    if (this.data.length - this.at < 10) {
      const grown = new Uint8Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    if (this.count % SKIP_POSTINGS === 0) {
      this.blockSlots.push(this.previous);
      this.blockOffsets.push(this.at);
    }
    // Most terms occur once in a memory: the distance's low bit tells whether a count follows.
    this.at = writeVarint(this.data, this.at, (slot - this.previous) * 2 + (count === 1 ? 0 : 1));
    if (count !== 1) this.at = writeVarint(this.data, this.at, count - 2);
    this.previous = slot;
    this.count += 1;
    if (count > this.maxCount) this.maxCount = count;
    const size = this.sizes[slot]!;
    if (size < this.minSize) this.minSize = size;
    if (slot > this.last) this.last = slot;
  }

  /** Ends the list begun last; an empty one is left out. */
  end(): void {
    if (this.count === 0) {
      this.terms.length -= 1;
      this.starts.length -= 1;
      return;
    }
    this.lengths.push(this.count);
    if (this.count >= SKIP_MIN_POSTINGS) {
      this.skips.set(this.term, {
        slots: this.blockSlots.values.slice(0, this.blockSlots.length),
        offsets: Uint32Array.from(this.blockOffsets.values.subarray(0, this.blockOffsets.length)),
        maxCount: this.maxCount,
        minSize: this.minSize,
      });
    }
  }

  finish(): Segment {
    const starts = new Uint32Array(this.starts.length + 1);
    starts.set(this.starts.values.subarray(0, this.starts.length));
    starts[this.starts.length] = this.at;
    return new Segment(
      this.terms.values.slice(0, this.terms.length),
      starts,
      Uint32Array.from(this.lengths.values.subarray(0, this.lengths.length)),
      this.data.slice(0, this.at),
      this.last,
      this.skips,
    );
  }
}

/**
 * Reads one term's postings across segments, in slot order: `slot` and `count` are the current
 * posting's ({@link DONE} past the last).
 */
export class PostingCursor {
  slot = -1;
  count = 0;
  private segment = -1;
  private data: Uint8Array = new Uint8Array(0);
  private at = 0;
  private end = 0;
  private skips: Skips | undefined;

  constructor(
    private readonly segments: readonly Segment[],
    private readonly term: number,
  ) {
    this.next();
  }

  /** Moves to the next posting. */
  next(): void {
    while (this.at >= this.end) {
      if (!this.open(this.segment + 1)) {
        this.slot = DONE;
        return;
      }
    }
    this.slot += readPosting(this.data, this.at);
    this.count = postingCount;
    this.at = varintEnd;
  }

  /** Moves to the first posting at or after `target`. */
  seek(target: number): void {
    if (this.slot >= target) return;
    // Segments that end before the target.
    while (this.segments[this.segment]!.last < target) {
      if (!this.open(this.segment + 1)) {
        this.slot = DONE;
        return;
      }
      this.next();
      if (this.slot >= target) return;
    }
    const skips = this.skips;
    if (skips !== undefined) {
      // The last block whose slot before it is below the target: every posting before it is too.
      const slots = skips.slots;
      let low = 0;
      let high = slots.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >>> 1;
        if (slots[middle]! < target) low = middle;
        else high = middle - 1;
      }
      const offset = skips.offsets[low]!;
      if (offset > this.at) {
        this.at = offset;
        this.slot = slots[low]!;
      }
    }
    do this.next();
    while (this.slot < target);
  }

  /** Opens the term's list in the first segment from `index` that holds it (slot: the one before it). */
  private open(index: number): boolean {
    for (; index < this.segments.length; index++) {
      const segment = this.segments[index]!;
      const position = segment.find(this.term);
      if (position < 0) continue;
      this.segment = index;
      this.data = segment.data;
      this.at = segment.starts[position]!;
      this.end = segment.starts[position + 1]!;
      this.skips = segment.skips.get(this.term);
      this.slot = -1;
      return true;
    }
    this.segment = this.segments.length;
    return false;
  }
}

/**
 * One segment holding the postings of `segments` (consecutive, in order): with `moved`, each slot
 * becomes moved[slot] and postings of slots moved to -1 are left out.
 */
export function mergeSegments(segments: readonly Segment[], sizes: Int32Array, moved?: Int32Array): Segment {
  let capacity = 0;
  for (const segment of segments) capacity += segment.data.length;
  const writer = new SegmentWriter(sizes, capacity + 64);
  const positions = new Int32Array(segments.length);
  for (;;) {
    let term = DONE;
    for (let index = 0; index < segments.length; index++) {
      const terms = segments[index]!.terms;
      const position = positions[index]!;
      if (position < terms.length && terms[position]! < term) term = terms[position]!;
    }
    if (term === DONE) break;
    writer.begin(term);
    for (let index = 0; index < segments.length; index++) {
      const segment = segments[index]!;
      const position = positions[index]!;
      if (position >= segment.terms.length || segment.terms[position] !== term) continue;
      positions[index] = position + 1;
      const data = segment.data;
      let at = segment.starts[position]!;
      const end = segment.starts[position + 1]!;
      let slot = -1;
      while (at < end) {
        slot += readPosting(data, at);
        const count = postingCount;
        at = varintEnd;
        if (moved === undefined) writer.add(slot, count);
        else if (moved[slot]! >= 0) writer.add(moved[slot]!, count);
      }
    }
    writer.end();
  }
  return writer.finish();
}

/**
 * How many postings of the list at `position` of `segment` are of live memories. A block of a long
 * list whose slot range holds no dead slot (`deadIn`: dead slots from one slot to another, both
 * included) counts whole without being read.
 */
export function livePostings(segment: Segment, position: number, alive: Int32Array, deadIn: (from: number, to: number) => number): number {
  const data = segment.data;
  const end = segment.starts[position + 1]!;
  const length = segment.lengths[position]!;
  const skips = segment.skips.get(segment.terms[position]!);
  const count = (from: number, to: number, slot: number) => {
    let live = 0;
    for (let at = from; at < to; ) {
      slot += readPosting(data, at);
      at = varintEnd;
      live += alive[slot]!;
    }
    return live;
  };
  if (skips === undefined) return count(segment.starts[position]!, end, -1);
  let live = 0;
  const blocks = skips.slots.length;
  for (let block = 0; block < blocks; block++) {
    const last = block + 1 < blocks ? skips.slots[block + 1]! : segment.last;
    if (deadIn(skips.slots[block]! + 1, last) === 0) live += block + 1 < blocks ? SKIP_POSTINGS : length - block * SKIP_POSTINGS;
    else live += count(skips.offsets[block]!, block + 1 < blocks ? skips.offsets[block + 1]! : end, skips.slots[block]!);
  }
  return live;
}

/** The count of the posting {@link readPosting} read last. */
let postingCount = 0;

/** The distance of the posting at `at` from the slot before it (its count in {@link postingCount}, its end in {@link varintEnd}). */
function readPosting(data: Uint8Array, at: number): number {
  const value = readVarint(data, at);
  if ((value & 1) === 0) {
    postingCount = 1;
    return value / 2;
  }
  postingCount = readVarint(data, varintEnd) + 2;
  return (value - 1) / 2;
}

/** The offset after the varint {@link readVarint} read last. */
let varintEnd = 0;

/** The varint at `at` (its end in {@link varintEnd}). */
function readVarint(data: Uint8Array, at: number): number {
  let byte = data[at++]!;
  let value = byte & 0x7f;
  for (let shift = 7; byte >= 0x80; shift += 7) {
    byte = data[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
  }
  varintEnd = at;
  return value;
}

/** Writes `value` (a non-negative integer below 2^53) as a varint at `at`; returns the offset after it. */
function writeVarint(data: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    data[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  data[at++] = value;
  return at;
}
