import { ConfigError, checkDuration, describeValue, MAX_TIMER_MS } from '@tickwork/core';

/**
 * A duration of at least `min` ms that may also be `Infinity` (no limit);
 * throws `ConfigError` otherwise.
 * @internal
 */
export function checkLimit(component: string, path: string, value: unknown, min: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return checkDuration(component, path, value, { min, max: MAX_TIMER_MS });
}

/**
 * Throws `ConfigError` unless `key` is a non-empty string.
 * @internal
 */
export function checkKey(component: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ConfigError(
      `${component}: key must be a non-empty string (got ${describeValue(key)})`,
      'key',
    );
  }
  return key;
}
