import type { Logger, ScheduledTimer, Scheduler, Slot } from '@tickwork/core';
import { CachedKey } from './cachedKey.js';
import type { ParsedAdd } from './requestOptions.js';
import type { WorkerRequest } from './workerRequest.js';

/** How a key asks its owner to run it. */
export type FireFn = (key: PeriodicKey, dueAt: number) => WorkerRequest | undefined;

/**
 * One key of `WorkerProcess.add`: a timer on the core scheduler that sends
 * `target(args)` every period (drift-free, slots missed while the process was
 * blocked are counted, not replayed), the overrun policy, the expiring cached
 * value and the key's `Stats`.
 * @internal
 */
export class PeriodicKey extends CachedKey<ParsedAdd<unknown>> {
  private readonly timer: ScheduledTimer;
  private readonly fire: FireFn;
  private running = 0;
  private pendingDueAt = Number.NaN;
  /** A re-`add` asked for a refresh, which no overrun policy may skip. */
  private refreshAsked = false;
  /** Requests in flight for this key, so `remove` can cancel queued ones. */
  readonly inFlight = new Set<WorkerRequest>();

  constructor(
    key: string,
    target: string,
    args: unknown,
    options: ParsedAdd<unknown>,
    scheduler: Scheduler,
    fire: FireFn,
    logger: Logger,
  ) {
    super(key, target, args, options, 'WorkerProcess', logger);
    this.fire = fire;
    this.timer = scheduler.createTimer((slot) => this.onSlot(slot));
  }

  /** Schedules slots from `firstDueAt` on, every period. */
  arm(firstDueAt: number): void {
    this.timer.schedule(firstDueAt, this.options.periodMs);
    this.stats.next = this.timer.dueAt;
  }

  /** A re-`add`: new target, args and options; the next slot must run with them. */
  override update(target: string, args: unknown, options: ParsedAdd<unknown>): void {
    super.update(target, args, options);
    this.refreshAsked = true;
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
  override dispose(): void {
    this.disarm();
    super.dispose();
  }

  private onSlot(slot: Readonly<Slot>): void {
    if (slot.missed > 0) this.stats.miss(slot.missed);
    this.stats.next = this.timer.dueAt;
    const asked = this.refreshAsked;
    this.refreshAsked = false;
    if (this.running > 0) {
      // The refresh a re-add asks for waits for the run in flight (which has
      // the old args) rather than being skipped: otherwise the key would keep
      // the old args' value for a whole period.
      const policy = asked && this.options.overrun === 'skip' ? 'queue' : this.options.overrun;
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
    this.settled(failed, request.result, request.error, request.finishedAt);
    if (!Number.isNaN(this.pendingDueAt) && this.running === 0 && this.armed) {
      const due = this.pendingDueAt;
      this.pendingDueAt = Number.NaN;
      this.start(due);
    }
  }
}
