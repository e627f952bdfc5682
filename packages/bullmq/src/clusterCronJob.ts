import type { OverrunPolicy, Stats } from '@tickwork/core';
import type { CronPattern, CronRun, CronRunContext } from '@tickwork/crontab';

/** What a cluster cron task is given on each run: a crontab context plus the BullMQ job. */
export interface ClusterCronRunContext extends CronRunContext {
  /**
   * The BullMQ job id of this slot (`repeat:<job>:<slot ms>`; for a manual
   * trigger, the trigger id): the same on every node and every redelivery, so
   * a task can dedupe side effects on it.
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

/**
 * Options of `ClusterCronTab.add`. Every node must add a job with the same
 * options: the node that takes a slot applies its own.
 */
export interface ClusterCronJobOptions {
  /**
   * Job name, unique in the queue: it is the BullMQ job scheduler id, so every
   * node adding the same name shares one schedule. @defaultValue the expression
   */
  name?: string;
  /** IANA time zone the expression is read in. @defaultValue the ClusterCronTab's `tz`, else the system zone */
  tz?: string;
  /**
   * A slot due while the job's previous run is still going **anywhere in the
   * cluster** (a Redis lock per job says so): `'skip'` counts it in `skipped`,
   * `'queue'` runs it right after (one queued slot; further ones are
   * skipped), `'parallel'` runs it at once. @defaultValue 'skip'
   */
  overrun?: OverrunPolicy;
  /**
   * When a slot is taken after later slots have already passed (no node ran
   * for a while, or every node was too busy): `'once'` runs once at once for
   * the latest passed slot (`trigger: 'catch-up'`), `'skip'` runs none until
   * the next slot. The passed slots not run are counted in `missed`.
   * @defaultValue 'once'
   */
  catchUp?: 'skip' | 'once';
  /**
   * Scheduled runs across the whole cluster before the job is done (manual
   * triggers do not count); the count lives in Redis. @defaultValue unlimited
   */
  maxRuns?: number;
  /** No scheduled run before this instant (epoch ms or Date). */
  startAt?: number | Date;
  /** No scheduled run after this instant (epoch ms or Date). */
  stopAt?: number | Date;
  /**
   * A run taking longer fails with `TimeoutError` and its signal is aborted, ms.
   * @defaultValue none
   */
  timeoutMs?: number;
  /** Arguments handed to the task in `context.args`. @defaultValue [] */
  args?: readonly string[];
}

/** Options of `ClusterCronTab.trigger`. */
export interface ClusterCronTriggerOptions {
  /**
   * Trigger id, used as the BullMQ job id: triggering again with the same id
   * while the first trigger's job is kept (10 min) does not run it again and
   * resolves with the first run. Must not contain `:` or be all digits.
   * @defaultValue a random id
   */
  id?: string;
  /**
   * How long to wait for a node to run it, ms from the call; then the promise
   * rejects with `TimeoutError` (the run itself is not cancelled). 0 waits for
   * ever. @defaultValue 0
   */
  timeoutMs?: number;
}

/** A job as `ClusterCronTab.job(name)` describes it (CronTab's `CronJobInfo`). */
export interface ClusterCronJobInfo {
  /** Unique name (the scheduler id). */
  readonly name: string;
  /** The expression as given. */
  readonly expression: string;
  /** The zone it runs in (undefined: the system zone). */
  readonly tz: string | undefined;
  /** Whether the job is paused cluster-wide, as this node last read it from Redis. */
  readonly paused: boolean;
  /** Whether it has no runs left (`maxRuns` reached, past `stopAt`, or a pattern that never matches). */
  readonly done: boolean;
  /** Next slot by the local cron maths, epoch ms, or null (paused or done). */
  readonly next: number | null;
  /** Scheduled runs made across the cluster, as this node last read it from Redis. */
  readonly runs: number;
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
  readonly pattern: CronPattern;
  readonly tz: string | undefined;
  readonly task: ClusterCronTask;
  readonly overrun: OverrunPolicy;
  readonly catchUp: 'skip' | 'once';
  readonly maxRuns: number;
  readonly startAt: number;
  readonly stopAt: number;
  readonly timeoutMs: number;
  readonly args: readonly string[];
  /** What the stored scheduler must match for this node to leave it alone. */
  readonly signature: string;
  readonly stats: Stats;
  readonly history: CronRun[];
  readonly controllers: Set<AbortController>;
  /** Settles once the scheduler is in place: undefined, or the error. */
  synced: Promise<unknown>;
  /** Cluster-wide pause flag, as last read from (or written to) Redis. */
  paused: boolean;
  /** Cluster-wide scheduled runs, as last read from Redis. */
  runs: number;
  /** No runs left. */
  done: boolean;
  /** Whether `remove()` dropped it. */
  removed: boolean;
}
