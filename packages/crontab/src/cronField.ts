import type { CronField } from './cronPattern.js';

/*
 * The items of one cron field: values, names, ranges, steps, and the L / W / # forms of
 * the day fields. Each item is read left to right with a cursor, so the work is linear in
 * the field and every error can name its exact position.
 */

const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly name: CronField;
  readonly min: number;
  readonly max: number;
  /** Upper end of `*` and of `a/n`; differs from `max` only for day-of-week (7 is Sunday again). */
  readonly starMax: number;
  readonly names?: readonly string[];
  /** Value of the first name (`JAN` is 1, `SUN` is 0). */
  readonly nameBase: number;
  readonly allowed: string;
}

const SPECS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59, starMax: 59, nameBase: 0, allowed: '0-59' },
  { name: 'minute', min: 0, max: 59, starMax: 59, nameBase: 0, allowed: '0-59' },
  { name: 'hour', min: 0, max: 23, starMax: 23, nameBase: 0, allowed: '0-23' },
  { name: 'dayOfMonth', min: 1, max: 31, starMax: 31, nameBase: 0, allowed: '1-31' },
  {
    name: 'month',
    min: 1,
    max: 12,
    starMax: 12,
    names: MONTH_NAMES,
    nameBase: 1,
    allowed: '1-12 or JAN-DEC',
  },
  {
    name: 'dayOfWeek',
    min: 0,
    max: 7,
    starMax: 6,
    names: DAY_NAMES,
    nameBase: 0,
    allowed: '0-7 or SUN-SAT, 0 and 7 are Sunday',
  },
];

/** Mutable accumulator for one parse; frozen into a `CronPattern` at the end. */
export interface FieldSets {
  /** Per field (seconds first): bit `v - min`; for seconds and minutes only values 0-29. */
  lo: number[];
  /** Seconds and minutes 30-59 as bit `v - 30`; unused for the other fields. */
  hi: number[];
  weekdays: number[];
  lastDayOfMonth: boolean;
  lastWeekdayOfMonth: boolean;
  nearestWeekdays: number;
}

/** Throws the `CronSyntaxError` of the parse, with its message, field and position. */
export type Fail = (message: string, field: CronField | 'expression', position: number) => never;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  const c = code | 32;
  return c >= 97 && c <= 122;
}

/**
 * Parses field number `index` (0 = second ... 5 = dayOfWeek), the text between `start`
 * and `end`, into `sets`.
 */
export function parseField(
  text: string,
  start: number,
  end: number,
  index: number,
  sets: FieldSets,
  fail: Fail,
): void {
  const spec = SPECS[index]!;
  let itemStart = start;
  for (let i = start; i <= end; i++) {
    if (i < end && text.charCodeAt(i) !== 44 /* , */) continue;
    if (i === itemStart) {
      fail(
        `empty list item in ${spec.name} at position ${i} (remove the extra comma)`,
        spec.name,
        i,
      );
    }
    parseItem(text, itemStart, i, index, sets, fail);
    itemStart = i + 1;
  }
}

