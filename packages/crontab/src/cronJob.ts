import type { OverrunPolicy, ScheduledTimer, Stats } from '@tickwork/core';
import type { CronPattern } from './cronPattern.js';

/** Why a run happened. */
export type CronTrigger = 'schedule' | 'catch-up' | 'manual';

/** What a cron task is given on each run. */
export interface CronRunContext {
  /** The job's name. */
  readonly job: string;
  /** The slot this run is for, epoch ms (for a manual trigger: when it was asked for). */
  readonly scheduledAt: number;
  /** Why it runs. */
  readonly trigger: CronTrigger;
  /** Aborted on timeout, `remove()` and `kill()`; pass it on to whatever can be cancelled. */
  readonly signal: AbortSignal;
  /** Arguments from the crontab line (empty for jobs added in code). */
  readonly args: readonly string[];
}

/** A cron task: sync or async; its result is kept in the job's history. */
export type CronTask = (context: CronRunContext) => unknown;

/** One finished run, as kept in a job's history and emitted on `runs$`. */
export interface CronRun {
  /** The job's name. */
  readonly job: string;
  /** Why it ran. */
  readonly trigger: CronTrigger;
  /** The slot it ran for, epoch ms. */
  readonly scheduledAt: number;
  /** When it started, epoch ms. */
  readonly startedAt: number;
  /** When it finished (or timed out), epoch ms. */
  readonly finishedAt: number;
  /** `finishedAt - startedAt`, ms. */
  readonly durationMs: number;
  /** Whether the task succeeded. */
  readonly ok: boolean;
  /** The task's result when it succeeded. */
  readonly value?: unknown;
  /** The error when it failed (a `TimeoutError` when it timed out). */
  readonly error?: unknown;
}

/** Options of `CronTab.add`. */
export interface CronJobOptions {
  /** Unique job name. @defaultValue the expression */
  name?: string;
  /** IANA time zone the expression is read in. @defaultValue the CronTab's `tz`, else the system zone */
  tz?: string;
  /** What happens when a slot comes while the last run is still going. @defaultValue 'skip' */
  overrun?: OverrunPolicy;
  /**
   * When the job wakes after slots have passed without it (suspend, clock
   * jump forward, a long block): `'once'` makes one run at once for the latest
   * passed slot, `'skip'` runs nothing until the next slot. Either way the
   * passed slots not run are counted in `missed`. @defaultValue 'once'
   */
  catchUp?: 'skip' | 'once';
  /** Stop after this many scheduled runs (manual triggers do not count). @defaultValue unlimited */
  maxRuns?: number;
  /** No scheduled run before this instant (epoch ms or Date). */
  startAt?: number | Date;
  /** No scheduled run after this instant (epoch ms or Date). */
  stopAt?: number | Date;
  /** A run taking longer fails with `TimeoutError` and its signal is aborted, ms. @defaultValue none */
  timeoutMs?: number;
  /** Arguments handed to the task in `context.args`. @defaultValue [] */
  args?: readonly string[];
}

/** A job as `CronTab.job(name)` describes it. */
export interface CronJobInfo {
  /** Unique name. */
  readonly name: string;
  /** The expression as given. */
  readonly expression: string;
  /** The zone it runs in (undefined: the system zone). */
  readonly tz: string | undefined;
  /** Whether `pause(name)` holds it. */
  readonly paused: boolean;
  /** Whether it has no runs left (`maxRuns` reached, past `stopAt`, or a pattern that never matches). */
  readonly done: boolean;
  /** Next scheduled run, epoch ms, or null. */
  readonly next: number | null;
  /** Scheduled runs made so far (for `maxRuns`). */
  readonly runs: number;
}

/** @internal the mutable state of one job inside a CronTab */
export interface CronJobState {
  readonly name: string;
  readonly expression: string;
  readonly pattern: CronPattern;
  readonly tz: string | undefined;
  readonly task: CronTask;
  readonly overrun: OverrunPolicy;
  readonly catchUp: 'skip' | 'once';
  readonly maxRuns: number;
  readonly startAt: number;
  readonly stopAt: number;
  readonly timeoutMs: number;
  readonly args: readonly string[];
  readonly stats: Stats;
  readonly history: CronRun[];
  readonly controllers: Set<AbortController>;
  timer: ScheduledTimer | undefined;
  paused: boolean;
  done: boolean;
  removed: boolean;
  runs: number;
  running: number;
  /** The latest slot handled, so a slot is never run twice. */
  lastSlot: number;
  /** A slot waiting for the running one to finish (overrun 'queue'). */
  queued: { scheduledAt: number; trigger: CronTrigger } | undefined;
}
