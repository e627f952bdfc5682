import { expect, it } from 'vitest';
import { isThenable } from '../isThenable.js';
import { errorSnapshot } from '../stats.js';

/** `target` with a `then` property: what isThenable must recognise (or not, when not a function). */
function withThen<T extends object>(target: T, then: unknown): T {
  return Object.defineProperty(target, 'then', { value: then });
}

it('isThenable tells promises and thenables from plain values', () => {
  expect(isThenable(Promise.resolve(1))).toBe(true);
  expect(isThenable(withThen({}, () => {}))).toBe(true);
  expect(
    isThenable(
      withThen(
        () => 1,
        () => {},
      ),
    ),
  ).toBe(true);
  for (const v of [null, undefined, 0, 'then', {}, withThen({}, 1), () => 1]) {
    expect(isThenable(v)).toBe(false);
  }
});

it('errorSnapshot keeps name, message and a string code', () => {
  const coded = Object.assign(new TypeError('bad'), { code: 'E_BAD' });
  expect(errorSnapshot(coded, 5)).toEqual({
    name: 'TypeError',
    message: 'bad',
    code: 'E_BAD',
    at: 5,
  });
  expect(errorSnapshot(Object.assign(new Error('n'), { code: 7 }), 1)).toEqual({
    name: 'Error',
    message: 'n',
    at: 1,
  });
  expect(errorSnapshot('text', 2)).toEqual({ name: 'Error', message: 'text', at: 2 });
});
