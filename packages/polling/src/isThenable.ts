/**
 * Whether `value` is a promise or any other thenable. Reads and targets may be
 * synchronous; the hot paths call this instead of wrapping every result in a
 * promise, so synchronous results cost no allocation.
 * @internal
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
