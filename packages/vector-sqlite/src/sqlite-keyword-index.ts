import { ChangeLogCursor, intern, replay, SCOPE_COLUMN_NAMES, type ChangeLogSource } from './sqlite-change-log';
import { ftsTerms, learnCharacters, type CharacterProbe } from './sqlite-fts-tokenizer';
import { DONE, IntList, livePostings, mergeSegments, PostingCursor, type Segment, SegmentWriter } from './sqlite-keyword-postings';
import { memoryTypeOf, TopHeap, type CachedColumns, type CachedRowTest, type ScopeColumn } from './sqlite-vector-cache';

/** FTS5's bm25() constants (fts5_aux.c): k1 and b. */
const K1 = 1.2;
const B = 0.75;

/** A memory as the keyword index reads it: key, id, scope, mirrored filter columns and its row size in FTS5 tokens. */
export interface KeywordSourceRow {
  readonly seq: number;
  readonly id_order: Buffer;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
  readonly expires_at: number | null;
  readonly memory_type: string | Buffer | null;
  /** FTS5's size record of the row (`<table>_kw_docsize.sz`): one varint per column, its token count there. */
  readonly sz: Buffer | null;
  readonly text: string;
}

/**
 * What the keyword index reads from the file, inside one read transaction the caller holds. The
 * change log is the vector cache's (`<table>_changes`, see `SqliteVectorCache`).
 */
export interface KeywordIndexSource extends ChangeLogSource<KeywordSourceRow> {
  /** How many memories have `value` in `column`. */
  countScope(column: ScopeColumn, value: string): number;
  /** Up to `limit` memories with `value` in `column` whose id_order is above `after`, in id order. */
  scopePage(column: ScopeColumn, value: string, after: Buffer, limit: number): readonly KeywordSourceRow[];
  /** How FTS5 reads characters beyond ASCII (see CharacterProbe). */
  probe: CharacterProbe;
  /** The whole keyword index's row count and token count (all columns), from FTS5's averages record. */
  totals(): { readonly rows: number; readonly tokens: number };
  /** How many rows of the whole keyword index hold `term` in the text column. */
  documentFrequency(term: string): number;
  /** `ln(x)` as SQLite (and so FTS5's bm25) computes it. */
  logs(values: readonly number[]): readonly number[];
}

/** What the keyword index holds (see SqliteVectorStore.keywordIndexState). */
export interface KeywordIndexState {
  /** Scopes held. */
  readonly scopes: number;
  /** Their bytes, as the budget counts them. */
  readonly bytes: number;
  /** Their postings, and the postings' compressed bytes. */
  readonly postings: number;
  readonly postingBytes: number;
  /** Whether a scope is being read. */
  readonly reading: boolean;
}

/** A scored memory of a held scope: its seq and its BM25 relevance (FTS5's bm25() negated). */
export interface KeywordMatch {
  readonly seq: number;
  readonly score: number;
}

/**
 * Bytes a held memory costs beside its postings: seq, id string, scope and filter columns, size,
 * seq-to-slot entry (measured on the V8 heap: about 150 with ids held as 36-character strings; the
 * 72-byte sort keys of such ids, held as they are, add 36).
 */
const ROW_OVERHEAD_BYTES = 190;
/** Bytes a posting costs, for the budget check before reading a scope (measured on LongMemEval turns: 1.54). */
const POSTING_BYTES = 2;
/** Bytes a posting not yet filed costs: term, slot and count, as 32-bit numbers. */
const PENDING_POSTING_BYTES = 12;
/** Bytes a distinct term costs: the string and its map entry, its place in a segment (measured: about 72). */
const TERM_OVERHEAD_BYTES = 80;
/** Postings of a scope per memory, for the budget check before reading a scope (measured on LongMemEval turns: about 80). */
const ESTIMATED_POSTINGS_PER_ROW = 100;
const MAX_SEEN_SCOPES = 100_000;
/**
 * Memories a keyword search reads into a scope being built: a large scope is read a page per search
 * (each answered by FTS5 meanwhile) and, in a process that has time between them, a page per turn
 * of its event loop (see {@link SqliteKeywordIndex.readMore}), so no search stalls for the whole
 * scope (about a second per 10,000 conversation turns) nor waits long behind a page.
 */
