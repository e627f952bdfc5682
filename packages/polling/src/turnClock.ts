import type { Clock } from '@tickwork/core';

/** How many `now()` calls may share one clock reading inside a single turn. */
const CALLS_PER_READING = 1024;

/**
 * A clock reading shared by the `get()` calls of one event-loop turn.
 *
 * Reading the clock costs as much as the rest of `ThreadDict.get` together
 * (~60 ns for `Date.now()` on a VM), which alone would cap `get` well below
 * 10 M ops/s. No polled value can change while synchronous code runs, so a
 * turn may as well judge expiry against one reading: it is taken on the
 * first call, dropped by a microtask queued at that moment, and also renewed
 * every {@link CALLS_PER_READING} calls so a long synchronous loop still sees
 * time move.
 * @internal
 */
export class TurnClock {
  private readonly clock: Clock;
  private reading = Number.NaN;
  private budget = 0;
  private readonly drop = (): void => {
    this.reading = Number.NaN;
  };

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The current time, possibly as read earlier in this turn. */
  now(): number {
    const reading = this.reading;
    if (!Number.isNaN(reading) && --this.budget > 0) return reading;
    return this.read();
  }

  /** Forgets the shared reading (after the owner itself read the clock, or in tests). */
  invalidate(): void {
    this.reading = Number.NaN;
  }

  private read(): number {
    const fresh = Number.isNaN(this.reading);
    const now = this.clock.now();
    this.reading = now;
    this.budget = CALLS_PER_READING;
    if (fresh) queueMicrotask(this.drop);
    return now;
  }
}
