/**
 * Polling benchmark: `ThreadDict` (synchronous read) side by side with one
 * `setInterval` per key writing a `Map`, and RxJS `timer(0, p).pipe(exhaustMap(read))`
 * per key, at 1k / 10k / 50k keys polled every 100 ms; plus `get(key)`
 * throughput, heap per key at 100k keys (historyDepth 10), and a variant with
 * 10% of keys failing and 1% hanging.
 *
 * Lateness is measured inside each read with `Date.now()` against the key's
 * scheduled slot: `ctx.dueAt` for ThreadDict, `start + k * period` (k = the
 * key's tick count) for the baselines, which reschedule from when each
 * callback ran and so also show their drift.
 *
 * Every case runs in several rounds, the cases interleaved within a round,
 * and each number is the median over rounds: on a shared VM a burst of
 * stolen CPU during one run skews that run, not the table. The ThreadDict /
 * setInterval ratios pair the two runs of one round.
 *
 *   node --conditions=@tickwork/source --import tsx bench/polling.ts [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { getScheduler } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { ThreadDict } from '@tickwork/polling';
import { EMPTY, exhaustMap, from, type Subscription, timer } from 'rxjs';

/** Options of {@link run}. */
export interface PollingBenchOptions {
  /** Shorter runs (about 1.5 s per case instead of 5 s). */
  quick?: boolean;
  /** Key counts of the polling cases. @defaultValue [1000, 10000, 50000] */
  sizes?: number[];
  /** Where to write the JSON results; null for nowhere. */
  out?: string | null;
  /** Print the markdown table. @defaultValue true */
  print?: boolean;
  /** Rounds of every case (interleaved); numbers are medians over rounds. @defaultValue 3 (1 with quick) */
  rounds?: number;
}

/** One polling case's measurements. */
export interface PollingCase {
  impl: 'ThreadDict' | 'setInterval' | 'rxjs';
  /** ThreadDict's retry setting: its default backoff, or off (failing keys read every period). */
  retry: 'default' | 'off' | null;
  keys: number;
  periodMs: number;
  variant: 'healthy' | 'faulty';
  /** Rounds run; every number below is the median over them. */
  rounds: number;
  seconds: number;
  polls: number;
  pollsPerSec: number;
  expectedPollsPerSec: number;
  cpuUsPerPoll: number;
  /** Lateness of healthy keys' reads against their slot, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU us per poll of each round, in run order. */
  cpuUsPerPollRounds: number[];
  /** p99 lateness of each round, ms. */
  p99MsRounds: number[];
}

/** ThreadDict's CPU per poll over setInterval's, paired within each round. */
export interface PollingRatio {
  keys: number;
  variant: 'healthy' | 'faulty';
  /** Per round, in run order. */
  rounds: number[];
  median: number;
}

/** Everything {@link run} measured. */
export interface PollingBenchResult {
  node: string;
  date: string;
  quick: boolean;
  /** CPUs, and the 1-minute load average before and after the run: other processes skew every number. */
  cpus: number;
  loadAvg: [number, number];
  cases: PollingCase[];
  ratios: PollingRatio[];
  /** `get(key)` calls per CPU second (and per wall second). */
  get: {
    keys: number;
    cycleOpsPerSec: number;
    hotKeyOpsPerSec: number;
    cycleOpsPerWallSec: number;
    hotKeyOpsPerWallSec: number;
  };
  heap: {
    keys: number;
    historyDepth: number;
    bytesPerKey: number;
    bytesPerKeyWithKeyStrings: number;
  };
}

const PERIOD = 100;
const MAX_LATENESS = 60_000;

/** Lateness counts per whole ms; recording allocates nothing. */
class LatenessHistogram {
  readonly counts = new Float64Array(MAX_LATENESS + 1);
  total = 0;
  record(ms: number): void {
    const i = ms <= 0 ? 0 : ms >= MAX_LATENESS ? MAX_LATENESS : Math.round(ms);
    this.counts[i]!++;
    this.total++;
  }
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const target = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i <= MAX_LATENESS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return i;
    }
    return MAX_LATENESS;
  }
  max(): number {
    for (let i = MAX_LATENESS; i >= 0; i--) if (this.counts[i]! > 0) return i;
    return 0;
  }
}

const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

