import {
  ConfigError,
  CronSyntaxError,
  KeyNotFoundError,
  Registry,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, it } from 'vitest';
import type { CronRun, CronRunContext } from '../cronJob.js';
import { CronTab } from '../cronTab.js';

const iso = (t: number): string => new Date(t).toISOString();
const at = (s: string): number => Date.parse(s);

function setup(now: string, options: { keep?: number; start?: boolean } = {}) {
  const clock = new VirtualClock({ now: at(now) });
  const crontab = new CronTab({ clock, registry: new Registry(), ...options });
  return { clock, crontab };
}

/** A task taking `ms` of virtual time. */
function slowTask(clock: VirtualClock, ms: number) {
  const starts: number[] = [];
  const task = (): Promise<void> => {
    starts.push(clock.now());
    return new Promise((r) => clock.setTimeout(r, ms));
  };
  return { task, starts };
}

describe('CronTab scheduling', () => {
  it('runs on its slots with no lateness and keeps a bounded history', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z', { keep: 3 });
    const seen: number[] = [];
    crontab.add(
      '*/10 * * * * *',
      (ctx) => {
        seen.push(ctx.scheduledAt);
        return ctx.scheduledAt;
      },
      { name: 'tick' },
    );
    expect(crontab.job('tick').next).toBe(at('2026-01-01T00:00:10Z'));
    await clock.advance(60_000);
    expect(seen.map(iso)).toEqual(
      [10, 20, 30, 40, 50]
        .map((s) => `2026-01-01T00:00:${s}.000Z`)
        .concat('2026-01-01T00:01:00.000Z'),
    );
    const history = crontab.history('tick');
    expect(history.map((r) => r.value)).toEqual(seen.slice(-3));
    expect(
      history.every((r) => r.ok && r.trigger === 'schedule' && r.startedAt === r.scheduledAt),
    ).toBe(true);
    const stats = crontab.diagnostics().items![0]!.stats;
    expect(stats).toMatchObject({ count: 6, errors: 0, delay: 0, missed: 0, skipped: 0 });
    expect(stats.lateness.max).toBeLessThanOrEqual(0.001);
    expect(stats.next).toBe(at('2026-01-01T00:01:10Z'));
    expect(stats.lastSuccess).toBe(at('2026-01-01T00:01:00Z'));
  });

  it('runs a fixed time in a repeated hour once (New York fall-back)', async () => {
    const { clock, crontab } = setup('2025-11-01T12:00:00Z');
    const runs: number[] = [];
    crontab.add('30 1 * * *', (ctx) => runs.push(ctx.scheduledAt), { tz: 'America/New_York' });
    await clock.advance(2 * 86_400_000);
    // 01:30 EDT on Nov 2 (05:30Z), not again at 01:30 EST (06:30Z); then 01:30 EST on Nov 3.
    expect(runs.map(iso)).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z']);
  });

  it('runs a fixed time inside the spring-forward gap at the first instant after it', async () => {
    const { clock, crontab } = setup('2025-03-08T12:00:00Z');
    const runs: number[] = [];
    crontab.add('30 2 * * *', (ctx) => runs.push(ctx.scheduledAt), { tz: 'America/New_York' });
    await clock.advance(2 * 86_400_000);
    expect(runs.map(iso)).toEqual(['2025-03-09T07:00:00.000Z', '2025-03-10T06:30:00.000Z']);
  });

  it('counts slots passed over by a +3 h jump as missed; catchUp "skip" runs none of them', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:30Z');
    const runs: CronRun[] = [];
    crontab.runs$.subscribe((r) => runs.push(r));
    crontab.add('* * * * *', () => 'ok', { name: 'm', catchUp: 'skip' });
    clock.jump(3 * 3_600_000);
    await clock.advance(30_000); // the host timer wakes: wall time is 03:01:00
    expect(runs).toEqual([]);
    expect(crontab.diagnostics().items![0]!.stats.missed).toBe(181);
    await clock.advance(60_000);
    expect(runs.map((r) => iso(r.scheduledAt))).toEqual(['2026-01-01T03:02:00.000Z']);
  });

  it('makes one catch-up run after a +3 h jump with catchUp "once"', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:30Z');
    const runs: CronRun[] = [];
    crontab.runs$.subscribe((r) => runs.push(r));
    crontab.add('* * * * *', () => 'ok', { name: 'm' });
    clock.jump(3 * 3_600_000);
    await clock.advance(30_000);
    expect(runs.map((r) => [r.trigger, iso(r.scheduledAt)])).toEqual([
      ['catch-up', '2026-01-01T03:01:00.000Z'],
    ]);
    expect(crontab.diagnostics().items![0]!.stats.missed).toBe(180);
    await clock.advance(60_000);
    expect(runs).toHaveLength(2);
  });

  it('never runs a slot twice when the clock steps back an hour', async () => {
    const { clock, crontab } = setup('2026-01-01T09:59:00Z');
    const runs: number[] = [];
    crontab.add('0 * * * *', (ctx) => runs.push(ctx.scheduledAt));
    await clock.advance(120_000); // 10:00 runs
    clock.jump(-3_600_000); // wall clock back to 09:01
    await clock.advance(3_600_000); // wall 10:01 again: 10:00 is not re-run
    expect(runs.map(iso)).toEqual(['2026-01-01T10:00:00.000Z']);
    await clock.advance(3_600_000);
    expect(runs.map(iso)).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z']);
  });

  it('waits more than 2^31 ms for a monthly run through capped sleeps', async () => {
    const { clock, crontab } = setup('2026-01-02T00:00:00Z');
    const runs: number[] = [];
    crontab.add('0 0 1 * *', (ctx) => runs.push(ctx.scheduledAt), { tz: 'UTC' });
    const next = crontab.job('0 0 1 * *').next!;
    expect(next - clock.now()).toBeGreaterThan(2 ** 31);
    await clock.advanceTo(next - 1);
    expect(runs).toEqual([]);
    await clock.advance(1);
    expect(runs).toEqual([at('2026-02-01T00:00:00Z')]);
  });
});

