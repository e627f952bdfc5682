import { Stats } from '@tickwork/core';
import type { TerminalState } from './workerRequest.js';

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
 * Diagnostics of one target (and, for the whole pool, of all of them): core
 * {@link Stats} for runs, where `lateness` is the queue wait (from ready to
 * started) and `duration` the run time; plus counts by terminal state and
 * thread time used.
 * @internal
 */
export class TargetStats {
  readonly stats = new Stats(0);
  queued = 0;
  running = 0;
  completed = 0;
  failed = 0;
  canceled = 0;
  timedOut = 0;
  coalesced = 0;
  /** Thread time of finished runs since the last start, ms. */
  busyMs = 0;

  /** Counts one request's outcome. */
  count(state: TerminalState): void {
    if (state === 'completed') this.completed++;
    else if (state === 'failed') this.failed++;
    else if (state === 'canceled') this.canceled++;
    else this.timedOut++;
  }

  /** Zeroes the counters (not `queued`/`running`: those are current). */
  reset(now: number): void {
    this.stats.reset(now);
    this.completed = 0;
    this.failed = 0;
    this.canceled = 0;
    this.timedOut = 0;
    this.coalesced = 0;
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
