/**
 * bench/scheduler: N timers each due every 100 ms with a trivial callback, on
 * the tickwork scheduler vs one `setInterval` per timer vs one RxJS
 * `timer(0, period)` per timer. Timers start staggered evenly over the period
 * (the same way for all three). Measures CPU microseconds per callback
 * (`process.cpuUsage`) and p50/p99 lateness against each timer's ideal slot
 * (start + k x period), so drift shows as lateness. CPU is measured in a pass
 * whose callback only counts; lateness in a second pass whose callback records
 * it, so the measuring does not count as scheduler cost.
 * @module
 */
import { type Clock, Scheduler } from '@tickwork/core';
import { type Subscription, timer } from 'rxjs';
import {
  collectGarbage,
  fmt,
  latencyHistogram,
  markdownTable,
  percentilesMs,
  preciseNow,
  quick,
  realDelay,
  recordMs,
  writeResult,
} from './lib.js';

const PERIOD_MS = 100;

/** One measured run. */
export interface SchedulerRow {
  impl: string;
  timers: number;
  seconds: number;
  callbacks: number;
  expected: number;
  cpuUsPerCallback: number;
  p50LatenessMs: number;
  p99LatenessMs: number;
  maxLatenessMs: number;
}

type Starter = (n: number, start: number, onFire: (i: number, k: number) => void) => () => void;

const preciseClock: Clock = {
  now: preciseNow,
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

function tickwork(resolutionMs: number): Starter {
  return (n, start, onFire) => {
    const scheduler = new Scheduler({ clock: preciseClock, resolutionMs });
    for (let i = 0; i < n; i++) {
      const first = start + (i * PERIOD_MS) / n;
      let k = 0;
      scheduler.every(PERIOD_MS, () => onFire(i, k++), first);
    }
    return () => scheduler.clear();
  };
}

const impls: Record<string, Starter> = {
  tickwork: tickwork(1),
  'tickwork resolutionMs 4': tickwork(4),
  setInterval: (n, start, onFire) => {
    const handles: ReturnType<typeof setInterval>[] = [];
    const starters: ReturnType<typeof setTimeout>[] = [];
    for (let i = 0; i < n; i++) {
      const first = start + (i * PERIOD_MS) / n;
      starters.push(
        setTimeout(() => {
          let k = 0;
          onFire(i, k++);
          handles.push(setInterval(() => onFire(i, k++), PERIOD_MS));
        }, first - preciseNow()),
      );
    }
    return () => {
      for (const h of starters) clearTimeout(h);
      for (const h of handles) clearInterval(h);
    };
  },
  'rxjs timer': (n, start, onFire) => {
    const subs: Subscription[] = [];
    for (let i = 0; i < n; i++) {
      const first = start + (i * PERIOD_MS) / n;
      subs.push(timer(Math.max(0, first - preciseNow()), PERIOD_MS).subscribe((k) => onFire(i, k)));
    }
    return () => {
      for (const s of subs) s.unsubscribe();
    };
  },
};

/**
 * One pass of `seconds` after a one-period warm-up. With `measureLateness`
 * the callback records its lateness (about 0.2 us of work itself); without,
 * it only counts, and the pass is used for CPU.
 */
async function pass(impl: string, n: number, seconds: number, measureLateness: boolean) {
  collectGarbage();
  const lateness = latencyHistogram();
  const start = preciseNow() + 200;
  let callbacks = 0;
  const onFire = measureLateness
    ? (i: number, k: number): void => {
        callbacks++;
        recordMs(lateness, preciseNow() - (start + (i * PERIOD_MS) / n + k * PERIOD_MS));
      }
    : (): void => {
        callbacks++;
      };
  const stop = impls[impl]!(n, start, onFire);
  await realDelay(start - preciseNow() + PERIOD_MS);
  lateness.reset();
  callbacks = 0;
  const cpu0 = process.cpuUsage();
  await realDelay(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const fired = callbacks;
  stop();
  return { fired, cpuUs: cpu.user + cpu.system, lateness: percentilesMs(lateness) };
}

async function measure(impl: string, n: number, seconds: number): Promise<SchedulerRow> {
  const cpuPass = await pass(impl, n, seconds, false);
  const latePass = await pass(impl, n, seconds, true);
  return {
    impl,
    timers: n,
    seconds,
    callbacks: cpuPass.fired,
    expected: Math.round((n * seconds * 1000) / PERIOD_MS),
    cpuUsPerCallback: cpuPass.cpuUs / Math.max(1, cpuPass.fired),
    p50LatenessMs: latePass.lateness.p50,
    p99LatenessMs: latePass.lateness.p99,
    maxLatenessMs: latePass.lateness.max,
  };
}

/** Runs every size and implementation side by side; prints a table and writes JSON. */
export async function runSchedulerBench(): Promise<SchedulerRow[]> {
  const seconds = quick ? 1 : 5;
  const rows: SchedulerRow[] = [];
  for (const n of [1_000, 10_000, 50_000]) {
    for (const impl of Object.keys(impls)) rows.push(await measure(impl, n, seconds));
  }
  console.log(`\n### scheduler: timers every ${PERIOD_MS} ms, ${seconds} s each\n`);
  console.log(
    markdownTable(
      [
        'impl',
        'timers',
        'callbacks/s (expected)',
        'CPU us/callback',
        'p50 lateness ms',
        'p99 lateness ms',
        'max ms',
      ],
      rows.map((r) => [
        r.impl,
        r.timers,
        `${Math.round(r.callbacks / r.seconds)} (${Math.round(r.expected / r.seconds)})`,
        fmt(r.cpuUsPerCallback, 3),
        fmt(r.p50LatenessMs),
        fmt(r.p99LatenessMs),
        fmt(r.maxLatenessMs),
      ]),
    ),
  );
  console.log(`\nwrote ${writeResult('scheduler', rows)}`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await runSchedulerBench();
