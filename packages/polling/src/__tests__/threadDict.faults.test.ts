import { ExpiredError, TimeoutError } from '@tickwork/core';
import { expect, it } from 'vitest';
import { ThreadDict } from '../index.js';
import { never, rel, T0, virtualTime } from './helpers.js';

const HEALTHY = ['sys/ok/1', 'sys/ok/2', 'sys/ok/3'];
const THROWS = 'sys/bad/throws';
const REJECTS = 'sys/bad/rejects';
const HANGS = 'sys/bad/hangs';
/** The faulty keys work for the first 3 slots, then fail. */
const FAIL_FROM = 300;

it('isolates a key that throws, one that rejects and one that never settles: healthy keys keep their schedule to the ms', async () => {
  const { clock } = virtualTime();
  const reads = new Map<string, number[]>();
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    retry: false,
    read: (key) => {
      const t = clock.now() - T0;
      reads.set(key, [...(reads.get(key) ?? []), t]);
      const failing = t >= FAIL_FROM;
      if (key === THROWS) {
        if (failing) throw new Error('sensor unplugged');
        return t;
      }
      if (key === REJECTS)
        return failing ? Promise.reject(new Error('device busy')) : Promise.resolve(t);
      if (key === HANGS) return failing ? never<number>() : Promise.resolve(t);
      return t;
    },
  });
  for (const k of [THROWS, REJECTS, HANGS, ...HEALTHY]) dict.append(k);
  dict.start();
  await clock.advance(2000);

  const grid = Array.from({ length: 21 }, (_, i) => i * 100);
  for (const k of HEALTHY) {
    expect(reads.get(k)).toEqual(grid);
    expect(dict.stats(k)).toMatchObject({ count: 21, errors: 0, skipped: 0, delay: 0 });
    expect(dict.stats(k).lateness.max).toBe(0);
    expect(dict.get(k)).toBe(2000);
  }

  // Errors are counted per key.
  expect(dict.stats(THROWS)).toMatchObject({ count: 21, errors: 18 });
  expect(dict.stats(REJECTS)).toMatchObject({ count: 21, errors: 18 });
  // The hung key: read at 300 hangs, times out at 700 (timeout = expireMs = 4 x 100);
  // slots 400-600 are skipped meanwhile; it reads again at 700 and hangs again, and so on.
  expect(rel(reads.get(HANGS)!.map((t) => t + T0))).toEqual([
    0, 100, 200, 300, 700, 1100, 1500, 1900,
  ]);
  expect(dict.stats(HANGS)).toMatchObject({ errors: 4, skipped: 13 }); // 3 per hang, and 2000
  expect(dict.stats(HANGS).lastError?.name).toBe('TimeoutError');
  expect(dict.entry(HANGS).error).toBeInstanceOf(TimeoutError);
  expect(dict.stats()).toMatchObject({ errors: 40 });
  await dict.kill();
});

it('keeps the failed key at its last good value until it expires, then get throws ExpiredError', async () => {
  const { clock } = virtualTime();
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    retry: false,
    read: (key) => {
      const t = clock.now() - T0;
      const failing = t >= FAIL_FROM;
      if (key === THROWS && failing) throw new Error('sensor unplugged');
      if (key === REJECTS && failing) return Promise.reject(new Error('device busy'));
      if (key === HANGS && failing) return never<number>();
      return t;
    },
  });
  for (const k of [THROWS, REJECTS, HANGS]) dict.append(k);
  dict.start();
  // Last good values were sampled at 200; expireMs is 4 x 100 = 400.
  await clock.advance(600);
  for (const k of [THROWS, REJECTS, HANGS]) {
    expect(dict.get(k)).toBe(200);
    expect(dict.entry(k).stale).toBe(false);
  }
  expect(dict.entry(THROWS)).toMatchObject({ value: 200, status: 'error' });
  expect(dict.entry(THROWS).error?.message).toBe('sensor unplugged');
  expect(dict.entry(REJECTS).error?.message).toBe('device busy');
  expect(dict.entry(HANGS)).toMatchObject({ value: 200, status: 'ok' }); // still hanging: no outcome yet

  await clock.advance(1);
  for (const k of [THROWS, REJECTS, HANGS]) {
    let error: unknown;
    try {
      dict.get(k);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpiredError);
    expect(error).toMatchObject({ key: k, value: 200, ageMs: 401 });
    expect(dict.get(k, { allowStale: true })).toBe(200);
  }
  await dict.kill();
});
