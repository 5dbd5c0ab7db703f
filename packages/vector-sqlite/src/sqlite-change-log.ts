import type { CacheChange, ScopeColumn } from './sqlite-vector-cache';

/** The scope columns of the memories table, in the change log's order. */
export const SCOPE_COLUMN_NAMES: readonly ScopeColumn[] = ['user_id', 'agent_id', 'run_id'];

/** More changes than this at once drop the held scopes instead of applying them. */
export const MAX_APPLIED_CHANGES = 20_000;

/** What following the change log reads from the file, inside one read transaction the caller holds. */
export interface ChangeLogSource<Row extends ChangedRow> {
  /**
   * The identity of the store's own schema: its tables, indexes and triggers created or dropped, by
   * any connection, change it; other tables of the file do not (see SqliteVectorStore.tableSchema).
   */
  schemaVersion(): string;
  /** Whether the change log and all its triggers are in the file (a file of an older version may lack them). */
  hasChangeLog(): boolean;
  /** The lowest and highest version in the change log (both 0 when it is empty). */
  logBounds(): { readonly first: number; readonly last: number };
  /** The log rows after `version`, in version order. */
  changesSince(version: number): readonly CacheChange[];
  /** The current rows of these memories (missing ones left out). */
  rowsBySeq(seqs: readonly number[]): readonly Row[];
}

/** A memory row as the change log's followers read it: its key and its scope. */
export type ChangedRow = { readonly seq: number } & Readonly<Record<ScopeColumn, string | null>>;

/** A held scope: the memories with `value` in `column`, which a changed memory joins (put) or leaves (remove). */
export interface FollowedScope<Row extends ChangedRow> {
  readonly column: ScopeColumn;
  readonly value: string;
  put(row: Row): void;
  remove(seq: number): void;
}

/** What a holder of scopes does as the change log is followed (see {@link ChangeLogCursor.follow}). */
export interface ScopeHolder<Entry extends FollowedScope<Row>, Row extends ChangedRow> {
  /** The schema changed: forget every scope and where the log was followed to (see ChangeLogCursor.reset). */
  clear(): void;
  /** Called when the schema was read again (after clear), with whether the file has the change log. */
  schemaRead?(usable: boolean): void;
  /** Whether any scope is held (nothing held: the log is not read, only its last version taken). */
  holdsAny(): boolean;
  /** Drops the held scopes: the log no longer holds every change since the version followed. */
  dropScopes(): void;
  /** The held scope of this key (`column + "\0" + value`), if any. */
  held(key: string): Entry | undefined;
  /** Brings each touched scope up to date with the current rows of its changed memories (see {@link replay}). */
  apply(touched: ReadonlyMap<Entry, ReadonlySet<number>>, rows: readonly Row[]): void;
}

/**
 * Where a holder of scopes (the vector cache, the keyword index) stands in the change log
 * (`<table>_changes`): the version its scopes reflect and the schema it read them under.
 */
export class ChangeLogCursor {
  version: number | undefined;
  schemaVersion: string | undefined;
  /** Whether the file has the change log (read again when the schema changes). */
  usable = false;

  reset(): void {
    this.version = undefined;
    this.schemaVersion = undefined;
  }

  /**
   * Brings the holder's scopes to the caller's snapshot: when the schema changed, everything is
   * cleared; when nothing is held, the log was pruned past the version followed, or more than
   * {@link MAX_APPLIED_CHANGES} changes wait, the scopes are dropped; else the memories changed
   * since are read again and handed to the scopes that held them before or hold them now.
   * @returns whether changes were applied (the holder may then need to evict past its budget).
   */
  follow<Entry extends FollowedScope<Row>, Row extends ChangedRow>(source: ChangeLogSource<Row>, holder: ScopeHolder<Entry, Row>): boolean {
    const schemaVersion = source.schemaVersion();
    if (schemaVersion !== this.schemaVersion) {
      holder.clear();
      this.schemaVersion = schemaVersion;
      this.usable = source.hasChangeLog();
      holder.schemaRead?.(this.usable);
    }
    if (!this.usable) return false;
    const { first, last } = source.logBounds();
    if (
      this.version === undefined ||
      !holder.holdsAny() ||
      this.version > last ||
      (this.version < first - 1 && first > 0) ||
      last - this.version > MAX_APPLIED_CHANGES
    ) {
      // Nothing held, or the log no longer holds every change since the version held: start over.
      holder.dropScopes();
      this.version = last;
      return false;
    }
    if (this.version === last) return false;
    const changes = source.changesSince(this.version);
    // The held scopes each change touches: any scope the memory had before or after it.
    const touched = new Map<Entry, Set<number>>();
    const seqs = new Set<number>();
    for (const change of changes) {
      for (const column of SCOPE_COLUMN_NAMES) {
        const value = change[column];
        if (value === null) continue;
        const entry = holder.held(`${column}\u0000${value}`);
        if (entry === undefined) continue;
        let set = touched.get(entry);
        if (set === undefined) touched.set(entry, (set = new Set()));
        set.add(change.seq);
        seqs.add(change.seq);
      }
    }
    if (seqs.size > 0) holder.apply(touched, source.rowsBySeq([...seqs]));
    this.version = changes.length === 0 ? last : Math.max(last, changes[changes.length - 1]!.version);
    return true;
  }
}

/** Puts each changed memory still in the scope, with its current row, and removes the others. */
export function replay<Row extends ChangedRow>(scope: FollowedScope<Row>, seqs: Iterable<number>, current: ReadonlyMap<number, Row>): void {
  for (const seq of seqs) {
    const row = current.get(seq);
    if (row !== undefined && row[scope.column] === scope.value) scope.put(row);
    else scope.remove(seq);
  }
}

/**
 * One string object per distinct scope value a held scope keeps (the driver makes a new one per row
 * read): `value`, or the equal string `known` holds (up to 1,024 of them).
 */
export function intern(known: Map<string, string>, value: string | null): string | null {
  if (value === null) return null;
  const held = known.get(value);
  if (held !== undefined) return held;
  if (known.size < 1024) known.set(value, value);
  return value;
}
