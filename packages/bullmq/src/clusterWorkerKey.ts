import {
  ExpiredError,
  type ItemDiagnostics,
  KeyNotFoundError,
  type Logger,
  Stats,
} from '@tickwork/core';
import type { KeyEntry } from '@tickwork/workers';
import { Observable, Subject } from 'rxjs';
import type { ClusterOutcome } from './clusterRequestInfo.js';
import type { ParsedClusterAdd } from './clusterRequestOptions.js';

/**
 * @internal one key of `ClusterWorkerProcess.add` on one client: the
 * expiring cached value fed by the `completed` events of the key's
 * scheduler jobs (and seeded from the value its last node stored), the
 * key's `Stats` and its `watch` stream.
 */
export class ClusterWorkerKey {
  readonly key: string;
  target: string;
  args: unknown;
  options: ParsedClusterAdd;
  readonly stats: Stats;
  private value: unknown = undefined;
  private hasValue = false;
  private sampledAt = Number.NaN;
  private error: Error | null = null;
  private subject: Subject<KeyEntry> | undefined;
  private removed = false;
  private readonly logger: Logger;

  constructor(
    key: string,
    target: string,
    args: unknown,
    options: ParsedClusterAdd,
    logger: Logger,
  ) {
    this.key = key;
    this.target = target;
    this.args = args;
    this.options = options;
    this.logger = logger;
    this.stats = new Stats(options.periodMs);
  }

  /** Replaces target, args and options (a re-`add`); the cached value stays. */
  update(target: string, args: unknown, options: ParsedClusterAdd): void {
    this.target = target;
    this.args = args;
    this.options = options;
    this.stats.periodMs = options.periodMs;
  }

  /** The key was removed or the client killed: results are ignored, streams end. */
  dispose(): void {
    this.removed = true;
    this.subject?.complete();
  }

  /** The value stored by the node of the last successful run, when this client has none newer. */
  seed(value: unknown, sampledAt: number, now: number): void {
    if (this.removed || (this.hasValue && this.sampledAt >= sampledAt)) return;
    this.value = value;
    this.hasValue = true;
    this.sampledAt = sampledAt;
    if (this.subject?.observed) this.subject.next(this.entry(now));
  }

  /** A run of the key (slot `slotMs`) ended with `outcome`. */
  ran(outcome: ClusterOutcome, slotMs: number, now: number): void {
    if (this.removed) return;
    const failed = outcome.state !== 'completed';
    const finishedAt = outcome.finishedAt ?? now;
    if (outcome.startedAt !== undefined) {
      this.stats.runStarted(slotMs, outcome.startedAt);
      this.stats.runFinished(
        outcome.startedAt,
        finishedAt - outcome.startedAt,
        failed,
        outcome.error,
      );
    }
    this.stats.next = slotMs + this.options.periodMs;
    if (failed) {
      this.error = outcome.error ?? null;
    } else if (!this.hasValue || finishedAt >= this.sampledAt) {
      // Runs of one key may overlap on two nodes: the newest sample wins.
      this.value = outcome.value;
      this.hasValue = true;
      this.sampledAt = finishedAt;
      this.error = null;
    }
    const callback = this.options.callback;
    if (callback !== undefined) {
      try {
        if (failed) callback(outcome.error ?? new Error(`key ${this.key} failed`));
        else callback(null, outcome.value);
      } catch (error) {
        this.logger.error(
          { err: error, key: this.key },
          'ClusterWorkerProcess: an add() callback threw',
        );
      }
    }
    if (this.subject?.observed) this.subject.next(this.entry(now));
  }

  /** The cached value; see `ClusterWorkerProcess.get`. */
  get(now: number, allowStale: boolean): unknown {
    if (!this.hasValue) {
      throw new KeyNotFoundError(
        this.key,
        `ClusterWorkerProcess: key "${this.key}" has no value yet`,
      );
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

  /** The key's entry at `now`. */
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

  /** Entries as the key changes, the current one first; completes on remove or kill. */
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

  /** Diagnostics item `key:<name>`. */
  item(now: number): ItemDiagnostics {
    const age = this.hasValue ? now - this.sampledAt : null;
    return {
      name: `key:${this.key}`,
      stats: this.stats.snapshot(),
      detail: {
        target: this.target,
        periodMs: this.options.periodMs,
        expireMs: this.options.expireMs,
        ageMs: age,
        lastError: this.error === null ? null : this.error.message,
      },
    };
  }
}
