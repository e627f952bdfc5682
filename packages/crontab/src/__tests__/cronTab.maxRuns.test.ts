import { Registry } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, it } from 'vitest';
import { CronTab } from '../cronTab.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('CronTab maxRuns', () => {
  it('is done, with no next run, once a queued run used the last of maxRuns', async () => {
    const clock = new VirtualClock({ now: T0 });
    const crontab = new CronTab({ clock, registry: new Registry() });
    crontab.add('*/10 * * * * *', () => new Promise<void>((r) => clock.setTimeout(r, 25_000)), {
      name: 'q',
      overrun: 'queue',
      maxRuns: 2,
    });
    await clock.advance(36_000); // 10 ran to 35; slot 20 was queued and started at 35
    expect(crontab.job('q')).toMatchObject({ runs: 2, done: true, next: null });
    expect(crontab.diagnostics().items![0]!.stats.next).toBeNull();
    await crontab.kill();
  });
});
