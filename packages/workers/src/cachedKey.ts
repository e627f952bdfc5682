import { ExpiredError, KeyNotFoundError, type Logger, Stats } from '@tickwork/core';
import { Observable, Subject } from 'rxjs';
import type { RequestCallback } from './workerRequest.js';

/** The cached state of a key added with `WorkerProcess.add`. Times are epoch ms. */
export interface KeyEntry<V = unknown> {
  /** The key. */
  readonly key: string;
  /** The last good value, or undefined before the first success. */
  readonly value: V | undefined;
  /** Whether a run has succeeded yet. */
  readonly hasValue: boolean;
  /** When the last good value was produced, or null. */
  readonly sampledAt: number | null;
  /** When that value expires, or null. */
  readonly expiresAt: number | null;
  /** Whether the value is older than `expireMs` (or missing). */
  readonly stale: boolean;
  /** The last run's error when the last run failed (the value is then the previous good one), else null. */
  readonly error: Error | null;
  /** Refresh period, ms. */
  readonly periodMs: number;
}

/** What a {@link CachedKey} needs of its options. */
export interface CachedKeyOptions {
  /** Refresh period, ms. */
  readonly periodMs: number;
  /** Age after which `get` throws `ExpiredError`, ms. */
  readonly expireMs: number;
  /** Called after each run: `(null, value)` or `(error)`. */
  readonly callback?: RequestCallback<unknown> | undefined;
}

/**
 * A key refreshed by runs of `target(args)`: its expiring cached value, its
 * `Stats`, its `watch` stream and its callback. `WorkerProcess.add` keys
 * (runs in the pool) and the cluster keys of `@tickwork/bullmq` (runs on any
 * node) extend it with how the runs are made.
 */
export class CachedKey<O extends CachedKeyOptions = CachedKeyOptions> {
  /** The key. */
  readonly key: string;
  /** Handler the runs call. */
  target: string;
  /** Args of the runs. */
  args: unknown;
  /** The key's options. */
  options: O;
  /** Runs: lateness against their slot, duration, errors. */
  readonly stats: Stats;
  /** The component in messages (`WorkerProcess`, ...). */
  protected readonly component: string;
  /** Where a throwing callback is reported. */
  protected readonly logger: Logger;
  /** The last good value. */
  protected value: unknown = undefined;
  /** Whether a run succeeded yet (or a value was seeded). */
  protected hasValue = false;
  /** When `value` was produced, epoch ms. */
  protected sampledAt = Number.NaN;
  /** The last run's error, when it failed. */
  protected error: Error | null = null;
  /** Removed or its owner killed: results are ignored. */
  protected removed = false;
  private subject: Subject<KeyEntry> | undefined;

  /**
   * @param component - named in messages
   * @param logger - receives errors thrown by the callback
   */
  constructor(
    key: string,
    target: string,
    args: unknown,
    options: O,
    component: string,
    logger: Logger,
  ) {
    this.key = key;
    this.target = target;
    this.args = args;
    this.options = options;
    this.component = component;
    this.logger = logger;
    this.stats = new Stats(options.periodMs);
  }

  /** Replaces target, args and options (a re-`add`); the cached value stays. */
  update(target: string, args: unknown, options: O): void {
    this.target = target;
    this.args = args;
    this.options = options;
    this.stats.periodMs = options.periodMs;
  }

  /** The key was removed or its owner killed: results are ignored, streams end. */
  dispose(): void {
    this.removed = true;
    this.subject?.complete();
  }

  /**
   * Records a run that ended at `finishedAt`: a success stores `value` (only
   * when `newer` says it is not older than the cached one), a failure keeps
   * the value and records `error`; then the callback, then watchers.
   */
  protected settled(
    failed: boolean,
    value: unknown,
    error: Error | undefined,
    finishedAt: number,
    newer = true,
  ): void {
    if (failed) {
      this.error = error ?? null;
    } else if (newer) {
      this.value = value;
      this.hasValue = true;
      this.sampledAt = finishedAt;
      this.error = null;
    }
    const callback = this.options.callback;
    if (callback !== undefined) {
      try {
        if (failed) callback(error ?? new Error(`${this.component}: key ${this.key} failed`));
        else callback(null, value);
      } catch (thrown) {
        this.logger.error(
          { err: thrown, key: this.key },
          `${this.component}: an add() callback threw`,
        );
      }
    }
    this.emit(finishedAt);
  }

  /** Tells watchers the entry at `now`. */
  protected emit(now: number): void {
    if (this.subject?.observed) this.subject.next(this.entry(now));
  }

  /** The cached value: `KeyNotFoundError` before any, `ExpiredError` when older than `expireMs` unless `allowStale`. */
  get(now: number, allowStale: boolean): unknown {
    if (!this.hasValue) {
      throw new KeyNotFoundError(this.key, `${this.component}: key "${this.key}" has no value yet`);
    }
    const age = now - this.sampledAt;
    if (!allowStale && age > this.options.expireMs) {
      throw new ExpiredError(this.key, this.value, age);
    }
    return this.value;
  }

  /** Whether the value is present and fresh at `now`. */
  fresh(now: number): boolean {
    return this.hasValue && now - this.sampledAt <= this.options.expireMs;
  }

  /** The cached value without checks. */
  peek(): unknown {
    return this.value;
  }

  /** The key's {@link KeyEntry} at `now`. */
  entry(now: number): KeyEntry {
    return {
      key: this.key,
      value: this.value,
      hasValue: this.hasValue,
      sampledAt: this.hasValue ? this.sampledAt : null,
      expiresAt: this.hasValue ? this.sampledAt + this.options.expireMs : null,
      stale: !this.fresh(now),
      error: this.error,
      periodMs: this.options.periodMs,
    };
  }

  /** Entries as the key changes, the current one first; completes on dispose. */
  watch(now: () => number): Observable<KeyEntry> {
    return new Observable<KeyEntry>((subscriber) => {
      if (this.removed) {
        subscriber.complete();
        return undefined;
      }
      this.subject ??= new Subject<KeyEntry>();
      subscriber.next(this.entry(now()));
      return this.subject.subscribe(subscriber);
    });
  }
}
