/** The day rules of a pattern, before they are folded into masks. */
export interface DayRules {
  /** Plain day-of-month values, bit `d - 1`. */
  readonly daysOfMonth: number;
  /** `L`: the last day of the month. */
  readonly lastDayOfMonth: boolean;
  /** `LW`: the last Monday-Friday of the month. */
  readonly lastWeekdayOfMonth: boolean;
  /** `dW` targets, bit `d - 1`. */
  readonly nearestWeekdays: number;
  /** Occurrence masks per weekday (0 = Sunday): bits 0-4 for #1-#5, bit 5 for last. */
  readonly weekdays: readonly number[];
  /** Day-of-month field is `*` or `?`. */
  readonly anyDayOfMonth: boolean;
  /** Day-of-week field is `*` or `?`. */
  readonly anyDayOfWeek: boolean;
}

/**
 * Folds the day rules into one mask per month shape, so that matching a day is a lookup.
 * A month's days depend only on its length (28-31) and the weekday of its 1st, so 28 masks
 * cover every month of the proleptic Gregorian calendar. Entry `(length - 28) * 7 + first`
 * has bit `d - 1` set when day `d` runs.
 *
 * The two day fields combine as in Vixie cron: when either is `*` (or `?`) the other one
 * decides alone (both `*`: every day); when both are restricted a day runs when either
 * matches.
 */
export function buildDayMasks(rules: DayRules): number[] {
  const masks: number[] = [];
  for (let length = 28; length <= 31; length++) {
    for (let first = 0; first < 7; first++) {
      const dom = dayOfMonthMask(rules, length, first);
      const dow = dayOfWeekMask(rules.weekdays, length, first);
      let mask: number;
      if (rules.anyDayOfWeek) mask = rules.anyDayOfMonth ? fullMonth(length) : dom;
      else if (rules.anyDayOfMonth) mask = dow;
      else mask = dom | dow;
      masks.push(mask);
    }
  }
  return masks;
}

function fullMonth(length: number): number {
  return length === 31 ? 0x7fffffff : (1 << length) - 1;
}

/** Weekday of day `d` (0 = Sunday) in a month whose 1st falls on `first`. */
function weekdayOf(first: number, d: number): number {
  return (first + d - 1) % 7;
}

function dayOfMonthMask(rules: DayRules, length: number, first: number): number {
  let mask = rules.daysOfMonth & fullMonth(length);
  if (rules.lastDayOfMonth) mask |= 1 << (length - 1);
  if (rules.lastWeekdayOfMonth) {
    const w = weekdayOf(first, length);
    const day = w === 0 ? length - 2 : w === 6 ? length - 1 : length;
    mask |= 1 << (day - 1);
  }
  if (rules.nearestWeekdays !== 0) {
    // The weekday nearest to the target day, without leaving the month (Quartz, croner):
    // a Saturday 1st moves to Monday the 3rd, a Sunday last day to Friday; targets past the
    // end of the month never run.
    for (let target = 1; target <= length; target++) {
      if ((rules.nearestWeekdays & (1 << (target - 1))) === 0) continue;
      const w = weekdayOf(first, target);
      let day = target;
      if (w === 6) day = target === 1 ? 3 : target - 1;
      else if (w === 0) day = target === length ? target - 2 : target + 1;
      mask |= 1 << (day - 1);
    }
  }
  return mask;
}

function dayOfWeekMask(weekdays: readonly number[], length: number, first: number): number {
  let mask = 0;
  for (let d = 1; d <= length; d++) {
    const occurrences = weekdays[weekdayOf(first, d)] ?? 0;
    if (occurrences === 0) continue;
    const nth = 1 << Math.floor((d - 1) / 7);
    const last = d + 7 > length ? 32 : 0;
    if ((occurrences & (nth | last)) !== 0) mask |= 1 << (d - 1);
  }
  return mask;
}
