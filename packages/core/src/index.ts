export type { TickworkErrorCode, TickworkErrorOptions } from './errors.js';
export {
  AbortError,
  ConfigError,
  CronSyntaxError,
  ExpiredError,
  errorClasses,
  isTickworkError,
  KeyNotFoundError,
  OverrunError,
  StoppedError,
  TickworkError,
  TimeoutError,
  WorkerCrashedError,
} from './errors.js';
