/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Where every tickwork component gets its time from. Durations are in
 * milliseconds; `now()` is epoch milliseconds (wall-clock time, so cron
 * schedules follow the calendar and clock jumps can be detected).
 *
 * Inject a `VirtualClock` from `@tickwork/core/testing` to drive time in tests.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer made by {@link Clock.setTimeout}; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The system clock. Every call looks `Date.now`, `setTimeout` and
 * `clearTimeout` up on `globalThis` at call time, so `vi.useFakeTimers()`
 * installed after import still takes effect.
 */
export const systemClock: Clock = Object.freeze({
  now: () => globalThis.Date.now(),
  setTimeout: (callback: () => void, delayMs: number): TimerHandle =>
    globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle: TimerHandle): void => {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
});
