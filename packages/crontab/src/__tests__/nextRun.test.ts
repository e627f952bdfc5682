import { ConfigError, CronSyntaxError } from '@tickwork/core';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseCronPattern } from '../cronPattern.js';
import { matches, nextRun, nextRuns, previousRun, previousRuns } from '../nextRun.js';

/** Runs as local ISO times with their offset, so the tables read like a wall clock. */
function local(tz: string, runs: readonly number[]): string[] {
  return runs.map(
    (r) => DateTime.fromMillis(r, { zone: tz }).toISO({ suppressMilliseconds: true })!,
  );
}

function next(expression: string, n: number, from: string, tz: string): string[] {
  return local(tz, nextRuns(expression, n, Date.parse(from), { tz }));
}

function previous(expression: string, n: number, before: string, tz: string): string[] {
  return local(tz, previousRuns(expression, n, Date.parse(before), { tz }));
}

describe('nextRuns across DST, as data', () => {
  const NY = 'America/New_York'; // 2024-03-10 02:00 -> 03:00, 2024-11-03 02:00 -> 01:00

  it.each([
    // fixed time in the spring-forward gap: first instant after it, once
    [
      '30 2 * * *',
      3,
      '2024-03-09T00:00:00-05:00',
      ['2024-03-09T02:30:00-05:00', '2024-03-10T03:00:00-04:00', '2024-03-11T02:30:00-04:00'],
    ],
    // a list is still a fixed time; both gap times meet at 03:00 and run once
    [
      '0,30 2 * * *',
      2,
      '2024-03-09T12:00:00-05:00',
      ['2024-03-10T03:00:00-04:00', '2024-03-11T02:00:00-04:00'],
    ],
    // a step in the hours makes an interval job: the gap is skipped
    [
      '*/30 2 * * *',
      3,
      '2024-03-09T00:00:00-05:00',
      ['2024-03-09T02:00:00-05:00', '2024-03-09T02:30:00-05:00', '2024-03-11T02:00:00-04:00'],
    ],
    [
      '0 */2 * * *',
      3,
      '2024-03-09T23:00:00-05:00',
      ['2024-03-10T00:00:00-05:00', '2024-03-10T04:00:00-04:00', '2024-03-10T06:00:00-04:00'],
    ],
    [
      '0 * * * *',
      3,
      '2024-03-10T00:30:00-05:00',
      ['2024-03-10T01:00:00-05:00', '2024-03-10T03:00:00-04:00', '2024-03-10T04:00:00-04:00'],
    ],
    // fixed time in the repeated hour: once, at its first occurrence
    [
      '30 1 * * *',
      3,
      '2024-11-02T12:00:00-04:00',
      ['2024-11-03T01:30:00-04:00', '2024-11-04T01:30:00-05:00', '2024-11-05T01:30:00-05:00'],
    ],
    [
      '15 1-2 * * *',
      3,
      '2024-11-03T00:00:00-04:00',
      ['2024-11-03T01:15:00-04:00', '2024-11-03T02:15:00-05:00', '2024-11-04T01:15:00-05:00'],
    ],
    // wildcard and step jobs run in both passes of the repeated hour
    [
      '*/30 1 * * *',
      5,
      '2024-11-03T00:00:00-04:00',
      [
        '2024-11-03T01:00:00-04:00',
        '2024-11-03T01:30:00-04:00',
        '2024-11-03T01:00:00-05:00',
        '2024-11-03T01:30:00-05:00',
        '2024-11-04T01:00:00-05:00',
      ],
    ],
    [
      '0 * * * *',
      3,
      '2024-11-03T00:30:00-04:00',
      ['2024-11-03T01:00:00-04:00', '2024-11-03T01:00:00-05:00', '2024-11-03T02:00:00-05:00'],
    ],
  ])('America/New_York: %s x%i from %s', (expression, n, from, expected) => {
    expect(next(expression, n, from, NY)).toEqual(expected);
  });

  it.each([
    // 2024-03-31 01:00 GMT -> 02:00 BST; 2024-10-27 02:00 BST -> 01:00 GMT
    [
      '30 1 * * *',
      2,
      '2024-03-30T12:00:00Z',
      ['2024-03-31T02:00:00+01:00', '2024-04-01T01:30:00+01:00'],
    ],
    [
      '30 1 * * *',
      2,
      '2024-10-26T12:00:00+01:00',
      ['2024-10-27T01:30:00+01:00', '2024-10-28T01:30:00+00:00'],
    ],
    [
      '*/20 1 * * *',
      7,
      '2024-10-27T00:00:00+01:00',
      [
        '2024-10-27T01:00:00+01:00',
        '2024-10-27T01:20:00+01:00',
        '2024-10-27T01:40:00+01:00',
        '2024-10-27T01:00:00+00:00',
        '2024-10-27T01:20:00+00:00',
        '2024-10-27T01:40:00+00:00',
        '2024-10-28T01:00:00+00:00',
      ],
    ],
  ])('Europe/London: %s x%i from %s', (expression, n, from, expected) => {
    expect(next(expression, n, from, 'Europe/London')).toEqual(expected);
  });

  it.each([
    // 30-minute shift: 2024-10-06 02:00 -> 02:30 (+11:00), 2024-04-07 02:00 -> 01:30 (+10:30)
    [
      '15 2 * * *',
      2,
      '2024-10-05T12:00:00+10:30',
      ['2024-10-06T02:30:00+11:00', '2024-10-07T02:15:00+11:00'],
    ],
    [
      '*/15 2 * * *',
      3,
      '2024-10-06T00:00:00+10:30',
      ['2024-10-06T02:30:00+11:00', '2024-10-06T02:45:00+11:00', '2024-10-07T02:00:00+11:00'],
    ],
    [
      '45 1 * * *',
      2,
      '2024-04-06T12:00:00+11:00',
      ['2024-04-07T01:45:00+11:00', '2024-04-08T01:45:00+10:30'],
    ],
    [
      '*/15 1 * * *',
      7,
      '2024-04-07T00:00:00+11:00',
      [
        '2024-04-07T01:00:00+11:00',
        '2024-04-07T01:15:00+11:00',
        '2024-04-07T01:30:00+11:00',
        '2024-04-07T01:45:00+11:00',
        '2024-04-07T01:30:00+10:30',
        '2024-04-07T01:45:00+10:30',
        '2024-04-08T01:00:00+10:30',
      ],
    ],
  ])('Australia/Lord_Howe: %s x%i from %s', (expression, n, from, expected) => {
    expect(next(expression, n, from, 'Australia/Lord_Howe')).toEqual(expected);
  });

  it.each([
    // 2024-09-29 02:45 -> 03:45 (+13:45); 2024-04-07 03:45 -> 02:45 (+12:45)
    [
      '0 3 * * *',
      2,
      '2024-09-28T12:00:00+12:45',
      ['2024-09-29T03:45:00+13:45', '2024-09-30T03:00:00+13:45'],
    ],
    [
      '*/30 3 * * *',
      2,
      '2024-09-29T00:00:00+12:45',
      ['2024-09-30T03:00:00+13:45', '2024-09-30T03:30:00+13:45'],
    ],
    [
      '0 3 * * *',
      2,
      '2024-04-06T12:00:00+13:45',
      ['2024-04-07T03:00:00+13:45', '2024-04-08T03:00:00+12:45'],
    ],
    [
      '0 * * * *',
      4,
      '2024-04-07T01:30:00+13:45',
      [
        '2024-04-07T02:00:00+13:45',
        '2024-04-07T03:00:00+13:45',
        '2024-04-07T03:00:00+12:45',
        '2024-04-07T04:00:00+12:45',
      ],
    ],
  ])('Pacific/Chatham: %s x%i from %s', (expression, n, from, expected) => {
    expect(next(expression, n, from, 'Pacific/Chatham')).toEqual(expected);
  });

  it('Pacific/Apia skipped 2011-12-30: a fixed time moves only within its own date', () => {
    expect(next('0 12 * * *', 3, '2011-12-29T00:00:00-10:00', 'Pacific/Apia')).toEqual([
      '2011-12-29T12:00:00-10:00',
      '2011-12-31T12:00:00+14:00',
      '2012-01-01T12:00:00+14:00',
    ]);
  });

  it('Asia/Kolkata has no DST: 02:30 every day', () => {
    expect(next('30 2 * * *', 2, '2024-03-10T00:00:00+05:30', 'Asia/Kolkata')).toEqual([
      '2024-03-10T02:30:00+05:30',
      '2024-03-11T02:30:00+05:30',
    ]);
  });
});

