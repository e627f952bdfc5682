import {
  type CivilDate,
  civilFromDays,
  DAY_MS,
  daysFromCivil,
  daysInMonth,
  weekdayOfDays,
} from './civil.js';
import type { CronPattern } from './cronPattern.js';

/*
 * Search in wall-clock time, with no time zone: a wall time is the local date and time
 * written as milliseconds since 1970-01-01T00:00 as if it were UTC. Every step skips whole
 * months, days, hours and minutes that cannot match, using the pattern's bitmasks, so a
 * search costs a few operations per month visited, whatever the pattern.
 */

/** Lowest set bit of `mask` at index `from` or above (0-31), or -1. */
function nextBit(mask: number, from: number): number {
  if (from > 31) return -1;
  const m = mask & (-1 << from);
  return m === 0 ? -1 : 31 - Math.clz32(m & -m);
}

/** Highest set bit of `mask` at index `from` or below, or -1. */
function prevBit(mask: number, from: number): number {
  if (from < 0) return -1;
  const m = from >= 31 ? mask : mask & ((1 << (from + 1)) - 1);
  return m === 0 ? -1 : 31 - Math.clz32(m);
}

/** Like {@link nextBit} over a 60-bit set split in words of 30 bits. */
function nextBit60(lo: number, hi: number, from: number): number {
  if (from < 30) {
    const r = nextBit(lo, from);
    if (r >= 0) return r;
    from = 30;
  }
  const r = nextBit(hi, from - 30);
  return r < 0 ? -1 : r + 30;
}

/** Like {@link prevBit} over a 60-bit set split in words of 30 bits. */
function prevBit60(lo: number, hi: number, from: number): number {
  if (from >= 30) {
    const r = prevBit(hi, from - 30);
    if (r >= 0) return r + 30;
    from = 29;
  }
  return prevBit(lo, from);
}

/** First matching time of day at or after h:m:s, in seconds of the day, or -1. */
function nextTimeOfDay(p: CronPattern, h: number, m: number, s: number): number {
  for (;;) {
    const nh = nextBit(p.hours, h);
    if (nh < 0 || nh > 23) return -1;
    if (nh !== h) {
      h = nh;
      m = 0;
      s = 0;
    }
    const nm = nextBit60(p.minutesLo, p.minutesHi, m);
    if (nm < 0) {
      h++;
      m = 0;
      s = 0;
      continue;
    }
    if (nm !== m) {
      m = nm;
      s = 0;
    }
    const ns = nextBit60(p.secondsLo, p.secondsHi, s);
    if (ns < 0) {
      m++;
      s = 0;
      if (m > 59) {
        h++;
        m = 0;
      }
      continue;
    }
    return h * 3600 + m * 60 + ns;
  }
}

/** Last matching time of day at or before h:m:s, in seconds of the day, or -1. */
function prevTimeOfDay(p: CronPattern, h: number, m: number, s: number): number {
  for (;;) {
    const ph = prevBit(p.hours, h);
    if (ph < 0) return -1;
    if (ph !== h) {
      h = ph;
      m = 59;
      s = 59;
    }
    const pm = prevBit60(p.minutesLo, p.minutesHi, m);
    if (pm < 0) {
      h--;
      m = 59;
      s = 59;
      continue;
    }
    if (pm !== m) {
      m = pm;
      s = 59;
    }
    const ps = prevBit60(p.secondsLo, p.secondsHi, s);
    if (ps < 0) {
      m--;
      s = 59;
      if (m < 0) {
        h--;
        m = 59;
      }
      continue;
    }
    return h * 3600 + m * 60 + ps;
  }
}

const scratch: CivilDate = { year: 0, month: 0, day: 0 };

/** Days of `year-month` that run, as a bitmask (bit `d - 1`). */
function monthMask(p: CronPattern, year: number, month: number, firstDay: number): number {
  const length = daysInMonth(year, month);
  return p.dayMasks[(length - 28) * 7 + weekdayOfDays(firstDay)]!;
}

/**
 * The earliest matching wall time at or after `wall` (a whole second), or NaN when there is
 * none on or before day number `lastDay`.
 */