export const BUILD_ROWS_PER_SEARCH = 256;
const NO_ID = Buffer.alloc(0);
/** Pending postings past which they are filed into a segment while a scope is read (about 50 MB of numbers). */
const FLUSH_POSTINGS = 1 << 22;
/**
 * Postings of a query's terms from which {@link ScopeKeywords.top} ranks memory by memory with
 * MaxScore pruning instead of adding up every posting (the exhaustive sum is faster on short lists).
 */
export const PRUNED_MIN_POSTINGS = 65_536;
/** Relative margin on score bounds, far above the rounding of a sum of a few dozen terms. */
const BOUND_MARGIN = 1 + 1e-9;

/**
 * The keyword index of one scope-column value: each memory's FTS5 terms as postings, its row size (all
 * columns, as bm25() reads it), id and the mirrored filter columns. Postings are filed in segments
 * of compressed lists (see sqlite-keyword-postings), a segment per batch of memories taken in (a
 * scope being read files one every {@link FLUSH_POSTINGS} postings; each write's changes one), the
 * last two merged while the later is at least half the earlier, so a few segments hold them all. A
 * changed memory takes a new slot and its old one is marked dead; when dead slots pass an eighth of
 * all, the segments are merged into one without them and the slots renumbered.
 */
export class ScopeKeywords implements CachedColumns {
  readonly seqs: number[] = [];
  readonly ids: string[] = [];
  readonly scopeValues: Readonly<Record<ScopeColumn, (string | null)[]>> = { user_id: [], agent_id: [], run_id: [] };
  readonly expires: number[] = [];
  readonly types: (string | readonly string[] | null)[] = [];
  private sizes = new IntList();
  private alive = new IntList();
  private readonly slotBySeq = new SlotMap();
  private readonly interned = new Map<string, string>();
  /** Term to term number. */
  private readonly termIds = new Map<string, number>();
  private segments: Segment[] = [];
  /** Postings not yet filed in a segment (see put and seal), in slot order. */
  private pendingTerms = new IntList();
  private pendingSlots = new IntList();
  private pendingCounts = new IntList();
  private dead = 0;
  /** Dead slots as a Fenwick tree (slot + 1 indexed), so frequency() reads only the blocks that hold some. */
  private deadTree = new Int32Array(0);
  private accumulator = new Float64Array(0);
  private seen = new Uint8Array(0);

  constructor(
    readonly column: ScopeColumn,
    readonly value: string,
  ) {}

  /** Memories held. */
  get count(): number {
    return this.slotBySeq.size;
  }

  /** Bytes held, by the estimate of the constants above and the sizes of the typed arrays. */
  get bytes(): number {
    let segmentBytes = 0;
    for (const segment of this.segments) segmentBytes += segment.bytes;
    return (
      this.seqs.length * ROW_OVERHEAD_BYTES +
      segmentBytes +
      this.pendingTerms.values.length * PENDING_POSTING_BYTES +
      this.termIds.size * TERM_OVERHEAD_BYTES
    );
  }

