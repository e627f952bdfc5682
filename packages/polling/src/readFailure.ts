/**
 * A per-key failure inside a `readMany` result: that key's read fails with
 * `error` while the other keys of the batch take their values. Make one with
 * {@link readFailure}.
 *
 * @example
 * ```ts
 * readMany: async (keys) => {
 *   const out = new Map<string, number | ReadFailure>();
 *   for (const [device, attrs] of byDevice(keys)) {
 *     try { (await readDevice(device, attrs)).forEach((v, i) => out.set(attrs[i], v)); }
 *     catch (error) { for (const a of attrs) out.set(a, readFailure(error)); }
 *   }
 *   return out;
 * }
 * ```
 */
export class ReadFailure {
  /** Why the key's read failed. */
  readonly error: unknown;

  /** @param error - why the key's read failed */
  constructor(error: unknown) {
    this.error = error;
  }
}

/** Marks one key of a `readMany` result as failed with `error`. */
export function readFailure(error: unknown): ReadFailure {
  return new ReadFailure(error);
}
