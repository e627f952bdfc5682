import { Stats } from '@tickwork/core';
import type { TerminalState } from './workerRequest.js';

/**
 * Diagnostics of requests to one target (or to all): core {@link Stats} for
 * runs, where `lateness` is the queue wait (from ready to started) and
 * `duration` the run time, plus counts by terminal state. Shared by
 * `WorkerProcess` and the cluster workers of `@tickwork/bullmq`, which extend
 * it with what only they know (thread time, hand-backs).
 */
export class OutcomeCounts {
  /** Runs: duration and queue wait (as lateness). */
  readonly stats = new Stats(0);
  /** Requests waiting now. */
  queued = 0;
  /** Requests running now. */
  running = 0;
  /** Requests that ended `completed` since the last reset. */
  completed = 0;
  /** ... `failed`. */
  failed = 0;
  /** ... `canceled`. */
  canceled = 0;
  /** ... `timed-out`. */
  timedOut = 0;
  /** Sends that joined an identical request in flight (`dedupe`); also counted by outcome. */
  coalesced = 0;

  /** Counts one request's outcome. */
  count(state: TerminalState): void {
    if (state === 'completed') this.completed++;
    else if (state === 'failed') this.failed++;
    else if (state === 'canceled') this.canceled++;
    else this.timedOut++;
  }

  /** Zeroes the counters and restarts `stats` at `now` (not `queued`/`running`: those are current). */
  reset(now: number): void {
    this.stats.reset(now);
    this.completed = 0;
    this.failed = 0;
    this.canceled = 0;
    this.timedOut = 0;
    this.coalesced = 0;
  }
}
