import { ConfigError } from '@tickwork/core';
import { expect, it } from 'vitest';
import { checkRunWindow } from '../index.js';

it('defaults to an unbounded window and no args, and takes Dates as epoch ms', () => {
  expect(checkRunWindow('T', {})).toEqual({
    startAt: Number.NEGATIVE_INFINITY,
    stopAt: Number.POSITIVE_INFINITY,
    args: [],
  });
  const start = new Date('2026-01-01T00:00:00Z');
  expect(checkRunWindow('T', { startAt: start, stopAt: start.getTime(), args: ['a'] })).toEqual({
    startAt: start.getTime(),
    stopAt: start.getTime(),
    args: ['a'],
  });
});

it('rejects a bad instant, stopAt before startAt and non-string args with ConfigError', () => {
  expect(() => checkRunWindow('T', { stopAt: Number.POSITIVE_INFINITY })).toThrow(
    'T: options.stopAt must be a Date or finite epoch milliseconds (got Infinity)',
  );
  expect(() => checkRunWindow('T', { startAt: 10, stopAt: 5 })).toThrow(
    'T: options.stopAt must not be before options.startAt',
  );
  const badArgs = (): unknown => checkRunWindow('T', { args: [1] as never });
  expect(badArgs).toThrow(ConfigError);
  expect(badArgs).toThrow('T: options.args must be an array of strings');
  expect(() => checkRunWindow('T', { args: 'a' as never })).toThrow(ConfigError);
});