  /** Postings filed, and their bytes (see sqlite-keyword-postings). */
  get postings(): { readonly count: number; readonly bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const segment of this.segments) {
      count += segment.postings;
      bytes += segment.data.byteLength;
    }
    return { count, bytes };
  }

  /**
   * Adds a memory (or replaces the one with its seq): its terms (see ftsTerms) as postings, pending
   * until {@link seal} (or filed when many are pending).
   * @throws {TokenCountError} when its terms are not as many as FTS5 counted in its text.
   */
  put(row: KeywordSourceRow): void {
    const terms = ftsTerms(row.text);
    if (terms.length !== textSize(row.sz)) throw new TokenCountError();
    this.remove(row.seq);
    const slot = this.seqs.length;
    this.slotBySeq.set(row.seq, slot);
    this.seqs.push(row.seq);
    // The sort key's bytes as a string, so ids compare as the key sorts (memcmp), whatever layout wrote it.
    this.ids.push(row.id_order.toString('latin1'));
    for (const column of SCOPE_COLUMN_NAMES) this.scopeValues[column].push(intern(this.interned, row[column]));
    this.expires.push(row.expires_at ?? Number.NaN);
    this.types.push(memoryTypeOf(row.memory_type));
    this.sizes.push(rowSize(row.sz));
    this.alive.push(1);
    // Where each term of this memory was pended: a term seen again is counted there.
    const pended = new Map<number, number>();
    for (const term of terms) {
      let id = this.termIds.get(term);
      if (id === undefined) this.termIds.set(term, (id = this.termIds.size));
      const at = pended.get(id);
      if (at !== undefined) this.pendingCounts.values[at]! += 1;
      else {
        pended.set(id, this.pendingTerms.length);
        this.pendingTerms.push(id);
        this.pendingSlots.push(slot);
        this.pendingCounts.push(1);
      }
    }
    if (this.pendingTerms.length >= FLUSH_POSTINGS) this.file();
  }

  /** Files the pending postings; then, when dead slots are an eighth of all, merges every segment without them. */
  seal(): void {
    this.file();
    if (this.dead * 8 >= this.seqs.length && this.dead > 0) this.compact();
  }

  /** Marks a memory's slot dead, if held. */
  remove(seq: number): void {
    const slot = this.slotBySeq.get(seq);
    if (slot < 0) return;
    this.slotBySeq.delete(seq);
    this.alive.values[slot] = 0;
    this.dead += 1;
    if (this.deadTree.length < this.seqs.length + 1) {
      // A Fenwick tree is not grown in place: build it again from the dead slots.
      this.deadTree = new Int32Array(Math.max(2 * this.seqs.length, 1024) + 1);
      for (let dead = 0; dead < this.seqs.length; dead++) if (this.alive.values[dead] === 0) this.markDead(dead);
    } else this.markDead(slot);
  }

  /** Counts a dead slot in the Fenwick tree of dead slots. */
  private markDead(slot: number): void {
    for (let index = slot + 1; index < this.deadTree.length; index += index & -index) this.deadTree[index]! += 1;
  }

  /** Dead slots below `slot`. */
  private deadBefore(slot: number): number {
    let count = 0;
    for (let index = Math.min(slot, this.deadTree.length - 1); index > 0; index -= index & -index) count += this.deadTree[index]!;
    return count;
  }

  /** How many live memories hold `term`. */
  frequency(term: string): number {
    const id = this.termIds.get(term);
    if (id === undefined) return 0;
    let count = 0;
    if (this.dead === 0) {
      for (const segment of this.segments) {
        const position = segment.find(id);
        if (position >= 0) count += segment.lengths[position]!;
      }
      return count;
    }
    const deadIn = (from: number, to: number) => this.deadBefore(to + 1) - this.deadBefore(from);
    for (const segment of this.segments) {
      const position = segment.find(id);
      if (position >= 0) count += livePostings(segment, position, this.alive.values, deadIn);
    }
    return count;
  }

  /**
   * The `topK` memories passing `test` that hold any of `terms`, best first, scored as FTS5's bm25()
   * scores them with the scope column weighing 0 (fts5_aux.c): for each query phrase in order,
   * idf × (f × (k1 + 1)) / (f + k1 × (1 − b + b × D / avgdl)), with f the term's count in the text, D
   * the row's tokens in all columns, summed in the phrases' order (the same double operations, so the
   * same score to the last bit). Ties go to the smaller id, as the store's order by (rank, id_order).
   * Lists of {@link PRUNED_MIN_POSTINGS} postings or more in all are ranked with pruning (see
   * {@link pruned}); `prunedFrom` sets that threshold (tests).
   */
  top(
    terms: readonly string[],
    idfs: readonly number[],
    averageLength: number,
    topK: number,
    test: CachedRowTest,
    prunedFrom = PRUNED_MIN_POSTINGS,
  ): KeywordMatch[] {
    const ids = terms.map((term) => this.termIds.get(term) ?? -1);
    let postings = 0;
    for (const id of new Set(ids)) {
      if (id < 0) continue;
      for (const segment of this.segments) {
        const position = segment.find(id);
        if (position >= 0) postings += segment.lengths[position]!;
      }
    }
    if (postings === 0 || topK === 0) return [];
    const slots =
      postings >= prunedFrom ? this.pruned(ids, idfs, averageLength, topK, test) : this.exhaustive(ids, idfs, averageLength, topK, test);
    return slots.map(({ slot, score }) => ({ seq: this.seqs[slot]!, score }));
  }

  /** {@link top} adding up every posting of the query's terms, phrase by phrase. */
  private exhaustive(ids: readonly number[], idfs: readonly number[], averageLength: number, topK: number, test: CachedRowTest) {
    const slotCount = this.seqs.length;
    if (this.accumulator.length < slotCount) {
      this.accumulator = new Float64Array(Math.max(slotCount, this.accumulator.length * 2));
      this.seen = new Uint8Array(this.accumulator.length);
    }
    const scores = this.accumulator;
    const seen = this.seen;
    const alive = this.alive.values;
    const sizes = this.sizes.values;
    const touched = new IntList();
    for (let phrase = 0; phrase < ids.length; phrase++) {
      const id = ids[phrase]!;
      if (id < 0) continue;
      const idf = idfs[phrase]!;
      for (const cursor = new PostingCursor(this.segments, id); cursor.slot !== DONE; cursor.next()) {
        const slot = cursor.slot;
        if (alive[slot] === 0) continue;
        const part = idf * ((cursor.count * (K1 + 1.0)) / (cursor.count + K1 * (1 - B + (B * sizes[slot]!) / averageLength)));
        if (seen[slot] === 0) {
          seen[slot] = 1;
          touched.push(slot);
          scores[slot] = 0 + part;
        } else {
          scores[slot]! += part;
        }
      }
    }
    const heap = new TopHeap(Math.min(topK, touched.length), this.ids);
    for (let index = 0; index < touched.length; index++) {
      const slot = touched.values[index]!;
      seen[slot] = 0;
      const score = scores[slot]!;
      if (heap.admits(score, slot) && test(this, slot)) heap.push(score, slot);
    }
    return heap.sorted();
  }

  /**
   * {@link top} memory by memory with MaxScore pruning (Turtle and Flood): the query's terms sorted by
   * the most each can add (its bound: idf × the bm25 part of its highest count in its smallest
   * memory, with a margin), the terms whose bounds add up to less than the worst score held cannot
   * bring a memory in on their own, so only the others' postings propose memories, and the rest are
   * looked up (skipping blocks) only while the memory can still reach the worst score held. Each
   * memory proposed is scored exactly as {@link exhaustive} scores it, phrase by phrase.
   */
  private pruned(ids: readonly number[], idfs: readonly number[], averageLength: number, topK: number, test: CachedRowTest) {
    const alive = this.alive.values;
    const sizes = this.sizes.values;
    // The distinct terms held, each with its bound over all its phrases.
    const distinct = [...new Set(ids.filter((id) => id >= 0))];
    // Per distinct term: its phrases' idfs added up (a memory's part of the term is about this × the bm25 factor).
    const idfSums = distinct.map((id) => ids.reduce((sum, phraseId, phrase) => (phraseId === id ? sum + idfs[phrase]! : sum), 0));
    const bounds = distinct.map((id, index) => {
      let maxCount = 0;
      let minSize = Number.POSITIVE_INFINITY;
      let unbounded = false;
      for (const segment of this.segments) {
        if (segment.find(id) < 0) continue;
        const skips = segment.skips.get(id);
        if (skips === undefined) unbounded = true;
        else {
          maxCount = Math.max(maxCount, skips.maxCount);
          minSize = Math.min(minSize, skips.minSize);
        }
      }
      // Short lists carry no bounds: the part's limit as the count grows, idf × (k1 + 1).
      const most = unbounded ? K1 + 1.0 : (maxCount * (K1 + 1.0)) / (maxCount + K1 * (1 - B + (B * minSize) / averageLength));
      return idfSums[index]! * most * BOUND_MARGIN;
    });
    const order = distinct.map((_, index) => index).sort((a, b) => bounds[a]! - bounds[b]!);
    const cursors = order.map((index) => new PostingCursor(this.segments, distinct[index]!));
    // upTo[i]: the bounds of the terms 0..i (in order) added up.
    const upTo = new Float64Array(order.length);
    order.forEach((index, position) => {
      upTo[position] = (position === 0 ? 0 : upTo[position - 1]!) + bounds[index]!;
    });
    // The count of each distinct term in the memory scored (0: not in it), by distinct index.
    const counts = new Int32Array(distinct.length);
    const phraseIndex = ids.map((id) => distinct.indexOf(id));
    const heap = new TopHeap(Math.min(topK, this.seqs.length), this.ids);
    let threshold = Number.NEGATIVE_INFINITY;
    // Terms before `essential` cannot bring a memory in on their own.
    let essential = 0;
    for (;;) {
      let slot = DONE;
      for (let position = essential; position < cursors.length; position++) {
        if (cursors[position]!.slot < slot) slot = cursors[position]!.slot;
      }
      if (slot === DONE) break;
      counts.fill(0);
      const size = sizes[slot]!;
      const norm = K1 * (1 - B + (B * size) / averageLength);
      // About the score of the memory so far (a little above it), then what the terms not looked up can add.
      let reach = 0;
      for (let position = essential; position < cursors.length; position++) {
        const cursor = cursors[position]!;
        if (cursor.slot !== slot) continue;
        counts[order[position]!] = cursor.count;
        reach += idfSums[order[position]!]! * ((cursor.count * (K1 + 1.0)) / (cursor.count + norm)) * BOUND_MARGIN;
        cursor.next();
      }
      let possible = alive[slot] !== 0;
      for (let position = essential - 1; position >= 0 && possible; position--) {
        if (reach + upTo[position]! < threshold) {
          possible = false;
          break;
        }
        const cursor = cursors[position]!;
        cursor.seek(slot);
        if (cursor.slot === slot) {
          counts[order[position]!] = cursor.count;
          reach += idfSums[order[position]!]! * ((cursor.count * (K1 + 1.0)) / (cursor.count + norm)) * BOUND_MARGIN;
        }
      }
      if (!possible) continue;
      let score = 0;
      let first = true;
      for (let phrase = 0; phrase < ids.length; phrase++) {
        if (ids[phrase]! < 0) continue;
        const count = counts[phraseIndex[phrase]!]!;
        if (count === 0) continue;
        const part = idfs[phrase]! * ((count * (K1 + 1.0)) / (count + K1 * (1 - B + (B * size) / averageLength)));
        if (first) {
          score = 0 + part;
          first = false;
        } else score += part;
      }
      if (!heap.admits(score, slot) || !test(this, slot)) continue;
      heap.push(score, slot);
      threshold = heap.floor;
      while (essential < cursors.length && upTo[essential]! < threshold) essential += 1;
    }
    return heap.sorted();
  }

  /** Files the pending postings in a new segment and merges the last two while the later is at least half the earlier. */
  private file(): void {
    if (this.pendingTerms.length > 0) {
      const length = this.pendingTerms.length;
      const terms = this.pendingTerms.values;
      // The pending postings by term, in slot order within a term: a counting sort when many.
      let sorted: Int32Array;
      if (length < 65_536) {
        sorted = new Int32Array(length);
        for (let index = 0; index < length; index++) sorted[index] = index;
        sorted.sort((a, b) => terms[a]! - terms[b]! || a - b);
      } else {
        const next = new Int32Array(this.termIds.size + 1);
        for (let index = 0; index < length; index++) next[terms[index]! + 1]! += 1;
        for (let term = 0; term < this.termIds.size; term++) next[term + 1] = next[term + 1]! + next[term]!;
        sorted = new Int32Array(length);
        for (let index = 0; index < length; index++) sorted[next[terms[index]!]!++] = index;
      }
      const writer = new SegmentWriter(this.sizes.values, length * 3);
      let term = -1;
      for (let index = 0; index < length; index++) {
        const from = sorted[index]!;
        if (terms[from] !== term) {
          if (term >= 0) writer.end();
          term = terms[from]!;
          writer.begin(term);
        }
        writer.add(this.pendingSlots.values[from]!, this.pendingCounts.values[from]!);
      }
      writer.end();
      this.segments.push(writer.finish());
      this.pendingTerms = new IntList();
      this.pendingSlots = new IntList();
      this.pendingCounts = new IntList();
    }
    const segments = this.segments;
    // Segments of a scope's read (FLUSH_POSTINGS each) are left as they are: merging them would stall
    // a search for as long as it takes to read them all again, and searches read a few dozen just as fast.
    while (
      segments.length >= 2 &&
      segments[segments.length - 2]!.postings < FLUSH_POSTINGS &&
      segments[segments.length - 1]!.postings * 2 >= segments[segments.length - 2]!.postings
    ) {
      const later = segments.pop()!;
      const earlier = segments.pop()!;
      segments.push(mergeSegments([earlier, later], this.sizes.values));
    }
  }

  /** Merges every segment into one without the dead slots, the live ones renumbered in order. */
  private compact(): void {
    const moved = new Int32Array(this.seqs.length).fill(-1);
    const alive = this.alive.values;
    let next = 0;
    for (let slot = 0; slot < this.seqs.length; slot++) {
      if (alive[slot] === 0) continue;
      moved[slot] = next;
      this.seqs[next] = this.seqs[slot]!;
      this.ids[next] = this.ids[slot]!;
      for (const column of SCOPE_COLUMN_NAMES) this.scopeValues[column][next] = this.scopeValues[column][slot]!;
      this.expires[next] = this.expires[slot]!;
      this.types[next] = this.types[slot]!;
      this.sizes.values[next] = this.sizes.values[slot]!;
      alive[next] = 1;
      this.slotBySeq.set(this.seqs[next]!, next);
      next += 1;
    }
    for (const array of [this.seqs, this.ids, this.expires, this.types]) array.length = next;
    for (const column of SCOPE_COLUMN_NAMES) this.scopeValues[column].length = next;
    this.sizes.length = next;
    this.alive.length = next;
    this.segments = this.segments.length === 0 ? [] : [mergeSegments(this.segments, this.sizes.values, moved)];
    this.dead = 0;
    this.deadTree = new Int32Array(0);
  }
}

