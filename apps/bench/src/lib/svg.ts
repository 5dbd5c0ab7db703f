/**
 * Hand-written SVG charts (no chart library): bar panels, grouped bars and log-scale line charts.
 * Text uses a system font stack; colours are fixed per series so charts read the same everywhere.
 */

export const COLORS = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function label(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 10_000) return `${Math.round(value / 1000).toLocaleString('en-US')}k`;
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** A power of ten as an axis label: 0.01, 0.1, 1, 10, 100, 1k, 10k, 100k, 1M. */
function tickLabel(value: number): string {
  if (value >= 1_000_000) return `${value / 1_000_000}M`;
  if (value >= 1000) return `${value / 1000}k`;
  return String(Number(value.toPrecision(1)));
}

function document(width: number, height: number, title: string, subtitle: string | undefined, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600" fill="#111827">${escapeXml(title)}</text>`,
    subtitle ? `<text x="16" y="44" font-size="11.5" fill="#4b5563">${escapeXml(subtitle)}</text>` : '',
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface Panel {
  readonly title: string;
  readonly bars: readonly { readonly label: string; readonly value: number }[];
  /** Shown under the panel, e.g. "mem = 0.096× mem0ai". */
  readonly note?: string;
}

/** Side-by-side panels, each a few horizontal bars on its own linear scale. */
export function barPanels(title: string, subtitle: string | undefined, panels: readonly Panel[], series: readonly string[]): string {
  const panelWidth = 250;
  const barHeight = 22;
  const top = 62;
  const rows = Math.max(...panels.map((panel) => panel.bars.length));
  const height = top + 30 + rows * (barHeight + 8) + 40;
  const width = 16 + panels.length * panelWidth;
  const body: string[] = [];
  panels.forEach((panel, index) => {
    const x0 = 16 + index * panelWidth;
    const labelWidth = 92;
    const plotWidth = panelWidth - labelWidth - 60;
    const max = Math.max(...panel.bars.map((bar) => bar.value).filter(Number.isFinite), 1e-9);
    body.push(`<text x="${x0}" y="${top + 12}" font-size="12.5" font-weight="600" fill="#111827">${escapeXml(panel.title)}</text>`);
    panel.bars.forEach((bar, row) => {
      const y = top + 24 + row * (barHeight + 8);
      const length = Number.isFinite(bar.value) ? Math.max(1, (bar.value / max) * plotWidth) : 0;
      const color = COLORS[Math.max(0, series.indexOf(bar.label)) % COLORS.length];
      body.push(
        `<text x="${x0 + labelWidth - 6}" y="${y + barHeight / 2 + 4}" font-size="11.5" text-anchor="end" fill="#374151">${escapeXml(bar.label)}</text>`,
      );
      body.push(`<rect x="${x0 + labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" rx="3" fill="${color}"/>`);
      body.push(
        `<text x="${x0 + labelWidth + length + 5}" y="${y + barHeight / 2 + 4}" font-size="11.5" fill="#111827">${escapeXml(label(bar.value))}</text>`,
      );
    });
    if (panel.note)
      body.push(
        `<text x="${x0}" y="${top + 24 + rows * (barHeight + 8) + 14}" font-size="11.5" fill="#4b5563">${escapeXml(panel.note)}</text>`,
      );
  });
  return document(width, height, title, subtitle, body);
}

export interface Series {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  readonly dashed?: boolean;
  /** Index into {@link COLORS}; defaults to the series' position. */
  readonly color?: number;
}

/** A line chart with logarithmic axes (x: store size, y: milliseconds). */
export function logLineChart(options: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Horizontal reference lines, e.g. a target. */
  references?: readonly { readonly y: number; readonly label: string }[];
}): string {
  const width = 760;
  const height = 420;
  const left = 70;
  const right = 200;
  const top = 60;
  const bottom = 50;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const points = options.series
    .flatMap((series) => series.points)
    .filter((point) => point.x > 0 && point.y > 0 && Number.isFinite(point.y));
  const ys = [...points.map((point) => point.y), ...(options.references ?? []).map((reference) => reference.y)];
  const xMin = 10 ** Math.floor(Math.log10(Math.min(...points.map((point) => point.x))));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(...points.map((point) => point.x))));
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const sx = (x: number) => left + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1)) * plotWidth;
  const sy = (y: number) =>
    top + plotHeight - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * plotHeight;
  const body: string[] = [];
  for (let exponent = Math.log10(yMin); exponent <= Math.log10(yMax) + 1e-9; exponent++) {
    const y = sy(10 ** exponent);
    body.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    body.push(
      `<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end" fill="#4b5563">${escapeXml(tickLabel(10 ** exponent))}</text>`,
    );
  }
  for (let exponent = Math.log10(xMin); exponent <= Math.log10(xMax) + 1e-9; exponent++) {
    const x = sx(10 ** exponent);
    body.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + plotHeight}" stroke="#f3f4f6"/>`);
    body.push(
      `<text x="${x}" y="${top + plotHeight + 18}" font-size="11" text-anchor="middle" fill="#4b5563">${escapeXml(tickLabel(10 ** exponent))}</text>`,
    );
  }
  body.push(`<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#9ca3af"/>`);
  body.push(
    `<text x="${left + plotWidth / 2}" y="${height - 12}" font-size="12" text-anchor="middle" fill="#374151">${escapeXml(options.xLabel)}</text>`,
  );
  body.push(
    `<text transform="translate(18 ${top + plotHeight / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#374151">${escapeXml(options.yLabel)}</text>`,
  );
  for (const reference of options.references ?? []) {
    const y = sy(reference.y);
    body.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-dasharray="2 3"/>`);
    body.push(
      `<text x="${left + plotWidth - 4}" y="${y - 4}" font-size="10.5" text-anchor="end" fill="#dc2626">${escapeXml(reference.label)}</text>`,
    );
  }
  options.series.forEach((series, index) => {
    const color = COLORS[(series.color ?? index) % COLORS.length];
    const valid = series.points.filter((point) => point.x > 0 && point.y > 0 && Number.isFinite(point.y));
    if (valid.length === 0) return;
    body.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.2"${series.dashed ? ' stroke-dasharray="6 4"' : ''} points="${valid.map((point) => `${sx(point.x).toFixed(1)},${sy(point.y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const point of valid)
      body.push(
        `<circle cx="${sx(point.x).toFixed(1)}" cy="${sy(point.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${series.name}: ${label(point.y)} at ${label(point.x)}`)}</title></circle>`,
      );
    const y = top + 10 + index * 20;
    body.push(
      `<line x1="${left + plotWidth + 14}" x2="${left + plotWidth + 38}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2.2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    body.push(`<text x="${left + plotWidth + 44}" y="${y + 4}" font-size="11.5" fill="#111827">${escapeXml(series.name)}</text>`);
  });
  return document(width, height, options.title, options.subtitle, body);
}

