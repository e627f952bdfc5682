import { ConfigError } from '@tickwork/core';
import { type CronPattern, parseCronPattern } from './cronPattern.js';
import { searchBackward, searchForward } from './runSearch.js';
import { matchesWallTime } from './wallSearch.js';
import { type ZoneRules, zoneRules } from './zoneRules.js';

/** Options of the next-run functions. */
export interface CronTimeOptions {
  /**
   * IANA time zone the expression is read in, e.g. `'Europe/London'` or `'UTC'`.
   *
   * @defaultValue luxon's `Settings.defaultZone`: the system time zone, as cron uses, unless
   * the application changed it.
   */
  readonly tz?: string | undefined;
}

/** Either a parsed pattern or an expression to parse (parsed expressions are cached). */
export type CronExpression = string | CronPattern;

/** The largest instant a `Date` can hold, in ms; runs beyond it are reported as none. */
const MAX_INSTANT = 8.64e15;
const MAX_CACHED_PATTERNS = 256;
const patterns = new Map<string, CronPattern>();

/**
 * The pattern for `expression`: a {@link CronPattern} is used as is, a string is parsed
 * once and kept in a small cache (256 expressions).
 *
 * @throws CronSyntaxError when the expression does not parse
 */
export function toCronPattern(expression: CronExpression): CronPattern {
  if (typeof expression === 'object' && expression !== null && 'dayMasks' in expression) {
    return expression;
  }
  const known = patterns.get(expression);
  if (known !== undefined) return known;
  const pattern = parseCronPattern(expression);
  if (patterns.size >= MAX_CACHED_PATTERNS) {
    const oldest = patterns.keys().next().value;
    if (oldest !== undefined) patterns.delete(oldest);
  }
  patterns.set(expression, pattern);
  return pattern;
}

function checkEpochMs(component: string, name: string, value: number): void {
  if (typeof value !== 'number' || !(Math.abs(value) <= MAX_INSTANT)) {
    throw new ConfigError(
      `${component}: ${name} must be a finite number of epoch milliseconds within the Date range (got ${String(value)})`,
      name,
    );
  }
}

function checkCount(component: string, n: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ConfigError(`${component}: n must be a non-negative integer (got ${String(n)})`, 'n');
  }
}

function zoneOf(component: string, options: CronTimeOptions | undefined): ZoneRules {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ConfigError(
      `${component}: options must be an object (got ${String(options)})`,
      'options',
    );
  }
  return zoneRules(options?.tz, component);
}

function instantOrNull(run: number): number | null {
  return Math.abs(run) <= MAX_INSTANT ? run : null;
}

/**
 * The first run of `expression` strictly after `after`, as epoch ms, or `null` when it
 * never runs (e.g. `0 0 30 2 *`). Runs are whole seconds of wall-clock time in `options.tz`.
 *
 * DST, as Vixie cron and croner: a fixed-time job (no `*`, `?` or step in seconds, minutes
 * and hours) whose time falls in a spring-forward gap runs at the first instant after the
 * gap, and runs once in a repeated hour; other jobs run at every real instant whose
 * wall-clock time matches, so they skip the gap and run in both passes of a repeated hour.
 *
 * The search is bounded: it looks 400 years ahead (the calendar repeats every 400 years),
 * and patterns that no calendar day can match return `null` at once.
 *
 * @param expression - a cron expression or a parsed {@link CronPattern}
 * @param after - epoch ms; the run returned is strictly later
 * @param options - `tz`
 * @throws CronSyntaxError for a bad expression; ConfigError for a bad `after` or `tz`
 *
 * @example
 * ```ts
 * // 02:30 does not exist on 2024-03-10 in New York: the job runs at 03:00 EDT.
 * nextRun('30 2 * * *', Date.parse('2024-03-09T12:00:00Z'), { tz: 'America/New_York' });
 * // => Date.parse('2024-03-10T07:00:00Z')
 * ```
 */
export function nextRun(
  expression: CronExpression,
  after: number,
  options?: CronTimeOptions,
): number | null {
  const pattern = toCronPattern(expression);
  checkEpochMs('nextRun', 'after', after);
  return instantOrNull(searchForward(pattern, zoneOf('nextRun', options), after));
}