/** Seq to slot: an open-addressing hash table in typed arrays (a Map of a million entries costs about 50 bytes each). */
class SlotMap {
  private keys = new Float64Array(16).fill(Number.NEGATIVE_INFINITY);
  private values = new Int32Array(16);
  size = 0;

  get bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  /** The slot of `seq`, or -1. */
  get(seq: number): number {
    const mask = this.keys.length - 1;
    for (let index = hashOf(seq) & mask; ; index = (index + 1) & mask) {
      const key = this.keys[index]!;
      if (key === seq) return this.values[index]!;
      if (key === Number.NEGATIVE_INFINITY) return -1;
    }
  }

  set(seq: number, slot: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let index = hashOf(seq) & mask; ; index = (index + 1) & mask) {
      const key = this.keys[index]!;
      if (key === seq || key === Number.NEGATIVE_INFINITY) {
        if (key !== seq) this.size += 1;
        this.keys[index] = seq;
        this.values[index] = slot;
        return;
      }
    }
  }

  delete(seq: number): void {
    const mask = this.keys.length - 1;
    let index = hashOf(seq) & mask;
    while (this.keys[index] !== seq) {
      if (this.keys[index] === Number.NEGATIVE_INFINITY) return;
      index = (index + 1) & mask;
    }
    this.size -= 1;
    // Shift back the entries after it that it may have pushed on (linear probing without tombstones).
    for (let next = (index + 1) & mask; this.keys[next] !== Number.NEGATIVE_INFINITY; next = (next + 1) & mask) {
      // An entry as far from its home as from the hole, or farther, may fill the hole.
      const home = hashOf(this.keys[next]!) & mask;
      if (((next - home) & mask) >= ((next - index) & mask)) {
        this.keys[index] = this.keys[next]!;
        this.values[index] = this.values[next]!;
        index = next;
      }
    }
    this.keys[index] = Number.NEGATIVE_INFINITY;
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    this.keys = new Float64Array(keys.length * 2).fill(Number.NEGATIVE_INFINITY);
    this.values = new Int32Array(keys.length * 2);
    this.size = 0;
    for (let index = 0; index < keys.length; index++) if (keys[index] !== Number.NEGATIVE_INFINITY) this.set(keys[index]!, values[index]!);
  }
}

