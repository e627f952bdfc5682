import { VirtualClock } from '@tickwork/core/testing';

/** A round start time, so slot arithmetic in expectations stays readable. */
export const T0 = Date.UTC(2026, 0, 1);

/** A virtual clock at {@link T0} and a promise-based delay on it. */
export function virtualTime(): {
  clock: VirtualClock;
  delay: (ms: number) => Promise<void>;
  at: (ms: number) => number;
} {
  const clock = new VirtualClock({ now: T0 });
  return {
    clock,
    delay: (ms) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms)),
    at: (ms) => T0 + ms,
  };
}

/** A promise that never settles: a hung device. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** Times relative to {@link T0}. */
export function rel(times: readonly number[]): number[] {
  return times.map((t) => t - T0);
}

/** Runs `fn` and returns what it threw (fails the test when nothing was thrown). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
