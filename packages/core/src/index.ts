/**
 * Clock, shared scheduler, diagnostics (Stats), registry, lifecycle, typed
 * errors and option validation: the foundation every tickwork package builds on.
 *
 * @packageDocumentation
 * @module @tickwork/core
 */
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export type { TickworkErrorCode, TickworkErrorOptions } from './errors.js';
export {
  AbortError,
  ConfigError,
  CronSyntaxError,
  ExpiredError,
  isTickworkError,
  KeyNotFoundError,
  OverrunError,
  StoppedError,
  TickworkError,
  TimeoutError,
  WorkerCrashedError,
} from './errors.js';
export { isThenable } from './isThenable.js';
export type { ComponentOptions, StopOptions } from './lifecycle.js';
export { Lifecycle } from './lifecycle.js';
export type { LogFn, Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { OverrunPolicy } from './overrunPolicy.js';
export { OVERRUN_POLICIES } from './overrunPolicy.js';
export type {
  ComponentDiagnostics,
  ItemDiagnostics,
  JsonValue,
  LifecycleState,
  RegisteredComponent,
  RegistrySnapshot,
} from './registry.js';
export { globalRegistry, Registry } from './registry.js';
export type { SchedulerOptions, Slot, SlotCallback, TimerOptions } from './scheduler.js';
export { getScheduler, ScheduledTimer, Scheduler } from './scheduler.js';
export type { SerializedError } from './serializeError.js';
export { deserializeError, isSerializedError, serializeError } from './serializeError.js';
export type { HistogramSnapshot, LastErrorSnapshot, StatsSnapshot } from './stats.js';
export { errorSnapshot, Stats, USAGE_WINDOW } from './stats.js';
export type { NumberRule } from './validate.js';
export {
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInstant,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  describeValue,
  MAX_TIMER_MS,
} from './validate.js';
