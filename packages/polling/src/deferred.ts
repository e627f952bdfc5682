/**
 * A promise with its settle functions, made only when a caller actually waits
 * (e.g. a `read(key)` joining a read already in flight), never per poll.
 * @internal
 */
export class Deferred<T> {
  /** The promise callers await. */
  readonly promise: Promise<T>;
  /** Fulfils {@link Deferred.promise}. */
  resolve!: (value: T) => void;
  /** Rejects {@link Deferred.promise}. */
  reject!: (reason: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}
