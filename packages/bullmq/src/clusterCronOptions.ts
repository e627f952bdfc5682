import {
  type ComponentOptions,
  ConfigError,
  checkBoolean,
  checkDuration,
  checkInteger,
  checkOptions,
  checkString,
} from '@tickwork/core';
import { nextRun } from '@tickwork/crontab';
import { checkConnection, type RedisConnectionOptions } from './redisConnection.js';

/** Options of `ClusterCronTab`. */
export interface ClusterCronTabOptions extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /**
   * BullMQ queue holding the schedules and their slot jobs. Every node of one
   * cluster crontab uses the same queue name. @defaultValue `'tickwork-cron'`
   */
  queueName?: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /** Default IANA zone of jobs added without `tz`. @defaultValue the system zone */
  tz?: string;
  /** Slot jobs this node runs at once, all jobs together. @defaultValue 8 */
  concurrency?: number;
  /** Finished (and failed) slot jobs kept in Redis per queue, for inspection. @defaultValue 100 */
  keepJobs?: number;
  /** Runs kept in each job's local history. @defaultValue 10 */
  keep?: number;
  /**
   * Whether `add` puts the job's BullMQ scheduler in place, `remove` deletes
   * it and a finished job (`maxRuns`, `stopAt`) removes it. Pass `false` on
   * nodes that should only run tasks, leaving the schedules to the one place
   * that owns them (a deploy step, one designated node). @defaultValue true
   */
  manageSchedules?: boolean;
  /**
   * How long a node holds a slot job (BullMQ's `lockDuration`) and a job's
   * overrun lock without renewing them, ms. Both are renewed every half of
   * it while the task runs; a node that dies loses them after at most this
   * long, and its slot is then redelivered. Keep it well above the longest
   * event-loop block. @defaultValue 30000
   */
  lockDurationMs?: number;
  /**
   * How often each node looks for slot jobs whose node died (BullMQ's
   * `stalledInterval`), ms. A dead node's slot is redelivered within about
   * `lockDurationMs + stalledIntervalMs`. @defaultValue 30000
   */
  stalledIntervalMs?: number;
  /**
   * How often the node reads the cluster state (pause flags, run counts, and
   * whether Redis lost its data, in which case it puts its schedules back),
   * ms. It also reads it on every reconnection. @defaultValue 5000
   */
  reconcileMs?: number;
  /** Start at once (run this node's BullMQ worker). @defaultValue true */
  start?: boolean;
}

/** @internal the options with their defaults */
export interface ClusterCronTabSettings {
  readonly connection: RedisConnectionOptions;
  readonly queueName: string;
  readonly prefix: string | undefined;
  readonly tz: string | undefined;
  readonly concurrency: number;
  readonly keepJobs: number;
  readonly keep: number;
  readonly manageSchedules: boolean;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly reconcileMs: number;
  readonly start: boolean;
}

/** @internal an IANA zone name luxon knows; ConfigError naming the component and option otherwise */
export function checkZone(component: string, path: string, value: unknown): string {
  const tz = checkString(component, path, value);
  try {
    nextRun('* * * * *', 0, { tz });
  } catch (error) {
    throw new ConfigError(
      `${component}: ${path} ${JSON.stringify(tz)} is not a valid IANA time zone`,
      path,
      { cause: error },
    );
  }
  return tz;
}

/** @internal validates the options of a ClusterCronTab and fills in defaults */
export function checkTabOptions(
  component: string,
  options: ClusterCronTabOptions,
): ClusterCronTabSettings {
  const o = checkOptions(component, 'options', options);
  const connection = checkConnection(component, o.connection);
  const queueName = checkString(component, 'options.queueName', o.queueName ?? 'tickwork-cron');
  if (queueName.includes(':')) {
    throw new ConfigError(
      `${component}: options.queueName must not contain ":" (got ${JSON.stringify(queueName)})`,
      'options.queueName',
    );
  }
  const tz = o.tz === undefined ? undefined : checkZone(component, 'options.tz', o.tz);
  const duration = (path: string, value: unknown, fallback: number): number =>
    checkDuration(component, path, value ?? fallback, { min: 10 });
  return {
    connection,
    queueName,
    prefix: o.prefix === undefined ? undefined : checkString(component, 'options.prefix', o.prefix),
    tz,
    concurrency: checkInteger(component, 'options.concurrency', o.concurrency ?? 8, {
      min: 1,
      max: 10_000,
    }),
    keepJobs: checkInteger(component, 'options.keepJobs', o.keepJobs ?? 100, { min: 0 }),
    keep: checkInteger(component, 'options.keep', o.keep ?? 10, { min: 0, max: 100_000 }),
    manageSchedules: checkBoolean(component, 'options.manageSchedules', o.manageSchedules ?? true),
    lockDurationMs: duration('options.lockDurationMs', o.lockDurationMs, 30_000),
    stalledIntervalMs: duration('options.stalledIntervalMs', o.stalledIntervalMs, 30_000),
    reconcileMs: duration('options.reconcileMs', o.reconcileMs, 5_000),
    start: checkBoolean(component, 'options.start', o.start ?? true),
  };
}
