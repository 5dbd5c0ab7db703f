/** Where the CLI writes: stdout for results, stderr for errors, progress and notices. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Streams and environment of one CLI run (the real process, or a test's). */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: { readonly [name: string]: string | undefined };
  /** Reads all of standard input (for `mem add -`). */
  readonly readStdin: () => Promise<string>;
}

/** Shortens `text` to `width` characters with an ellipsis; newlines become spaces. */
export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * A plain-text table: a header row, a rule, then the rows, columns padded to the widest cell.
 * The last column is cut to fit `width` (the terminal's, or 120 when not a terminal).
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], width = 120): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const fixed = widths.slice(0, -1).reduce((sum, columnWidth) => sum + columnWidth + 2, 0);
  widths[widths.length - 1] = Math.max(headers[headers.length - 1]!.length, Math.min(widths[widths.length - 1]!, width - fixed));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? truncate(cell, widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((columnWidth) => '-'.repeat(columnWidth))), ...rows.map(line)].join('\n')}\n`;
}

/** `2024-05-08 10:00` (UTC) from an ISO date or Date. */
export function shortDate(value: Date | string): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * A progress bar on stderr, drawn only when stderr is a terminal (never in pipes, logs or tests).
 * `done()` clears it.
 */
export function progressBar(stderr: Output, total: number, label: string): { tick(count?: number): void; done(): void } {
  if (!stderr.isTTY || total === 0) return { tick() {}, done() {} };
  let current = 0;
  let lastDrawn = -1;
  const draw = () => {
    const percent = Math.floor((current / total) * 100);
    if (percent === lastDrawn && current !== total) return;
    lastDrawn = percent;
    const width = 30;
    const filled = Math.round((current / total) * width);
    stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${current}/${total} ${label}`);
  };
  draw();
  return {
    tick(count = 1) {
      current = Math.min(total, current + count);
      draw();
    },
    done() {
      stderr.write('\r\x1b[2K');
    },
  };
}