describe('CronTab overrun, limits and control', () => {
  it('skips and counts slots that come while a run is still going (overrun "skip")', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    const { task, starts } = slowTask(clock, 25_000);
    crontab.add('*/10 * * * * *', task, { name: 's' });
    await clock.advance(70_000);
    // runs at 10 s (until 35 s) and 40 s (until 65 s); 20, 30, 50, 60 skipped; 70 runs
    expect(starts.map((t) => (t - at('2026-01-01T00:00:00Z')) / 1000)).toEqual([10, 40, 70]);
    expect(crontab.diagnostics().items![0]!.stats.skipped).toBe(4);
  });

  it('queues one run right after the running one (overrun "queue")', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    const { task, starts } = slowTask(clock, 25_000);
    crontab.add('*/10 * * * * *', task, { name: 'q', overrun: 'queue' });
    await clock.advance(60_000);
    // 10 runs to 35; slot 20 queued (30 skipped) runs at 35 to 60
    expect(starts.map((t) => (t - at('2026-01-01T00:00:00Z')) / 1000)).toEqual([10, 35, 60]);
    expect(
      crontab.history('q').map((r) => (r.scheduledAt - at('2026-01-01T00:00:00Z')) / 1000),
    ).toEqual([10, 20]);
    expect(crontab.diagnostics().items![0]!.stats.skipped).toBe(2);
  });

  it('runs overlapping runs with overrun "parallel"', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    const { task, starts } = slowTask(clock, 25_000);
    crontab.add('*/10 * * * * *', task, { name: 'p', overrun: 'parallel' });
    await clock.advance(30_000);
    expect(starts).toHaveLength(3);
    expect(crontab.diagnostics().items![0]!.stats.running).toBe(3);
  });

  it('honours maxRuns, startAt and stopAt', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    const a: number[] = [];
    const b: number[] = [];
    crontab.add('* * * * * *', (c) => a.push(c.scheduledAt), { name: 'a', maxRuns: 3 });
    crontab.add('* * * * * *', (c) => b.push(c.scheduledAt), {
      name: 'b',
      startAt: new Date('2026-01-01T00:00:05Z'),
      stopAt: at('2026-01-01T00:00:07Z'),
    });
    expect(crontab.nextRuns('a', 5)).toHaveLength(3);
    expect(crontab.nextRuns('b', 5).map(iso)).toEqual(
      [5, 6, 7].map((s) => `2026-01-01T00:00:0${s}.000Z`),
    );
    await clock.advance(20_000);
    expect(a.map(iso)).toEqual([1, 2, 3].map((s) => `2026-01-01T00:00:0${s}.000Z`));
    expect(b.map(iso)).toEqual([5, 6, 7].map((s) => `2026-01-01T00:00:0${s}.000Z`));
    expect(crontab.job('a')).toMatchObject({ done: true, next: null, runs: 3 });
    expect(crontab.job('b').done).toBe(true);
  });

  it('pauses and resumes a job, resuming from now with no burst', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    const runs: number[] = [];
    crontab.add('* * * * * *', (c) => runs.push(c.scheduledAt), { name: 'x' });
    await clock.advance(2_000);
    crontab.pause('x');
    expect(crontab.job('x').paused).toBe(true);
    await clock.advance(10_000);
    expect(runs).toHaveLength(2);
    crontab.resume('x');
    await clock.advance(1_000);
    expect(runs.map(iso).slice(2)).toEqual(['2026-01-01T00:00:13.000Z']);
    expect(crontab.diagnostics().items![0]!.stats.missed).toBe(0);
  });

  it('trigger runs at once whatever the schedule and resolves with the run', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    crontab.add('0 0 1 1 *', (ctx: CronRunContext) => `hello ${ctx.trigger}`, { name: 'yearly' });
    crontab.pause('yearly');
    const run = await crontab.trigger('yearly');
    expect(run).toMatchObject({
      ok: true,
      value: 'hello manual',
      trigger: 'manual',
      scheduledAt: clock.now(),
    });
    expect(crontab.job('yearly').runs).toBe(0);
    await expect(crontab.trigger('nope')).rejects.toThrow(KeyNotFoundError);
  });

  it('fails a run past timeoutMs with TimeoutError and aborts its signal', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    let signal: AbortSignal | undefined;
    crontab.add(
      '* * * * * *',
      (ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
      { name: 'hang', timeoutMs: 300, maxRuns: 1 },
    );
    await clock.advance(1_300);
    const [run] = crontab.history('hang');
    expect(run?.ok).toBe(false);
    expect(run?.error).toBeInstanceOf(TimeoutError);
    expect(run?.durationMs).toBe(300);
    expect(signal?.aborted).toBe(true);
    expect(crontab.diagnostics().items![0]!.stats).toMatchObject({ errors: 1, running: 0 });
  });

  it('records thrown and rejected errors per job and keeps running', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    crontab.add(
      '* * * * * *',
      () => {
        throw new Error('sync boom');
      },
      { name: 'throws' },
    );
    crontab.add('* * * * * *', () => Promise.reject(new Error('async boom')), { name: 'rejects' });
    await clock.advance(3_000);
    const items = crontab.diagnostics().items!;
    expect(
      items.map((i) => [i.name, i.stats.count, i.stats.errors, i.stats.lastError?.message]),
    ).toEqual([
      ['throws', 3, 3, 'sync boom'],
      ['rejects', 3, 3, 'async boom'],
    ]);
  });

  it('stop waits for the running task; start after stop re-arms from now; kill aborts and completes runs$', async () => {
    const { clock, crontab } = setup('2026-01-01T00:00:00Z');
    let signal: AbortSignal | undefined;
    const { task, starts } = slowTask(clock, 5_000);
    crontab.add('* * * * * *', task, { name: 'slow' });
    crontab.add(
      '* * * * * *',
      (ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
      { name: 'forever', maxRuns: 1 },
    );
    await clock.advance(1_000);
    let stopped: boolean | undefined;
    void crontab.stop({ timeoutMs: 2_000 }).then((r) => {
      stopped = r;
    });
    await clock.advance(2_000);
    expect(stopped).toBe(false); // 'forever' never finishes
    expect(crontab.state).toBe('stopped');
    const before = starts.length;
    await clock.advance(10_000);
    expect(starts).toHaveLength(before);
    crontab.start();
    await clock.advance(1_000);
    expect(starts).toHaveLength(before + 1);
    let completed = false;
    crontab.runs$.subscribe({ complete: () => (completed = true) });
    await crontab.kill();
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(StoppedError);
    expect(completed).toBe(true);
    expect(() => crontab.add('* * * * *', () => {})).toThrow(StoppedError);
  });
});

