import { expect, it } from 'vitest';
import { OutcomeCounts } from '../index.js';

it('counts outcomes by terminal state and resets all but the current queued/running', () => {
  const c = new OutcomeCounts();
  c.queued = 2;
  c.running = 1;
  c.coalesced = 3;
  for (const s of ['completed', 'completed', 'failed', 'canceled', 'timed-out'] as const)
    c.count(s);
  expect(c).toMatchObject({ completed: 2, failed: 1, canceled: 1, timedOut: 1 });
  c.reset(1_000);
  expect(c).toMatchObject({
    queued: 2,
    running: 1,
    completed: 0,
    failed: 0,
    canceled: 0,
    timedOut: 0,
    coalesced: 0,
  });
  expect(c.stats.snapshot().started).toBe(1_000);
});
