import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../clock.js';
import { Scheduler } from '../scheduler.js';

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('looks the timer globals up at call time, so fake timers installed after import drive it', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    expect(systemClock.now()).toBe(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({ clock: systemClock });
    const dues: number[] = [];
    scheduler.every(
      100,
      (slot) => dues.push(slot.dueAt - Date.UTC(2026, 0, 1)),
      Date.UTC(2026, 0, 1) + 100,
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(dues).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    scheduler.clear();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears a pending timer', async () => {
    vi.useFakeTimers();
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 10);
    systemClock.clearTimeout(handle);
    await vi.advanceTimersByTimeAsync(20);
    expect(fired).toBe(false);
  });
});
