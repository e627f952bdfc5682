import {
  type ComponentDiagnostics,
  ConfigError,
  checkDuration,
  checkFunction,
  checkOptions,
  globalRegistry,
  isThenable,
  Lifecycle,
  type OverrunPolicy,
  type Registry,
  type ScheduledTimer,
  type Slot,
  Stats,
  type StatsSnapshot,
  TimeoutError,
} from '@tickwork/core';
import { type Observable, Subject } from 'rxjs';
import {
  type ResolvedObjectOptions,
  resolveObjectOptions,
  type Target,
  type ThreadedObjectOptions,
} from './threadedObjectOptions.js';
import { toError } from './toError.js';

const KIND = 'ThreadedObject';

/** One run in flight. */
class Run {
  readonly start: number;
  timer: ScheduledTimer | null = null;
  done = false;

  constructor(start: number) {
    this.start = start;
  }
}

function orNull(v: number): number | null {
  return !Number.isNaN(v) ? v : null;
}

/**
 * Runs `target` periodically on the shared tickwork scheduler, as fandango's
 * `ThreadedObject` meant to: start-to-start period with run time compensated
 * (slots on a fixed grid, no drift, no catch-up bursts), a `minWaitMs` floor
 * between runs, async targets awaited, and overruns handled by an explicit
 * policy and counted.
 *
 * - `start()` runs at once (also after `stop()`); `first` delays the very
 *   first run by that many periods.
 * - `stop()` resolves `true` once the running target finished (and
 *   `stopHook` ran), `false` on its timeout; `kill()` ends it from any state.
 * - `results$` / `errors$` carry each run's outcome and complete on `kill()`.
 *
 * @example
 * ```ts
 * const poller = new ThreadedObject({ target: () => readPressure(), periodMs: 500, start: true });
 * poller.results$.subscribe((p) => console.log(p));
 * ```
 */
export class ThreadedObject<A extends unknown[] = [], R = unknown> extends Lifecycle {
  /** Each successful run's result. Completes on `kill()`. */
  readonly results$: Observable<R>;
  /** Each failed run's error (`TimeoutError` for a run over `timeoutMs`). Completes on `kill()`. */
  readonly errors$: Observable<Error>;
  private readonly o: ResolvedObjectOptions<A, R>;
  private target: Target<A, R> | undefined;
  private periodMs: number;
  private readonly counters: Stats;
  private readonly timer: ScheduledTimer;
  /** Fires a run held back by `minWaitMs` or queued behind an overrun. */
  private readonly waitTimer: ScheduledTimer;
  private readonly results = new Subject<R>();
  private readonly errors = new Subject<Error>();
  private readonly runs = new Set<Run>();
  private slotsToSkip: number;
  private everStarted = false;
  private freshStart = true;
  private stopHookPending = false;
  /** The last `stopHook` call: a second `stop()` waits for it as the first does. */
  private stopHookRun: Promise<void> = Promise.resolve();
  private args: A = [] as unknown as A;
  /** Slot waiting for the run in progress (`'queue'`), NaN when none. */
  private queuedDue = Number.NaN;
  /** Slot waiting on `waitTimer`, NaN when none. */
  private waitingDue = Number.NaN;
  private lastDue = Number.NaN;
  private lastEnd = Number.NEGATIVE_INFINITY;
  private idleWaiters: (() => void)[] = [];

  /** @param options - see {@link ThreadedObjectOptions} */
  constructor(options: ThreadedObjectOptions<A, R> = {}) {
    const resolved = resolveObjectOptions(KIND, checkOptions(KIND, 'options', options));
    super(KIND, options);
    this.o = resolved;
    this.target = resolved.target;
    this.periodMs = resolved.periodMs;
    this.slotsToSkip = resolved.first;
    this.counters = new Stats(resolved.periodMs);
    this.timer = this.scheduler.createTimer((slot) => this.onSlot(slot));
    this.waitTimer = this.scheduler.createTimer(() => this.onWaitOver());
    this.results$ = this.results.asObservable();
    this.errors$ = this.errors.asObservable();
    if (resolved.start) this.start();
  }

  /**
   * Stops every live `ThreadedObject` of `registry` (default: the global one)
   * in parallel; resolves `true` when all went idle within `timeoutMs`.
   */
  static stopAll(options: { timeoutMs?: number; registry?: Registry } = {}): Promise<boolean> {
    const registry = options.registry ?? globalRegistry;
    return registry.stopAll(
      options.timeoutMs === undefined
        ? { kind: KIND }
        : { kind: KIND, timeoutMs: options.timeoutMs },
    );
  }