describe('nextRuns syntax features, in UTC', () => {
  it.each([
    [
      '*/20 * * * * *',
      4,
      '2024-01-01T00:00:10Z',
      [
        '2024-01-01T00:00:20Z',
        '2024-01-01T00:00:40Z',
        '2024-01-01T00:01:00Z',
        '2024-01-01T00:01:20Z',
      ],
    ],
    [
      '0 0 29 2 *',
      3,
      '2024-01-01T00:00:00Z',
      ['2024-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z'],
    ],
    // the fifth Monday of February: only when February 29 is a Monday (gaps of 28 and 40 years)
    [
      '0 0 * 2 1#5',
      3,
      '2024-01-01T00:00:00Z',
      ['2044-02-29T00:00:00Z', '2072-02-29T00:00:00Z', '2112-02-29T00:00:00Z'],
    ],
    [
      '0 0 L * *',
      3,
      '2024-01-15T00:00:00Z',
      ['2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z'],
    ],
    // last weekday: 2024-03-31 is a Sunday, so Friday the 29th
    [
      '0 0 LW * *',
      3,
      '2024-03-01T00:00:00Z',
      ['2024-03-29T00:00:00Z', '2024-04-30T00:00:00Z', '2024-05-31T00:00:00Z'],
    ],
    // nearest weekday: 2024-06-15 is a Saturday, so Friday the 14th
    [
      '0 0 15W * *',
      3,
      '2024-06-01T00:00:00Z',
      ['2024-06-14T00:00:00Z', '2024-07-15T00:00:00Z', '2024-08-15T00:00:00Z'],
    ],
    // ... without leaving the month: Saturday 2024-06-01 moves to Monday the 3rd
    ['0 0 1W * *', 2, '2024-05-15T00:00:00Z', ['2024-06-03T00:00:00Z', '2024-07-01T00:00:00Z']],
    [
      '0 0 * * 5L',
      3,
      '2024-01-01T00:00:00Z',
      ['2024-01-26T00:00:00Z', '2024-02-23T00:00:00Z', '2024-03-29T00:00:00Z'],
    ],
    [
      '0 0 * * FRI#2',
      3,
      '2024-01-01T00:00:00Z',
      ['2024-01-12T00:00:00Z', '2024-02-09T00:00:00Z', '2024-03-08T00:00:00Z'],
    ],
    // both day fields restricted: either one matches (the 15th, and every Monday)
    [
      '0 9 1,15 * MON',
      4,
      '2024-01-01T12:00:00Z',
      [
        '2024-01-08T09:00:00Z',
        '2024-01-15T09:00:00Z',
        '2024-01-22T09:00:00Z',
        '2024-01-29T09:00:00Z',
      ],
    ],
    ['0 9 ? * MON', 1, '2024-01-01T12:00:00Z', ['2024-01-08T09:00:00Z']],
    [
      '0 9 * jan-Mar mon-FRI',
      2,
      '2024-03-28T12:00:00Z',
      ['2024-03-29T09:00:00Z', '2025-01-01T09:00:00Z'],
    ],
    ['0 0 * * 7', 2, '2024-01-01T00:00:00Z', ['2024-01-07T00:00:00Z', '2024-01-14T00:00:00Z']],
    [
      '5/20 0 1 1 *',
      3,
      '2024-01-01T00:00:00Z',
      ['2024-01-01T00:05:00Z', '2024-01-01T00:25:00Z', '2024-01-01T00:45:00Z'],
    ],
    ['@weekly', 2, '2024-01-01T00:00:00Z', ['2024-01-07T00:00:00Z', '2024-01-14T00:00:00Z']],
    ['@hourly', 2, '2024-01-01T00:00:00Z', ['2024-01-01T01:00:00Z', '2024-01-01T02:00:00Z']],
    ['@yearly', 1, '2024-01-01T00:00:00Z', ['2025-01-01T00:00:00Z']],
  ])('%s x%i from %s', (expression, n, from, expected) => {
    expect(next(expression, n, from, 'UTC')).toEqual(expected);
  });

  it('runs strictly after `after`, at whole seconds', () => {
    const t = Date.parse('2024-01-01T00:00:00Z');
    expect(nextRun('* * * * * *', t, { tz: 'UTC' })).toBe(t + 1000);
    expect(nextRun('* * * * * *', t + 1, { tz: 'UTC' })).toBe(t + 1000);
    expect(nextRun('* * * * * *', t - 1, { tz: 'UTC' })).toBe(t);
  });
});

