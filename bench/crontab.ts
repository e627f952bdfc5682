/**
 * Next-run throughput of `@tickwork/crontab` against croner's `nextRuns`, in the same
 * process: for each expression and zone, 1,000 consecutive runs from a fixed start,
 * repeated until the measurement lasts long enough.
 *
 * Run alone: `node --conditions=@tickwork/source --import tsx bench/crontab.ts`
 */
import { pathToFileURL } from 'node:url';
import { nextRuns, parseCronPattern } from '@tickwork/crontab';
import { Cron } from 'croner';
import { markdownTable, quick, writeResult } from './lib.js';

/** One expression in one zone. */
export interface CrontabBenchRow {
  /** The cron expression. */
  expression: string;
  /** What the expression exercises. */
  feature: string;
  /** IANA zone. */
  zone: string;
  /** tickwork `nextRuns`, runs computed per second, repeated calls (zone offsets cached). */
  tickworkRunsPerSec: number;
  /** croner `nextRuns`, runs computed per second, repeated calls. */
  cronerRunsPerSec: number;
  /** tickwork / croner, repeated calls. */
  ratio: number;
  /** tickwork, first call for a zone never seen (no cached offsets), runs per second. */
  tickworkColdRunsPerSec: number;
  /** croner, first call for a zone never seen, runs per second. */
  cronerColdRunsPerSec: number;
}

/** Result of {@link runCrontabBench}, also written to `bench/results/crontab.json`. */
export interface CrontabBenchResult {
  /** Runs asked for in each `nextRuns` call. */
  runsPerCall: number;
  /** One row per expression and zone. */
  rows: CrontabBenchRow[];
  /** All rows together: total runs over total time, for each library. */
  total: {
    tickworkRunsPerSec: number;
    cronerRunsPerSec: number;
    ratio: number;
    tickworkColdRunsPerSec: number;
    cronerColdRunsPerSec: number;
    coldRatio: number;
  };
  /** The markdown table printed. */
  markdown: string;
}

/** Options of {@link runCrontabBench}. */
export interface CrontabBenchOptions {
  /**
   * Minimum measuring time per library and row, in ms.
   * @defaultValue 300, or 50 with `--quick`
   */
  minTimeMs?: number;
  /**
   * Whether to write `bench/results/crontab.json`.
   * @defaultValue true
   */
  write?: boolean;
}

const CASES: readonly { expression: string; feature: string }[] = [
  { expression: '*/15 * * * * *', feature: 'seconds, step' },
  { expression: '*/10 * * * *', feature: 'minute step' },
  { expression: '30 2 * * *', feature: 'fixed time (DST gap)' },
  { expression: '0 0 L * *', feature: 'L (last day)' },
  { expression: '0 12 * * 5#2', feature: '# (2nd Friday)' },
  { expression: '0 0 12 * * FRIL', feature: 'seconds, 5L (last Friday)' },
  { expression: '0 9 * JAN-MAR MON-FRI', feature: 'names' },
  { expression: '0 0 15W * *', feature: 'W (nearest weekday)' },
  { expression: '0 8 1,15 * MON', feature: 'dom OR dow' },
];
const ZONES = ['UTC', 'America/New_York', 'Europe/London'] as const;
const RUNS = 1000;
const START = Date.UTC(2024, 0, 1);

function measure(fn: () => number, minTimeMs: number): number {
  fn(); // warm-up: JIT and caches
  let runs = 0;
  let calls = 0;
  const begin = performance.now();
  let elapsed = 0;
  while (elapsed < minTimeMs || calls < 3) {
    runs += fn();
    calls++;
    elapsed = performance.now() - begin;
  }
  return (runs / elapsed) * 1000;
}

function once(fn: () => number): number {
  const begin = performance.now();
  const runs = fn();
  return (runs / (performance.now() - begin)) * 1000;
}

/**
 * The zone under another spelling. `Intl` reads zone names in any case, while both
 * libraries (and luxon) cache per name, so each spelling starts with cold caches: this is
 * how the first call in a zone is measured without reaching into either library.
 */