  /** Kills every live `ThreadedObject` of `registry` (default: the global one). */
  static killAll(options: { registry?: Registry } = {}): Promise<void> {
    return (options.registry ?? globalRegistry).killAll({ kind: KIND });
  }

  /** Starts (or resumes) periodic runs; the first runs at once. Throws `ConfigError` without a target. */
  override start(): this {
    if (this.target === undefined && this.isAlive()) {
      throw new ConfigError(
        `${KIND}: options.target must be set (or setTarget() called) before start()`,
        'options.target',
      );
    }
    return super.start();
  }

  /**
   * Changes the period from the next slot on: the next run is `periodMs`
   * after the last slot (at once if that has passed), then every `periodMs`.
   */
  setPeriod(periodMs: number): this {
    this.periodMs = checkDuration(KIND, 'periodMs', periodMs, { min: 1 });
    this.counters.periodMs = this.periodMs;
    if (this.timer.scheduled) {
      const base = !Number.isNaN(this.lastDue) ? this.lastDue + this.periodMs : this.timer.dueAt;
      this.timer.schedule(Math.max(base, this.clock.now()), this.periodMs);
    }
    return this;
  }

  /** Replaces the target; the next run uses it. */
  setTarget(target: Target<A, R>): this {
    this.target = checkFunction<Target<A, R>>(KIND, 'target', target);
    return this;
  }

  /** The current period, ms. */
  getPeriod(): number {
    return this.periodMs;
  }

  /** Runs finished since the last start (fandango `get_count`). */
  getCount(): number {
    return this.stats().count;
  }

  /** Runs failed since the last start (`get_errors`). */
  getErrors(): number {
    return this.stats().errors;
  }

  /** How late the last run started against its slot, ms (`get_delay`). */
  getDelay(): number {
    return this.stats().delay;
  }

  /** Sum of start delays, ms (`get_acc_delay`). */
  getAccDelay(): number {
    return this.stats().accDelay;
  }

  /** Mean start delay, ms. */
  getAvgDelay(): number {
    return this.stats().avgDelay;
  }

  /** Busy fraction: mean run time / period over recent runs; > 1 means overrunning (`get_usage`). */
  getUsage(): number {
    return this.counters.usage();
  }

  /** Next scheduled run, epoch ms, or null when none (`get_next`). */
  getNext(): number | null {
    return orNull(this.nextDue());
  }

  /** Start of the last run, epoch ms, or null (`get_last`). */
  getLast(): number | null {
    return this.stats().last;
  }

  /** When the current run period began (the last `start()`), epoch ms, or null. */
  getStarted(): number | null {
    return this.stats().started;
  }

  /** Counters and histograms since the last start. */
  stats(): StatsSnapshot {
    this.counters.next = this.nextDue();
    return this.counters.snapshot();
  }

