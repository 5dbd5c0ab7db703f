import { ChangeLogCursor, replay, SCOPE_COLUMN_NAMES, type ChangeLogSource } from './sqlite-change-log';
import { ftsTerms, learnCharacters, type CharacterProbe } from './sqlite-fts-tokenizer';
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

/** A scored memory of a held scope: its seq and its BM25 relevance (FTS5's bm25() negated). */
export interface KeywordMatch {
  readonly seq: number;
  readonly score: number;
}

/** Bytes a held memory costs beside its postings: seq, id string, scope and filter columns, maps. */
const ROW_OVERHEAD_BYTES = 600;
/** Bytes a posting of the block costs: its slot and its count. */
const POSTING_BYTES = 8;
/** Bytes a posting added since the block was built costs (two numbers of a JavaScript array). */
const ADDED_POSTING_BYTES = 16;
/** Bytes a distinct term costs: the string and its map entry. */
const TERM_OVERHEAD_BYTES = 120;
/** Postings of a scope per memory, for the budget check before reading a scope (measured on LongMemEval turns: about 80). */
const ESTIMATED_POSTINGS_PER_ROW = 100;
const MAX_SEEN_SCOPES = 100_000;
/**
 * Memories a keyword search reads into a scope being built: a large scope is read over several
 * searches (each answered by FTS5 meanwhile), so no search stalls for the whole scope (about a
 * second per 10,000 conversation turns).
 */
export const BUILD_ROWS_PER_SEARCH = 2048;
const NO_ID = Buffer.alloc(0);

/** A growable Int32Array. */
class IntList {
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

/**
 * The keyword index of one scope-column value: each memory's FTS5 terms as postings, its row size (all
 * columns, as bm25() reads it), id and the mirrored filter columns. Postings sit in one block per
 * index (compressed sparse rows: for term t, slots and counts from `starts[t]` to `starts[t + 1]`,
 * in slot order), built when the scope is read; memories written later add theirs to a small list
 * per term (`added`). A changed memory takes a new slot and its old one is marked dead; when dead
 * slots or added postings pass an eighth of the whole, the block is built again from what is alive.
 */
export class ScopeKeywords implements CachedColumns {
  readonly seqs: number[] = [];
  readonly ids: string[] = [];
  readonly scopeValues: Readonly<Record<ScopeColumn, (string | null)[]>> = { user_id: [], agent_id: [], run_id: [] };
  readonly expires: number[] = [];
  readonly types: (string | readonly string[] | null)[] = [];
  private sizes: number[] = [];
  private alive: boolean[] = [];
  private readonly slotBySeq = new Map<number, number>();
  /** Term to term number. */
  private readonly termIds = new Map<string, number>();
  /** The block: postings of terms 0 to starts.length - 2. */
  private starts = new Int32Array(1);
  private blockSlots = new Int32Array(0);
  private blockCounts = new Int32Array(0);
  /** Postings added since the block was built, per term: slot, count, slot, count, … */
  private added = new Map<number, number[]>();
  private addedCount = 0;
  /** Postings not yet in the block or `added` (see put and seal). */
  private pendingTerms = new IntList();
  private pendingSlots = new IntList();
  private pendingCounts = new IntList();
  /** Per term: the last slot a posting was pended for, and where (see put). */
  private readonly lastSlot: number[] = [];
  private readonly lastIndex: number[] = [];
  private dead = 0;
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

  /** Bytes held, by the estimate of the constants above. */
  get bytes(): number {
    return (
      this.seqs.length * ROW_OVERHEAD_BYTES +
      (this.blockSlots.length + this.pendingSlots.length) * POSTING_BYTES +
      this.addedCount * ADDED_POSTING_BYTES +
      this.termIds.size * TERM_OVERHEAD_BYTES
    );
  }