describe('CronTab input checks', () => {
  it('rejects bad expressions, options and duplicate names with typed errors', () => {
    const { crontab } = setup('2026-01-01T00:00:00Z');
    expect(() => crontab.add('61 * * * *', () => {})).toThrow(CronSyntaxError);
    expect(() => crontab.add('* * * * *', 'task' as never)).toThrow(
      'CronTab.add: task must be a function (got "task")',
    );
    expect(() => crontab.add('* * * * *', () => {}, { tz: 'Mars/Base' })).toThrow(ConfigError);
    expect(() => crontab.add('* * * * *', () => {}, { overrun: 'pile' as never })).toThrow(
      `CronTab.add: options.overrun must be one of 'skip', 'queue', 'parallel' (got "pile")`,
    );
    expect(() => crontab.add('* * * * *', () => {}, { maxRuns: 0 })).toThrow(ConfigError);
    expect(() => crontab.add('* * * * *', () => {}, { timeoutMs: Number.NaN })).toThrow(
      ConfigError,
    );
    expect(() => crontab.add('* * * * *', () => {}, { startAt: Number.NaN })).toThrow(
      'CronTab.add: options.startAt must be a Date or finite epoch milliseconds (got NaN)',
    );
    expect(() => crontab.add('* * * * *', () => {}, { startAt: 10, stopAt: 5 })).toThrow(
      ConfigError,
    );
    crontab.add('* * * * *', () => {});
    expect(() => crontab.add('* * * * *', () => {})).toThrow(
      'CronTab.add: a job named "* * * * *" exists already; pass a unique options.name',
    );
    expect(() => new CronTab({ keep: -1, registry: false })).toThrow(ConfigError);
    // A bad option leaves no half-built tab in the registry.
    const registry = new Registry();
    expect(() => new CronTab({ tz: 'Mars/Base', registry })).toThrow(ConfigError);
    expect(() => new CronTab({ keep: 1.5, registry })).toThrow(ConfigError);
    expect(registry.size).toBe(0);
    expect(() => crontab.history('nope')).toThrow(KeyNotFoundError);
    expect(crontab.remove('nope')).toBe(false);
  });
});

