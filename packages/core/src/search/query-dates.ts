/**
 * A period a search query names ("on 3 May 2023", "in July 2022", "in 2021", "in June"), read so that
 * ranking can prefer memories whose `occurredAt` falls in it. Dates are read as UTC calendar days.
 */
export interface QueryPeriod {
  /** Start of the period, epoch ms (inclusive). Absent for a month named without a year. */
  readonly from?: number;
  /** End of the period, epoch ms (exclusive). Absent for a month named without a year. */
  readonly to?: number;
  /** A month named without a year (1–12): any year's. */
  readonly month?: number;
  /**
   * How long after the period a memory still counts, half as much (ms): what happened on a day or
   * in a month is often told in a conversation some days later.
   */
  readonly grace: number;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH = `(${MONTHS.join('|')}|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\\.?`;
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '((?:19|20)\\d{2})';
const DAY_MS = 86_400_000;

/** "May 3, 2023", "May 3rd 2023" */
const MONTH_DAY_YEAR = new RegExp(`\\b${MONTH}\\s+${DAY},?\\s+${YEAR}\\b`, 'i');
/** "3 May 2023", "3rd of May, 2023" */
const DAY_MONTH_YEAR = new RegExp(`\\b${DAY}\\s+(?:of\\s+)?${MONTH},?\\s+${YEAR}\\b`, 'i');
/** "2023-05-03" */
const ISO_DAY = /\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b/;
/** "May 2023", "May, 2023" */
const MONTH_YEAR = new RegExp(`\\b${MONTH},?\\s+(?:of\\s+)?${YEAR}\\b`, 'i');
/** "in 2022", "during 2021" (a bare number is too often not a year) */
const YEAR_ONLY = new RegExp(`\\b(?:in|during|of|since|throughout)\\s+(?:early\\s+|late\\s+|mid-?)?${YEAR}\\b`, 'i');
/** "in June", "during July" ("May" alone is too often the verb) */
const MONTH_ONLY = new RegExp(`\\b(?:in|during)\\s+(?:early\\s+|late\\s+|mid-?)?${MONTH}\\b`, 'i');

function monthNumber(name: string): number {
  const lower = name.toLowerCase().replace(/\.$/, '');
  return MONTHS.findIndex((month) => month.startsWith(lower.slice(0, 3))) + 1;
}

function day(year: number, month: number, date: number): QueryPeriod | undefined {
  const from = Date.UTC(year, month - 1, date);
  // Date.UTC rolls an impossible day over (31 June is 1 July): refuse it instead.
  if (month < 1 || month > 12 || new Date(from).getUTCDate() !== date) return undefined;
  return { from, to: from + DAY_MS, grace: 7 * DAY_MS };
}

/** The period a query names, the most precise one first (a day, a month of a year, a year, a month); undefined when none. */
export function queryPeriod(query: string): QueryPeriod | undefined {
  let match = MONTH_DAY_YEAR.exec(query);
  if (match) return day(Number(match[3]), monthNumber(match[1]!), Number(match[2]));
  match = DAY_MONTH_YEAR.exec(query);
  if (match) return day(Number(match[3]), monthNumber(match[2]!), Number(match[1]));
  match = ISO_DAY.exec(query);
  if (match) return day(Number(match[1]), Number(match[2]), Number(match[3]));
  match = MONTH_YEAR.exec(query);
  if (match) {
    const month = monthNumber(match[1]!);
    const year = Number(match[2]);
    return { from: Date.UTC(year, month - 1, 1), to: Date.UTC(year, month, 1), grace: 31 * DAY_MS };
  }
  match = YEAR_ONLY.exec(query);
  if (match) {
    const year = Number(match[1]);
    return { from: Date.UTC(year, 0, 1), to: Date.UTC(year + 1, 0, 1), grace: 0 };
  }
  match = MONTH_ONLY.exec(query);
  if (match) return { month: monthNumber(match[1]!), grace: 31 * DAY_MS };
  return undefined;
}

/** How well a memory's time fits the period: 1 inside it, 0.5 within its grace after it, else 0. */
export function periodFit(period: QueryPeriod, occurredAt: Date): number {
  const time = occurredAt.getTime();
  if (period.from !== undefined && period.to !== undefined) {
    if (time >= period.from && time < period.to) return 1;
    return time >= period.to && time < period.to + period.grace ? 0.5 : 0;
  }
  const month = occurredAt.getUTCMonth() + 1;
  if (month === period.month) return 1;
  return month === (period.month! % 12) + 1 && occurredAt.getUTCDate() <= period.grace / DAY_MS ? 0.5 : 0;
}

/** The period with its grace as one range of `occurredAt` (epoch ms), for a store filter; undefined for a month without a year. */
export function periodRange(period: QueryPeriod): { readonly from: number; readonly to: number } | undefined {
  return period.from === undefined || period.to === undefined ? undefined : { from: period.from, to: period.to + period.grace };
}
