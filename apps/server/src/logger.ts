/** Where log lines go: anything with `write(string)`, e.g. `process.stderr`. */
export interface LogSink {
  write(line: string): unknown;
}

/** The fields a log line may carry. Deliberately no free text from requests: never memory text, prompts or keys. */
export interface LogFields {
  readonly msg: string;
  readonly method?: string;
  /** The route pattern (`/v1/memories/:id`), never the raw URL. */
  readonly route?: string;
  readonly status?: number;
  readonly durationMs?: number;
  /** The id of the API key (its public name). */
  readonly keyId?: string;
  readonly requestId?: string;
  /** The error code of a failed request, and for unexpected errors the error's class name. */
  readonly errorCode?: string;
  readonly errorName?: string;
  /** Stack frames of an unexpected error, without its message. */
  readonly stack?: string;
  readonly url?: string;
  readonly description?: string;
  /** Pending history events settled at start-up by `Memory.recover()` (counts only). */
  readonly recovered?: { readonly committed: number; readonly discarded: number; readonly completed: number };
  /** Idempotency keys past their retention deleted at start. */
  readonly idempotencyKeysPurged?: number;
  /** Worker threads running searches (`MEM_READ_WORKERS`), 0 when searches run on the main thread. */
  readonly readWorkers?: number;
  /** Exit code of a search worker that stopped. */
  readonly exitCode?: number;
}

/** A structured logger writing one JSON object per line. */
export interface Logger {
  info(fields: LogFields): void;
  warn(fields: LogFields): void;
  error(fields: LogFields): void;
}

/** A logger writing JSON lines to `sink`; `silent` writes nothing. */
export function createLogger(sink: LogSink | 'silent' = process.stderr): Logger {
  const write = (level: string, fields: LogFields) => {
    if (sink === 'silent') return;
    sink.write(`${JSON.stringify({ time: new Date().toISOString(), level, ...fields })}\n`);
  };
  return {
    info: (fields) => write('info', fields),
    warn: (fields) => write('warn', fields),
    error: (fields) => write('error', fields),
  };
}
