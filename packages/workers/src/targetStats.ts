import { OutcomeCounts } from './outcomeCounts.js';

/** Counts of a target's (or the pool's) requests by outcome, and its load. */
export interface TargetCounts {
  /** Requests waiting in the queue now. */
  queued: number;
  /** Requests running now. */
  running: number;
  /** Requests that ended `completed`. */
  completed: number;
  /** ... `failed`. */
  failed: number;
  /** ... `canceled`. */
  canceled: number;
  /** ... `timed-out`. */
  timedOut: number;
  /** Sends that joined an identical request in flight (`dedupe`); also counted by outcome. */
  coalesced: number;
  /** Share of the pool's thread time spent on these requests since the last start, 0..1. */
  utilization: number;
}

/**
 * Diagnostics of one target (and, for the whole pool, of all of them): the
 * shared {@link OutcomeCounts} plus the thread time used.
 * @internal
 */
export class TargetStats extends OutcomeCounts {
  /** Thread time of finished runs since the last start, ms. */
  busyMs = 0;

  /** Zeroes the counters, thread time included. */
  override reset(now: number): void {
    super.reset(now);
    this.busyMs = 0;
  }

  /** Counts and utilization over `elapsedMs` of a pool of `threads` threads. */
  counts(elapsedMs: number, threads: number): TargetCounts {
    const capacity = elapsedMs * threads;
    return {
      queued: this.queued,
      running: this.running,
      completed: this.completed,
      failed: this.failed,
      canceled: this.canceled,
      timedOut: this.timedOut,
      coalesced: this.coalesced,
      utilization: capacity > 0 ? Math.min(1, this.busyMs / capacity) : 0,
    };
  }
}
