/**
 * One test per bug found by running fandango's ThreadedObject and ThreadDict
 * (DESIGN section 9). Each fails on the seed's behaviour.
 */
import { ExpiredError, KeyNotFoundError, Registry, StoppedError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { ThreadDict, ThreadedObject } from '../index.js';
import { rel, T0, virtualTime } from './helpers.js';

describe('seed bugs: fandango ThreadedObject', () => {
  it('bug "min_wait ignored": a run ending just before its slot waits minWaitMs before the next', async () => {
    const { clock, delay } = virtualTime();
    const starts: number[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      minWaitMs: 20,
      target: async () => {
        starts.push(clock.now());
        await delay(95);
      },
    });
    obj.start();
    await clock.advance(350);
    // Seed: 0, 100, 200, 300 (back to back). Here: 95 + 20 -> 115; that run ends 210, so slot 200
    // was skipped; 300 is clear of 210 + 20.
    expect(rel(starts)).toEqual([0, 115, 300]);
    expect(obj.getDelay()).toBe(0);
    expect(obj.stats().lateness.max).toBeCloseTo(15, 0);
    await obj.kill();
  });

  it('bug "first ignored": the first run waits `first` periods', async () => {
    const { clock } = virtualTime();
    const starts: number[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      first: 2,
      target: () => starts.push(clock.now()),
    });
    obj.start();
    await clock.advance(400);
    expect(rel(starts)).toEqual([200, 300, 400]); // seed: 0, 100, ...
    // `first` is about the very first start only.
    await obj.stop();
    obj.start();
    await clock.advance(0);
    expect(rel(starts).at(-1)).toBe(400);
    expect(starts).toHaveLength(4);
    await obj.kill();
  });

  it('bug "start() after a pause waits a whole period": it runs at once', async () => {
    const { clock } = virtualTime();
    const starts: number[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 1000,
      target: () => starts.push(clock.now()),
    });
    obj.start();
    await clock.advance(1500);
    await obj.stop();
    await clock.advance(700);
    obj.start();
    await clock.advance(0);
    expect(rel(starts)).toEqual([0, 1000, 2200]); // seed: next run at 3200
    await obj.kill();
  });

  it('bug "kill() of a paused object leaves it running": it ends for good from any state', async () => {
    const { clock } = virtualTime();
    let runs = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => runs++,
      start: true,
    });
    await clock.advance(100);
    await obj.stop();
    await obj.kill();
    expect(obj.isAlive()).toBe(false);
    expect(obj.state).toBe('killed');
    expect(() => obj.start()).toThrow(StoppedError);
    await clock.advance(1000);
    expect(runs).toBe(2);
    // Also from idle (never started) and from running.
    const idle = new ThreadedObject({ clock, registry: false, target: () => runs++ });
    await idle.kill();
    expect(idle.isAlive()).toBe(false);
  });

  it('bug "the instance list grows for ever": killed objects leave the registry', async () => {
    const { clock } = virtualTime();
    const registry = new Registry();
    for (let i = 0; i < 200; i++) {
      const obj = new ThreadedObject({
        clock,
        registry,
        periodMs: 100,
        target: () => 1,
        start: true,
      });
      await obj.kill();
    }
    expect(registry.size).toBe(0);
    const live = [1, 2, 3].map(() => new ThreadedObject({ clock, registry, target: () => 1 }));
    expect(registry.list('ThreadedObject')).toEqual(live);
    await ThreadedObject.killAll({ registry });
    expect(registry.size).toBe(0);
  });

  it('bug "nthreads starts N loops on shared state": one loop, however often start() is called', async () => {
    const { clock, delay } = virtualTime();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: async () => {
        runs++;
        maxActive = Math.max(maxActive, ++active);
        await delay(150);
        active--;
      },
    });
    obj.start();
    obj.start();
    obj.start();
    await clock.advance(1000);
    expect(maxActive).toBe(1);
    expect(runs).toBe(6); // 0, 200, 400, 600, 800, 1000: the overlapping slots are counted skips
    expect(obj.stats().skipped).toBe(5);
    await obj.kill();
  });
});