function spelling(zone: string, n: number): string {
  let out = '';
  for (let i = 0, bit = 0; i < zone.length; i++) {
    const c = zone[i]!;
    if (c.toLowerCase() === c.toUpperCase()) {
      out += c;
      continue;
    }
    out += (n >> bit++) & 1 ? c.toLowerCase() : c.toUpperCase();
  }
  return out;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Runs the benchmark, prints a markdown table, writes JSON, and returns the result. */
export async function runCrontabBench(
  options: CrontabBenchOptions = {},
): Promise<CrontabBenchResult> {
  const minTimeMs = options.minTimeMs ?? (quick ? 50 : 300);
  const cronerOptions = (timezone: string) => ({
    timezone,
    sloppyRanges: true,
    fixedTimeRule: 'no-wildcard' as const,
  });
  // JIT warm-up of both libraries, so the first-call column measures caches, not compilation.
  for (const { expression } of CASES) {
    nextRuns(expression, RUNS, START, { tz: 'Asia/Tokyo' });
    new Cron(expression, cronerOptions('Asia/Tokyo')).nextRuns(RUNS, new Date(START));
  }
  const rows: CrontabBenchRow[] = [];
  const time = { tickwork: 0, croner: 0, tickworkCold: 0, cronerCold: 0 };
  let totalRuns = 0;
  let cell = 1;
  for (const { expression, feature } of CASES) {
    const pattern = parseCronPattern(expression);
    for (const zone of ZONES) {
      const cold = spelling(zone, cell++);
      const tickworkColdRunsPerSec = once(
        () => nextRuns(pattern, RUNS, START, { tz: cold }).length,
      );
      const cronerColdRunsPerSec = once(
        () => new Cron(expression, cronerOptions(cold)).nextRuns(RUNS, new Date(START)).length,
      );
      const job = new Cron(expression, cronerOptions(zone));
      const ours = nextRuns(pattern, RUNS, START, { tz: zone });
      const theirs = job.nextRuns(RUNS, new Date(START)).map((d) => d.getTime());
      if (ours.length !== theirs.length || ours.some((t, i) => t !== theirs[i])) {
        throw new Error(
          `bench/crontab: tickwork and croner disagree on "${expression}" in ${zone}`,
        );
      }
      const tickworkRunsPerSec = measure(
        () => nextRuns(pattern, RUNS, START, { tz: zone }).length,
        minTimeMs,
      );
      const startDate = new Date(START);
      const cronerRunsPerSec = measure(() => job.nextRuns(RUNS, startDate).length, minTimeMs);
      rows.push({
        expression,
        feature,
        zone,
        tickworkRunsPerSec,
        cronerRunsPerSec,
        ratio: tickworkRunsPerSec / cronerRunsPerSec,
        tickworkColdRunsPerSec,
        cronerColdRunsPerSec,
      });
      totalRuns += RUNS;
      time.tickwork += RUNS / tickworkRunsPerSec;
      time.croner += RUNS / cronerRunsPerSec;
      time.tickworkCold += RUNS / tickworkColdRunsPerSec;
      time.cronerCold += RUNS / cronerColdRunsPerSec;
    }
  }
  const total = {
    tickworkRunsPerSec: totalRuns / time.tickwork,
    cronerRunsPerSec: totalRuns / time.croner,
    ratio: time.croner / time.tickwork,
    tickworkColdRunsPerSec: totalRuns / time.tickworkCold,
    cronerColdRunsPerSec: totalRuns / time.cronerCold,
    coldRatio: time.cronerCold / time.tickworkCold,
  };
  const markdown = markdownTable(
    [
      'expression',
      'feature',
      'zone',
      'tickwork runs/s',
      'croner runs/s',
      'ratio',
      'first call: tickwork',
      'first call: croner',
      'ratio',
    ],
    [
      ...rows.map((r) => [
        `\`${r.expression}\``,
        r.feature,
        r.zone,
        fmt(r.tickworkRunsPerSec),
        fmt(r.cronerRunsPerSec),
        `${r.ratio.toFixed(1)}x`,
        fmt(r.tickworkColdRunsPerSec),
        fmt(r.cronerColdRunsPerSec),
        `${(r.tickworkColdRunsPerSec / r.cronerColdRunsPerSec).toFixed(1)}x`,
      ]),
      [
        '**all**',
        '',
        '',
        `**${fmt(total.tickworkRunsPerSec)}**`,
        `**${fmt(total.cronerRunsPerSec)}**`,
        `**${total.ratio.toFixed(1)}x**`,
        `**${fmt(total.tickworkColdRunsPerSec)}**`,
        `**${fmt(total.cronerColdRunsPerSec)}**`,
        `**${total.coldRatio.toFixed(1)}x**`,
      ],
    ],
  );
  const result: CrontabBenchResult = { runsPerCall: RUNS, rows, total, markdown };
  console.log(
    `\n### crontab: next-run computation, ${RUNS} runs per call, vs croner nextRuns\n\n` +
      'runs/s over repeated calls; "first call" is one call in a zone neither library has seen.\n',
  );
  console.log(markdown);
  if (options.write ?? true) console.log(`\nwrote ${writeResult('crontab', result)}`);
  return result;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCrontabBench();
}
