import { CronSyntaxError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { type CronField, MAX_EXPRESSION_LENGTH, parseCronPattern } from '../cronPattern.js';

/** Values whose bit is set in a 60-bit set split in 30-bit words. */
function values60(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < 60; v++) if ((v < 30 ? lo >> v : hi >> (v - 30)) & 1) out.push(v);
  return out;
}

function bits(mask: number, first: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < 31; b++) if ((mask >> b) & 1) out.push(b + first);
  return out;
}

describe('parseCronPattern: what it accepts', () => {
  it('reads five fields with seconds at 0, and six with seconds first', () => {
    const five = parseCronPattern('*/15 2 * * *');
    expect(five.hasSeconds).toBe(false);
    expect(five.fields).toEqual(['0', '*/15', '2', '*', '*', '*']);
    expect(values60(five.secondsLo, five.secondsHi)).toEqual([0]);
    expect(values60(five.minutesLo, five.minutesHi)).toEqual([0, 15, 30, 45]);
    expect(bits(five.hours, 0)).toEqual([2]);
    const six = parseCronPattern('  5,59 0 0 * * *  ');
    expect(six.hasSeconds).toBe(true);
    expect(values60(six.secondsLo, six.secondsHi)).toEqual([5, 59]);
  });

  it('reads lists, ranges and the three step forms', () => {
    const p = parseCronPattern('1-3,50-55/2,57/1 0-23/6 5/10 2-12/5 *');
    expect(values60(p.minutesLo, p.minutesHi)).toEqual([1, 2, 3, 50, 52, 54, 57, 58, 59]);
    expect(bits(p.hours, 0)).toEqual([0, 6, 12, 18]);
    expect(bits(p.daysOfMonth, 1)).toEqual([5, 15, 25]);
    expect(bits(p.months, 1)).toEqual([2, 7, 12]);
  });

  it('reads month and weekday names in any case, and weekday 7 as Sunday', () => {
    const p = parseCronPattern('0 0 * jan,Mar-may * ');
    expect(bits(p.months, 1)).toEqual([1, 3, 4, 5]);
    const w = parseCronPattern('0 0 * * MON-sun');
    expect(w.weekdays).toEqual([63, 63, 63, 63, 63, 63, 63]);
    expect(parseCronPattern('0 0 * * 7').weekdays).toEqual([63, 0, 0, 0, 0, 0, 0]);
    expect(parseCronPattern('0 0 * * 5-7').weekdays).toEqual([63, 0, 0, 0, 0, 63, 63]);
  });

  it('reads L, LW and W in day-of-month, and L and # in day-of-week', () => {
    const dom = parseCronPattern('0 0 L,lw,15W,1 * *');
    expect(dom.lastDayOfMonth).toBe(true);
    expect(dom.lastWeekdayOfMonth).toBe(true);
    expect(bits(dom.nearestWeekdays, 1)).toEqual([15]);
    expect(bits(dom.daysOfMonth, 1)).toEqual([1]);
    // Friday: 2nd and last; Monday to Wednesday: first
    const dow = parseCronPattern('0 0 * * 5#2,FRIL,1-3#1');
    expect(dow.weekdays).toEqual([0, 1, 1, 1, 0, 2 | 32, 0]);
    expect(parseCronPattern('0 0 * * fri#L').weekdays[5]).toBe(32);
  });

  it('treats ? as * and tells restricted day fields apart', () => {
    const p = parseCronPattern('? ? ? ? ? ?');
    expect(p.anyDayOfMonth && p.anyDayOfWeek).toBe(true);
    expect(parseCronPattern('0 0 */1 * *').anyDayOfMonth).toBe(false);
  });

  it('expands the nicknames', () => {
    expect(parseCronPattern('@yearly').fields).toEqual(['0', '0', '0', '1', '1', '*']);
    expect(parseCronPattern('@annually').fields).toEqual(['0', '0', '0', '1', '1', '*']);
    expect(parseCronPattern('@monthly').fields).toEqual(['0', '0', '0', '1', '*', '*']);
    expect(parseCronPattern('@weekly').fields).toEqual(['0', '0', '0', '*', '*', '0']);
    expect(parseCronPattern('@DAILY').fields).toEqual(['0', '0', '0', '*', '*', '*']);
    expect(parseCronPattern(' @midnight ').fields).toEqual(['0', '0', '0', '*', '*', '*']);
    expect(parseCronPattern('@hourly').fields).toEqual(['0', '0', '*', '*', '*', '*']);
  });

  it('classes fixed-time jobs: no *, ? or step in seconds, minutes and hours', () => {
    expect(parseCronPattern('30 2 * * *').fixedTime).toBe(true);
    expect(parseCronPattern('0,30 1-3 * * MON').fixedTime).toBe(true);
    expect(parseCronPattern('*/5 2 * * *').fixedTime).toBe(false);
    expect(parseCronPattern('0 0-23/2 * * *').fixedTime).toBe(false);
    expect(parseCronPattern('* 30 2 * * *').fixedTime).toBe(false);
  });

  it('returns a frozen pattern', () => {
    const p = parseCronPattern('0 0 * * *');
    expect(Object.isFrozen(p) && Object.isFrozen(p.dayMasks) && Object.isFrozen(p.weekdays)).toBe(
      true,
    );
  });
});

