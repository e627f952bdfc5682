import { Registry } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, it } from 'vitest';
import { CronTab } from '../cronTab.js';

const at = (s: string): number => Date.parse(s);
const T0 = at('2026-01-01T00:00:00Z');
const secs = (ts: number[]): number[] => ts.map((t) => (t - T0) / 1000);

function setup() {
  const clock = new VirtualClock({ now: T0 });
  const crontab = new CronTab({ clock, registry: new Registry() });
  return { clock, crontab };
}

describe('CronTab pause and resume', () => {
  it('drops the slot a paused "queue" job had waiting, instead of running it after a later slot', async () => {
    const { clock, crontab } = setup();
    const slots: number[] = [];
    crontab.add(
      '*/10 * * * * *',
      (ctx) => {
        slots.push(ctx.scheduledAt);
        return new Promise<void>((r) => clock.setTimeout(r, 15_000));
      },
      { name: 'q', overrun: 'queue' },
    );
    await clock.advance(20_000); // 10 runs until 25; slot 20 waits for it
    crontab.pause('q');
    await clock.advance(20_000); // 40: the run ended at 25 while paused
    crontab.resume('q');
    await clock.advance(30_000); // 50 runs until 65, 60 is queued and runs at 65
    // The slot of 20, queued before the pause, must not come back after resume.
    expect(secs(slots)).toEqual([10, 50, 60]);
  });

  it('resume() leaves a job that was not paused alone (its due slot still runs)', async () => {
    const { clock, crontab } = setup();
    const runs: string[] = [];
    crontab.add(
      '* * * * * *',
      (ctx) => {
        runs.push(`a@${(ctx.scheduledAt - T0) / 1000}`);
        crontab.resume(); // e.g. "make sure everything runs"
      },
      { name: 'a' },
    );
    crontab.add('* * * * * *', (ctx) => runs.push(`b@${(ctx.scheduledAt - T0) / 1000}`), {
      name: 'b',
    });
    await clock.advance(2_000);
    expect(runs).toEqual(['a@1', 'b@1', 'a@2', 'b@2']);
  });
});
