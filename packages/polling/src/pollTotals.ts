import { errorSnapshot, type StatsSnapshot } from '@tickwork/core';
import { MsHistogram } from './msHistogram.js';

/**
 * The counters of a whole `ThreadDict` (all keys together), reported as the
 * standard core `StatsSnapshot`. Hot-path methods take small numbers only and
 * allocate nothing; see {@link MsHistogram} for why this is not a core `Stats`.
 * @internal
 */
export class PollTotals {
  count = 0;
  errors = 0;
  reads = 0;
  skipped = 0;
  missed = 0;
  delay = 0;
  accDelay = 0;
  busyMs = 0;
  /** Start of the last read, ms relative to `epoch`. */
  lastStart = Number.NaN;
  /** End of the last successful read, ms relative to `epoch`. */
  lastSuccess = Number.NaN;
  private readonly epoch: number;
  private lastError: Error | undefined = undefined;
  private lastErrorAt = Number.NaN;
  private started = Number.NaN;
  private readonly duration = new MsHistogram();
  private readonly lateness = new MsHistogram();

  /** @param epoch - epoch ms that relative times count from */
  constructor(epoch: number) {
    this.epoch = epoch;
  }

  /** Zeroes everything; `now` (epoch ms) starts the run period. */
  reset(now: number): void {
    this.count = 0;
    this.errors = 0;
    this.reads = 0;
    this.skipped = 0;
    this.missed = 0;
    this.delay = 0;
    this.accDelay = 0;
    this.busyMs = 0;
    this.lastError = undefined;
    this.lastErrorAt = Number.NaN;
    this.lastStart = Number.NaN;
    this.lastSuccess = Number.NaN;
    this.duration.reset();
    this.lateness.reset();
    this.started = now;
  }

  /** A read started at `start` (relative ms), `latenessMs` after its slot. */
  readStarted(start: number, latenessMs: number): void {
    this.reads++;
    this.lastStart = start;
    this.delay = latenessMs;
    this.accDelay += latenessMs;
    this.lateness.record(latenessMs);
  }

  /** A read finished successfully at `end` (relative ms) after `durationMs`. */
  readSucceeded(end: number, durationMs: number): void {
    this.count++;
    this.lastSuccess = end;
    this.busyMs += durationMs;
    this.duration.record(durationMs);
  }

  /** A read failed after `durationMs` with `error` at `at` (epoch ms). */
  readFailed(durationMs: number, error: Error, at: number): void {
    this.count++;
    this.errors++;
    this.busyMs += durationMs;
    this.duration.record(durationMs);
    this.lastError = error;
    this.lastErrorAt = at;
  }

  /** Snapshot at `now` (epoch ms) with `running` reads in flight. */
  snapshot(now: number, running: number): StatsSnapshot {
    const nan = (v: number): number | null => (Number.isNaN(v) ? null : v);
    const elapsed = now - this.started;
    return {
      count: this.count,
      errors: this.errors,
      lastError:
        this.lastError === undefined ? null : errorSnapshot(this.lastError, this.lastErrorAt),
      lastSuccess: nan(this.epoch + this.lastSuccess),
      delay: this.delay,
      accDelay: this.accDelay,
      avgDelay: this.reads === 0 ? 0 : this.accDelay / this.reads,
      // Read time over wall time: the share of time the dict spent reading (> 1 with reads in parallel).
      usage: elapsed > 0 ? this.busyMs / elapsed : 0,
      next: null,
      last: nan(this.epoch + this.lastStart),
      started: nan(this.started),
      skipped: this.skipped,
      missed: this.missed,
      running,
      duration: this.duration.snapshot(),
      lateness: this.lateness.snapshot(),
    };
  }
}