  /**
   * Adds a memory (or replaces the one with its seq): its terms (see ftsTerms) as postings, pending
   * until {@link seal}.
   * @throws {TokenCountError} when its terms are not as many as FTS5 counted in its text.
   */
  put(row: KeywordSourceRow): void {
    this.remove(row.seq);
    const terms = ftsTerms(row.text);
    if (terms.length !== textSize(row.sz)) throw new TokenCountError();
    const slot = this.seqs.length;
    this.slotBySeq.set(row.seq, slot);
    this.seqs.push(row.seq);
    this.ids.push(row.id_order.toString('latin1'));
    for (const column of SCOPE_COLUMN_NAMES) this.scopeValues[column].push(row[column]);
    this.expires.push(row.expires_at ?? Number.NaN);
    this.types.push(memoryTypeOf(row.memory_type));
    this.sizes.push(rowSize(row.sz));
    this.alive.push(true);
    for (const term of terms) {
      let id = this.termIds.get(term);
      if (id === undefined) {
        this.termIds.set(term, (id = this.termIds.size));
        this.lastSlot.push(-1);
        this.lastIndex.push(-1);
      }
      if (this.lastSlot[id] === slot) {
        // A term seen before in this memory: count it there.
        this.pendingCounts.values[this.lastIndex[id]!]! += 1;
      } else {
        this.lastSlot[id] = slot;
        this.lastIndex[id] = this.pendingTerms.length;
        this.pendingTerms.push(id);
        this.pendingSlots.push(slot);
        this.pendingCounts.push(1);
      }
    }
  }

  /**
   * Files the pending postings: into a new block when none is built yet (a scope just read), else
   * into `added`; then builds the block again if dead slots or added postings are an eighth of all.
   */
  seal(): void {
    if (this.blockSlots.length === 0 && this.addedCount === 0) {
      this.build();
      return;
    }
    const terms = this.pendingTerms.values;
    for (let index = 0; index < this.pendingTerms.length; index++) {
      const id = terms[index]!;
      let list = this.added.get(id);
      if (list === undefined) this.added.set(id, (list = []));
      list.push(this.pendingSlots.values[index]!, this.pendingCounts.values[index]!);
    }
    this.addedCount += this.pendingTerms.length;
    this.clearPending();
    const whole = this.blockSlots.length + this.addedCount;
    if (this.dead * 8 >= this.seqs.length || this.addedCount * 8 >= whole) this.rebuild();
  }

  /** Marks a memory's slot dead, if held. */
  remove(seq: number): void {
    const slot = this.slotBySeq.get(seq);
    if (slot === undefined) return;
    this.slotBySeq.delete(seq);
    this.alive[slot] = false;
    this.dead += 1;
  }

  /** How many live memories hold `term`. */
  frequency(term: string): number {
    const id = this.termIds.get(term);
    if (id === undefined) return 0;
    if (this.dead === 0) {
      const inBlock = id + 1 < this.starts.length ? this.starts[id + 1]! - this.starts[id]! : 0;
      return inBlock + (this.added.get(id)?.length ?? 0) / 2;
    }
    let count = 0;
    this.forPostings(id, (slot) => {
      if (this.alive[slot]) count += 1;
    });
    return count;
  }

  /**
   * The `topK` memories passing `test` that hold any of `terms`, best first, scored as FTS5's bm25()
   * scores them with the scope column weighing 0 (fts5_aux.c): for each query phrase in order,
   * idf × (f × (k1 + 1)) / (f + k1 × (1 − b + b × D / avgdl)), with f the term's count in the text, D
   * the row's tokens in all columns, summed in the phrases' order (the same double operations, so the
   * same score to the last bit). Ties go to the smaller id, as the store's order by (rank, id_order).
   */
  top(terms: readonly string[], idfs: readonly number[], averageLength: number, topK: number, test: CachedRowTest): KeywordMatch[] {
    const slotCount = this.seqs.length;
    if (this.accumulator.length < slotCount) {
      this.accumulator = new Float64Array(Math.max(slotCount, this.accumulator.length * 2));
      this.seen = new Uint8Array(this.accumulator.length);
    }
    const scores = this.accumulator;
    const seen = this.seen;
    const touched: number[] = [];
    for (let phrase = 0; phrase < terms.length; phrase++) {
      const id = this.termIds.get(terms[phrase]!);
      if (id === undefined) continue;
      const idf = idfs[phrase]!;
      this.forPostings(id, (slot, frequency) => {
        if (!this.alive[slot]) return;
        const size = this.sizes[slot]!;
        const part = idf * ((frequency * (K1 + 1.0)) / (frequency + K1 * (1 - B + (B * size) / averageLength)));
        if (seen[slot] === 0) {
          seen[slot] = 1;
          touched.push(slot);
          scores[slot] = 0 + part;
        } else {
          scores[slot]! += part;
        }
      });
    }
    const heap = new TopHeap(Math.min(topK, touched.length), this.ids);
    for (const slot of touched) {
      seen[slot] = 0;
      const score = scores[slot]!;
      if (heap.admits(score, slot) && test(this, slot)) heap.push(score, slot);
    }
    return heap.sorted().map(({ slot, score }) => ({ seq: this.seqs[slot]!, score }));
  }

