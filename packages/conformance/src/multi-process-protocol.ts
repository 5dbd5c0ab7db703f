/** The write patterns every process runs at once (see `describeMultiProcessWrites`). */
export type MultiProcessScenario =
  | 'distinct adds'
  | 'identical adds'
  | 'idempotent retries'
  | 'metadata updates'
  | 'updates racing a delete';

/** What a writer process is started with (JSON in argv[2]). */
export interface WriterStart {
  /** URL of the adapter's stores module (`import()`ed by the child). */
  readonly storesModule: string;
  /** Handed to the module's default export, e.g. `{ url, namespace }`. */
  readonly context: Readonly<Record<string, string>>;
  /** 0, 1, …: tags the writes of this process. */
  readonly process: number;
  /** The user every write goes to (one tenant). */
  readonly userId: string;
}

/** One round of writes: `writers` concurrent calls of `scenario`. */
export interface WriterCommand {
  readonly scenario: MultiProcessScenario;
  readonly writers: number;
  /**
   * The memories the updates target: writer `w` of every process updates `memoryIds[w % length]`
   * (and the delete, `memoryIds[0]`).
   */
  readonly memoryIds?: readonly string[];
}

/** How one call ended: acknowledged (with the memory id it reported) or failed with a typed code. */
export type WriteOutcome =
  | { readonly ok: true; readonly id: string | undefined }
  | { readonly ok: false; readonly code: string; readonly message: string };
