/**
 * The metric family a component kind reports under:
 * - `'poll'`: `tickwork_poll_*`, `tickwork_polls_total{result}` (ThreadDict, ThreadedObject);
 * - `'task'`: `tickwork_task_*`, `tickwork_tasks_total{state}` (WorkerProcess);
 * - `'cron'`: `tickwork_cron_*`, `tickwork_cron_runs_total{result}` (CronTab);
 * - `'run'`: `tickwork_run_*`, `tickwork_runs_total{result}` (any other kind).
 */
export type MetricFamily = 'poll' | 'task' | 'cron' | 'run';

/** The families of the kinds tickwork ships; other kinds are `'run'` unless mapped. */
export const DEFAULT_METRIC_FAMILIES: Readonly<Record<string, MetricFamily>> = Object.freeze({
  ThreadDict: 'poll',
  ThreadedObject: 'poll',
  WorkerProcess: 'task',
  CronTab: 'cron',
});

/** Names and help of one family's run metrics. @internal */
export interface FamilyNames {
  /** Summary of run time. */
  readonly duration: string;
  /** Its HELP text. */
  readonly durationHelp: string;
  /** Summary of start lateness (queue wait for tasks). */
  readonly lateness: string;
  /** Its HELP text. */
  readonly latenessHelp: string;
  /** Counter of finished runs. */
  readonly runs: string;
  /** Its HELP text. */
  readonly runsHelp: string;
  /** The label splitting `runs`. */
  readonly runsLabel: 'result' | 'state';
}

/** Metric names and help of each family. @internal */
export const FAMILY_NAMES: Readonly<Record<MetricFamily, FamilyNames>> = {
  poll: {
    duration: 'tickwork_poll_duration_seconds',
    durationHelp: 'Time a poll (read) took, since the component last started.',
    lateness: 'tickwork_poll_lateness_seconds',
    latenessHelp: 'How late polls started against their scheduled slot, since the last start.',
    runs: 'tickwork_polls_total',
    runsHelp: 'Polls finished since the component last started, by result (success, error).',
    runsLabel: 'result',
  },
  task: {
    duration: 'tickwork_task_run_seconds',
    durationHelp: 'Time worker tasks ran, since the pool last started.',
    lateness: 'tickwork_task_wait_seconds',
    latenessHelp: 'Time worker tasks waited in the queue before running, since the last start.',
    runs: 'tickwork_tasks_total',
    runsHelp:
      'Worker tasks settled since the pool last started, by terminal state (completed, failed, canceled, timed-out).',
    runsLabel: 'state',
  },
  cron: {
    duration: 'tickwork_cron_duration_seconds',
    durationHelp: 'Time cron runs took, since the crontab last started.',
    lateness: 'tickwork_cron_lateness_seconds',
    latenessHelp: 'How late cron runs started against their scheduled time, since the last start.',
    runs: 'tickwork_cron_runs_total',
    runsHelp: 'Cron runs finished since the crontab last started, by result (success, error).',
    runsLabel: 'result',
  },
  run: {
    duration: 'tickwork_run_duration_seconds',
    durationHelp: 'Run time of components of other kinds, since they last started.',
    lateness: 'tickwork_run_lateness_seconds',
    latenessHelp: 'Start lateness of components of other kinds, since they last started.',
    runs: 'tickwork_runs_total',
    runsHelp: 'Runs of components of other kinds finished since they last started, by result.',
    runsLabel: 'result',
  },
};

/** The terminal states of a worker task, as `tickwork_tasks_total{state}` values. @internal */
export const TASK_STATES = ['completed', 'failed', 'canceled', 'timed-out'] as const;