function sleep(ms: number): Promise<void> {
  // The benchmark itself may sleep; the library never does.
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How each key behaves in the faulty variant: 0 healthy, 1 throws (10%), 2 never settles (1%). */
function faultOf(i: number, faulty: boolean): 0 | 1 | 2 {
  if (!faulty) return 0;
  if (i % 100 === 7) return 2;
  if (i % 10 === 3) return 1;
  return 0;
}

/** Key names; the last character tells the fault (v healthy, e throws, h hangs), so reads need no lookup. */
function keyNames(n: number, faulty = false): string[] {
  return Array.from({ length: n }, (_, i) => `sys/bench/${i}/${'veh'[faultOf(i, faulty)]}`);
}

const HEALTHY = 'v'.charCodeAt(0);
const THROWS = 'e'.charCodeAt(0);

const never = (): Promise<number> => new Promise<number>(() => {});

interface Harness {
  start(): void;
  stop(): Promise<void>;
}

type HarnessFactory = (
  keys: string[],
  hist: LatenessHistogram,
  polls: { n: number },
  retryOff: boolean,
) => Harness;

/** ThreadDict with a synchronous read; lateness against `ctx.dueAt`, the key's slot. */
const threadDictHarness: HarnessFactory = (keys, hist, polls, retryOff) => {
  let counter = 0;
  const dict = new ThreadDict<number>({
    periodMs: PERIOD,
    registry: false,
    ...(retryOff ? { retry: false as const } : {}),
    read: (key, ctx) => {
      polls.n++;
      const fault = key.charCodeAt(key.length - 1);
      if (fault === HEALTHY) {
        hist.record(Date.now() - ctx.dueAt);
        return ++counter & 0xffff;
      }
      if (fault === THROWS) throw new Error('device fault');
      return never();
    },
  });
  for (const k of keys) dict.append(k);
  return { start: () => dict.start(), stop: () => dict.kill() };
};

/** One setInterval per key writing a Map; a hung key's interval skips while its read is pending. */
const setIntervalHarness: HarnessFactory = (keys, hist, polls) => {
  const map = new Map<string, number>();
  const handles: NodeJS.Timeout[] = [];
  let counter = 0;
  return {
    start: () => {
      for (const key of keys) {
        const fault = key.charCodeAt(key.length - 1);
        const start = Date.now();
        let k = 0;
        let busy = false;
        handles.push(
          setInterval(() => {
            k++;
            if (busy) return;
            polls.n++;
            try {
              if (fault === THROWS) throw new Error('device fault');
              if (fault !== HEALTHY) {
                busy = true;
                void never().then(() => {
                  busy = false;
                });
                return;
              }
              hist.record(Date.now() - (start + k * PERIOD));
              map.set(key, ++counter & 0xffff);
            } catch {
              // a failed read: the key keeps its last value
            }
          }, PERIOD),
        );
      }
    },
    stop: async () => {
      for (const h of handles) clearInterval(h);
    },
  };
};

/** RxJS `timer(0, p).pipe(exhaustMap(read))` per key; a hung read blocks its key (exhaustMap). */
const rxjsHarness: HarnessFactory = (keys, hist, polls) => {
  const map = new Map<string, number>();
  const subs: Subscription[] = [];
  let counter = 0;
  return {
    start: () => {
      for (const key of keys) {
        const fault = key.charCodeAt(key.length - 1);
        const start = Date.now();
        subs.push(
          timer(0, PERIOD)
            .pipe(
              exhaustMap((k) => {
                polls.n++;
                if (fault === THROWS) return EMPTY; // a failed read, swallowed
                if (fault !== HEALTHY) return from(never());
                hist.record(Date.now() - (start + k * PERIOD));
                return [++counter & 0xffff];
              }),
            )
            .subscribe((v) => map.set(key, v)),
        );
      }
    },
    stop: async () => {
      for (const s of subs) s.unsubscribe();
    },
  };
};

const HARNESSES: Record<PollingCase['impl'], HarnessFactory> = {
  ThreadDict: threadDictHarness,
  setInterval: setIntervalHarness,
  rxjs: rxjsHarness,
};

async function pollingCase(
  impl: PollingCase['impl'],
  n: number,
  faulty: boolean,
  seconds: number,
  warmupMs: number,
  retryOff = false,
): Promise<PollingCase> {
  gc();
  const keys = keyNames(n, faulty);
  const hist = new LatenessHistogram();
  const polls = { n: 0 };
  const h = HARNESSES[impl](keys, hist, polls, retryOff);
  h.start();
  await sleep(warmupMs);
  hist.reset();
  polls.n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const count = polls.n;
  const result: PollingCase = {
    impl,
    retry: impl === 'ThreadDict' ? (retryOff ? 'off' : 'default') : null,
    keys: n,
    periodMs: PERIOD,
    variant: faulty ? 'faulty' : 'healthy',
    rounds: 1,
    seconds: round(elapsed, 2),
    polls: count,
    pollsPerSec: Math.round(count / elapsed),
    expectedPollsPerSec: Math.round((n * 1000) / PERIOD),
    cpuUsPerPoll: round((cpu.user + cpu.system) / count, 3),
    p50Ms: hist.percentile(50),
    p99Ms: hist.percentile(99),
    maxMs: hist.max(),
    cpuUsPerPollRounds: [],
    p99MsRounds: [],
  };
  result.cpuUsPerPollRounds.push(result.cpuUsPerPoll);
  result.p99MsRounds.push(result.p99Ms);
  await h.stop();
  return result;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One case's rounds folded into one row: medians, and the per-round CPU and p99 kept. */
function foldRounds(runs: readonly PollingCase[]): PollingCase {
  const first = runs[0]!;
  const med = (pick: (c: PollingCase) => number): number => median(runs.map(pick));
  return {
    ...first,
    rounds: runs.length,
    seconds: round(
      med((c) => c.seconds),
      2,
    ),
    polls: Math.round(med((c) => c.polls)),
    pollsPerSec: Math.round(med((c) => c.pollsPerSec)),
    cpuUsPerPoll: round(
      med((c) => c.cpuUsPerPoll),
      3,
    ),
    p50Ms: med((c) => c.p50Ms),
    p99Ms: med((c) => c.p99Ms),
    maxMs: med((c) => c.maxMs),
    cpuUsPerPollRounds: runs.map((c) => c.cpuUsPerPoll),
    p99MsRounds: runs.map((c) => c.p99Ms),
  };
}

/** CPU time of this process, ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function getThroughput(n: number, seconds: number): Promise<PollingBenchResult['get']> {
  const keys = keyNames(n);
  const dict = new ThreadDict<number>({ periodMs: 60_000, registry: false, read: () => 1 });
  for (const k of keys) dict.append(k, { value: 1 });
  let sink = 0;
  // Throughput per CPU second (other processes on the machine take wall time from us, not CPU time);
  // wall-clock throughput is reported beside it.
  const loop = (pick: (i: number) => string): { cpu: number; wall: number } => {
    const budget = (seconds * 1000) / 2;
    let ops = 0;
    const c0 = cpuMs();
    const t0 = performance.now();
    while (performance.now() - t0 < budget) {
      for (let i = 0; i < 1_000_000; i++) sink += dict.get(pick(i));
      ops += 1_000_000;
    }
    return { cpu: ops / ((cpuMs() - c0) / 1000), wall: ops / ((performance.now() - t0) / 1000) };
  };
  loop((i) => keys[i % n]!); // warm up
  const cycle = loop((i) => keys[i % n]!);
  const hotKey = keys[n >> 1]!;
  const hot = loop(() => hotKey);
  await dict.kill();
  if (sink < 0) console.log(sink);
  return {
    keys: n,
    cycleOpsPerSec: Math.round(cycle.cpu),
    hotKeyOpsPerSec: Math.round(hot.cpu),
    cycleOpsPerWallSec: Math.round(cycle.wall),
    hotKeyOpsPerWallSec: Math.round(hot.wall),
  };
}

async function heapPerKey(n: number, historyDepth: number): Promise<PollingBenchResult['heap']> {
  const clock = new VirtualClock({ now: Date.now() });
  gc();
  gc();
  const base = process.memoryUsage().heapUsed;
  const keys = keyNames(n);
  gc();
  const withKeys = process.memoryUsage().heapUsed;
  const dict = new ThreadDict<number>({
    clock,
    periodMs: PERIOD,
    historyDepth,
    registry: false,
    read: (_k, ctx) => ctx.dueAt % 1000,
  });
  for (const k of keys) dict.append(k);
  dict.start();
  // Fill every history ring: historyDepth + 1 periods of virtual time.
  for (let i = 0; i <= historyDepth; i++) await clock.advance(PERIOD);
  gc();
  gc();
  const used = process.memoryUsage().heapUsed;
  const full = dict.history(keys[0]!).length;
  await dict.kill();
  if (full !== historyDepth) throw new Error(`history not full: ${full}`);
  getScheduler(clock).clear();
  return {
    keys: n,
    historyDepth,
    bytesPerKey: Math.round((used - withKeys) / n),
    bytesPerKeyWithKeyStrings: Math.round((used - base) / n),
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function table(result: PollingBenchResult): string {
  const lines = [
    `Polling benchmark (node ${result.node}, ${result.quick ? 'quick' : 'full'} run, ${result.cases[0]?.rounds ?? 0} rounds, period ${PERIOD} ms, ` +
      `${result.cpus} CPUs, load average ${result.loadAvg[0]} -> ${result.loadAvg[1]})`,
    '',
    "Lateness: healthy keys only, measured in the read against the key's slot (ThreadDict: ctx.dueAt; " +
      'baselines: start + k x period, so their drift shows). CPU: whole process (process.cpuUsage) per poll. ' +
      'Every number is the median over rounds; the last column lists CPU us/poll per round.',
    '',
    '| impl | keys | variant | polls/s (expected) | CPU us/poll | p50 ms | p99 ms | max ms | CPU us/poll by round |',
    '|---|---:|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const c of result.cases) {
    lines.push(
      `| ${c.impl}${c.retry === 'off' ? ' (retry: false)' : ''} | ${c.keys} | ${c.variant} | ${c.pollsPerSec} (${c.expectedPollsPerSec}) | ${c.cpuUsPerPoll} | ${c.p50Ms} | ${c.p99Ms} | ${c.maxMs} | ${c.cpuUsPerPollRounds.join(' / ')} |`,
    );
  }
  lines.push('');
  for (const r of result.ratios) {
    lines.push(
      `ThreadDict / setInterval CPU per poll, ${r.keys} keys ${r.variant}: ${r.median}x (rounds: ${r.rounds.join(', ')})`,
    );
  }
  lines.push(
    '',
    `get(key), per CPU second: ${(result.get.cycleOpsPerSec / 1e6).toFixed(1)} M ops/s cycling ${result.get.keys} keys, ` +
      `${(result.get.hotKeyOpsPerSec / 1e6).toFixed(1)} M ops/s on one key ` +
      `(per wall second: ${(result.get.cycleOpsPerWallSec / 1e6).toFixed(1)} / ${(result.get.hotKeyOpsPerWallSec / 1e6).toFixed(1)})`,
    `heap: ${result.heap.bytesPerKey} B/key (${result.heap.bytesPerKeyWithKeyStrings} B/key with the key strings) ` +
      `at ${result.heap.keys} keys, historyDepth ${result.heap.historyDepth}`,
  );
  return lines.join('\n');
}

/** Runs the whole benchmark; returns (and by default prints and saves) the results. */
export async function runPollingBench(
  options: PollingBenchOptions = {},
): Promise<PollingBenchResult> {
  const quick = options.quick ?? process.argv.includes('--quick');
  const seconds = quick ? 1.5 : 3;
  const warmupMs = quick ? 500 : 1000;
  const rounds = options.rounds ?? (quick ? 1 : 3);
  const sizes = options.sizes ?? [1000, 10_000, 50_000];
  const loadBefore = loadavg()[0]!;
  // Warm the JIT on every implementation before measuring anything.
  for (const impl of ['ThreadDict', 'setInterval', 'rxjs'] as const) {
    await pollingCase(impl, 1000, true, quick ? 0.3 : 1, 200);
  }
  const faultyN = sizes.includes(10_000) ? 10_000 : sizes[0]!;
  const specs: { impl: PollingCase['impl']; n: number; faulty: boolean; retryOff: boolean }[] = [];
  for (const n of sizes) {
    for (const impl of ['ThreadDict', 'setInterval', 'rxjs'] as const) {
      specs.push({ impl, n, faulty: false, retryOff: false });
    }
  }
  for (const impl of ['ThreadDict', 'setInterval', 'rxjs'] as const) {
    specs.push({ impl, n: faultyN, faulty: true, retryOff: false });
  }
  // Worst case: failing keys without backoff, read every period.
  specs.push({ impl: 'ThreadDict', n: faultyN, faulty: true, retryOff: true });
  const runs: PollingCase[][] = specs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < specs.length; i++) {
      const { impl, n, faulty, retryOff } = specs[i]!;
      runs[i]!.push(await pollingCase(impl, n, faulty, seconds, warmupMs, retryOff));
    }
  }
  const cases = runs.map(foldRounds);
  const ratios: PollingRatio[] = [];
  for (const c of cases) {
    if (c.impl !== 'ThreadDict' || c.retry === 'off') continue;
    const base = cases.find(
      (b) => b.impl === 'setInterval' && b.keys === c.keys && b.variant === c.variant,
    );
    if (base === undefined) continue;
    const perRound = c.cpuUsPerPollRounds.map((v, i) => round(v / base.cpuUsPerPollRounds[i]!, 3));
    ratios.push({
      keys: c.keys,
      variant: c.variant,
      rounds: perRound,
      median: round(median(perRound), 3),
    });
  }
  const get = await getThroughput(10_000, quick ? 1 : 3);
  const heap = await heapPerKey(100_000, 10);
  const result: PollingBenchResult = {
    node: process.versions.node,
    date: new Date().toISOString(),
    quick,
    cpus: availableParallelism(),
    loadAvg: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
    cases,
    ratios,
    get,
    heap,
  };
  if (options.print ?? true) console.log(table(result));
  const out =
    options.out === undefined
      ? join(dirname(fileURLToPath(import.meta.url)), 'results', 'polling.json')
      : options.out;
  if (out !== null) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}

/** Same as {@link runPollingBench}. */
export const run = runPollingBench;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runPollingBench();
}
