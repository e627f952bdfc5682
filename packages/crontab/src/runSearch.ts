import { DAY_MS } from './civil.js';
import type { CronPattern } from './cronPattern.js';
import { nextWallTime, previousWallTime } from './wallSearch.js';
import type { ZoneRules } from './zoneRules.js';

/*
 * From wall-clock matches to real instants, with the DST rules of Vixie cron and croner:
 *
 * - a wall time that exists once runs at that instant;
 * - a wall time that exists twice (fall back) runs at its first instant, and also at its
 *   second one unless the pattern is a fixed-time job;
 * - a wall time that does not exist (spring forward) runs, for fixed-time jobs only, at the
 *   first instant after the gap, when that instant is on the same local date; several
 *   such times in one gap therefore run once.
 *
 * The walk goes through matching wall times in order and converts each one; it is exact
 * because wall time only runs backwards across a fall-back transition, which the callers
 * handle by also walking the other pass of the repeated hour.
 */

/**
 * How far the search looks, in days: 400 years (the Gregorian calendar repeats itself
 * exactly every 400 years, weekdays included) plus one year of slack. A pattern with no
 * run in that window has none at all, except for DST-only cases such as a wildcard job whose
 * only matching times fall in spring-forward gaps, which the horizon also bounds.
 */
export const SEARCH_HORIZON_DAYS = 146_097 + 366;

function dayOf(wall: number): number {
  return Math.floor(wall / DAY_MS);
}

/** The first run strictly after instant `t`, or NaN. */
export function searchForward(p: CronPattern, z: ZoneRules, t: number): number {
  if (!p.canMatch) return Number.NaN;
  if (z.fixed) {
    const low = Math.floor((t + z.fixedOffset) / 1000) * 1000 + 1000;
    return nextWallTime(p, low, dayOf(low) + SEARCH_HORIZON_DAYS) - z.fixedOffset;
  }
  const o = z.offset(t);
  const low = Math.floor((t + o) / 1000) * 1000 + 1000;
  const limit = dayOf(low) + SEARCH_HORIZON_DAYS;
  let run = walkForward(p, z, t, low, limit);
  if (!p.fixedTime) {
    // When `t` is in the first pass of a repeated hour, the second pass starts over at
    // earlier wall times, which the walk from wall(t) has already gone past.
    const later = z.offset(t + DAY_MS);
    if (later < o) {
      const fold = z.transitionAfter(t);
      if (fold - t <= o - later && !(run < fold)) {
        const second = walkForward(p, z, fold - 1, fold + later, limit);
        if (!Number.isNaN(second) && !(run <= second)) run = second;
      }
    }
  }
  return run;
}

/** The last run strictly before instant `t`, or NaN. */
export function searchBackward(p: CronPattern, z: ZoneRules, t: number): number {
  if (!p.canMatch) return Number.NaN;
  if (z.fixed) {
    const high = Math.ceil((t + z.fixedOffset) / 1000) * 1000 - 1000;
    return previousWallTime(p, high, dayOf(high) - SEARCH_HORIZON_DAYS) - z.fixedOffset;
  }
  const o = z.offset(t);
  const high = Math.ceil((t + o) / 1000) * 1000 - 1000;
  const limit = dayOf(high) - SEARCH_HORIZON_DAYS;
  let run = walkBackward(p, z, t, high, limit);
  // When `t` is in the second pass of a repeated hour, the first pass has later wall times
  // than wall(t), which the walk backwards from wall(t) never visits.
  const earlier = z.offset(t - DAY_MS);
  if (earlier > o) {
    const fold = z.transitionAfter(t - DAY_MS);
    if (fold <= t && t + o < fold + earlier && !(run >= fold)) {
      const first = walkBackward(p, z, fold, fold + earlier - 1000, limit);
      if (!Number.isNaN(first) && !(run >= first)) run = first;
    }
  }
  return run;
}

/** First run after `t` among wall times from `low` on. */
function walkForward(p: CronPattern, z: ZoneRules, t: number, low: number, limit: number): number {
  for (;;) {
    const w = nextWallTime(p, low, limit);
    if (Number.isNaN(w)) return w;
    const before = z.offset(w - DAY_MS);
    const after = z.offset(w + DAY_MS);
    if (before === after) {
      const c = w - before;
      if (c > t) return c;
      low = w + 1000;
      continue;
    }
    const c1 = w - before;
    const c2 = w - after;
    const valid1 = z.offset(c1) === before;
    const valid2 = z.offset(c2) === after;
    if (valid1 && valid2) {
      const first = Math.min(c1, c2);
      if (first > t) return first;
      const second = Math.max(c1, c2);
      if (!p.fixedTime) {
        if (second > t) return second;
        low = w + 1000;
        continue;
      }
      // A fixed-time job never runs in the second pass: skip the rest of the repeated hour.
      const fold = z.transitionAfter(first);
      low = Number.isNaN(fold) ? w + 1000 : Math.max(w + 1000, fold + Math.max(before, after));
      continue;
    }
    if (valid1 || valid2) {
      const c = valid1 ? c1 : c2;
      if (c > t) return c;
      low = w + 1000;
      continue;
    }
    const gap = z.transitionAfter(Math.min(c1, c2));
    if (Number.isNaN(gap)) {
      low = w + 1000;
      continue;
    }
    const gapEnd = gap + z.offset(gap);
    if (p.fixedTime && gap > t) {
      if (dayOf(gapEnd) === dayOf(w)) return gap;
      low = Math.max(w + 1000, dayOf(gapEnd) * DAY_MS);
      continue;
    }
    low = Math.max(w + 1000, gapEnd);
  }
}

/** Last run before `t` among wall times up to `high`. */
function walkBackward(
  p: CronPattern,
  z: ZoneRules,
  t: number,
  high: number,
  limit: number,
): number {
  for (;;) {
    const w = previousWallTime(p, high, limit);
    if (Number.isNaN(w)) return w;
    const before = z.offset(w - DAY_MS);
    const after = z.offset(w + DAY_MS);
    if (before === after) {
      const c = w - before;
      if (c < t) return c;
      high = w - 1000;
      continue;
    }
    const c1 = w - before;
    const c2 = w - after;
    const valid1 = z.offset(c1) === before;
    const valid2 = z.offset(c2) === after;
    if (valid1 && valid2) {
      const second = Math.max(c1, c2);
      if (!p.fixedTime && second < t) return second;
      const first = Math.min(c1, c2);
      if (first < t) return first;
      high = w - 1000;
      continue;
    }
    if (valid1 || valid2) {
      const c = valid1 ? c1 : c2;
      if (c < t) return c;
      high = w - 1000;
      continue;
    }
    const gap = z.transitionAfter(Math.min(c1, c2));
    if (Number.isNaN(gap)) {
      high = w - 1000;
      continue;
    }
    if (p.fixedTime && gap < t && dayOf(gap + z.offset(gap)) === dayOf(w)) return gap;
    // Every other wall time of the gap below `w` gives the same answer: go below the gap.
    high = Math.min(w - 1000, gap + z.offset(gap - 1) - 1000);
  }
}
