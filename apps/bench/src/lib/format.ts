/** Number formatting and plain-text / Markdown tables. */

export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 10_000 || (digits === 0 && Math.abs(value) >= 1000)) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** A ratio as `12.3×` (or `0.25×`). */
export function times(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(value < 1 ? 3 : 2)}×`;
}

export function percent(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : '–';
}

export interface Table {
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Lines printed under the table. */
  readonly notes?: readonly string[];
}

/** A table for the terminal: columns padded, first column left-aligned, the rest right-aligned. */
export function textTable(table: Table): string {
  const widths = table.headers.map((header, column) => Math.max(header.length, ...table.rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [
    `\n${table.title}`,
    line(table.headers),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.rows.map(line),
    ...(table.notes ?? []).map((note) => `  ${note}`),
  ].join('\n');
}

/** The same table in GitHub Markdown. */
export function markdownTable(table: Table, level = 3): string {
  const escapeCell = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `${'#'.repeat(level)} ${table.title}`,
    '',
    `| ${table.headers.map(escapeCell).join(' | ')} |`,
    `| ${table.headers.map((_, column) => (column === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
    ...(table.notes && table.notes.length > 0 ? ['', ...table.notes.map((note) => `${note}  `)] : []),
    '',
  ].join('\n');
}
