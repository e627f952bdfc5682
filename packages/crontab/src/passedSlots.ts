import { type CronExpression, type CronTimeOptions, nextRun } from './nextRun.js';

/**
 * Slots counted one by one before giving up counting exactly (a job every
 * second after a week of suspend); beyond it the count is a floor.
 */
export const MAX_COUNTED_SLOTS = 100_000;

/**
 * The slots of `expression` after `slot` that have passed by `now` (and are
 * not after `until`): how many, and the latest of them (`slot` when none).
 * A scheduler firing late for `slot` uses it to count the slots it missed
 * (a suspend, a blocked process, a forward clock jump) and to find the one a
 * catch-up run stands for. Counting stops at {@link MAX_COUNTED_SLOTS}.
 */
export function passedSlots(
  expression: CronExpression,
  slot: number,
  now: number,
  options: CronTimeOptions & { until?: number } = {},
): { passed: number; latest: number } {
  const until = options.until ?? Number.POSITIVE_INFINITY;
  const tz = { tz: options.tz };
  let passed = 0;
  let latest = slot;
  let t = nextRun(expression, slot, tz);
  while (t !== null && t <= now && t <= until && passed < MAX_COUNTED_SLOTS) {
    passed++;
    latest = t;
    t = nextRun(expression, t, tz);
  }
  return { passed, latest };
}