/**
 * The next `n` runs of `expression` strictly after `after`, in increasing order (fewer when
 * the schedule ends, e.g. none for a pattern that never runs). Same rules as {@link nextRun}.
 *
 * @param expression - a cron expression or a parsed {@link CronPattern}
 * @param n - how many runs, a non-negative integer
 * @param after - epoch ms
 * @param options - `tz`
 * @throws CronSyntaxError for a bad expression; ConfigError for a bad `n`, `after` or `tz`
 *
 * @example
 * ```ts
 * nextRuns('0 0 L * *', 2, Date.parse('2024-01-15T00:00:00Z'), { tz: 'UTC' });
 * // => [Date.parse('2024-01-31T00:00:00Z'), Date.parse('2024-02-29T00:00:00Z')]
 * ```
 */
export function nextRuns(
  expression: CronExpression,
  n: number,
  after: number,
  options?: CronTimeOptions,
): number[] {
  const pattern = toCronPattern(expression);
  checkCount('nextRuns', n);
  checkEpochMs('nextRuns', 'after', after);
  const zone = zoneOf('nextRuns', options);
  const runs: number[] = [];
  let t = after;
  while (runs.length < n) {
    const run = instantOrNull(searchForward(pattern, zone, t));
    if (run === null) break;
    runs.push(run);
    t = run;
  }
  return runs;
}

/**
 * The last run of `expression` strictly before `before`, or `null` when there is none in
 * the 400 years before it. Same rules as {@link nextRun}, walking backwards.
 *
 * @param expression - a cron expression or a parsed {@link CronPattern}
 * @param before - epoch ms; the run returned is strictly earlier
 * @param options - `tz`
 * @throws CronSyntaxError for a bad expression; ConfigError for a bad `before` or `tz`
 */
export function previousRun(
  expression: CronExpression,
  before: number,
  options?: CronTimeOptions,
): number | null {
  const pattern = toCronPattern(expression);
  checkEpochMs('previousRun', 'before', before);
  return instantOrNull(searchBackward(pattern, zoneOf('previousRun', options), before));
}

/**
 * The last `n` runs of `expression` strictly before `before`, most recent first.
 * Same rules as {@link nextRun}.
 *
 * @param expression - a cron expression or a parsed {@link CronPattern}
 * @param n - how many runs, a non-negative integer
 * @param before - epoch ms
 * @param options - `tz`
 * @throws CronSyntaxError for a bad expression; ConfigError for a bad `n`, `before` or `tz`
 *
 * @example
 * ```ts
 * previousRuns('0 12 * * MON', 2, Date.parse('2024-01-10T00:00:00Z'), { tz: 'UTC' });
 * // => [Date.parse('2024-01-08T12:00:00Z'), Date.parse('2024-01-01T12:00:00Z')]
 * ```
 */
export function previousRuns(
  expression: CronExpression,
  n: number,
  before: number,
  options?: CronTimeOptions,
): number[] {
  const pattern = toCronPattern(expression);
  checkCount('previousRuns', n);
  checkEpochMs('previousRuns', 'before', before);
  const zone = zoneOf('previousRuns', options);
  const runs: number[] = [];
  let t = before;
  while (runs.length < n) {
    const run = instantOrNull(searchBackward(pattern, zone, t));
    if (run === null) break;
    runs.push(run);
    t = run;
  }
  return runs;
}

/**
 * Whether the wall-clock time of `instant` in `options.tz` matches every field of
 * `expression`, at whole-second precision (milliseconds are ignored), like croner's
 * `match`. This is a calendar check: a fixed-time job moved out of a spring-forward gap
 * runs at an instant that does not match, and a wildcard job's second pass of a repeated
 * hour does match.
 *
 * @param expression - a cron expression or a parsed {@link CronPattern}
 * @param instant - epoch ms
 * @param options - `tz`
 * @throws CronSyntaxError for a bad expression; ConfigError for a bad `instant` or `tz`
 *
 * @example
 * ```ts
 * matches('0 9 * * MON-FRI', Date.parse('2024-01-08T09:00:00Z'), { tz: 'UTC' }); // true
 * ```
 */
export function matches(
  expression: CronExpression,
  instant: number,
  options?: CronTimeOptions,
): boolean {
  const pattern = toCronPattern(expression);
  checkEpochMs('matches', 'instant', instant);
  const zone = zoneOf('matches', options);
  return matchesWallTime(pattern, instant + zone.offset(instant));
}
