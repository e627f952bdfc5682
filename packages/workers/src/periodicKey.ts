import {
  ExpiredError,
  KeyNotFoundError,
  type Logger,
  type ScheduledTimer,
  type Scheduler,
  type Slot,
  Stats,
} from '@tickwork/core';
import { Observable, Subject } from 'rxjs';
import type { ParsedAdd } from './requestOptions.js';
import type { WorkerRequest } from './workerRequest.js';

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

/** How a key asks its owner to run it. */
export type FireFn = (key: PeriodicKey, dueAt: number) => WorkerRequest | undefined;

/**
 * One key of `WorkerProcess.add`: a timer on the core scheduler that sends
 * `target(args)` every period (drift-free, slots missed while the process was
 * blocked are counted, not replayed), the overrun policy, the expiring cached
 * value and the key's `Stats`.
 * @internal
 */
export class PeriodicKey {
  readonly key: string;
  target: string;
  args: unknown;
  options: ParsedAdd<unknown>;
  readonly stats: Stats;
  private readonly timer: ScheduledTimer;
  private readonly fire: FireFn;
  private readonly logger: Logger;
  private running = 0;
  private pendingDueAt = Number.NaN;
  /** Requests in flight for this key, so `remove` can cancel queued ones. */
  readonly inFlight = new Set<WorkerRequest>();
  private value: unknown = undefined;
  private hasValue = false;
  private sampledAt = Number.NaN;
  private error: Error | null = null;
  private subject: Subject<KeyEntry> | undefined;
  private removed = false;

  constructor(
    key: string,
    target: string,
    args: unknown,
    options: ParsedAdd<unknown>,
    scheduler: Scheduler,
    fire: FireFn,
    logger: Logger,
  ) {
    this.key = key;
    this.target = target;
    this.args = args;
    this.options = options;
    this.fire = fire;
    this.logger = logger;
    this.stats = new Stats(options.periodMs);
    this.timer = scheduler.createTimer((slot) => this.onSlot(slot));
  }

  /** Replaces target, args and options (a re-`add`); the cached value stays. */
  update(target: string, args: unknown, options: ParsedAdd<unknown>): void {
    this.target = target;
    this.args = args;
    this.options = options;
    this.stats.periodMs = options.periodMs;
  }

  /** Schedules slots from `firstDueAt` on, every period. */
  arm(firstDueAt: number): void {
    this.timer.schedule(firstDueAt, this.options.periodMs);
    this.stats.next = this.timer.dueAt;
  }

  /** Stops the slots (running work goes on). */
  disarm(): void {
    this.timer.cancel();
    this.pendingDueAt = Number.NaN;
    this.stats.next = Number.NaN;
  }

  /** Whether its timer is armed. */
  get armed(): boolean {
    return this.timer.scheduled;
  }

  /** The key was removed or the pool killed: no more slots, results ignored, streams end. */
  dispose(): void {
    this.removed = true;
    this.disarm();
    this.subject?.complete();
  }

  private onSlot(slot: Readonly<Slot>): void {
    if (slot.missed > 0) this.stats.miss(slot.missed);
    this.stats.next = this.timer.dueAt;
    if (this.running > 0) {
      const policy = this.options.overrun;
      if (policy === 'skip') {
        this.stats.skip();
        return;
      }
      if (policy === 'queue') {
        // One pending run at most: a second slot while one waits is a skip.
        if (Number.isNaN(this.pendingDueAt)) this.pendingDueAt = slot.dueAt;
        else this.stats.skip();
        return;
      }
    }
    this.start(slot.dueAt);
  }

  private start(dueAt: number): void {
    const request = this.fire(this, dueAt);
    if (request !== undefined) {
      this.running++;
      this.inFlight.add(request);
    }
  }

  /** The key's request started: its lateness is measured against the slot. */
  runStarted(dueAt: number, startedAt: number): void {
    this.stats.runStarted(dueAt, startedAt);
  }

  /** The key's request settled. */
  runSettled(request: WorkerRequest): void {
    this.running--;
    this.inFlight.delete(request);
    if (this.removed) return;
    const started = !Number.isNaN(request.startedAt);
    const failed = request.state !== 'completed';
    if (started) {
      this.stats.runFinished(
        request.startedAt,
        request.finishedAt - request.startedAt,
        failed,
        request.error,
      );
    }
    if (failed) {
      this.error = request.error ?? null;
    } else {
      this.value = request.result;
      this.hasValue = true;
      this.sampledAt = request.finishedAt;
      this.error = null;
    }
    const callback = this.options.callback;
    if (callback !== undefined) {
      try {
        if (failed) callback(request.error!);
        else callback(null, this.value);
      } catch (error) {
        this.logger.error({ err: error, key: this.key }, 'WorkerProcess: an add() callback threw');
      }
    }
    if (this.subject?.observed) this.subject.next(this.entry(request.finishedAt));
    if (!Number.isNaN(this.pendingDueAt) && this.running === 0 && this.armed) {
      const due = this.pendingDueAt;
      this.pendingDueAt = Number.NaN;
      this.start(due);
    }
  }

  /** The cached value; see `WorkerProcess.get`. */
  get(now: number, allowStale: boolean): unknown {
    if (!this.hasValue) {
      throw new KeyNotFoundError(this.key, `WorkerProcess: key "${this.key}" has no value yet`);
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
    const expiresAt = this.hasValue ? this.sampledAt + this.options.expireMs : Number.NaN;
    return {
      key: this.key,
      value: this.value,
      hasValue: this.hasValue,
      sampledAt: this.hasValue ? this.sampledAt : null,
      expiresAt: this.hasValue ? expiresAt : null,
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
}
