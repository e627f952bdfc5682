import type { Clock, Logger } from '@tickwork/core';
import type { ClusterCronJobState } from './clusterCronJob.js';
import { isFinished } from './clusterCronJobState.js';
import type { ClusterCronState } from './clusterCronState.js';

/** @internal what the reconciler needs from its ClusterCronTab */
export interface ClusterCronReconcilerHost {
  readonly name: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: ClusterCronState;
  /** The node's jobs now. */
  jobs(): ClusterCronJobState[];
  isAlive(): boolean;
  /** Puts the job's schedule in place; settles with undefined or the error, never rejects. */
  sync(job: ClusterCronJobState): Promise<unknown>;
  /** The job has no run left. */
  markDone(job: ClusterCronJobState): void;
  /** Recomputes the job's `Stats.next`. */
  refreshNext(job: ClusterCronJobState): void;
}

/**
 * @internal Keeps a node in step with the cluster state in Redis. Each check
 * (every `reconcileMs`, and on every reconnection) reads the dataset id, the
 * pause flags and the run counts in one round trip:
 * - the same dataset: the node refreshes its copy of the flags and counts;
 * - another dataset: Redis lost its data (a restart without persistence, a
 *   failover to an empty replica). The node writes back the pause flags and
 *   run counts it last read (counts only ever raised, so nodes restoring at
 *   once agree) and puts its schedules back, so the cluster recovers without
 *   restarting nodes. It keeps the old id until that worked, so a failed
 *   restore is tried again at the next check.
 */
export class ClusterCronReconciler {
  private dataset: string | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly host: ClusterCronReconcilerHost) {}

  /** Runs a check; one at a time (a check asked for during one is that one). */
  check(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async run(): Promise<void> {
    const { host } = this;
    if (!host.isAlive()) return;
    try {
      const seen = await host.store.read();
      const jobs = host.jobs();
      if (this.dataset !== undefined && seen.dataset !== this.dataset) {
        host.logger.warn(
          { component: host.name, dataset: seen.dataset },
          'Redis lost its data: restoring schedules, pause flags and run counts',
        );
        await host.store.restore(
          jobs.filter((job) => job.paused).map((job) => job.name),
          new Map(jobs.map((job) => [job.name, job.runs])),
        );
        for (const job of jobs) job.synced = host.sync(job);
        const outcomes = await Promise.all(jobs.map((job) => job.synced));
        if (outcomes.some((outcome) => outcome !== undefined)) return;
      } else {
        const now = host.clock.now();
        for (const job of jobs) {
          job.paused = seen.paused.has(job.name);
          job.runs = seen.runs.get(job.name) ?? 0;
          if (!job.done && isFinished(job, now)) host.markDone(job);
          host.refreshNext(job);
        }
      }
      this.dataset = seen.dataset;
    } catch (error) {
      host.logger.debug({ component: host.name, error }, 'state check failed');
    }
  }
}
