/** One log method: pino's `(object, message)` call shape. */
export type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/**
 * A pino-compatible logger. Pass a pino instance (or anything with these four
 * methods) as the `logger` option of any component; tickwork never prints to
 * the console itself.
 */
export interface Logger {
  /** Detail useful when debugging a schedule. */
  debug: LogFn;
  /** Lifecycle events (started, stopped). */
  info: LogFn;
  /** Something degraded but handled (a key failing, a worker replaced). */
  warn: LogFn;
  /** Something failed that the caller could not be told of directly. */
  error: LogFn;
}

const noop: LogFn = () => {};

/** The default logger: discards everything. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});
