import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { VirtualClock } from '../testing/virtualClock.js';

describe('VirtualClock', () => {
  it('runs due timers in order of due time, ties in the order they were set', async () => {
    const clock = new VirtualClock({ now: 1_000 });
    const order: string[] = [];
    clock.setTimeout(() => order.push('b'), 20);
    clock.setTimeout(() => order.push('a'), 10);
    clock.setTimeout(() => order.push('c'), 20);
    clock.setTimeout(() => order.push('late'), 31);
    await clock.advance(30);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(1_030);
    await clock.advanceTo(1_031);
    expect(order).toEqual(['a', 'b', 'c', 'late']);
  });

  it('shows each timer its own due time and settles promises between timers', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const wait = (ms: number): Promise<void> => new Promise((r) => clock.setTimeout(r, ms));
    const task = async (): Promise<void> => {
      await wait(10);
      seen.push(`first at ${clock.now()}`);
      await wait(10); // set from a continuation: must still fire within the same advance
      seen.push(`second at ${clock.now()}`);
    };
    const done = task();
    await clock.advance(25);
    await done;
    expect(seen).toEqual(['first at 10', 'second at 20']);
  });

  it('cancels timers and counts pending ones', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    const h = clock.setTimeout(() => fired++, 5);
    clock.setTimeout(() => fired++, 5);
    expect(clock.pendingTimers).toBe(2);
    clock.clearTimeout(h);
    clock.clearTimeout('not a handle');
    await clock.advance(5);
    expect(fired).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('jump moves the wall clock without running timers, which keep their monotonic delay', async () => {
    const clock = new VirtualClock({ now: 0 });
    const firedAt: number[] = [];
    clock.setTimeout(() => firedAt.push(clock.now()), 100);
    clock.jump(5_000);
    expect(clock.now()).toBe(5_000);
    expect(firedAt).toEqual([]);
    await clock.advance(100);
    expect(firedAt).toEqual([5_100]);
    clock.jump(-10_000);
    expect(clock.now()).toBe(-4_900);
  });

  it('treats negative and NaN delays as zero', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    clock.setTimeout(() => fired++, -5);
    clock.setTimeout(() => fired++, Number.NaN);
    await clock.runDue();
    expect(fired).toBe(2);
  });

  it('rejects moving backwards or by a non-finite amount', async () => {
    const clock = new VirtualClock({ now: 100 });
    await expect(clock.advance(-1)).rejects.toThrow(ConfigError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(ConfigError);
    expect(() => clock.advanceTo(50)).toThrow('VirtualClock.advanceTo: 50 is before now (100)');
    expect(() => clock.jump(Number.POSITIVE_INFINITY)).toThrow(ConfigError);
  });
});
