import type { Stats } from '@tickwork/core';
import type { CronRun, CronRunContext } from '@tickwork/crontab';

/** What a cluster cron task is given on each run: a crontab context plus the BullMQ job. */
export interface ClusterCronRunContext extends CronRunContext {
  /**
   * The BullMQ job id of this slot (`repeat:<job>:<slot ms>`): the same on
   * every node and every retry, so a task can dedupe side effects on it.
   */
  readonly jobId: string;
  /** Which attempt this is (1 on the first delivery; more after a stalled run was redelivered). */
  readonly attempt: number;
}

/**
 * A cluster cron task: sync or async. Any `CronTab` task fits, since the
 * context is a `CronRunContext` with more fields.
 */
export type ClusterCronTask = (context: ClusterCronRunContext) => unknown;

/** Options of `ClusterCronTab.add`. */
export interface ClusterCronJobOptions {
  /**
   * Job name, unique in the queue: it is the BullMQ job scheduler id, so every
   * node adding the same name shares one schedule. @defaultValue the expression
   */
  name?: string;
  /** IANA time zone the expression is read in. @defaultValue the ClusterCronTab's `tz`, else the system zone */
  tz?: string;
  /**
   * A run taking longer fails with `TimeoutError` and its signal is aborted, ms.
   * @defaultValue none
   */
  timeoutMs?: number;
}

/** A job as `ClusterCronTab.job(name)` describes it. */
export interface ClusterCronJobInfo {
  /** Unique name (the scheduler id). */
  readonly name: string;
  /** The expression as given. */
  readonly expression: string;
  /** The zone it runs in (undefined: the system zone). */
  readonly tz: string | undefined;
  /** Next slot by the local cron maths, epoch ms, or null. */
  readonly next: number | null;
}

/** A schedule as stored in Redis, read by `ClusterCronTab.schedules()`. */
export interface ClusterSchedule {
  /** Scheduler id, which is the job name. */
  readonly name: string;
  /** Cron pattern. */
  readonly pattern: string | undefined;
  /** IANA zone, when set. */
  readonly tz: string | undefined;
  /** Next slot BullMQ will create a job for, epoch ms, when known. */
  readonly next: number | undefined;
}

/** @internal the local state of one job */
export interface ClusterCronJobState {
  readonly name: string;
  readonly expression: string;
  readonly tz: string | undefined;
  readonly task: ClusterCronTask;
  readonly timeoutMs: number;
  readonly stats: Stats;
  readonly history: CronRun[];
  /** Settles once the scheduler is upserted: undefined, or the error. */
  synced: Promise<unknown>;
}
