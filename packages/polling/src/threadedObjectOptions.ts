import {
  type ComponentOptions,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
  checkOneOf,
  OVERRUN_POLICIES,
  type OverrunPolicy,
} from '@tickwork/core';
import { checkLimit } from './checks.js';

/** The periodic work of a `ThreadedObject`; a returned promise is awaited. */
export type Target<A extends unknown[], R> = (...args: A) => R | PromiseLike<R>;

/**
 * Returns the arguments of the next run, or `undefined` to reuse the last
 * ones (initially none).
 */
export type ArgsHook<A extends unknown[]> = () => A | undefined;

/** Options of `ThreadedObject`. Durations are in milliseconds. */
export interface ThreadedObjectOptions<A extends unknown[] = [], R = unknown>
  extends ComponentOptions {
  /** The work to run every period; required before `start()` (or use `setTarget`). */
  target?: Target<A, R>;
  /**
   * Time from the start of one run to the start of the next, ms. Run time is
   * compensated: slots stay on a fixed grid whatever the runs take. @defaultValue 1000
   */
  periodMs?: number;
  /**
   * Least time between the end of a run and the start of the next, ms: a run
   * that ends just before its next slot delays that slot to honour it (the
   * delay counts as lateness). Not applied with `overrun: 'parallel'`. @defaultValue 0
   */
  minWaitMs?: number;
  /** Start at construction. @defaultValue false */
  start?: boolean;
  /**
   * Slots passed over after the first `start()` before the first run: the
   * first run is `first` periods after it. Not applied on later starts. @defaultValue 0
   */
  first?: number;
  /** See {@link OverrunPolicy}. @defaultValue 'skip' */
  overrun?: OverrunPolicy;
  /**
   * Longest an async run may take before it is abandoned as a `TimeoutError`
   * (its eventual result is ignored), ms; `Infinity` for no limit. @defaultValue Infinity
   */
  timeoutMs?: number;
  /** Called before the first run after each `start()`; returns that run's arguments. */
  startHook?: ArgsHook<A>;
  /** Called before every other run; returns its arguments. */
  loopHook?: ArgsHook<A>;
  /**
   * Called once the object is idle after `stop()` (and on `kill()` of a
   * started object); `stop()` waits for a returned promise.
   */
  stopHook?: () => void | PromiseLike<void>;
  /** Called after each run with the time until the next scheduled run, ms. */
  waitHook?: (waitMs: number) => void;
}

/** The options with checks done and defaults filled in. @internal */
export interface ResolvedObjectOptions<A extends unknown[], R> {
  readonly target: Target<A, R> | undefined;
  readonly periodMs: number;
  readonly minWaitMs: number;
  readonly start: boolean;
  readonly first: number;
  readonly overrun: OverrunPolicy;
  readonly timeoutMs: number;
  readonly startHook: ArgsHook<A> | undefined;
  readonly loopHook: ArgsHook<A> | undefined;
  readonly stopHook: (() => void | PromiseLike<void>) | undefined;
  readonly waitHook: ((waitMs: number) => void) | undefined;
}

function optionalFunction<F extends (...args: never[]) => unknown>(
  c: string,
  path: string,
  v: unknown,
): F | undefined {
  return v === undefined ? undefined : checkFunction<F>(c, path, v);
}

/** Checks every option of a `ThreadedObject`. @internal */
export function resolveObjectOptions<A extends unknown[], R>(
  c: string,
  o: ThreadedObjectOptions<A, R>,
): ResolvedObjectOptions<A, R> {
  return {
    target: optionalFunction<Target<A, R>>(c, 'options.target', o.target),
    periodMs: checkDuration(c, 'options.periodMs', o.periodMs ?? 1000, { min: 1 }),
    minWaitMs: checkDuration(c, 'options.minWaitMs', o.minWaitMs ?? 0),
    start: o.start === undefined ? false : checkBoolean(c, 'options.start', o.start),
    first: checkInteger(c, 'options.first', o.first ?? 0, { min: 0 }),
    overrun: checkOneOf(c, 'options.overrun', o.overrun ?? 'skip', OVERRUN_POLICIES),
    timeoutMs:
      o.timeoutMs === undefined
        ? Number.POSITIVE_INFINITY
        : checkLimit(c, 'options.timeoutMs', o.timeoutMs, 1),
    startHook: optionalFunction<ArgsHook<A>>(c, 'options.startHook', o.startHook),
    loopHook: optionalFunction<ArgsHook<A>>(c, 'options.loopHook', o.loopHook),
    stopHook: optionalFunction<() => void | PromiseLike<void>>(c, 'options.stopHook', o.stopHook),
    waitHook: optionalFunction<(waitMs: number) => void>(c, 'options.waitHook', o.waitHook),
  };
}
