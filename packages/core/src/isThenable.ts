/**
 * Whether `value` is a promise or any other thenable. Targets, reads and
 * tasks may be synchronous; hot paths call this instead of wrapping every
 * result in a promise, so a synchronous result costs no allocation.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
