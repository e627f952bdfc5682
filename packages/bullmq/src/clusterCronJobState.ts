import {
  checkDuration,
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  OVERRUN_POLICIES,
  Stats,
} from '@tickwork/core';
import { checkRunWindow, nextRuns, toCronPattern } from '@tickwork/crontab';
import type {
  ClusterCronJobOptions,
  ClusterCronJobState,
  ClusterCronTask,
} from './clusterCronJob.js';
import { checkZone } from './clusterCronOptions.js';

/**
 * @internal validates `add()` arguments and builds the job's local state
 * @throws CronSyntaxError for a bad expression; ConfigError for a bad option or zone
 */
export function createJobState(
  component: string,
  expression: string,
  task: ClusterCronTask,
  options: ClusterCronJobOptions,
  defaults: { tz: string | undefined; keepJobs: number },
): ClusterCronJobState {
  checkString(component, 'expression', expression);
  const pattern = toCronPattern(expression);
  checkFunction(component, 'task', task);
  const o = checkOptions(component, 'options', options);
  const name = o.name === undefined ? expression : checkString(component, 'options.name', o.name);
  const tz = o.tz === undefined ? defaults.tz : checkZone(component, 'options.tz', o.tz);
  const { startAt, stopAt, args } = checkRunWindow(component, o);
  const finite = (t: number): number | null => (Number.isFinite(t) ? t : null);
  return {
    name,
    expression,
    pattern,
    tz,
    task,
    overrun: checkOneOf(component, 'options.overrun', o.overrun ?? 'skip', OVERRUN_POLICIES),
    catchUp: checkOneOf(component, 'options.catchUp', o.catchUp ?? 'once', [
      'skip',
      'once',
    ] as const),
    maxRuns:
      o.maxRuns === undefined
        ? Number.POSITIVE_INFINITY
        : checkInteger(component, 'options.maxRuns', o.maxRuns, { min: 1 }),
    startAt,
    stopAt,
    timeoutMs:
      o.timeoutMs === undefined
        ? 0
        : checkDuration(component, 'options.timeoutMs', o.timeoutMs, { min: 1 }),
    args: [...args],
    // Everything the stored BullMQ scheduler is built from: a node finding the
    // same signature in Redis leaves the scheduler (and its pending slot) alone.
    signature: JSON.stringify([
      expression,
      tz ?? null,
      finite(startAt),
      finite(stopAt),
      defaults.keepJobs,
    ]),
    stats: new Stats(),
    history: [],
    controllers: new Set(),
    synced: Promise.resolve(undefined),
    paused: false,
    runs: 0,
    done: false,
    removed: false,
  };
}

/** @internal the next `n` scheduled slots after `from`, within startAt/stopAt and maxRuns */
export function upcomingSlots(job: ClusterCronJobState, from: number, n: number): number[] {
  const left = Math.min(n, job.maxRuns - job.runs);
  if (left <= 0 || job.done) return [];
  const after = Math.max(from, job.startAt - 1);
  return nextRuns(job.pattern, left, after, { tz: job.tz }).filter((t) => t <= job.stopAt);
}

/** @internal the job's next slot after `now` for `Stats.next`: NaN when paused or done */
export function nextSlotOf(job: ClusterCronJobState, now: number): number {
  return job.paused || job.done ? Number.NaN : (upcomingSlots(job, now, 1)[0] ?? Number.NaN);
}

/** @internal whether a job has no scheduled run left after `now` */
export function isFinished(job: ClusterCronJobState, now: number): boolean {
  return job.runs >= job.maxRuns || upcomingSlots(job, now, 1).length === 0;
}