function parseItem(
  text: string,
  start: number,
  end: number,
  index: number,
  sets: FieldSets,
  fail: Fail,
): void {
  const spec = SPECS[index]!;
  const field = spec.name;
  if (field === 'dayOfMonth' && parseDayOfMonthSpecial(text, start, end, sets, fail)) return;

  let pos = start;
  let lo: number;
  let hi: number;
  let single = false;
  const c0 = text.charCodeAt(pos);
  if (c0 === 42 /* * */ || c0 === 63 /* ? */) {
    lo = spec.min;
    hi = spec.starMax;
    pos++;
  } else {
    [lo, pos] = readValue(text, pos, end, spec, fail);
    hi = lo;
    single = true;
    if (pos < end && text.charCodeAt(pos) === 45 /* - */) {
      const hiStart = pos + 1;
      [hi, pos] = readValue(text, hiStart, end, spec, fail);
      single = false;
      // SUN ending a range is day 7, so MON-SUN runs through Sunday.
      if (field === 'dayOfWeek' && hi === 0 && isLetter(text.charCodeAt(hiStart))) hi = 7;
      if (lo > hi) {
        fail(
          `range ${text.slice(start, pos)} in ${field} at position ${start} runs backwards (the start must not exceed the end; wrap-around ranges are not supported)`,
          field,
          start,
        );
      }
    }
  }

  let step = 1;
  if (pos < end && text.charCodeAt(pos) === 47 /* / */) {
    const at = pos + 1;
    pos = at;
    while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
    const span = spec.starMax - spec.min + 1;
    const digits = text.slice(at, pos);
    step = digits.length > 0 && digits.length <= 4 ? Number(digits) : Number.NaN;
    if (!(step >= 1 && step <= span)) {
      const shown = clip(digits.length > 0 ? digits : text.slice(at, Math.min(end, at + 8)));
      fail(
        `invalid step "${shown}" in ${field} at position ${at} (expected a number from 1 to ${span})`,
        field,
        at,
      );
    }
    if (single) hi = Math.max(spec.starMax, lo); // `a/n` runs from a to the end of the field
  }

  let occurrences = 63;
  if (field === 'dayOfWeek' && pos < end) {
    const c = text.charCodeAt(pos);
    if (c === 35 /* # */) {
      const at = pos + 1;
      const n = text.charCodeAt(at);
      if ((n | 32) === 108 /* l */) {
        occurrences = 32;
        pos = at + 1;
      } else if (n >= 49 && n <= 53 && !isDigit(text.charCodeAt(at + 1))) {
        occurrences = 1 << (n - 49);
        pos = at + 1;
      } else {
        let stop = at;
        while (stop < end && isDigit(text.charCodeAt(stop))) stop++;
        fail(
          `invalid nth weekday "#${text.slice(at, Math.max(stop, Math.min(end, at + 1)))}" in dayOfWeek at position ${at} (use #1 to #5, or #L for the last one)`,
          field,
          at,
        );
      }
    } else if ((c | 32) === 108 /* l */) {
      occurrences = 32;
      pos++;
    }
  }

  if (pos < end) unexpected(text, pos, field, fail);

  for (let v = lo; v <= hi; v += step) {
    if (field === 'dayOfWeek') {
      const day = v === 7 ? 0 : v;
      sets.weekdays[day] = (sets.weekdays[day] ?? 0) | occurrences;
    } else {
      const bit = v - spec.min;
      if (bit < 30 || spec.max !== 59) sets.lo[index] = (sets.lo[index] ?? 0) | (1 << bit);
      else sets.hi[index] = (sets.hi[index] ?? 0) | (1 << (bit - 30));
    }
  }
}

/** Handles `L`, `LW` and `dW`; returns false for anything else in day-of-month. */
function parseDayOfMonthSpecial(
  text: string,
  start: number,
  end: number,
  sets: FieldSets,
  fail: Fail,
): boolean {
  const item = text.slice(start, end).toUpperCase();
  if (item === 'L') {
    sets.lastDayOfMonth = true;
    return true;
  }
  if (item === 'LW') {
    sets.lastWeekdayOfMonth = true;
    return true;
  }
  if (item.startsWith('L')) {
    fail(
      `"${clip(text.slice(start, end))}" in dayOfMonth at position ${start} is not supported (use L for the last day or LW for the last weekday; offsets such as L-3 are not supported)`,
      'dayOfMonth',
      start,
    );
  }
  const w = item.indexOf('W');
  if (w < 0) return false;
  if (w !== item.length - 1 || w === 0 || !/^\d+$/.test(item.slice(0, w))) {
    fail(
      `"W" in dayOfMonth at position ${start + w} must follow a single day, as in 15W (nearest weekday to the 15th)`,
      'dayOfMonth',
      start + w,
    );
  }
  const day = w <= 2 ? Number(item.slice(0, w)) : Number.NaN;
  if (!(day >= 1 && day <= 31)) {
    fail(
      `invalid value "${item.slice(0, w)}" for dayOfMonth at position ${start} (allowed 1-31)`,
      'dayOfMonth',
      start,
    );
  }
  sets.nearestWeekdays |= 1 << (day - 1);
  return true;
}

