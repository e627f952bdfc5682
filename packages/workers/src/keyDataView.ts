import type { PeriodicKey } from './periodicKey.js';

/**
 * The `data` view of a `WorkerProcess`: a live, read-only map of the keys
 * added with `add` whose value is present and fresh. Unlike `get(key)` it
 * never throws: a missing or expired value is simply absent, as in a `Map`.
 * @internal
 */
export class KeyDataView implements ReadonlyMap<string, unknown> {
  private readonly source: ReadonlyMap<string, PeriodicKey>;
  private readonly now: () => number;

  /**
   * @param keys - the pool's periodic keys
   * @param now - the pool's clock
   */
  constructor(keys: ReadonlyMap<string, PeriodicKey>, now: () => number) {
    this.source = keys;
    this.now = now;
  }

  get size(): number {
    let n = 0;
    const now = this.now();
    for (const k of this.source.values()) if (k.fresh(now)) n++;
    return n;
  }

  get(key: string): unknown {
    const k = this.source.get(key);
    return k?.fresh(this.now()) ? k.peek() : undefined;
  }

  has(key: string): boolean {
    return this.source.get(key)?.fresh(this.now()) ?? false;
  }

  *entries(): MapIterator<[string, unknown]> {
    const now = this.now();
    for (const [key, k] of this.source) if (k.fresh(now)) yield [key, k.peek()];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<unknown> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(
    callback: (value: unknown, key: string, map: ReadonlyMap<string, unknown>) => void,
  ): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }
}