describe('parseCronPattern: errors name the field and the position', () => {
  it.each<[string, CronField | 'expression', number, RegExp?]>([
    ['', 'expression', 0, /the expression is empty/],
    ['   ', 'expression', 0],
    ['* * * *', 'expression', 7, /expected 5 or 6 fields but found 4/],
    ['* * * * * * *', 'expression', 12, /found 7; a year field is not supported/],
    ['@foo', 'expression', 0, /unknown nickname "@foo" at position 0/],
    ['@reboot', 'expression', 0, /@reboot is not supported/],
    ['@daily *', 'expression', 7, /must stand alone/],
    [
      '60 * * * * *',
      'second',
      0,
      /^CronPattern: invalid value "60" for second at position 0 \(allowed 0-59\)$/,
    ],
    [
      '0 61 * * * *',
      'minute',
      2,
      /^CronPattern: invalid value "61" for minute at position 2 \(allowed 0-59\)$/,
    ],
    ['61 * * * *', 'minute', 0],
    ['* 24 * * *', 'hour', 2, /invalid value "24" for hour/],
    ['* * 0 * *', 'dayOfMonth', 4, /allowed 1-31/],
    ['* * 32 * *', 'dayOfMonth', 4],
    ['* * * 13 *', 'month', 6, /allowed 1-12 or JAN-DEC/],
    ['* * * FOO *', 'month', 6, /invalid value "FOO" for month/],
    ['* * * JANUARY *', 'month', 6],
    ['* * * MON *', 'month', 6],
    ['* * * * 8', 'dayOfWeek', 8, /0 and 7 are Sunday/],
    ['* * * * MONDAY', 'dayOfWeek', 8],
    ['* * * * JAN', 'dayOfWeek', 8],
    [
      '99999999999999999999 * * * *',
      'minute',
      0,
      /"99999999999999999999\.\.\."|"99999999999999999999"/,
    ],
    ['5-2 * * * *', 'minute', 0, /range 5-2 in minute at position 0 runs backwards/],
    ['* * * * FRI-MON', 'dayOfWeek', 8, /wrap-around ranges are not supported/],
    [
      '*/0 * * * *',
      'minute',
      2,
      /invalid step "0" in minute at position 2 \(expected a number from 1 to 60\)/,
    ],
    ['*/61 * * * *', 'minute', 2],
    ['* */25 * * *', 'hour', 4, /from 1 to 24/],
    ['* * * * */8', 'dayOfWeek', 10, /from 1 to 7/],
    ['*/ * * * *', 'minute', 2],
    ['*/x * * * *', 'minute', 2],
    ['* * * JAN/FEB *', 'month', 10],
    ['1,,2 * * * *', 'minute', 2, /empty list item in minute at position 2/],
    ['1, * * * *', 'minute', 2],
    [',1 * * * *', 'minute', 0],
    ['* * L-3 * *', 'dayOfMonth', 4, /offsets such as L-3 are not supported/],
    ['* * 5L * *', 'dayOfMonth', 5, /unexpected character "L" in dayOfMonth/],
    ['* * W * *', 'dayOfMonth', 4, /must follow a single day/],
    ['* * 1-5W * *', 'dayOfMonth', 7],
    ['* * 32W * *', 'dayOfMonth', 4],
    ['L * * * *', 'minute', 0, /L and W are allowed only in dayOfMonth/],
    ['* * * L *', 'month', 6],
    ['* * * * 5#6', 'dayOfWeek', 10, /invalid nth weekday "#6" in dayOfWeek at position 10/],
    ['* * * * 5#', 'dayOfWeek', 10],
    ['* * * * 5#0', 'dayOfWeek', 10],
    ['* * * * 5#1L', 'dayOfWeek', 11, /one modifier/],
    ['1#2 * * * *', 'minute', 1, /# is only allowed in dayOfWeek/],
    ['* * * * 1-', 'dayOfWeek', 10, /missing value/],
    ['-1 * * * *', 'minute', 0, /unexpected character "-"/],
    ['1.5 * * * *', 'minute', 1, /unexpected character "\."/],
    ['** * * * *', 'minute', 1],
    ['*5 * * * *', 'minute', 1],
    ['0 0 * * +MON', 'dayOfWeek', 8],
    ['0 0 12 * * 5\u0000', 'dayOfWeek', 12, /\\u0000/],
  ])('%j -> %s at %i', (expression, field, position, message) => {
    let error: unknown;
    try {
      parseCronPattern(expression);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CronSyntaxError);
    const e = error as CronSyntaxError;
    expect(e.code).toBe('ERR_CRON_SYNTAX');
    expect(e.expression).toBe(expression);
    expect({ field: e.field, position: e.position }).toEqual({ field, position });
    expect(e.message).toMatch(/^CronPattern: /);
    if (message) expect(e.message).toMatch(message);
  });

  it('rejects input longer than the cap without reading it', () => {
    const long = `${'0 '.repeat(600)}*`;
    expect(() => parseCronPattern(long)).toThrow(
      expect.objectContaining({ field: 'expression', position: MAX_EXPRESSION_LENGTH }),
    );
  });

  it('rejects a value that is not a string', () => {
    expect(() => parseCronPattern(42 as unknown as string)).toThrow(CronSyntaxError);
  });
});