describe('previousRuns, as data', () => {
  it.each([
    [
      '*/30 1 * * *',
      5,
      '2024-11-03T02:00:00-05:00',
      'America/New_York',
      [
        '2024-11-03T01:30:00-05:00',
        '2024-11-03T01:00:00-05:00',
        '2024-11-03T01:30:00-04:00',
        '2024-11-03T01:00:00-04:00',
        '2024-11-02T01:30:00-04:00',
      ],
    ],
    [
      '30 1 * * *',
      2,
      '2024-11-03T01:45:00-05:00',
      'America/New_York',
      ['2024-11-03T01:30:00-04:00', '2024-11-02T01:30:00-04:00'],
    ],
    [
      '30 2 * * *',
      2,
      '2024-03-11T00:00:00-04:00',
      'America/New_York',
      ['2024-03-10T03:00:00-04:00', '2024-03-09T02:30:00-05:00'],
    ],
    [
      '0 0 L * *',
      2,
      '2024-03-15T00:00:00Z',
      'UTC',
      ['2024-02-29T00:00:00Z', '2024-01-31T00:00:00Z'],
    ],
  ])('%s x%i before %s in %s', (expression, n, before, tz, expected) => {
    expect(previous(expression, n, before, tz)).toEqual(expected);
  });

  it('previousRun is strictly before `before`', () => {
    const t = Date.parse('2024-01-01T00:00:00Z');
    expect(previousRun('* * * * * *', t, { tz: 'UTC' })).toBe(t - 1000);
    expect(previousRun('* * * * * *', t + 1, { tz: 'UTC' })).toBe(t);
  });
});