/** A hash of an integer seq (up to 2^53). */
function hashOf(seq: number): number {
  return Math.imul((seq | 0) ^ ((seq / 4294967296) | 0), 0x9e3779b1) ^ (seq >>> 16);
}

/**
 * The keyword indexes of the scopes keyword-searched lately, kept in step with the file through the
 * vector cache's change log (`<table>_changes`): before each use the index reads the log's bounds and
 * re-reads the memories changed since the version it reflects (or drops everything when the log was
 * pruned past it or the schema changed), all inside the caller's read transaction. Scopes are
 * evicted least recently used first past `budgetBytes`.
 */
export class SqliteKeywordIndex {
  private readonly entries = new Map<string, ScopeKeywords>();
  /** Scopes being read, a page per search (see BUILD_ROWS_PER_SEARCH) or idle turn (see readMore), and the last id_order read. */
  private readonly building = new Map<string, { readonly entry: ScopeKeywords; after: Buffer }>();
  private readonly oversized = new Set<string>();
  private readonly seen = new Set<string>();
  /** Where the held scopes stand in the change log. */
  private readonly log = new ChangeLogCursor();
  private bytes = 0;

  constructor(readonly budgetBytes: number) {}

  get heldBytes(): number {
    return this.bytes;
  }

  /** Whether a scope is being read (see {@link readMore}). */
  get reading(): boolean {
    return this.building.size > 0;
  }