  /** Diagnostics for the registry and `@tickwork/ops`. */
  diagnostics(): ComponentDiagnostics {
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.stats(),
      detail: {
        periodMs: this.periodMs,
        minWaitMs: this.o.minWaitMs,
        overrun: this.o.overrun,
        first: this.o.first,
        timeoutMs: Number.isFinite(this.o.timeoutMs) ? this.o.timeoutMs : null,
        running: this.runs.size,
      },
    };
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.counters.reset(now);
    this.freshStart = true;
    this.stopHookPending = true;
    if (this.everStarted) this.slotsToSkip = 0;
    this.everStarted = true;
    this.queuedDue = Number.NaN;
    this.lastDue = Number.NaN;
    this.timer.schedule(now, this.periodMs);
  }

  protected onStop(): void {
    this.timer.cancel();
    this.waitTimer.cancel();
    this.queuedDue = Number.NaN;
    this.waitingDue = Number.NaN;
  }

  protected async onKill(): Promise<void> {
    this.onStop();
    for (const run of this.runs) {
      run.done = true;
      run.timer?.cancel();
      // Its result, if it ever comes, is ignored: it must not stay "running" for ever.
      this.counters.runAbandoned();
    }
    this.runs.clear();
    this.results.complete();
    this.errors.complete();
    this.notifyIdle();
    // Only a hook not run yet: one a stop() started may itself be waiting for this kill().
    if (this.stopHookPending) await this.runStopHook();
  }

  protected async whenIdle(): Promise<void> {
    if (this.runs.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // A start() while waiting began a new run period: the hook belongs to its stop, not this one.
    if (this.state !== 'running') await this.runStopHook();
  }

  private onSlot(slot: Readonly<Slot>): void {
    this.lastDue = slot.dueAt;
    if (slot.missed > 0) this.counters.miss(slot.missed);
    if (this.slotsToSkip > 0) {
      this.slotsToSkip--;
      return;
    }
    const policy: OverrunPolicy = this.o.overrun;
    if (policy !== 'parallel') {
      if (this.runs.size > 0) {
        // The slot overlaps a run: 'queue' keeps one for right after it, else it is a counted skip.
        if (policy === 'queue' && Number.isNaN(this.queuedDue)) this.queuedDue = slot.dueAt;
        else this.counters.skip();
        return;
      }
      if (!Number.isNaN(this.waitingDue)) {
        // A run still held back (minWaitMs, or queued) is superseded by this fresher slot.
        this.counters.skip();
        this.waitingDue = Number.NaN;
        this.waitTimer.cancel();
      }
      const earliest = this.lastEnd + this.o.minWaitMs;
      if (slot.firedAt < earliest) {
        this.waitingDue = slot.dueAt;
        this.waitTimer.schedule(earliest);
        return;
      }
    }
    this.run(slot.dueAt);
  }

  private onWaitOver(): void {
    const due = this.waitingDue;
    this.waitingDue = Number.NaN;
    if (!Number.isNaN(due) && this.state === 'running') this.run(due);
  }

  private run(due: number): void {
    const start = this.clock.now();
    this.counters.runStarted(due, start);
    const run = new Run(start);
    this.runs.add(run);
    let result: R | PromiseLike<R>;
    try {
      const args = this.nextArgs();
      // A hook that called kill() abandoned this run: the target must not run after it.
      if (run.done) return;
      result = this.target!(...args);
    } catch (error) {
      this.finish(run, false, undefined, toError(error));
      return;
    }
    if (!isThenable(result)) {
      this.finish(run, true, result, undefined);
      return;
    }
    const timeoutMs = this.o.timeoutMs;
    if (timeoutMs !== Number.POSITIVE_INFINITY) {
      run.timer = this.scheduler.at(start + timeoutMs, () =>
        this.finish(
          run,
          false,
          undefined,
          new TimeoutError(`${KIND} ${this.name}: run took longer than ${timeoutMs} ms`, timeoutMs),
        ),
      );
    }
    result.then(
      (value) => this.finish(run, true, value, undefined),
      (error: unknown) => this.finish(run, false, undefined, toError(error)),
    );
  }

  /** Arguments of the next run: from `startHook` after a start, else `loopHook`; `undefined` keeps the last ones. */
  private nextArgs(): A {
    const hook = this.freshStart ? this.o.startHook : this.o.loopHook;
    this.freshStart = false;
    if (hook !== undefined) {
      const args = hook();
      if (args !== undefined) this.args = args;
    }
    return this.args;
  }

  private finish(run: Run, ok: boolean, value: R | undefined, error: Error | undefined): void {
    if (run.done) return;
    run.done = true;
    run.timer?.cancel();
    this.runs.delete(run);
    const end = this.clock.now();
    this.lastEnd = end;
    this.counters.runFinished(run.start, end - run.start, !ok, error);
    if (ok) {
      if (this.results.observed) this.results.next(value as R);
    } else {
      this.logger.debug({ component: this.name, err: error }, 'run failed');
      if (this.errors.observed) this.errors.next(error!);
    }
    if (this.state === 'running') {
      if (!Number.isNaN(this.queuedDue) && this.runs.size === 0) {
        this.waitingDue = this.queuedDue;
        this.queuedDue = Number.NaN;
        this.waitTimer.schedule(end + this.o.minWaitMs);
      }
      if (this.o.waitHook !== undefined) {
        const next = this.nextDue();
        try {
          this.o.waitHook(!Number.isNaN(next) ? Math.max(0, next - end) : 0);
        } catch (hookError) {
          this.logger.error({ component: this.name, err: hookError }, 'waitHook threw');
        }
      }
    }
    if (this.runs.size === 0) this.notifyIdle();
  }

  private nextDue(): number {
    const a = this.waitTimer.scheduled ? this.waitTimer.dueAt : Number.NaN;
    const b = this.timer.scheduled ? this.timer.dueAt : Number.NaN;
    if (Number.isNaN(a)) return b;
    if (Number.isNaN(b)) return a;
    return Math.min(a, b);
  }

  /** Calls `stopHook` if this run period has not yet; resolves when the call (maybe one already going) ends. */
  private runStopHook(): Promise<void> {
    if (this.stopHookPending) {
      this.stopHookPending = false;
      this.stopHookRun = this.callStopHook();
    }
    return this.stopHookRun;
  }

  private async callStopHook(): Promise<void> {
    const hook = this.o.stopHook;
    if (hook === undefined) return;
    try {
      await hook();
    } catch (error) {
      this.logger.error({ component: this.name, err: error }, 'stopHook threw');
      if (this.errors.observed) this.errors.next(toError(error));
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    if (waiters.length === 0) return;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
