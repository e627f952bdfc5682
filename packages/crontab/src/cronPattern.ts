import { CronSyntaxError } from '@tickwork/core';
import { type FieldSets, parseField } from './cronField.js';
import { buildDayMasks } from './dayMasks.js';

/** Name of a cron field, as carried by {@link CronSyntaxError}'s `field`. */
export type CronField = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek';

/**
 * A parsed cron expression: compact, frozen and ready for fast matching.
 *
 * Sets of values are bitmasks (bit `v - min` set when value `v` is allowed); seconds and
 * minutes need 60 bits, so they are split into a `Lo` word (0-29) and a `Hi` word (30-59).
 * Every day-of-month and day-of-week rule is folded into {@link CronPattern.dayMasks}, so
 * matching a calendar day is one table lookup. Build one with {@link parseCronPattern}.
 */
export interface CronPattern {
  /** The expression as given. */
  readonly source: string;
  /**
   * The six fields after nickname expansion, seconds first (`'0'` when the expression
   * had five fields), e.g. `['0', '30', '2', '*', '*', '*']`.
   */
  readonly fields: readonly string[];
  /** Whether the expression had a seconds field (six fields). */
  readonly hasSeconds: boolean;
  /** Seconds 0-29: bit `s` set when second `s` runs. */
  readonly secondsLo: number;
  /** Seconds 30-59: bit `s - 30` set when second `s` runs. */
  readonly secondsHi: number;
  /** Minutes 0-29: bit `m` set when minute `m` runs. */
  readonly minutesLo: number;
  /** Minutes 30-59: bit `m - 30` set when minute `m` runs. */
  readonly minutesHi: number;
  /** Hours: bit `h` (0-23) set when hour `h` runs. */
  readonly hours: number;
  /** Months: bit `m - 1` set when month `m` (1-12) runs. */
  readonly months: number;
  /** Plain day-of-month values: bit `d - 1` set for day `d` (1-31); `L` and `W` are kept apart. */
  readonly daysOfMonth: number;
  /** `L` in day-of-month: the last day of the month runs. */
  readonly lastDayOfMonth: boolean;
  /** `LW` in day-of-month: the last weekday (Monday-Friday) of the month runs. */
  readonly lastWeekdayOfMonth: boolean;
  /** `dW` in day-of-month: bit `d - 1` set for each nearest-weekday target `d`. */
  readonly nearestWeekdays: number;
  /**
   * Day of week, indexed 0 (Sunday) to 6 (Saturday): which occurrences in the month run.
   * Bits 0-4 are the 1st to 5th occurrence (`#1`-`#5`), bit 5 the last one (`L`, `#L`);
   * 63 means every occurrence, 0 never.
   */
  readonly weekdays: readonly number[];
  /** Day-of-month field is `*` or `?` (unrestricted). */
  readonly anyDayOfMonth: boolean;
  /** Day-of-week field is `*` or `?` (unrestricted). */
  readonly anyDayOfWeek: boolean;
  /**
   * A fixed-time job for DST purposes: no `*`, `?` or step in the seconds, minutes and
   * hours fields. Fixed-time jobs run once in a repeated hour and, when their time falls in
   * a spring-forward gap, at the first instant after it; other jobs run at every real
   * instant whose wall-clock time matches.
   */
  readonly fixedTime: boolean;
  /**
   * Days that run, for every month shape: entry `(length - 28) * 7 + weekdayOfFirst` (month
   * length 28-31, weekday of the 1st with 0 = Sunday) has bit `d - 1` set when day `d` runs.
   * The day-of-month and day-of-week rules (and their OR/AND combination) are already applied.
   */
  readonly dayMasks: readonly number[];
  /**
   * Whether any calendar day can ever match. `false` for e.g. `0 0 30 2 *`; such a pattern
   * never runs and the next-run functions return `null` at once.
   */
  readonly canMatch: boolean;
}

/** Longest expression accepted, in characters; longer input is rejected without parsing. */
export const MAX_EXPRESSION_LENGTH = 1024;

const PREFIX = 'CronPattern: ';

const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * Parses a cron expression into a {@link CronPattern}.
 *
 * Five fields (`minute hour dayOfMonth month dayOfWeek`) or six (seconds first), or a
 * nickname (`@yearly @annually @monthly @weekly @daily @midnight @hourly`). Each field takes
 * `*`, `?` (same as `*`), values, names (`JAN`-`DEC`, `SUN`-`SAT`, any case), lists `a,b`,
 * ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n`. Day of month also takes `L` (last day),
 * `LW` (last weekday) and `dW` (weekday nearest to day `d`); day of week takes `dL` / `d#L`
 * (last such weekday of the month) and `d#n` (n-th, 1-5). Weekday 0 and 7 are Sunday. When
 * both day fields are restricted (neither is `*` or `?`), a day runs when either matches.
 *
 * Parsing is linear in the input, which is capped at {@link MAX_EXPRESSION_LENGTH} characters.
 *
 * @param expression - the cron expression
 * @returns the frozen pattern
 * @throws CronSyntaxError naming the field (`second`, `minute`, `hour`, `dayOfMonth`,
 * `month`, `dayOfWeek` or `expression`) and the zero-based character position.
 *
 * @example
 * ```ts
 * const p = parseCronPattern('0 30 9 * * MON-FRI');
 * p.hasSeconds; // true
 * parseCronPattern('61 * * * *'); // throws CronSyntaxError, field 'minute', position 0
 * ```
 */