  /** Calls `visit` with each posting of term `id` (slot, count): the block's, then the added ones. */
  private forPostings(id: number, visit: (slot: number, count: number) => void): void {
    if (id + 1 < this.starts.length) {
      const slots = this.blockSlots;
      const counts = this.blockCounts;
      for (let index = this.starts[id]!, end = this.starts[id + 1]!; index < end; index++) visit(slots[index]!, counts[index]!);
    }
    const list = this.added.get(id);
    if (list !== undefined) for (let index = 0; index < list.length; index += 2) visit(list[index]!, list[index + 1]!);
  }

  /** Builds the block from the pending postings (a scope just read: no block, nothing added). */
  private build(): void {
    const termCount = this.termIds.size;
    const starts = new Int32Array(termCount + 1);
    const terms = this.pendingTerms.values;
    const length = this.pendingTerms.length;
    for (let index = 0; index < length; index++) starts[terms[index]! + 1]! += 1;
    for (let id = 0; id < termCount; id++) starts[id + 1] = starts[id + 1]! + starts[id]!;
    const next = starts.slice(0, termCount);
    const slots = new Int32Array(length);
    const counts = new Int32Array(length);
    for (let index = 0; index < length; index++) {
      const at = next[terms[index]!]!++;
      slots[at] = this.pendingSlots.values[index]!;
      counts[at] = this.pendingCounts.values[index]!;
    }
    this.starts = starts;
    this.blockSlots = slots;
    this.blockCounts = counts;
    this.clearPending();
  }

  /** Builds the block again from the live memories (dead slots dropped, slots renumbered, added postings merged). */
  private rebuild(): void {
    const moved = new Int32Array(this.seqs.length).fill(-1);
    let next = 0;
    for (let slot = 0; slot < this.seqs.length; slot++) {
      if (!this.alive[slot]) continue;
      moved[slot] = next;
      this.seqs[next] = this.seqs[slot]!;
      this.ids[next] = this.ids[slot]!;
      for (const column of SCOPE_COLUMN_NAMES) this.scopeValues[column][next] = this.scopeValues[column][slot]!;
      this.expires[next] = this.expires[slot]!;
      this.types[next] = this.types[slot]!;
      this.sizes[next] = this.sizes[slot]!;
      this.alive[next] = true;
      this.slotBySeq.set(this.seqs[next]!, next);
      next += 1;
    }
    for (const array of [this.seqs, this.ids, this.expires, this.types, this.sizes, this.alive]) array.length = next;
    for (const column of SCOPE_COLUMN_NAMES) this.scopeValues[column].length = next;
    // Every live posting, term by term, in slot order (slots only grow in `added`).
    for (let id = 0; id < this.termIds.size; id++) {
      this.forPostings(id, (slot, count) => {
        const to = moved[slot]!;
        if (to < 0) return;
        this.pendingTerms.push(id);
        this.pendingSlots.push(to);
        this.pendingCounts.push(count);
      });
    }
    this.added = new Map();
    this.addedCount = 0;
    this.dead = 0;
    // Slots were renumbered: a term's last slot must not match a new memory's.
    this.lastSlot.fill(-1);
    this.build();
  }

  private clearPending(): void {
    this.pendingTerms = new IntList();
    this.pendingSlots = new IntList();
    this.pendingCounts = new IntList();
  }
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
  /** Scopes being read, a page per search (see BUILD_ROWS_PER_SEARCH), and the last id_order read. */
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
    if (building !== undefined) return this.continueBuilding(source, key, building);
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
    return this.continueBuilding(source, key, state);
  }

  /** Reads the next page of a scope being built; the scope when that was its last page. */
  private continueBuilding(
    source: KeywordIndexSource,
    key: string,
    state: { readonly entry: ScopeKeywords; after: Buffer },
  ): ScopeKeywords | undefined {
    const { entry } = state;
    try {
      const page = source.scopePage(entry.column, entry.value, state.after, BUILD_ROWS_PER_SEARCH);
      learnCharacters(
        page.map((row) => row.text),
        source.probe,
      );
      for (const row of page) entry.put(row);
      if (page.length === BUILD_ROWS_PER_SEARCH) {
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
