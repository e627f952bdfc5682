import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of a histogram, in milliseconds. All 0 when nothing was recorded. */
export interface HistogramSnapshot {
  /** Values recorded. */
  count: number;
  /** Smallest value, ms. */
  min: number;
  /** Mean, ms. */
  mean: number;
  /** Median, ms. */
  p50: number;
  /** 90th percentile, ms. */
  p90: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Largest value, ms. */
  max: number;
}

/** The last error a schedulable thing hit, as plain data. */
export interface LastErrorSnapshot {
  /** Error class name, e.g. `TimeoutError`. */
  name: string;
  /** Error message. */
  message: string;
  /** Error `code`, when it has a string one. */
  code?: string;
  /** When it happened, epoch ms. */
  at: number;
}

/**
 * Diagnostics of one schedulable thing (a `ThreadedObject`, a `ThreadDict`
 * key, a worker target, a cron job), the same everywhere. Counters are since
 * the last `start()`. Times are epoch ms; durations are ms.
 */
export interface StatsSnapshot {
  /** Runs finished (succeeded or failed) since the last start (fandango `get_count`). */
  count: number;
  /** Runs that failed since the last start (`get_errors`). */
  errors: number;
  /** The last failure, or null. */
  lastError: LastErrorSnapshot | null;
  /** When a run last succeeded, or null. */
  lastSuccess: number | null;
  /** How late the last run started against its scheduled slot, ms (`get_delay`). */
  delay: number;
  /** Sum of start delays, ms (`get_acc_delay`). */
  accDelay: number;
  /** Mean start delay, ms. */
  avgDelay: number;
  /**
   * Busy fraction over the recent window: mean run time / period (or / mean
   * interval between starts when there is no fixed period). Above 1 means
   * overrunning (`get_usage`).
   */
  usage: number;
  /** Next scheduled time, or null when none (`get_next`). */
  next: number | null;
  /** Start of the last run, or null (`get_last`). */
  last: number | null;
  /** Start of this run period (the last `start()`), or null (`get_started`). */
  started: number | null;
  /** Slots skipped because the previous run was still going. */
  skipped: number;
  /** Slots missed (process blocked or suspended, clock jumped). */
  missed: number;
  /** Runs in flight now. */
  running: number;
  /** Run time histogram, ms. */
  duration: HistogramSnapshot;
  /** Start lateness histogram, ms. */
  lateness: HistogramSnapshot;
}

/** How many recent runs {@link StatsSnapshot.usage} averages over. */
export const USAGE_WINDOW = 16;

const US_PER_MS = 1000;

function toMicros(ms: number): number {
  // perf_hooks histograms take integers >= 1; 1 us is the resolution.
  const us = Math.round(ms * US_PER_MS);
  return Math.max(us, 1);
}

function histogramSnapshot(h: RecordableHistogram): HistogramSnapshot {
  if (h.count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    count: h.count,
    min: h.min / US_PER_MS,
    mean: h.mean / US_PER_MS,
    p50: h.percentile(50) / US_PER_MS,
    p90: h.percentile(90) / US_PER_MS,
    p99: h.percentile(99) / US_PER_MS,
    max: h.max / US_PER_MS,
  };
}

/**
 * The plain-data form of an error recorded at `at` (epoch ms): name, message
 * and a string `code` when it has one. Anything thrown that is not an `Error`
 * becomes `{ name: 'Error', message: String(value) }`.
 */
export function errorSnapshot(error: unknown, at: number): LastErrorSnapshot {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string'
      ? { name: error.name, message: error.message, code, at }
      : { name: error.name, message: error.message, at };
  }
  return { name: 'Error', message: String(error), at };
}

/**
 * Counters and histograms for one schedulable thing. Owners call
 * {@link Stats.runStarted} and {@link Stats.runFinished} around each run, and
 * {@link Stats.skip} / {@link Stats.miss} for slots that did not run;
 * {@link Stats.snapshot} turns it into plain data. Histograms are Node's
 * `perf_hooks` HDR histograms at 1 us resolution.
 */
export class Stats {
  /** Period used for `usage`, ms; 0 when the thing has no fixed period. */
  periodMs: number;
  /** Next scheduled time, epoch ms, or NaN. Owners keep it current. */
  next = Number.NaN;
  private count = 0;
  private errors = 0;
  private lastErrorValue: unknown = undefined;
  private lastErrorAt = Number.NaN;
  private lastSuccess = Number.NaN;
  private delay = 0;
  private accDelay = 0;
  private delays = 0;
  private last = Number.NaN;
  private started = Number.NaN;
  private skipped = 0;
  private missed = 0;
  private running = 0;
  private readonly durations = new Float64Array(USAGE_WINDOW);
  private readonly starts = new Float64Array(USAGE_WINDOW);
  private ring = 0;
  private ringFill = 0;
  private readonly durationHist = createHistogram();
  private readonly latenessHist = createHistogram();

