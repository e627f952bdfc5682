import { setImmediate as realSetImmediate } from 'node:timers';
import type { Clock, TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';

interface VirtualTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Lets pending promise continuations (and their continuations) run. */
function settle(): Promise<void> {
  // A macrotask turn flushes the whole microtask queue, however deep the
  // chain; `node:timers` is the real one even under vitest fake timers.
  return new Promise((resolve) => realSetImmediate(resolve));
}

/**
 * A deterministic {@link Clock} for tests. Time only moves when told to:
 * `advance(ms)` and `advanceTo(t)` run due timers in order of due time (ties in
 * the order they were set), letting promise continuations settle between
 * them; `jump(ms)` moves the wall clock without running anything, as a clock
 * step or a suspend does to a real process (host timers keep their monotonic
 * schedule, so they fire later by the wall clock).
 *
 * @example
 * ```ts
 * const clock = new VirtualClock({ now: Date.UTC(2026, 0, 1) });
 * const dict = new ThreadDict({ read, clock });
 * await clock.advance(1_000);
 * ```
 */
export class VirtualClock implements Clock {
  /** Monotonic time: what host timers are scheduled against. */
  private monotonic = 0;
  /** Wall time minus monotonic time; changed by {@link VirtualClock.jump}. */
  private wallOffset: number;
  private nextId = 1;
  private readonly timers = new Map<number, VirtualTimer>();

  /** @param options - `now`: the initial wall time in epoch ms (default 0) */
  constructor(options: { now?: number } = {}) {
    this.wallOffset = options.now ?? 0;
  }

  /** Current wall time in epoch ms. */
  now(): number {
    return this.monotonic + this.wallOffset;
  }

  /** Schedules `callback` after `delayMs` of monotonic time (negative or NaN counts as 0). */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.timers.set(id, { id, at: this.monotonic + delay, callback });
    return id;
  }

  /** Cancels a pending timer. */
  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due on the way
   * in order, with promise continuations settled after each one.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new ConfigError(
        `VirtualClock.advance: ms must be a finite number >= 0 (got ${ms})`,
        'ms',
      );
    }
    const target = this.monotonic + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.at > target) break;
      this.timers.delete(next.id);
      if (next.at > this.monotonic) this.monotonic = next.at;
      next.callback();
      await settle();
    }
    this.monotonic = target;
    await settle();
  }

  /** Advances to wall time `t` (epoch ms); `t` in the past is an error. */
  advanceTo(t: number): Promise<void> {
    const delta = t - this.now();
    if (!Number.isFinite(delta) || delta < 0) {
      throw new ConfigError(`VirtualClock.advanceTo: ${t} is before now (${this.now()})`, 't');
    }
    return this.advance(delta);
  }

  /**
   * Steps the wall clock by `ms` (negative steps it back) without running any
   * timer: what NTP stepping the clock, or a suspend, looks like to a process.
   * Timers already set still fire after their delay of monotonic time.
   */
  jump(ms: number): void {
    if (!Number.isFinite(ms))
      throw new ConfigError(`VirtualClock.jump: ms must be finite (got ${ms})`, 'ms');
    this.wallOffset += ms;
  }

  /** Runs every timer due now or earlier, then lets promises settle. */
  runDue(): Promise<void> {
    return this.advance(0);
  }

  private earliest(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    // Map keeps insertion order, so on equal `at` the first set wins.
    for (const t of this.timers.values()) if (best === undefined || t.at < best.at) best = t;
    return best;
  }
}
