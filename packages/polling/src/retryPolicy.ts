import {
  ConfigError,
  checkDuration,
  checkNumber,
  checkOptions,
  describeValue,
} from '@tickwork/core';

/**
 * Backoff after failed reads. After `n` failures in a row a key is read again
 * after `min(maxMs, initialMs * factor ** (n - 1))` ms, shortened by up to
 * `jitter` of itself at random; the first success puts it back on its period.
 */
export interface RetryOptions {
  /**
   * Wait after the first failure, ms.
   * @defaultValue the key's `periodMs`
   */
  initialMs?: number;
  /** Longest wait, ms. @defaultValue 30000 */
  maxMs?: number;
  /** Growth of the wait per further failure; 1 keeps it constant. @defaultValue 2 */
  factor?: number;
  /**
   * Fraction (0 to 1) of each wait taken off at random, so keys failing
   * together do not retry together. @defaultValue 0.1
   */
  jitter?: number;
}

/** {@link RetryOptions} checked and with defaults filled in; `initialMs` NaN means the key's period. */
export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
}

/**
 * Checks `retry` (an options object, or `false` for no backoff) and fills in
 * defaults; `null` means failed keys stay on their period.
 * @internal
 */
export function resolveRetryPolicy(component: string, retry: unknown): RetryPolicy | null {
  if (retry === false) return null;
  if (
    retry !== undefined &&
    (retry === null || typeof retry !== 'object' || Array.isArray(retry))
  ) {
    throw new ConfigError(
      `${component}: options.retry must be an object or false (got ${describeValue(retry)})`,
      'options.retry',
    );
  }
  const o = checkOptions<RetryOptions>(
    component,
    'options.retry',
    retry as RetryOptions | undefined,
  );
  return {
    initialMs:
      o.initialMs === undefined
        ? Number.NaN
        : checkDuration(component, 'options.retry.initialMs', o.initialMs, { min: 1 }),
    maxMs: checkDuration(component, 'options.retry.maxMs', o.maxMs ?? 30_000, { min: 1 }),
    factor: checkNumber(component, 'options.retry.factor', o.factor ?? 2, { min: 1, max: 1000 }),
    jitter: checkNumber(component, 'options.retry.jitter', o.jitter ?? 0.1, { min: 0, max: 1 }),
  };
}

/**
 * Wait before retry number `failures` (1 after the first failure), ms.
 * @internal
 */
export function retryDelay(
  policy: RetryPolicy,
  failures: number,
  periodMs: number,
  random: () => number = Math.random,
): number {
  const initial = !Number.isNaN(policy.initialMs) ? policy.initialMs : periodMs;
  const grown = initial * policy.factor ** Math.min(failures - 1, 64);
  const delay = Math.min(grown, policy.maxMs);
  const jittered = policy.jitter > 0 ? delay * (1 - policy.jitter * random()) : delay;
  return jittered >= 1 ? Math.round(jittered) : 1;
}