  /** What the index holds: scopes, their estimated bytes, and their postings (count and compressed bytes). */
  get state(): KeywordIndexState {
    let postings = 0;
    let postingBytes = 0;
    for (const entry of this.entries.values()) {
      postings += entry.postings.count;
      postingBytes += entry.postings.bytes;
    }
    return { scopes: this.entries.size, bytes: this.bytes, postings, postingBytes, reading: this.reading };
  }

  /**
   * Reads the next `rows` memories of the scope being read that was searched last, after bringing
   * the index up to the caller's snapshot (inside the caller's read transaction).
   * @returns whether a scope is still being read.
   */
  readMore(source: KeywordIndexSource, rows: number): boolean {
    this.synchronise(source);
    let last: [string, { readonly entry: ScopeKeywords; after: Buffer }] | undefined;
    for (const building of this.building) last = building;
    if (last !== undefined) this.continueBuilding(source, last[0], last[1], rows);
    return this.reading;
  }

  /** Stops reading every scope being read (their next search starts again). */
  stopReading(): void {
    this.building.clear();
  }

  get scopeCount(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.building.clear();
    this.oversized.clear();
    this.bytes = 0;
    this.log.reset();
  }

  /**
   * The held scope of `value` in `column`, up to date with the caller's snapshot; read from its second
   * keyword search on, {@link BUILD_ROWS_PER_SEARCH} memories per search. `undefined` when not served
   * (first search, still being read, no change log, larger than the budget).
   */
  scope(source: KeywordIndexSource, column: ScopeColumn, value: string): ScopeKeywords | undefined {
    this.synchronise(source);
    if (!this.log.usable) return undefined;
    const key = `${column}\u0000${value}`;
    const held = this.entries.get(key);
    if (held !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, held);
      return held;
    }
    const building = this.building.get(key);
    if (building !== undefined) {
      // The last searched is read first between searches.
      this.building.delete(key);
      this.building.set(key, building);
      return this.continueBuilding(source, key, building, BUILD_ROWS_PER_SEARCH);
    }
    if (this.oversized.has(key)) return undefined;
    if (!this.seen.has(key)) {
      if (this.seen.size >= MAX_SEEN_SCOPES) this.seen.clear();
      this.seen.add(key);
      return undefined;
    }
    this.seen.delete(key);
    const rows = source.countScope(column, value);
    const needed = rows * (ROW_OVERHEAD_BYTES + ESTIMATED_POSTINGS_PER_ROW * POSTING_BYTES);
    if (needed > this.budgetBytes) {
      this.oversized.add(key);
      return undefined;
    }
    for (const oldest of this.entries.keys()) {
      if (this.bytes + needed <= this.budgetBytes) break;
      this.evict(oldest);
    }
    const state = { entry: new ScopeKeywords(column, value), after: NO_ID };
    this.building.set(key, state);
    return this.continueBuilding(source, key, state, BUILD_ROWS_PER_SEARCH);
  }

  /** Reads the next page of a scope being built; the scope when that was its last page. */
  private continueBuilding(
    source: KeywordIndexSource,
    key: string,
    state: { readonly entry: ScopeKeywords; after: Buffer },
    rows: number,
  ): ScopeKeywords | undefined {
    const { entry } = state;
    try {
      const page = source.scopePage(entry.column, entry.value, state.after, rows);
      learnCharacters(
        page.map((row) => row.text),
        source.probe,
      );
      for (const row of page) entry.put(row);
      if (page.length === rows) {
        state.after = page[page.length - 1]!.id_order;
        return undefined;
      }
      entry.seal();
    } catch (error) {
      if (!(error instanceof TokenCountError)) throw error;
      // A text this tokenizer reads otherwise than FTS5: the scope is ranked by FTS5.
      this.building.delete(key);
      this.oversized.add(key);
      return undefined;
    }
    this.building.delete(key);
    if (entry.bytes > this.budgetBytes) {
      this.oversized.add(key);
      return undefined;
    }
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.budgetBytes || oldest === key) break;
      this.evict(oldest);
    }
    return entry;
  }

  private synchronise(source: KeywordIndexSource): void {
    const applied = this.log.follow<ScopeKeywords, KeywordSourceRow>(source, {
      clear: () => this.clear(),
      holdsAny: () => this.entries.size > 0 || this.building.size > 0,
      dropScopes: () => this.dropScopes(),
      held: (key) => this.entries.get(key) ?? this.building.get(key)?.entry,
      apply: (touched, rows) => {
        learnCharacters(
          rows.map((row) => row.text),
          source.probe,
        );
        const current = new Map(rows.map((row) => [row.seq, row]));
        for (const [entry, changed] of touched) {
          const key = `${entry.column}\u0000${entry.value}`;
          // A scope being read takes the changes too; its postings stay pending until its last page.
          const built = this.entries.get(key) === entry;
          const before = entry.bytes;
          try {
            replay(entry, changed, current);
          } catch (error) {
            if (!(error instanceof TokenCountError)) throw error;
            if (built) this.bytes -= before;
            this.entries.delete(key);
            this.building.delete(key);
            this.oversized.add(key);
            continue;
          }
          if (!built) continue;
          entry.seal();
          this.bytes += entry.bytes - before;
        }
      },
    });
    if (!applied) return;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.budgetBytes) break;
      this.evict(oldest);
    }
  }

  private dropScopes(): void {
    this.entries.clear();
    this.building.clear();
    this.oversized.clear();
    this.bytes = 0;
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/**
 * The inverse document frequency bm25() gives a term found in `frequency` of `rows` rows:
 * ln((N − n + 0.5) / (n + 0.5)), floored at 1e-6 (fts5_aux.c). `logs` must be SQLite's ln(), so the
 * value is FTS5's to the last bit.
 */
export function inverseFrequencies(
  rows: number,
  frequencies: readonly number[],
  logs: (values: readonly number[]) => readonly number[],
): number[] {
  const values = logs(frequencies.map((hits) => (rows - hits + 0.5) / (hits + 0.5)));
  return values.map((idf) => (idf <= 0.0 ? 1e-6 : idf));
}

/** Thrown when a text's terms are not as many as FTS5 counted in it (see ScopeKeywords.put). */
class TokenCountError extends Error {}

/** The token count of the row's text column: the first varint of its size record. */
function textSize(sz: Buffer | null): number {
  return sz === null ? 0 : (varints(sz)[0] ?? 0);
}

/** The unsigned SQLite varints in `bytes`, one after another. */
export function varints(bytes: Buffer): number[] {
  const values: number[] = [];
  let index = 0;
  while (index < bytes.length) {
    let value = 0;
    for (let byteIndex = 0; byteIndex < 9 && index < bytes.length; byteIndex++) {
      const byte = bytes[index++]!;
      if (byteIndex === 8) {
        value = value * 256 + byte;
        break;
      }
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) break;
    }
    values.push(value);
  }
  return values;
}

/** The row's token count over all columns (FTS5's xColumnSize(-1)): the sum of the varints of its size record. */
function rowSize(sz: Buffer | null): number {
  return sz === null ? 0 : varints(sz).reduce((sum, value) => sum + value, 0);
}
