import { ConfigError } from './errors.js';

/** Bounds for {@link checkNumber}. */
export interface NumberRule {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Whether the value must be a whole number. */
  integer?: boolean;
}

/** The largest delay a host timer takes without overflowing (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A short, safe rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function fail(component: string, path: string, expected: string, value: unknown): never {
  throw new ConfigError(
    `${component}: ${path} must be ${expected} (got ${describeValue(value)})`,
    path,
  );
}

/**
 * Returns `value` if it is a finite number within `rule`, else throws
 * {@link ConfigError} naming the component and the option path.
 *
 * @example
 * ```ts
 * checkNumber('ThreadDict', 'options.periodMs', options.periodMs, { min: 1 });
 * // ConfigError: ThreadDict: options.periodMs must be a finite number >= 1 (got NaN)
 * ```
 */
export function checkNumber(
  component: string,
  path: string,
  value: unknown,
  rule: NumberRule,
): number {
  const kind = rule.integer ? 'an integer' : 'a finite number';
  const bounds =
    rule.min !== undefined && rule.max !== undefined
      ? ` from ${rule.min} to ${rule.max}`
      : rule.min !== undefined
        ? ` >= ${rule.min}`
        : rule.max !== undefined
          ? ` <= ${rule.max}`
          : '';
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (rule.integer === true && !Number.isInteger(value)) ||
    (rule.min !== undefined && value < rule.min) ||
    (rule.max !== undefined && value > rule.max)
  ) {
    fail(component, path, `${kind}${bounds}`, value);
  }
  return value;
}

/**
 * A duration in ms: a finite number from `min` (default 0) to 2^31 - 1 unless
 * `max` says otherwise. Throws {@link ConfigError} otherwise.
 */
export function checkDuration(
  component: string,
  path: string,
  value: unknown,
  rule: { min?: number; max?: number } = {},
): number {
  return checkNumber(component, path, value, { min: rule.min ?? 0, max: rule.max ?? MAX_TIMER_MS });
}

/** Returns `value` if it is an integer within `rule`; else throws {@link ConfigError}. */
export function checkInteger(
  component: string,
  path: string,
  value: unknown,
  rule: { min?: number; max?: number } = {},
): number {
  return checkNumber(component, path, value, { ...rule, integer: true });
}

/**
 * Returns `value` if it is a function; else throws {@link ConfigError}.
 * @typeParam F - the function type the caller expects
 */
export function checkFunction<F extends (...args: never[]) => unknown>(
  component: string,
  path: string,
  value: unknown,
): F {
  if (typeof value !== 'function') fail(component, path, 'a function', value);
  return value as F;
}

/** Returns `value` if it is a string (non-empty unless `allowEmpty`); else throws {@link ConfigError}. */
export function checkString(
  component: string,
  path: string,
  value: unknown,
  rule: { allowEmpty?: boolean } = {},
): string {
  if (typeof value !== 'string' || (!rule.allowEmpty && value.length === 0)) {
    fail(component, path, rule.allowEmpty ? 'a string' : 'a non-empty string', value);
  }
  return value;
}

/**
 * Returns the epoch milliseconds of `value`, a `Date` or a number, if it is a
 * finite time within the `Date` range; else throws {@link ConfigError}.
 */
export function checkInstant(component: string, path: string, value: unknown): number {
  const t = value instanceof Date ? value.getTime() : value;
  if (typeof t !== 'number' || !(Math.abs(t) <= 8.64e15)) {
    fail(component, path, 'a Date or finite epoch milliseconds', value);
  }
  return t;
}

/**
 * Throws {@link ConfigError} for an option name of `options` not in `known`,
 * so a typo (`timeout` for `timeoutMs`) fails loudly instead of being
 * ignored; a name that is `known` with `Ms` appended gets a hint.
 *
 * @param component - component name for the message
 * @param path - path of the options object, e.g. `send options`
 * @param options - the options object (already checked to be an object)
 * @param known - the accepted names
 */
export function checkKnownKeys(
  component: string,
  path: string,
  options: object,
  known: ReadonlySet<string> | readonly string[],
): void {
  const names: ReadonlySet<string> = known instanceof Set ? known : new Set(known);
  for (const key in options) {
    if (!names.has(key)) {
      const hint = names.has(`${key}Ms`) ? ` (did you mean ${key}Ms? durations are in ms)` : '';
      throw new ConfigError(
        `${component}: ${path}.${key} is not an option${hint}; known options: ${[...names].join(', ')}`,
        `${path}.${key}`,
      );
    }
  }
}

/** Returns `value` if it is a boolean; else throws {@link ConfigError}. */
export function checkBoolean(component: string, path: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(component, path, 'a boolean', value);
  return value;
}

/** Returns `value` if it is one of `allowed`; else throws {@link ConfigError} listing them. */
export function checkOneOf<T extends string>(
  component: string,
  path: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(component, path, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/**
 * Returns `value` if it is a plain object (or `undefined`, read as `{}`); else
 * throws {@link ConfigError}. Use it on an options argument before reading it.
 */
export function checkOptions<T extends object>(
  component: string,
  path: string,
  value: T | undefined,
): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail(component, path, 'an object', value);
  return value;
}
