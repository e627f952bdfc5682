import { describe, expect, it, vi } from 'vitest';
import type { Clock, TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';
import { getScheduler, ScheduledTimer, Scheduler, type Slot } from '../scheduler.js';
import { VirtualClock } from '../testing/virtualClock.js';

const T0 = Date.UTC(2026, 0, 1);

/** A clock that records every host-timer delay asked of it. */
function spyClock(inner: VirtualClock): Clock & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => inner.now(),
    setTimeout: (cb: () => void, ms: number): TimerHandle => {
      delays.push(ms);
      return inner.setTimeout(cb, ms);
    },
    clearTimeout: (h: TimerHandle) => inner.clearTimeout(h),
  };
}

function copy(slot: Readonly<Slot>): Slot {
  return { ...slot };
}

describe('Scheduler', () => {
  it('reuses fired buckets: each fires only the timers placed in it since, cancelled ones skipped', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const fired: string[] = [];
    const timers = ['a', 'b', 'c', 'd'].map((name) =>
      scheduler.createTimer((slot) => fired.push(`${name}@${slot.dueAt - T0}`)),
    );
    const [a, b, c, d] = timers as [ScheduledTimer, ScheduledTimer, ScheduledTimer, ScheduledTimer];
    a.schedule(T0 + 10, 10);
    b.schedule(T0 + 10, 10);
    c.schedule(T0 + 10);
    await clock.advance(10);
    // The bucket of t=10 is spare now; t=30's may reuse it with fewer entries.
    b.cancel();
    d.schedule(T0 + 30);
    await clock.advance(20);
    // d joined t=30's bucket (at t=10) before a did (when it fired at t=20).
    expect(fired).toEqual(['a@10', 'b@10', 'c@10', 'a@20', 'd@30', 'a@30']);
    expect(scheduler.size).toBe(1);
    scheduler.clear();
    expect(a.scheduled).toBe(false);
    await clock.advance(100);
    expect(fired).toHaveLength(6);
  });

  it('clear() from inside a callback cancels the timers of the bucket being fired too', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const fired: string[] = [];
    const later = scheduler.at(T0 + 50, () => fired.push('later'));
    const periodic = scheduler.every(10, () => fired.push('periodic'), T0 + 10);
    scheduler.at(T0 + 10, () => {
      fired.push('clearer');
      scheduler.clear();
    });
    const sameMs = scheduler.at(T0 + 10, () => fired.push('same ms'));
    await clock.advance(10);
    // 'periodic' fired before the clear; 'same ms' was still waiting in the bucket.
    expect(fired).toEqual(['periodic', 'clearer']);
    expect(scheduler.size).toBe(0);
    expect([later, periodic, sameMs].map((t) => t.scheduled)).toEqual([false, false, false]);
    expect(scheduler.armed).toBe(false);
    // The count is right again afterwards: one new timer is one.
    scheduler.at(T0 + 20, () => fired.push('after'));
    expect(scheduler.size).toBe(1);
    await clock.advance(100);
    expect(fired).toEqual(['periodic', 'clearer', 'after']);
    expect(scheduler.size).toBe(0);
  });

  it('keeps a periodic timer on its grid for 10,000 periods, with no drift', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const slots: Slot[] = [];
    scheduler.every(100, (slot) => slots.push(copy(slot)), T0 + 100);
    await clock.advance(100 * 10_000);
    expect(slots).toHaveLength(10_000);
    slots.forEach((s, i) => {
      expect(s.dueAt).toBe(T0 + 100 * (i + 1));
    });
    expect(slots.every((s) => s.latenessMs === 0 && s.missed === 0)).toBe(true);
  });

  it('stays drift-free when the host timer fires late every time', async () => {
    const inner = new VirtualClock({ now: T0 });
    let seed = 7;
    const jitter = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 40; // up to 39 ms late, under the 100 ms period
    };
    const lateClock: Clock = {
      now: () => inner.now(),
      setTimeout: (cb, ms) => inner.setTimeout(cb, ms + jitter()),
      clearTimeout: (h) => inner.clearTimeout(h),
    };
    const scheduler = new Scheduler({ clock: lateClock });
    const slots: Slot[] = [];
    scheduler.every(100, (slot) => slots.push(copy(slot)), T0 + 100);
    await inner.advance(100 * 10_000);
    // Late wakes never push the grid: due times stay multiples of the period.
    expect(slots.length).toBeGreaterThan(9_990);
    slots.forEach((s, i) => {
      expect(s.dueAt).toBe(T0 + 100 * (i + 1));
      expect(s.missed).toBe(0);
    });
    expect(Math.max(...slots.map((s) => s.latenessMs))).toBeLessThan(40);
    expect(slots.some((s) => s.latenessMs > 0)).toBe(true);
  });

  it('caps every host sleep and fires a far timer (over 2^31 ms) on time', async () => {
    const inner = new VirtualClock({ now: T0 });
    const clock = spyClock(inner);
    const scheduler = new Scheduler({ clock });
    const far = T0 + 2 ** 31 + 12_345;
    const fired: number[] = [];
    scheduler.at(far, (slot) => fired.push(slot.firedAt));
    await inner.advance(far - T0 - 1);
    expect(fired).toEqual([]);
    await inner.advance(1);
    expect(fired).toEqual([far]);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(30_000);
    expect(clock.delays.length).toBeGreaterThan(2 ** 31 / 30_000);
  });

  it('honours a smaller maxSleepMs', async () => {
    const inner = new VirtualClock({ now: T0 });
    const clock = spyClock(inner);
    const scheduler = new Scheduler({ clock, maxSleepMs: 1_000 });
    scheduler.at(T0 + 10_000, () => {});
    await inner.advance(10_000);
    expect(Math.max(...clock.delays)).toBe(1_000);
  });

  it('coalesces due times into resolutionMs buckets: fewer wakes, bounded lateness', async () => {
    const inner = new VirtualClock({ now: T0 });
    const clock = spyClock(inner);
    const scheduler = new Scheduler({ clock, resolutionMs: 4 });
    const slots: Slot[] = [];
    for (let i = 0; i < 8; i++)
      scheduler.every(100, (slot) => slots.push(copy(slot)), T0 + 100 + i);
    await inner.advance(1_000);
    // Slots due at +1001..+1007 fire at the end of their buckets, +1004 and +1008.
    expect(slots).toHaveLength(73);
    await inner.advance(10);
    expect(slots).toHaveLength(80);
    // Due times stay exact; each fires at the end of its 4 ms bucket.
    expect(new Set(slots.map((s) => s.dueAt % 100)).size).toBe(8);
    expect(Math.max(...slots.map((s) => s.latenessMs))).toBeLessThanOrEqual(3);
    // Buckets +100, +104 and +108 each period (8 wakes a period at 1 ms resolution).
    expect(clock.delays.length).toBe(3 * 10 + 1);
    expect(() => new Scheduler({ clock, resolutionMs: 0.5 })).toThrow(
      'Scheduler: options.resolutionMs must be an integer from 1 to 1000 (got 0.5)',
    );
  });

  it('counts slots passed over by a forward jump as missed and fires once', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const slots: Slot[] = [];
    scheduler.every(100, (slot) => slots.push(copy(slot)), T0 + 100);
    await clock.advance(1_000);
    expect(slots).toHaveLength(10);
    clock.jump(10_000); // suspend or clock step: the wall clock moves, no timer runs
    await clock.advance(100);
    expect(slots).toHaveLength(11);
    const afterJump = slots[10]!;
    expect(afterJump.missed).toBe(100);
    expect(afterJump.dueAt).toBe(T0 + 11_100);
    await clock.advance(300);
    expect(slots.slice(11).map((s) => s.dueAt)).toEqual([T0 + 11_200, T0 + 11_300, T0 + 11_400]);
    expect(slots.slice(11).every((s) => s.missed === 0)).toBe(true);
  });

  it('keeps an elapsed-time period running at its pace after a backward jump', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const slots: Slot[] = [];
    scheduler.every(100, (slot) => slots.push(copy(slot)), T0 + 100);
    await clock.advance(500);
    clock.jump(-3_600_000);
    await clock.advance(1_000);
    // Ten more runs in the next real second, not a stall of an hour.
    expect(slots).toHaveLength(15);
    const after = slots.slice(5);
    for (let i = 1; i < after.length; i++) expect(after[i]!.dueAt - after[i - 1]!.dueAt).toBe(100);
    expect(after.every((s) => s.missed === 0)).toBe(true);
  });

  it('catches a backward jump when a timer is scheduled between the jump and the next wake', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const slots: Slot[] = [];
    scheduler.every(100, (slot) => slots.push(copy(slot)), T0 + 100);
    await clock.advance(500);
    clock.jump(-3_600_000);
    const oneShot: number[] = [];
    // e.g. a read timeout armed from an I/O callback right after an NTP step
    scheduler.at(clock.now() + 10, (slot) => oneShot.push(slot.firedAt));
    await clock.advance(1_000);
    expect(oneShot).toEqual([T0 + 500 - 3_600_000 + 10]);
    expect(slots).toHaveLength(15); // no stall of an hour
    const after = slots.slice(5);
    for (let i = 1; i < after.length; i++) expect(after[i]!.dueAt - after[i - 1]!.dueAt).toBe(100);
  });

  it('does not move a timer scheduled after a backward jump: it fires after its own delay', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    scheduler.every(100, () => {}, T0 + 100);
    await clock.advance(50);
    clock.jump(-10_000);
    const fired: number[] = [];
    const start = clock.now();
    scheduler.at(start + 60_000, (slot) => fired.push(slot.firedAt - start));
    await clock.advance(59_999);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([60_000]);
  });

  it('never re-fires a wall-clock slot already run when the clock steps back', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const dues: number[] = [];
    scheduler.every(60_000, (slot) => dues.push(slot.dueAt), T0 + 60_000, { wallClock: true });
    await clock.advance(180_000);
    expect(dues).toEqual([T0 + 60_000, T0 + 120_000, T0 + 180_000]);
    clock.jump(-150_000); // wall time back to T0 + 30 s
    await clock.advance(150_000); // wall time back at T0 + 180 s: nothing new is due
    expect(dues).toHaveLength(3);
    await clock.advance(60_000);
    expect(dues).toEqual([T0 + 60_000, T0 + 120_000, T0 + 180_000, T0 + 240_000]);
  });

  it('fires timers in due order and cancels in O(1)', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const order: string[] = [];
    scheduler.at(T0 + 30, () => order.push('c'));
    scheduler.at(T0 + 10, () => order.push('a'));
    const b = scheduler.at(T0 + 20, () => order.push('b'));
    const d = scheduler.at(T0 + 20, () => order.push('d'));
    b.cancel();
    expect(b.scheduled).toBe(false);
    expect(Number.isNaN(b.dueAt)).toBe(true);
    await clock.advance(100);
    expect(order).toEqual(['a', 'd', 'c']);
    expect(d.scheduled).toBe(false);
  });

  it('re-schedules earlier and later, re-arming the one host timer', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    const fired: number[] = [];
    const t = scheduler.at(T0 + 1_000, (slot) => fired.push(slot.dueAt));
    t.schedule(T0 + 50);
    expect(t.dueAt).toBe(T0 + 50);
    await clock.advance(60);
    expect(fired).toEqual([T0 + 50]);
    t.schedule(T0 + 500);
    t.schedule(T0 + 900);
    await clock.advance(1_000);
    expect(fired).toEqual([T0 + 50, T0 + 900]);
    expect(clock.pendingTimers).toBe(0);
    expect(scheduler.armed).toBe(false);
  });

  it('costs one host timer for 10,000 timers and none once all are cancelled', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    let fired = 0;
    const timers = Array.from({ length: 10_000 }, (_, i) =>
      scheduler.every(100, () => fired++, T0 + 1 + (i % 100)),
    );
    expect(scheduler.size).toBe(10_000);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1_000);
    expect(fired).toBe(100_000);
    expect(clock.pendingTimers).toBe(1);
    for (const t of timers) t.cancel();
    expect(scheduler.size).toBe(0);
    expect(scheduler.armed).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not wake for a bucket whose timers were all cancelled', async () => {
    const inner = new VirtualClock({ now: T0 });
    const clock = spyClock(inner);
    const scheduler = new Scheduler({ clock });
    const early = scheduler.at(T0 + 10, () => {});
    scheduler.at(T0 + 500, () => {});
    expect(clock.delays.at(-1)).toBe(10);
    early.cancel(); // the earliest bucket is now empty: re-arm for the next one
    expect(clock.delays.at(-1)).toBe(500);
    expect(inner.pendingTimers).toBe(1);
  });

  it('defers a timer re-scheduled into the past from its own callback to the next wake', async () => {
    const clock = new VirtualClock({ now: T0 });
    const scheduler = new Scheduler({ clock });
    let runs = 0;
    const t = scheduler.at(T0 + 10, (slot, timer) => {
      runs++;
      if (runs < 5) timer.schedule(slot.firedAt - 5);
    });
    await clock.advance(10);
    expect(runs).toBe(5);
    expect(t.scheduled).toBe(false);
  });

  it('keeps going when a callback throws, and logs it', async () => {
    const clock = new VirtualClock({ now: T0 });
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const scheduler = new Scheduler({ clock, logger });
    const ok: number[] = [];
    scheduler.every(
      10,
      () => {
        throw new Error('boom');
      },
      T0 + 10,
    );
    scheduler.every(10, (slot) => ok.push(slot.dueAt), T0 + 10);
    await clock.advance(30);
    expect(ok).toEqual([T0 + 10, T0 + 20, T0 + 30]);
    expect(logger.error).toHaveBeenCalledTimes(3);
  });

  it('reuses fired buckets without mixing up timers that moved or were cancelled', async () => {
    const clock = new VirtualClock({ now: T0 + 0.5 });
    const scheduler = new Scheduler({ clock });
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const expected = new Map<number, number>();
    const fired: [number, number][] = [];
    const timers = Array.from({ length: 200 }, (_, i) =>
      scheduler.createTimer((slot) => fired.push([i, slot.dueAt])),
    );
    for (let round = 0; round < 50; round++) {
      for (const [i, t] of timers.entries()) {
        const r = rand(10);
        if (r < 2) {
          t.cancel();
          expected.delete(i);
        } else {
          const due = clock.now() + 1 + rand(20);
          t.schedule(due);
          expected.set(i, due);
        }
      }
      await clock.advance(25);
      const got = new Map(fired.splice(0));
      expect(got).toEqual(expected);
      expected.clear();
    }
  });

  it('shares one scheduler per clock', () => {
    const clock = new VirtualClock();
    expect(getScheduler(clock)).toBe(getScheduler(clock));
    expect(getScheduler(new VirtualClock())).not.toBe(getScheduler(clock));
  });

  it('rejects bad options and bad times with ConfigError', () => {
    const clock = new VirtualClock();
    expect(() => new Scheduler({ clock, maxSleepMs: 0 })).toThrow(ConfigError);
    expect(() => new Scheduler({ clock, maxSleepMs: 2 ** 31 })).toThrow(
      'Scheduler: options.maxSleepMs must be a finite number from 1 to 2147483647 (got 2147483648)',
    );
    expect(() => new Scheduler({ clock, jumpToleranceMs: -1 })).toThrow(ConfigError);
    const scheduler = new Scheduler({ clock });
    const t = scheduler.createTimer(() => {});
    expect(() => t.schedule(Number.NaN)).toThrow(
      'ScheduledTimer: dueAt must be a finite number (got NaN)',
    );
    expect(() => t.schedule(0, 0.5)).toThrow(ConfigError);
    expect(() => t.schedule(0, Number.POSITIVE_INFINITY)).toThrow(ConfigError);
  });

  it('lets a ScheduledTimer subclass share one callback, which is given the instance', async () => {
    const clock = new VirtualClock({ now: 1_000 });
    const scheduler = new Scheduler({ clock });
    class Device extends ScheduledTimer {
      fired: number[] = [];
      constructor(readonly id: string) {
        super(scheduler, (slot, timer) => (timer as Device).fired.push(slot.dueAt));
      }
    }
    const a = new Device('a').schedule(1_010, 10);
    const b = new Device('b').schedule(1_015);
    await clock.advance(30);
    expect(a.fired).toEqual([1_010, 1_020, 1_030]);
    expect(b.fired).toEqual([1_015]);
    expect(a.periodMs).toBe(10);
    expect(b.scheduled).toBe(false);
  });
});