export function nextWallTime(p: CronPattern, wall: number, lastDay: number): number {
  const startDay = Math.floor(wall / DAY_MS);
  const sod = (wall - startDay * DAY_MS) / 1000;
  civilFromDays(startDay, scratch);
  let year = scratch.year;
  let month = scratch.month;
  let day = scratch.day;
  let h = Math.floor(sod / 3600);
  let m = Math.floor(sod / 60) % 60;
  let s = sod % 60;
  for (;;) {
    if ((p.months & (1 << (month - 1))) === 0) {
      const next = nextBit(p.months, month);
      if (next < 0) {
        year++;
        month = nextBit(p.months, 0) + 1;
      } else {
        month = next + 1;
      }
      day = 1;
      h = m = s = 0;
    }
    const firstDay = daysFromCivil(year, month, 1);
    if (firstDay + day - 1 > lastDay) return Number.NaN;
    const found = nextBit(monthMask(p, year, month, firstDay), day - 1);
    if (found < 0) {
      if (++month > 12) {
        month = 1;
        year++;
      }
      day = 1;
      h = m = s = 0;
      continue;
    }
    if (found + 1 !== day) {
      day = found + 1;
      h = m = s = 0;
    }
    const dayNumber = firstDay + day - 1;
    if (dayNumber > lastDay) return Number.NaN;
    const t = nextTimeOfDay(p, h, m, s);
    if (t >= 0) return dayNumber * DAY_MS + t * 1000;
    day++;
    h = m = s = 0;
  }
}

/**
 * The latest matching wall time at or before `wall` (a whole second), or NaN when there is
 * none on or after day number `firstAllowedDay`.
 */
export function previousWallTime(p: CronPattern, wall: number, firstAllowedDay: number): number {
  const startDay = Math.floor(wall / DAY_MS);
  const sod = (wall - startDay * DAY_MS) / 1000;
  civilFromDays(startDay, scratch);
  let year = scratch.year;
  let month = scratch.month;
  let day = scratch.day;
  let h = Math.floor(sod / 3600);
  let m = Math.floor(sod / 60) % 60;
  let s = sod % 60;
  for (;;) {
    if ((p.months & (1 << (month - 1))) === 0) {
      const prev = prevBit(p.months, month - 2);
      if (prev < 0) {
        year--;
        month = prevBit(p.months, 11) + 1;
      } else {
        month = prev + 1;
      }
      day = 31;
      h = 23;
      m = s = 59;
    }
    const firstDay = daysFromCivil(year, month, 1);
    const length = daysInMonth(year, month);
    if (day > length) {
      day = length;
      h = 23;
      m = s = 59;
    }
    if (firstDay + day - 1 < firstAllowedDay) return Number.NaN;
    const found = prevBit(monthMask(p, year, month, firstDay), day - 1);
    if (found < 0) {
      if (--month < 1) {
        month = 12;
        year--;
      }
      day = 31;
      h = 23;
      m = s = 59;
      continue;
    }
    if (found + 1 !== day) {
      day = found + 1;
      h = 23;
      m = s = 59;
    }
    const dayNumber = firstDay + day - 1;
    if (dayNumber < firstAllowedDay) return Number.NaN;
    const t = prevTimeOfDay(p, h, m, s);
    if (t >= 0) return dayNumber * DAY_MS + t * 1000;
    day--;
    h = 23;
    m = s = 59;
    if (day < 1) {
      if (--month < 1) {
        month = 12;
        year--;
      }
      day = 31;
    }
  }
}

/** Whether wall time `wall` (whole seconds; milliseconds are ignored) matches every field. */
export function matchesWallTime(p: CronPattern, wall: number): boolean {
  const days = Math.floor(wall / DAY_MS);
  const sod = Math.floor((wall - days * DAY_MS) / 1000);
  civilFromDays(days, scratch);
  if ((p.months & (1 << (scratch.month - 1))) === 0) return false;
  const firstDay = days - scratch.day + 1;
  if ((monthMask(p, scratch.year, scratch.month, firstDay) & (1 << (scratch.day - 1))) === 0) {
    return false;
  }
  const h = Math.floor(sod / 3600);
  const m = Math.floor(sod / 60) % 60;
  const s = sod % 60;
  if ((p.hours & (1 << h)) === 0) return false;
  const mBit = m < 30 ? p.minutesLo & (1 << m) : p.minutesHi & (1 << (m - 30));
  const sBit = s < 30 ? p.secondsLo & (1 << s) : p.secondsHi & (1 << (s - 30));
  return mBit !== 0 && sBit !== 0;
}