/** Reads a number or a name at `pos`; returns the value and the position after it. */
function readValue(
  text: string,
  pos: number,
  end: number,
  spec: FieldSpec,
  fail: Fail,
): [number, number] {
  const field = spec.name;
  const start = pos;
  const c = text.charCodeAt(pos);
  if (pos < end && isDigit(c)) {
    while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
    const digits = text.slice(start, pos);
    const value = digits.length <= 4 ? Number(digits) : Number.NaN;
    if (!(value >= spec.min && value <= spec.max)) {
      fail(
        `invalid value "${clip(digits)}" for ${field} at position ${start} (allowed ${spec.allowed})`,
        field,
        start,
      );
    }
    return [value, pos];
  }
  if (pos < end && isLetter(c)) {
    while (pos < end && isLetter(text.charCodeAt(pos))) pos++;
    let word = text.slice(start, pos).toUpperCase();
    // `FRIL` is a name followed by the L modifier: leave the L for the modifier parser.
    if (
      field === 'dayOfWeek' &&
      word.length === 4 &&
      word.endsWith('L') &&
      DAY_NAMES.includes(word.slice(0, 3))
    ) {
      word = word.slice(0, 3);
      pos--;
    }
    const index = spec.names?.indexOf(word) ?? -1;
    if (index < 0) {
      if (word === 'L' || word === 'W' || word === 'LW') {
        const where =
          field === 'dayOfWeek'
            ? 'after a weekday, as in 5L or FRI#L (last Friday)'
            : 'only in dayOfMonth (L, LW, 15W) and dayOfWeek (5L)';
        fail(
          `"${text.slice(start, pos)}" in ${field} at position ${start} is not valid here: L and W are allowed ${where}`,
          field,
          start,
        );
      }
      fail(
        `invalid value "${clip(text.slice(start, pos))}" for ${field} at position ${start} (allowed ${spec.allowed})`,
        field,
        start,
      );
    }
    return [index + spec.nameBase, pos];
  }
  if (pos >= end) {
    fail(`missing value in ${field} at position ${pos} (allowed ${spec.allowed})`, field, pos);
  }
  return unexpected(text, pos, field, fail);
}

/** Long tokens are cut in messages. */
function clip(token: string): string {
  return token.length > 20 ? `${token.slice(0, 20)}...` : token;
}

function unexpected(text: string, pos: number, field: CronField, fail: Fail): never {
  const ch = text[pos] ?? '';
  const code = text.charCodeAt(pos);
  let hint = '';
  if (field === 'dayOfWeek' && (ch === '#' || ch === 'L' || ch === 'l')) {
    hint = ' (a weekday takes one modifier: #1 to #5, #L or L)';
  } else if (ch === '#') hint = ' (# is only allowed in dayOfWeek, as in 5#2)';
  else if (ch === '*' || ch === '?') hint = ' (* and ? stand alone or before a step, as in */5)';
  else if (ch === '-' || ch === '/') hint = ' (expected a value before and after it)';
  else if (ch === 'L' || ch === 'l') {
    hint = ' (L stands alone in dayOfMonth, or follows a weekday in dayOfWeek as in 5L)';
  } else if (ch === 'W' || ch === 'w') hint = ' (W follows a single day in dayOfMonth, as in 15W)';
  const shown = code < 32 || code === 127 ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  return fail(`unexpected character "${shown}" in ${field} at position ${pos}${hint}`, field, pos);
}
