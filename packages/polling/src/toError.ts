/**
 * `value` if it is an `Error`, else an `Error` describing it with the original
 * kept as `cause`. Entries and streams expose `Error`s only, whatever a read threw.
 * @internal
 */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(`Non-error thrown: ${String(value)}`, { cause: value });
}
