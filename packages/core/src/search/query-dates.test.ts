import { describe, expect, it } from 'vitest';
import { periodFit, periodRange, queryPeriod } from './query-dates';

const DAY = 86_400_000;
const utc = (year: number, month: number, day = 1) => Date.UTC(year, month - 1, day);

describe('queryPeriod', () => {
  it('reads a day in the usual spellings, with a week of grace', () => {
    for (const query of [
      'What painting did Melanie show on October 13, 2023?',
      'what happened on 13 October 2023',
      'What happened on the 13th of October, 2023?',
      'Oct. 13th 2023: what did she buy?',
      'notes from 2023-10-13',
    ]) {
      expect(queryPeriod(query), query).toEqual({ from: utc(2023, 10, 13), to: utc(2023, 10, 14), grace: 7 * DAY });
    }
  });

  it('reads a month of a year, a year after a preposition, and a month alone', () => {
    expect(queryPeriod('Which countries did James visit in July 2022?')).toEqual({
      from: utc(2022, 7),
      to: utc(2022, 8),
      grace: 31 * DAY,
    });
    expect(queryPeriod('What did John attend in March, 2023?')?.from).toBe(utc(2023, 3));
    expect(queryPeriod('When did John get an ankle injury in 2023?')).toEqual({ from: utc(2023, 1), to: utc(2024, 1), grace: 0 });
    expect(queryPeriod('When did Melanie go camping in June?')).toEqual({ month: 6, grace: 31 * DAY });
  });

  it('finds no period where there is none, nor in a bare number, the verb "may" or an impossible day', () => {
    expect(queryPeriod('What does Caroline like?')).toBeUndefined();
    expect(queryPeriod('She ran 2023 metres')).toBeUndefined();
    expect(queryPeriod('May I ask what Jon does for work?')).toBeUndefined();
    expect(queryPeriod('What happened on June 31, 2023?')).toBeUndefined();
  });
});

describe('periodFit', () => {
  it('is 1 inside the period, 0.5 within the grace after it, 0 before it and after the grace', () => {
    const period = queryPeriod('on May 3, 2023')!;
    expect(periodFit(period, new Date(utc(2023, 5, 3) + 15 * 3_600_000))).toBe(1);
    expect(periodFit(period, new Date(utc(2023, 5, 9)))).toBe(0.5);
    expect(periodFit(period, new Date(utc(2023, 5, 2)))).toBe(0);
    expect(periodFit(period, new Date(utc(2023, 5, 11)))).toBe(0);
    expect(periodRange(period)).toEqual({ from: utc(2023, 5, 3), to: utc(2023, 5, 11) });
  });

  it('matches a month without a year in any year, the next month at half', () => {
    const june = queryPeriod('in June')!;
    expect(periodFit(june, new Date(utc(2021, 6, 30)))).toBe(1);
    expect(periodFit(june, new Date(utc(2024, 6, 1)))).toBe(1);
    expect(periodFit(june, new Date(utc(2024, 7, 15)))).toBe(0.5);
    expect(periodFit(june, new Date(utc(2024, 5, 31)))).toBe(0);
    expect(periodRange(june)).toBeUndefined();
    // December's next month is January.
    expect(periodFit(queryPeriod('during December')!, new Date(utc(2024, 1, 3)))).toBe(0.5);
  });
});
