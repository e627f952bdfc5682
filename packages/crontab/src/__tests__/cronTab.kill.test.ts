import { Registry, StoppedError } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, it } from 'vitest';
import type { CronRun } from '../cronJob.js';
import { CronTab } from '../cronTab.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('CronTab kill() with a run in flight', () => {
  it('ends the run at once as failed with StoppedError; its timeout never fires later', async () => {
    const clock = new VirtualClock({ now: T0 });
    const warnings: unknown[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (o: Record<string, unknown>) => warnings.push(o['err']),
      error: () => {},
    };
    const crontab = new CronTab({ clock, registry: new Registry(), logger });
    // Ignores its signal and never settles.
    crontab.add('0 0 * * *', () => new Promise<void>(() => {}), {
      name: 'hang',
      timeoutMs: 5_000,
    });
    // A removed job's run in flight goes on (stop() would wait for it) until the kill.
    crontab.add('0 0 * * *', () => new Promise<void>(() => {}), { name: 'gone' });
    const runs: CronRun[] = [];
    crontab.runs$.subscribe((run) => runs.push(run));
    const triggered = crontab.trigger('hang');
    const removedRun = crontab.trigger('gone');
    crontab.remove('gone');
    await clock.advance(1_000);
    expect(crontab.diagnostics().stats.running).toBe(2);
    expect(crontab.diagnostics().items?.[0]?.stats.running).toBe(1);
    await crontab.kill();
    const run = await triggered;
    expect(run.ok).toBe(false);
    expect(run.error).toBeInstanceOf(StoppedError);
    expect((await removedRun).error).toBeInstanceOf(StoppedError);
    expect(runs).toEqual([run, await removedRun]);
    expect(crontab.diagnostics().stats.running).toBe(0);
    expect(crontab.diagnostics().items?.[0]?.stats.running).toBe(0);
    await clock.advance(10_000);
    // Only the StoppedErrors were logged: no TimeoutError of a killed tab.
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).toBeInstanceOf(StoppedError);
  });
});
