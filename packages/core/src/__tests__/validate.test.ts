import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import {
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInstant,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  describeValue,
} from '../validate.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('validation helpers', () => {
  it('checkDuration rejects NaN, negative, Infinity, over 2^31 and wrong types', () => {
    expect(checkDuration('ThreadDict', 'options.periodMs', 100, { min: 1 })).toBe(100);
    for (const bad of [
      Number.NaN,
      -1,
      Number.POSITIVE_INFINITY,
      2 ** 31,
      '100',
      null,
      undefined,
      {},
    ]) {
      const e = configError(() => checkDuration('ThreadDict', 'options.periodMs', bad, { min: 1 }));
      expect(e.message).toBe(
        `ThreadDict: options.periodMs must be a finite number from 1 to 2147483647 (got ${describeValue(bad)})`,
      );
      expect(e.path).toBe('options.periodMs');
      expect(e.code).toBe('ERR_CONFIG');
    }
    expect(checkDuration('X', 'options.expireMs', 2 ** 40, { max: Number.MAX_SAFE_INTEGER })).toBe(
      2 ** 40,
    );
  });

  it('checkNumber and checkInteger describe their bounds', () => {
    expect(
      configError(() => checkNumber('ThreadDict', 'options.periodMs', Number.NaN, { min: 1 }))
        .message,
    ).toBe('ThreadDict: options.periodMs must be a finite number >= 1 (got NaN)');
    expect(configError(() => checkNumber('X', 'options.f', 2, { max: 1 })).message).toBe(
      'X: options.f must be a finite number <= 1 (got 2)',
    );
    expect(configError(() => checkInteger('X', 'options.n', 1.5, { min: 0 })).message).toBe(
      'X: options.n must be an integer >= 0 (got 1.5)',
    );
    expect(checkInteger('X', 'options.n', 3)).toBe(3);
  });

  it('checks functions, strings, booleans, enums and option objects', () => {
    const f = () => 1;
    expect(checkFunction('X', 'options.read', f)).toBe(f);
    expect(configError(() => checkFunction('X', 'options.read', 'read')).message).toBe(
      'X: options.read must be a function (got "read")',
    );
    expect(checkString('X', 'key', 'a')).toBe('a');
    expect(configError(() => checkString('X', 'key', '')).message).toBe(
      'X: key must be a non-empty string (got "")',
    );
    expect(checkString('X', 'key', '', { allowEmpty: true })).toBe('');
    expect(configError(() => checkString('X', 'key', 7)).message).toBe(
      'X: key must be a non-empty string (got 7)',
    );
    expect(checkBoolean('X', 'options.start', false)).toBe(false);
    expect(configError(() => checkBoolean('X', 'options.start', 1)).message).toContain(
      'must be a boolean',
    );
    expect(checkOneOf('X', 'options.overrun', 'skip', ['skip', 'queue'])).toBe('skip');
    expect(
      configError(() => checkOneOf('X', 'options.overrun', 'pile', ['skip', 'queue'])).message,
    ).toBe(`X: options.overrun must be one of 'skip', 'queue' (got "pile")`);
    expect(checkOptions('X', 'options', undefined)).toEqual({});
    expect(configError(() => checkOptions('X', 'options', [] as object)).message).toBe(
      'X: options must be an object (got an array)',
    );
  });

  it('checkInstant takes a Date or epoch ms within the Date range', () => {
    expect(checkInstant('CronTab.add', 'options.startAt', new Date(5_000))).toBe(5_000);
    expect(checkInstant('CronTab.add', 'options.startAt', -1)).toBe(-1);
    for (const bad of [Number.NaN, 9e15, '5', new Date(Number.NaN), undefined]) {
      expect(() => checkInstant('CronTab.add', 'options.startAt', bad)).toThrow(ConfigError);
    }
    expect(() => checkInstant('CronTab.add', 'options.startAt', Number.NaN)).toThrow(
      'CronTab.add: options.startAt must be a Date or finite epoch milliseconds (got NaN)',
    );
  });

  it('checkKnownKeys refuses unknown option names, hinting at the Ms suffix', () => {
    expect(() => checkKnownKeys('X', 'options', { periodMs: 1 }, ['periodMs'])).not.toThrow();
    expect(() => checkKnownKeys('X', 'options', { period: 1 }, new Set(['periodMs']))).toThrow(
      'X: options.period is not an option (did you mean periodMs? durations are in ms); known options: periodMs',
    );
    expect(() => checkKnownKeys('X', 'send options', { nope: 1 }, ['a', 'b'])).toThrow(
      'X: send options.nope is not an option; known options: a, b',
    );
  });

  it('describes values briefly', () => {
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(40)}…"`);
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue(Symbol('s'))).toBe('symbol');
    expect(describeValue(() => 1)).toBe('a function');
  });
});