export function parseCronPattern(expression: string): CronPattern {
  if (typeof expression !== 'string') {
    throw new CronSyntaxError(
      `${PREFIX}the expression must be a string (got ${expression === null ? 'null' : typeof expression})`,
      String(expression),
      'expression',
      0,
    );
  }
  const fail = (message: string, field: CronField | 'expression', position: number): never => {
    throw new CronSyntaxError(PREFIX + message, expression, field, position);
  };
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    fail(
      `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
      'expression',
      MAX_EXPRESSION_LENGTH,
    );
  }

  // Field boundaries as [start, end) offsets into `expression`, so errors point at the input.
  const bounds: number[] = [];
  for (let i = 0; i < expression.length; ) {
    if (isSpace(expression.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < expression.length && !isSpace(expression.charCodeAt(i))) i++;
    bounds.push(start, i);
  }
  const count = bounds.length / 2;
  if (count === 0) fail('the expression is empty', 'expression', 0);

  let text = expression;
  const first = bounds[0]!;
  if (expression.charCodeAt(first) === 64 /* @ */) {
    const word = expression.slice(first, bounds[1]).toLowerCase();
    if (count > 1) {
      fail(`a nickname such as ${word} must stand alone`, 'expression', bounds[2]!);
    }
    if (word === '@reboot') {
      fail(
        '@reboot is not supported: there is no reboot event to schedule on',
        'expression',
        first,
      );
    }
    const expansion = NICKNAMES[word];
    if (expansion === undefined) {
      fail(
        `unknown nickname "${word}" at position ${first} (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`,
        'expression',
        first,
      );
    }
    text = expansion!;
    bounds.length = 0;
    for (let i = 0; i < text.length; ) {
      const start = i;
      while (i < text.length && text.charCodeAt(i) !== 32) i++;
      bounds.push(start, i);
      i++;
    }
  } else if (count < 5 || count > 6) {
    const position = count > 6 ? bounds[12]! : expression.length;
    const hint =
      count === 7
        ? '; a year field is not supported'
        : ' (minute hour dayOfMonth month dayOfWeek, with an optional seconds field first)';
    fail(`expected 5 or 6 fields but found ${count}${hint}`, 'expression', position);
  }

  const hasSeconds = bounds.length === 12;
  const fieldTexts: string[] = hasSeconds ? [] : ['0'];
  const sets: FieldSets = {
    lo: [hasSeconds ? 0 : 1, 0, 0, 0, 0, 0],
    hi: [0, 0, 0, 0, 0, 0],
    weekdays: [0, 0, 0, 0, 0, 0, 0],
    lastDayOfMonth: false,
    lastWeekdayOfMonth: false,
    nearestWeekdays: 0,
  };
  const offset = hasSeconds ? 0 : 1;
  for (let f = 0; f < bounds.length / 2; f++) {
    const start = bounds[2 * f]!;
    const end = bounds[2 * f + 1]!;
    fieldTexts.push(text.slice(start, end));
    parseField(text, start, end, f + offset, sets, fail);
  }

  const anyDayOfMonth = isStar(fieldTexts[3]!);
  const anyDayOfWeek = isStar(fieldTexts[5]!);
  const daysOfMonth = sets.lo[3]!;
  const months = sets.lo[4]!;
  const fixedTime = fieldTexts.slice(0, 3).every((t) => !/[*?/]/.test(t));
  const dayMasks = buildDayMasks({
    daysOfMonth,
    lastDayOfMonth: sets.lastDayOfMonth,
    lastWeekdayOfMonth: sets.lastWeekdayOfMonth,
    nearestWeekdays: sets.nearestWeekdays,
    weekdays: sets.weekdays,
    anyDayOfMonth,
    anyDayOfWeek,
  });
  return Object.freeze({
    source: expression,
    fields: Object.freeze(fieldTexts),
    hasSeconds,
    secondsLo: sets.lo[0]!,
    secondsHi: sets.hi[0]!,
    minutesLo: sets.lo[1]!,
    minutesHi: sets.hi[1]!,
    hours: sets.lo[2]!,
    months,
    daysOfMonth,
    lastDayOfMonth: sets.lastDayOfMonth,
    lastWeekdayOfMonth: sets.lastWeekdayOfMonth,
    nearestWeekdays: sets.nearestWeekdays,
    weekdays: Object.freeze(sets.weekdays.slice()),
    anyDayOfMonth,
    anyDayOfWeek,
    fixedTime,
    dayMasks: Object.freeze(dayMasks),
    canMatch: canAnyDayMatch(months, dayMasks),
  });
}

const SPACE = /\s/;

/** The same whitespace as `\s` (and croner's field split), tested one character at a time. */
function isSpace(code: number): boolean {
  return (
    code === 32 || (code > 8 && code < 14) || (code > 127 && SPACE.test(String.fromCharCode(code)))
  );
}

function isStar(text: string): boolean {
  return text === '*' || text === '?';
}

/** Whether some month allowed by `months` has, for some length and weekday of the 1st, a day that runs. */
function canAnyDayMatch(months: number, dayMasks: readonly number[]): boolean {
  for (let m = 1; m <= 12; m++) {
    if ((months & (1 << (m - 1))) === 0) continue;
    const lengths = m === 2 ? [28, 29] : m === 4 || m === 6 || m === 9 || m === 11 ? [30] : [31];
    for (const len of lengths) {
      for (let w = 0; w < 7; w++) if (dayMasks[(len - 28) * 7 + w] !== 0) return true;
    }
  }
  return false;
}