/** Vertical bars grouped by category (e.g. LOCOMO category × k), values in [0, 1] shown as percentages. */
export function groupedBars(options: {
  title: string;
  subtitle?: string;
  groups: readonly string[];
  series: readonly { readonly name: string; readonly values: readonly number[] }[];
  yLabel: string;
}): string {
  const width = 760;
  const height = 380;
  const left = 60;
  const right = 150;
  const top = 60;
  const bottom = 50;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const body: string[] = [];
  for (let tick = 0; tick <= 100; tick += 20) {
    const y = top + plotHeight - (tick / 100) * plotHeight;
    body.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    body.push(`<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end" fill="#4b5563">${tick}%</text>`);
  }
  const groupWidth = plotWidth / options.groups.length;
  const barWidth = (groupWidth * 0.75) / options.series.length;
  options.groups.forEach((group, groupIndex) => {
    const x0 = left + groupIndex * groupWidth + groupWidth * 0.125;
    options.series.forEach((series, seriesIndex) => {
      const value = series.values[groupIndex] ?? Number.NaN;
      const barHeight = Number.isFinite(value) ? value * plotHeight : 0;
      const x = x0 + seriesIndex * barWidth;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${(top + plotHeight - barHeight).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${COLORS[seriesIndex % COLORS.length]}"/>`,
      );
      body.push(
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(top + plotHeight - barHeight - 4).toFixed(1)}" font-size="9.5" text-anchor="middle" fill="#111827">${Number.isFinite(value) ? Math.round(value * 100) : '–'}</text>`,
      );
    });
    body.push(
      `<text x="${(x0 + groupWidth * 0.375).toFixed(1)}" y="${top + plotHeight + 18}" font-size="11.5" text-anchor="middle" fill="#374151">${escapeXml(group)}</text>`,
    );
  });
  body.push(`<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#9ca3af"/>`);
  body.push(
    `<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#374151">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((series, index) => {
    const y = top + 10 + index * 20;
    body.push(`<rect x="${left + plotWidth + 14}" y="${y - 7}" width="14" height="14" fill="${COLORS[index % COLORS.length]}"/>`);
    body.push(`<text x="${left + plotWidth + 34}" y="${y + 4}" font-size="11.5" fill="#111827">${escapeXml(series.name)}</text>`);
  });
  return document(width, height, options.title, options.subtitle, body);
}