describe('CronTab.parseFile and load', () => {
  const text = [
    '# nightly maintenance',
    '',
    'MAILTO=ops',
    '*/5 * * * * poll-devices fast',
    'CRON_TZ=Europe/London',
    '0 3 * * MON-FRI backup /data /backup',
    '@hourly rotate',
  ].join('\n');

  it('parses schedules, names, args, comments, CRON_TZ and environment lines', () => {
    expect(CronTab.parseFile(text)).toEqual([
      {
        line: 4,
        expression: '*/5 * * * *',
        tz: undefined,
        name: 'poll-devices',
        args: ['fast'],
        env: { MAILTO: 'ops' },
      },
      {
        line: 6,
        expression: '0 3 * * MON-FRI',
        tz: 'Europe/London',
        name: 'backup',
        args: ['/data', '/backup'],
        env: { MAILTO: 'ops' },
      },
      {
        line: 7,
        expression: '@hourly',
        tz: 'Europe/London',
        name: 'rotate',
        args: [],
        env: { MAILTO: 'ops' },
      },
    ]);
  });

  it('reports the line of a bad schedule, a missing name or a bad CRON_TZ', () => {
    try {
      CronTab.parseFile('# ok\n* * * * * fine\n*/0 * * * * broken');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CronSyntaxError);
      expect((error as CronSyntaxError).line).toBe(3);
      expect((error as Error).message).toMatch(/^CronTab\.parseFile: line 3: /);
    }
    expect(() => CronTab.parseFile('\n\n0 3 * * *')).toThrow(
      'CronTab.parseFile: line 3: "0 3 * * *" has a schedule but no task name after it',
    );
    expect(() => CronTab.parseFile('CRON_TZ=Nowhere/Land\n* * * * * x')).toThrow(
      /^CronTab\.parseFile: line 1: /,
    );
  });

  it('binds names to tasks, then to worker targets; shell commands only when enabled', async () => {
    const { clock, crontab } = setup('2026-01-05T02:59:00Z');
    const sent: [string, string, unknown][] = [];
    const worker = {
      send: async (key: string, target: string, args?: unknown) =>
        void sent.push([key, target, args]),
    };
    const polled: (readonly string[])[] = [];
    const names = crontab.load(text, {
      tasks: { 'poll-devices': (ctx) => void polled.push(ctx.args) },
      worker,
    });
    expect(names).toEqual(['poll-devices', 'backup', 'rotate']);
    expect(crontab.job('backup').tz).toBe('Europe/London');
    await clock.advance(3_600_000);
    expect(polled.length).toBe(12);
    expect(polled[0]).toEqual(['fast']);
    expect(sent).toContainEqual(['backup', 'backup', ['/data', '/backup']]);
    expect(sent).toContainEqual(['rotate', 'rotate', []]);

    const other = new CronTab({ clock, registry: false });
    expect(() => other.load('* * * * * rm -rf /')).toThrow(
      'CronTab.load: line 1: no task named "rm" in bindings.tasks and no bindings.worker; shell commands are off (pass { shell: true } to run it as one)',
    );
    expect(other.names()).toEqual([]);
    await other.kill();
  });

  it('runs a shell command when shell is enabled, with the file environment', async () => {
    const { crontab } = setup('2026-01-01T00:00:00Z');
    crontab.load('GREETING=hello\n@yearly echo $GREETING world', { shell: true });
    const run = await crontab.trigger('echo');
    expect(run.ok).toBe(true);
    expect(run.value).toBe('hello world\n');
    crontab.load('@yearly exit 3', { shell: true });
    const failed = await crontab.trigger('exit');
    expect(failed.ok).toBe(false);
    expect((failed.error as Error).message).toContain('exited with 3');
  });
});
