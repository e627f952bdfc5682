/**
 * The fixed set of error codes every tickwork error carries. Code that handles
 * errors switches on `error.code` rather than on messages.
 */
export type TickworkErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_EXPIRED'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_OVERRUN'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_CRON_SYNTAX'
  | 'ERR_STOPPED';

/** Options accepted by every tickwork error constructor. */
export interface TickworkErrorOptions {
  /** The underlying error or reason, kept as the standard `cause`. */
  cause?: unknown;
}

/**
 * Base class of every error tickwork throws. It carries a `code` from
 * {@link TickworkErrorCode} and the standard `cause`.
 *
 * @example
 * ```ts
 * try { dict.get('sys/tg/1/temperature'); }
 * catch (e) { if (e instanceof TickworkError && e.code === 'ERR_EXPIRED') ... }
 * ```
 */
export class TickworkError extends Error {
  /** The machine-readable code of this error. */
  readonly code: TickworkErrorCode;

  /**
   * @param code - machine-readable code
   * @param message - message a person can act on; starts with the component name
   * @param options - `cause`
   */
  constructor(code: TickworkErrorCode, message: string, options?: TickworkErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // Not enumerable, like the built-in errors' name.
    Object.defineProperty(this, 'name', {
      value: new.target.name,
      configurable: true,
      writable: true,
    });
  }
}

/**
 * A bad option or argument. The message names the component and the option
 * path, e.g. `ThreadDict: options.periodMs must be a finite number >= 1 (got NaN)`.
 */
export class ConfigError extends TickworkError {
  /** Dotted path of the offending option, e.g. `options.retry.maxMs`. */
  readonly path: string;

  /**
   * @param message - full message, naming component and option
   * @param path - dotted path of the offending option
   * @param options - `cause`
   */
  constructor(message: string, path = '', options?: TickworkErrorOptions) {
    super('ERR_CONFIG', message, options);
    this.path = path;
  }
}

/** A key that was never added (or was removed) was asked for. */
export class KeyNotFoundError extends TickworkError {
  /** The key asked for. */
  readonly key: string;

  /**
   * @param key - the key asked for
   * @param message - defaults to `Key not found: <key>`
   */
  constructor(key: string, message = `Key not found: ${key}`, options?: TickworkErrorOptions) {
    super('ERR_KEY_NOT_FOUND', message, options);
    this.key = key;
  }
}

/**
 * A cached value is older than its expiry. The stale value and its age are
 * kept so a caller can still use them deliberately.
 */
export class ExpiredError<V = unknown> extends TickworkError {
  /** The key whose value expired. */
  readonly key: string;
  /** The last good value, now stale. */
  readonly value: V;
  /** Age of the value in milliseconds when the error was raised. */
  readonly ageMs: number;

  /**
   * @param key - the key
   * @param value - the stale value
   * @param ageMs - its age in ms
   * @param message - defaults to a message naming key and age
   */
  constructor(
    key: string,
    value: V,
    ageMs: number,
    message = `Value of ${key} expired: last sampled ${Math.round(ageMs)} ms ago`,
    options?: TickworkErrorOptions,
  ) {
    super('ERR_EXPIRED', message, options);
    this.key = key;
    this.value = value;
    this.ageMs = ageMs;
  }
}

/** Something took longer than its `timeoutMs`. */
export class TimeoutError extends TickworkError {
  /** The limit that was exceeded, in ms. */
  readonly timeoutMs: number;

  /**
   * @param message - what timed out
   * @param timeoutMs - the limit in ms
   */
  constructor(message: string, timeoutMs: number, options?: TickworkErrorOptions) {
    super('ERR_TIMEOUT', message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** Work was aborted through an `AbortSignal` or a cancel call. */
export class AbortError extends TickworkError {
  /** @param message - what was aborted and why */
  constructor(message = 'The operation was aborted', options?: TickworkErrorOptions) {
    super('ERR_ABORTED', message, options);
  }
}

/** A run was still going when its next slot came (reported, never silent). */
export class OverrunError extends TickworkError {
  /** @param message - which run overran */
  constructor(message: string, options?: TickworkErrorOptions) {
    super('ERR_OVERRUN', message, options);
  }
}

/** A worker thread died (top-level throw, `process.exit`, out of memory). */
export class WorkerCrashedError extends TickworkError {
  /** Exit code of the worker, when it exited. */
  readonly exitCode: number | undefined;

  /**
   * @param message - what happened
   * @param exitCode - the worker's exit code, if any
   */
  constructor(message: string, exitCode?: number, options?: TickworkErrorOptions) {
    super('ERR_WORKER_CRASHED', message, options);
    this.exitCode = exitCode;
  }
}

/** A cron expression could not be parsed; names the field and position. */
export class CronSyntaxError extends TickworkError {
  /** The expression as given. */
  readonly expression: string;
  /** Name of the field at fault (`minute`, `dayOfWeek`, ...), or `expression`. */
  readonly field: string;
  /** Zero-based character position in the expression. */
  readonly position: number;
  /** One-based line number, when the expression came from a crontab file. */
  line: number | undefined;

  /**
   * @param message - what is wrong, in words a person can act on
   * @param expression - the expression as given
   * @param field - the field at fault
   * @param position - zero-based character position
   */
  constructor(
    message: string,
    expression: string,
    field: string,
    position: number,
    options?: TickworkErrorOptions,
  ) {
    super('ERR_CRON_SYNTAX', message, options);
    this.expression = expression;
    this.field = field;
    this.position = position;
    this.line = undefined;
  }
}

/** The component was stopped or killed while the work was pending. */
export class StoppedError extends TickworkError {
  /** @param message - which component stopped */
  constructor(message: string, options?: TickworkErrorOptions) {
    super('ERR_STOPPED', message, options);
  }
}

/**
 * Every concrete error class, by class name; used to rebuild errors across threads.
 * @internal
 */
export const errorClasses = {
  TickworkError,
  ConfigError,
  KeyNotFoundError,
  ExpiredError,
  TimeoutError,
  AbortError,
  OverrunError,
  WorkerCrashedError,
  CronSyntaxError,
  StoppedError,
} as const;

/** Whether `value` is a tickwork error, optionally with the given code. */
export function isTickworkError(value: unknown, code?: TickworkErrorCode): value is TickworkError {
  return value instanceof TickworkError && (code === undefined || value.code === code);
}