  /** @param periodMs - the period `usage` is measured against; 0 for none */
  constructor(periodMs = 0) {
    this.periodMs = periodMs;
  }

  /** Zeroes every counter and histogram and marks `now` as the start of a run period. */
  reset(now: number): void {
    this.count = 0;
    this.errors = 0;
    this.lastErrorValue = undefined;
    this.lastErrorAt = Number.NaN;
    this.delay = 0;
    this.accDelay = 0;
    this.delays = 0;
    this.skipped = 0;
    this.missed = 0;
    this.ring = 0;
    this.ringFill = 0;
    this.durationHist.reset();
    this.latenessHist.reset();
    this.started = now;
  }

  /** A run started at `startedAt` for the slot scheduled at `scheduledAt` (epoch ms). */
  runStarted(scheduledAt: number, startedAt: number): void {
    const delay = startedAt > scheduledAt ? startedAt - scheduledAt : 0;
    this.delay = delay;
    this.accDelay += delay;
    this.delays++;
    this.last = startedAt;
    this.running++;
    this.latenessHist.record(toMicros(delay));
  }

  /**
   * A run that started at `startedAt` finished after `durationMs`. Pass the
   * error when it failed (`failed` says so even when the error is `undefined`).
   */
  runFinished(startedAt: number, durationMs: number, failed = false, error?: unknown): void {
    if (this.running > 0) this.running--;
    this.count++;
    const finishedAt = startedAt + durationMs;
    if (failed) {
      this.errors++;
      this.lastErrorValue = error;
      this.lastErrorAt = finishedAt;
    } else {
      this.lastSuccess = finishedAt;
    }
    this.durationHist.record(toMicros(durationMs));
    const i = this.ring;
    this.durations[i] = durationMs;
    this.starts[i] = startedAt;
    this.ring = (i + 1) % USAGE_WINDOW;
    if (this.ringFill < USAGE_WINDOW) this.ringFill++;
  }

  /**
   * A run that will never report (its component was killed while it ran):
   * no longer counted as running, and not counted as finished either.
   */
  runAbandoned(): void {
    if (this.running > 0) this.running--;
  }

  /** `n` slots were skipped because a run was still going. */
  skip(n = 1): void {
    this.skipped += n;
  }

  /** `n` slots were missed (blocked, suspended, clock jump). */
  miss(n = 1): void {
    this.missed += n;
  }

  /** The last error recorded, or `undefined`. */
  get lastError(): unknown {
    return this.lastErrorValue;
  }

  /** Busy fraction over the last {@link USAGE_WINDOW} runs; see {@link StatsSnapshot.usage}. */
  usage(): number {
    const n = this.ringFill;
    if (n === 0) return 0;
    let busy = 0;
    let first = Number.POSITIVE_INFINITY;
    let lastStart = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      busy += this.durations[i]!;
      const s = this.starts[i]!;
      if (s < first) first = s;
      if (s > lastStart) lastStart = s;
    }
    if (this.periodMs > 0) return busy / n / this.periodMs;
    if (n < 2 || lastStart <= first) return 0;
    return busy / n / ((lastStart - first) / (n - 1));
  }

  /** Plain-data copy of every field, safe to serialise. */
  snapshot(): StatsSnapshot {
    const nan = (v: number): number | null => (Number.isNaN(v) ? null : v);
    return {
      count: this.count,
      errors: this.errors,
      lastError: Number.isNaN(this.lastErrorAt)
        ? null
        : errorSnapshot(this.lastErrorValue, this.lastErrorAt),
      lastSuccess: nan(this.lastSuccess),
      delay: this.delay,
      accDelay: this.accDelay,
      avgDelay: this.delays === 0 ? 0 : this.accDelay / this.delays,
      usage: this.usage(),
      next: nan(this.next),
      last: nan(this.last),
      started: nan(this.started),
      skipped: this.skipped,
      missed: this.missed,
      running: this.running,
      duration: histogramSnapshot(this.durationHist),
      lateness: histogramSnapshot(this.latenessHist),
    };
  }
}
