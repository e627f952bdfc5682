import type { Scheduler } from '@tickwork/core';
import { type Job, Queue } from 'bullmq';
import { closeWithin } from './closeWithin.js';
import type { ClusterCronJobState, ClusterSchedule } from './clusterCronJob.js';
import type { ManualJobData } from './clusterCronRun.js';
import type { RedisConnectionOptions } from './redisConnection.js';

/** Manual trigger jobs stay this long once finished, s: the caller reads the run from them. */
const KEEP_TRIGGERS_S = 600;

/**
 * @internal The BullMQ side of a cluster crontab: one queue holding a job
 * scheduler per job (scheduler id = job name) and the manual trigger jobs.
 */
export class ClusterCronSchedules {
  /** The queue (its connection is the schedules' own). */
  readonly queue: Queue;
  private readonly keepJobs: number;

  constructor(
    connection: RedisConnectionOptions,
    queueName: string,
    prefix: string | undefined,
    keepJobs: number,
  ) {
    this.queue = new Queue(queueName, { connection: { ...connection }, prefix });
    this.keepJobs = keepJobs;
  }

  /**
   * Makes Redis hold the job's scheduler as this node declares it, or none
   * when the job is `done`; settles with undefined or the last error (never
   * rejects). A scheduler already stored with the job's signature is left
   * alone: upserting replaces the pending slot job with one computed from now,
   * which would drop the slot a node starting after downtime must catch up.
   */
  async ensure(job: ClusterCronJobState, done: boolean): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (done) {
          await this.queue.removeJobScheduler(job.name);
          return undefined;
        }
        if (await this.isCurrent(job)) return undefined;
        await this.upsert(job);
        return undefined;
      } catch (error) {
        // Nodes upserting the same scheduler in the same instant race to
        // create the same slot job (`repeat:<name>:<slot>`) and BullMQ fails
        // the losers with "job ID already exists": the next attempt finds the
        // scheduler in place. Other errors (Redis down) are retried as well.
        if (attempt >= 3) return error;
      }
    }
  }

  /**
   * Whether Redis holds the job's scheduler with this node's signature and
   * its next slot job: BullMQ makes each slot job when the previous one is
   * taken, so a chain broken by an error there would never run again.
   */
  async isCurrent(job: ClusterCronJobState): Promise<boolean> {
    const stored = await this.queue.getJobScheduler(job.name);
    const data = stored?.template?.data as { tickwork?: unknown } | undefined;
    if (stored?.pattern !== job.expression || data?.tickwork !== job.signature) return false;
    if (stored.next === undefined) return false;
    return (await this.queue.getJob(`repeat:${job.name}:${stored.next}`)) !== undefined;
  }

  /** Deletes a scheduler and its pending slot job; resolves whether it existed. */
  remove(name: string): Promise<boolean> {
    return this.queue.removeJobScheduler(name);
  }

  /** Every schedule stored for this queue. */
  async list(): Promise<ClusterSchedule[]> {
    const stored = await this.queue.getJobSchedulers(0, -1, true);
    return stored.map((s) => ({
      name: s.id ?? s.key,
      pattern: s.pattern,
      tz: s.tz,
      next: s.next,
    }));
  }

  /** Adds a manual trigger job (an existing id is not added twice). */
  async trigger(name: string, id: string, requestedAt: number): Promise<void> {
    const data: ManualJobData = { tickwork: 'manual', requestedAt };
    await this.queue.add(name, data, {
      jobId: id,
      removeOnComplete: { age: KEEP_TRIGGERS_S },
      removeOnFail: { age: KEEP_TRIGGERS_S },
    });
  }

  /** A job by id, if still kept. */
  getJob(id: string): Promise<Job | undefined> {
    return this.queue.getJob(id);
  }

  /** Closes the queue's connection (dropped if Redis does not answer in time). */
  close(scheduler: Scheduler): Promise<void> {
    return closeWithin([this.queue], scheduler);
  }

  private async upsert(job: ClusterCronJobState): Promise<void> {
    const keep = { count: this.keepJobs };
    await this.queue.upsertJobScheduler(
      job.name,
      {
        pattern: job.expression,
        ...(job.tz === undefined ? {} : { tz: job.tz }),
        // BullMQ's first slot is the first strictly after startDate.
        ...(Number.isFinite(job.startAt) ? { startDate: job.startAt - 1 } : {}),
        ...(Number.isFinite(job.stopAt) ? { endDate: job.stopAt } : {}),
      },
      {
        name: job.name,
        data: { tickwork: job.signature },
        opts: { removeOnComplete: keep, removeOnFail: keep },
      },
    );
  }
}
