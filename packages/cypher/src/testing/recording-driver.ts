import neo4j, { Record as Neo4jRecord, type Driver } from 'neo4j-driver';

/** One query the store sent, as the server would receive it. */
export interface SentQuery {
  /** `run` = auto-commit, `read` / `write` = inside executeRead / executeWrite. */
  readonly mode: 'run' | 'read' | 'write';
  readonly query: string;
  readonly params: Record<string, unknown>;
}

/** Rows to answer a query with (plain objects become driver Records), or an error to fail it with. */
export type Answer = ReadonlyArray<Record<string, unknown>> | Error;

/**
 * A stand-in for neo4j-driver's `Driver` that records every query and its parameters and answers
 * from a script. It models nothing of a database: no state, no retries, no transactions; tests
 * only check what is sent (and how answers are read back).
 */
export class RecordingDriver {
  readonly sent: SentQuery[] = [];
  openSessions = 0;
  sessionDatabases: Array<string | undefined> = [];

  constructor(private readonly answer: (query: string, params: Record<string, unknown>) => Answer = () => []) {}

  /** The driver as the store's `driver` option takes it. */
  asDriver(): Driver {
    return this as unknown as Driver;
  }

  session(config: { database?: string } = {}) {
    this.openSessions++;
    this.sessionDatabases.push(config.database);
    const run = async (mode: SentQuery['mode'], query: string, params: Record<string, unknown> = {}) => {
      this.sent.push({ mode, query, params });
      const answer = this.answer(query, params);
      if (answer instanceof Error) throw answer;
      return { records: answer.map((row) => new Neo4jRecord(Object.keys(row), Object.values(row))) };
    };
    let closed = false;
    return {
      run: (query: string, params?: Record<string, unknown>) => run('run', query, params),
      executeRead: <T>(work: (transaction: unknown) => Promise<T>) =>
        work({ run: (query: string, params?: Record<string, unknown>) => run('read', query, params) }),
      executeWrite: <T>(work: (transaction: unknown) => Promise<T>) =>
        work({ run: (query: string, params?: Record<string, unknown>) => run('write', query, params) }),
      close: async () => {
        if (!closed) this.openSessions--;
        closed = true;
      },
    };
  }

  async close(): Promise<void> {}

  /** What was sent, with driver Integers shown as `int(n)` so snapshots read plainly. */
  plain(): SentQuery[] {
    return this.sent.map((sent) => ({ ...sent, params: toPlain(sent.params) as Record<string, unknown> }));
  }
}

function toPlain(value: unknown): unknown {
  if (neo4j.isInt(value)) return `int(${(value as { toString(): string }).toString()})`;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlain(item)]));
  return value;
}
