import { expect, it } from 'vitest';
import { MAX_COUNTED_SLOTS, passedSlots } from '../index.js';

const T0 = Date.UTC(2026, 0, 1);

it('counts the slots passed after a slot, the latest of them, and stops at until', () => {
  // Every minute: fired 3.5 minutes late for the 00:00 slot.
  const now = T0 + 3.5 * 60_000;
  expect(passedSlots('* * * * *', T0, now, { tz: 'UTC' })).toEqual({
    passed: 3,
    latest: T0 + 3 * 60_000,
  });
  expect(passedSlots('* * * * *', T0, now, { tz: 'UTC', until: T0 + 2 * 60_000 })).toEqual({
    passed: 2,
    latest: T0 + 2 * 60_000,
  });
  expect(passedSlots('* * * * *', T0, T0 + 30_000, { tz: 'UTC' })).toEqual({
    passed: 0,
    latest: T0,
  });
});

it('stops counting at MAX_COUNTED_SLOTS', () => {
  const now = T0 + (MAX_COUNTED_SLOTS + 10) * 1_000;
  expect(passedSlots('* * * * * *', T0, now, { tz: 'UTC' }).passed).toBe(MAX_COUNTED_SLOTS);
});