describe('schedules that never run', () => {
  it('returns null or [] for a day that does not exist, at once', () => {
    const t = Date.parse('2024-01-01T00:00:00Z');
    expect(parseCronPattern('0 0 30 2 *').canMatch).toBe(false);
    expect(nextRun('0 0 30 2 *', t, { tz: 'UTC' })).toBeNull();
    expect(nextRuns('0 0 31 4,6,9,11 *', 5, t, { tz: 'Europe/London' })).toEqual([]);
    expect(previousRuns('0 0 30 2 *', 5, t, { tz: 'UTC' })).toEqual([]);
  });

  it('gives up after the 400-year horizon when DST alone prevents every run', () => {
    // New York always springs forward on the second Sunday of March at 02:00, and a step
    // job skips the gap: this never runs, which only the search horizon can tell.
    const started = performance.now();
    expect(
      nextRun('*/30 2 * 3 0#2', Date.parse('2024-01-01T00:00:00Z'), { tz: 'America/New_York' }),
    ).toBeNull();
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('matches', () => {
  it('checks the wall-clock time in the zone, ignoring milliseconds', () => {
    const t = Date.parse('2024-01-08T09:00:00Z'); // a Monday
    expect(matches('0 9 * * MON-FRI', t, { tz: 'UTC' })).toBe(true);
    expect(matches('0 9 * * MON-FRI', t + 999, { tz: 'UTC' })).toBe(true);
    expect(matches('0 9 * * MON-FRI', t + 1000, { tz: 'UTC' })).toBe(false);
    expect(matches('0 9 * * MON-FRI', t, { tz: 'America/New_York' })).toBe(false);
    expect(matches('0 4 * * MON-FRI', t, { tz: 'America/New_York' })).toBe(true);
  });

  it('does not match a fixed-time run moved out of a spring-forward gap', () => {
    const moved = nextRun('30 2 * * *', Date.parse('2024-03-09T12:00:00Z'), {
      tz: 'America/New_York',
    })!;
    expect(new Date(moved).toISOString()).toBe('2024-03-10T07:00:00.000Z');
    expect(matches('30 2 * * *', moved, { tz: 'America/New_York' })).toBe(false);
  });
});

describe('argument checks', () => {
  const t = Date.parse('2024-01-01T00:00:00Z');

  it('rejects a zone that is not an IANA zone with ConfigError', () => {
    expect(() => nextRun('* * * * *', t, { tz: 'Mars/Base' })).toThrow(ConfigError);
    expect(() => nextRun('* * * * *', t, { tz: 'Mars/Base' })).toThrow(
      /^nextRun: options\.tz "Mars\/Base" is not a valid IANA time zone/,
    );
    expect(() => nextRuns('* * * * *', 1, t, { tz: '' })).toThrow(/^nextRuns: options\.tz/);
    expect(() => previousRuns('* * * * *', 1, t, { tz: 'Nowhere' })).toThrow(/^previousRuns: /);
    expect(() => matches('* * * * *', t, { tz: 'Nowhere' })).toThrow(/^matches: /);
  });

  it('rejects bad instants and counts with ConfigError', () => {
    expect(() => nextRun('* * * * *', Number.NaN)).toThrow(ConfigError);
    expect(() => nextRun('* * * * *', Number.POSITIVE_INFINITY)).toThrow(/^nextRun: after must be/);
    expect(() => previousRun('* * * * *', 9e15)).toThrow(/^previousRun: before must be/);
    expect(() => nextRuns('* * * * *', -1, t)).toThrow(
      /^nextRuns: n must be a non-negative integer/,
    );
    expect(() => nextRuns('* * * * *', 1.5, t)).toThrow(ConfigError);
    expect(nextRuns('* * * * *', 0, t)).toEqual([]);
  });

  it('answers at the ends of the Date range without looping', () => {
    expect(nextRun('* * * * *', 8.64e15, { tz: 'UTC' })).toBeNull();
    expect(previousRun('* * * * *', -8.64e15, { tz: 'Europe/London' })).toBeNull();
    expect(nextRun('0 0 1 1 *', 8.64e15 - 1e9, { tz: 'America/New_York' })).toBeNull();
  });

  it('throws CronSyntaxError for a bad expression', () => {
    expect(() => nextRun('61 * * * *', t)).toThrow(CronSyntaxError);
  });

  it('accepts a parsed pattern and reads UTC aliases as UTC', () => {
    const p = parseCronPattern('0 12 * * *');
    expect(nextRun(p, t, { tz: 'Etc/UTC' })).toBe(Date.parse('2024-01-01T12:00:00Z'));
    expect(nextRun(p, t, { tz: 'Etc/GMT+5' })).toBe(Date.parse('2024-01-01T17:00:00Z'));
  });

  it('uses the system zone when no tz is given', () => {
    const system = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(nextRuns('*/7 3 * * *', 5, t)).toEqual(nextRuns('*/7 3 * * *', 5, t, { tz: system }));
  });
});