describe('seed bugs: fandango ThreadDict', () => {
  it('bug "a failed read is stored as the value": the last good value stays, the error is reported beside it', async () => {
    const { clock } = virtualTime();
    let fail = false;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      retry: false,
      read: () => {
        if (fail) throw new Error('timeout talking to the device');
        return 21.5;
      },
      start: true,
    });
    dict.append('sys/tg/1/temperature');
    await clock.advance(0);
    fail = true;
    await clock.advance(100);
    expect(dict.get('sys/tg/1/temperature')).toBe(21.5); // seed: the exception object
    expect(dict.entry('sys/tg/1/temperature')).toMatchObject({ value: 21.5, status: 'error' });
    expect(dict.entry('sys/tg/1/temperature').error?.message).toBe('timeout talking to the device');
    expect(dict.history('sys/tg/1/temperature').map((r) => r.value)).toEqual([21.5]);
    await dict.kill();
  });

  it('bug "deleted keys come back": a read or write finishing after remove() does not restore the key', async () => {
    const { clock, delay } = virtualTime();
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: async () => {
        await delay(50);
        return 1;
      },
      write: async (_key, value) => {
        await delay(50);
        return value;
      },
      start: true,
    });
    dict.append('a').append('b');
    await clock.advance(10); // both reads in flight
    dict.remove('a');
    const writing = dict.set('b', 6); // a write in flight too
    dict.remove('b');
    await clock.advance(1000);
    await expect(writing).resolves.toBe(6);
    expect(dict.has('a')).toBe(false);
    expect(dict.has('b')).toBe(false);
    expect(dict.keys()).toEqual([]);
    expect(() => dict.get('a')).toThrow(KeyNotFoundError);
    await dict.kill();
  });

  it('bug "re-append ignores the new period": appending again changes the period from the next slot', async () => {
    const { clock } = virtualTime();
    const times: number[] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: () => times.push(clock.now() - T0),
      start: true,
    });
    dict.append('k');
    await clock.advance(250);
    dict.append('k', { periodMs: 40 });
    await clock.advance(150);
    expect(times).toEqual([0, 100, 200, 250, 290, 330, 370]);
    expect(dict.status('k')).toMatchObject({ periodMs: 40, expireMs: 160 });
    dict.append('k', { periodMs: 500 });
    await clock.advance(1000);
    expect(times.slice(7)).toEqual([870, 1370]);
    await dict.kill();
  });

  it('bug "a pause after every key makes the real period N x timewait": 200 keys each keep a 100 ms period', async () => {
    const { clock } = virtualTime();
    const reads = new Map<string, number[]>();
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: (key) => {
        reads.set(key, [...(reads.get(key) ?? []), clock.now()]);
        return 1;
      },
      start: true,
    });
    for (let i = 0; i < 200; i++) dict.append(`k${i}`);
    await clock.advance(1099);
    for (const times of reads.values()) {
      expect(times).toHaveLength(11);
      expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(Array(10).fill(100));
    }
    await dict.kill();
  });

  it('bug "one slow read stalls every key": a 250 ms read delays no other key', async () => {
    const { clock, delay } = virtualTime();
    const times = new Map<string, number[]>();
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: async (key) => {
        times.set(key, [...(times.get(key) ?? []), clock.now() - T0]);
        if (key === 'slow') await delay(250);
        return 1;
      },
      start: true,
    });
    dict.append('slow').append('fast1').append('fast2');
    await clock.advance(1000);
    const grid = Array.from({ length: 11 }, (_, i) => i * 100);
    expect(times.get('fast1')).toEqual(grid);
    expect(times.get('fast2')).toEqual(grid);
    expect(times.get('slow')).toEqual([0, 300, 600, 900]);
    expect(dict.stats('slow').skipped).toBe(7);
    await dict.kill();
  });

  it('bug "no expiry": a value older than expireMs (4 x period by default) throws ExpiredError', async () => {
    const { clock } = virtualTime();
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: () => 1,
      start: true,
    });
    dict.append('k');
    await clock.advance(0);
    await dict.stop();
    await clock.advance(400);
    expect(dict.get('k')).toBe(1);
    await clock.advance(1);
    expect(() => dict.get('k')).toThrow(ExpiredError); // seed: returns the value for ever
    const custom = new ThreadDict<number>({ clock, registry: false, expireMs: 50, read: () => 1 });
    custom.append('k', { value: 1 });
    await clock.advance(51);
    expect(() => custom.get('k')).toThrow(ExpiredError);
    await dict.kill();
    await custom.kill();
  });
});
