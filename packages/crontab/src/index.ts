/**
 * `@tickwork/crontab`: cron expressions parsed into compact patterns, and their runs
 * computed in any IANA time zone with the DST rules of Vixie cron and croner.
 *
 * @packageDocumentation
 */

export type { RunWindow } from './checkRunWindow.js';
export { checkRunWindow } from './checkRunWindow.js';
export type {
  CronJobInfo,
  CronJobOptions,
  CronRun,
  CronRunContext,
  CronTask,
  CronTrigger,
} from './cronJob.js';
export type { CronField, CronPattern } from './cronPattern.js';
export { MAX_EXPRESSION_LENGTH, parseCronPattern } from './cronPattern.js';
export type { CronTabOptions } from './cronTab.js';
export { CronTab } from './cronTab.js';
export type { CrontabBindings, CrontabEntry, CrontabWorker } from './crontabFile.js';
export { parseCrontab } from './crontabFile.js';
export type { CronExpression, CronTimeOptions } from './nextRun.js';
export {
  matches,
  nextRun,
  nextRuns,
  previousRun,
  previousRuns,
  toCronPattern,
} from './nextRun.js';
export { MAX_COUNTED_SLOTS, passedSlots } from './passedSlots.js';
export { SEARCH_HORIZON_DAYS } from './runSearch.js';
