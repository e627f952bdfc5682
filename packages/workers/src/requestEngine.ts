import {
  type Clock,
  deserializeError,
  type ItemDiagnostics,
  type Logger,
  OverrunError,
  type Scheduler,
  type StatsSnapshot,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { type Observable, Subject } from 'rxjs';
import { crashError } from './crashError.js';
import { PriorityQueue } from './priorityQueue.js';
import {
  AbortCode,
  type AbortCodeValue,
  isEnvelope,
  RESULT_MARK,
  seqOf,
  type TaskMessage,
  type TaskResult,
} from './protocol.js';
import { RequestBook } from './requestBook.js';
import { RunnerSet } from './runnerSet.js';
import { type TargetCounts, TargetStats } from './targetStats.js';
import type { RunnerSpec, TaskRunner } from './taskRunner.js';
import type { WorkerProcessEvent } from './workerProcessEvent.js';
import type { ParsedWorkerProcessOptions } from './workerProcessOptions.js';
import { isTerminal, type RequestId, type TerminalState, WorkerRequest } from './workerRequest.js';

/** What the engine needs from its `WorkerProcess`. @internal */
export interface EngineContext {
  /** `WorkerProcess <name>`, the start of every message. */
  readonly label: string;
  readonly name: string;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly config: ParsedWorkerProcessOptions;
  readonly createRunner: (spec: RunnerSpec) => TaskRunner;
  readonly isAlive: () => boolean;
}

/**
 * The request machinery behind `WorkerProcess`: the priority queue, the
 * dispatch slots (one per thread; piscina gets a task only for a free one),
 * timeouts, cancels, crash handling, the shared abort table, per-target
 * stats, and {@link RequestEngine.settle}, the one place a request ends.
 * @internal
 */
export class RequestEngine {
  private readonly ctx: EngineContext;
  private readonly queue = new PriorityQueue<WorkerRequest>();
  private readonly book: RequestBook;
  private readonly abortTable: Int32Array;
  private readonly freeSlots: number[] = [];
  private readonly slots: (WorkerRequest | undefined)[];
  private readonly runners: RunnerSet;
  private readonly targets = new Map<string, TargetStats>();
  private readonly total = new TargetStats();
  private readonly events = new Subject<WorkerProcessEvent>();
  private readonly loadErrors = new Map<number, Error>();
  /** Requests whose result waits for progress still in transit, by seq. */
  private readonly holding = new Map<number, WorkerRequest>();
  private idleWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private busy = 0;
  private nextId = 0;
  private dispatching = false;
  private open = true;
  /** Unsettled commands. */
  private commands = 0;
  private periodStart = Number.NaN;
  private threadsStarted = 0;
  private threadsEnded = 0;
  private crashes = 0;
  private terminations = 0;
  /** See `WorkerProcess.events$`. */
  readonly events$: Observable<WorkerProcessEvent>;

  /** @param ctx - what the engine needs from its pool */
  constructor(ctx: EngineContext) {
    this.ctx = ctx;
    const { maxThreads, keepSettled } = ctx.config;
    this.book = new RequestBook(keepSettled);
    this.abortTable = new Int32Array(
      new SharedArrayBuffer(2 * maxThreads * Int32Array.BYTES_PER_ELEMENT),
    );
    this.slots = new Array<WorkerRequest | undefined>(maxThreads).fill(undefined);
    for (let i = maxThreads - 1; i >= 0; i--) this.freeSlots.push(i);
    this.events$ = this.events.asObservable();
    this.runners = new RunnerSet(
      (executor, initArgs) => this.makeRunner(executor, initArgs),
      ctx.config.executor,
      ctx.config.initArgs,
      ctx.logger,
      ctx.name,
    );
  }

  // --------------------------------------------------------------- control

  /** The request with `id`, if known. */
  find(id: RequestId): WorkerRequest | undefined {
    return this.book.get(id);
  }

  /** Records a new request; `joinable` ones can be found by {@link RequestEngine.findDuplicate}. */
  register(request: WorkerRequest, joinable: boolean): void {
    this.book.add(request, joinable);
    if (request.extra?.command) this.commands++;
  }

  /** See `RequestBook.findDuplicate`. */
  findDuplicate(key: string, target: string, args: unknown): WorkerRequest | undefined {
    return this.book.findDuplicate(key, target, args);
  }

  /** Every unsettled request, oldest first. */
  unsettledRequests(): WorkerRequest[] {
    return this.book.unsettledRequests();
  }

  /** Counts a `dedupe` send that joined another request. */
  countCoalesced(request: WorkerRequest): void {
    this.statsOf(request).coalesced++;
    this.total.coalesced++;
  }

  /** Unsettled requests of a group. */
  inGroup(group: string): WorkerRequest[] {
    return this.book.inGroup(group);
  }

  /** Settles an unsettled request `canceled` with `error` (aborting it if it runs). */
  cancel(request: WorkerRequest, error: Error): boolean {
    return this.settle(request, 'canceled', undefined, error);
  }

  /** Whether new requests are accepted (false after `close()`/`kill()`). */
  get accepting(): boolean {
    return this.open;
  }

  /** Refuses new requests from now on. */
  refuse(): void {
    this.open = false;
  }

  /** Starts or stops handing queued requests to threads. */
  setDispatching(on: boolean): void {
    this.dispatching = on;
    if (on) this.pump();
  }

  /** Whether queued requests are handed to threads. */
  get isDispatching(): boolean {
    return this.dispatching;
  }

  /** See `WorkerProcess.bind`. */
  bind(executor: string, initArgs: unknown): Promise<void> {
    const gone = this.runners.swap(executor, initArgs);
    this.pump();
    return gone;
  }

  /** Resolves once no thread runs a request of this pool. */
  whenIdle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves `true` once nothing is unsettled or running, `false` after `timeoutMs` (0: never). */
  whenDrained(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.isDrained()) {
        resolve(true);
        return;
      }
      const { clock, scheduler } = this.ctx;
      const timer =
        timeoutMs > 0 ? scheduler.at(clock.now() + timeoutMs, () => resolve(false)) : undefined;
      this.drainWaiters.push(() => {
        timer?.cancel();
        resolve(true);
      });
    });
  }

  /** Settles everything pending with `StoppedError`, shuts the threads down, ends `events$`. */
  async kill(): Promise<void> {
    this.open = false;
    this.dispatching = false;
    const stop = (request: WorkerRequest): void => {
      const what = `${this.ctx.label}: request ${request.id} (target "${request.target}")`;
      this.settle(
        request,
        'canceled',
        undefined,
        new StoppedError(`${what} stopped: the pool was killed`),
      );
    };
    const unsettled = this.book.unsettledRequests();
    // Those waiting for others go first: settled by their upstream's
    // cancel, they would end with an AbortError naming it, not StoppedError.
    for (const request of unsettled) if (request.state === 'waiting') stop(request);
    for (const request of unsettled) stop(request);
    await this.runners.destroyAll();
    this.events.complete();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ----------------------------------------------------------- diagnostics

  /** Requests waiting in the queue. */
  get queued(): number {
    return this.queue.size;
  }

  /** Requests running. */
  get running(): number {
    return this.total.running;
  }

  /** Requests not settled. */
  get unsettled(): number {
    return this.book.unsettled;
  }

  /** Live threads. */
  get threads(): number {
    return this.runners.threads;
  }

  /** Zeroes the counters: a new run period starts at `now`. */
  resetStats(now: number): void {
    this.periodStart = now;
    this.total.reset(now);
    for (const t of this.targets.values()) t.reset(now);
  }

  /** One diagnostics item per target, and the pool's own stats and detail. */
  diagnostics(now: number): {
    stats: StatsSnapshot;
    items: ItemDiagnostics[];
    detail: TargetCounts & Record<string, number | boolean>;
  } {
    const elapsed = Number.isNaN(this.periodStart) ? 0 : now - this.periodStart;
    const threads = this.ctx.config.maxThreads;
    const items: ItemDiagnostics[] = [];
    for (const [name, t] of this.targets) {
      items.push({
        name: `target:${name}`,
        stats: t.stats.snapshot(),
        detail: { kind: 'target', ...t.counts(elapsed, threads) },
      });
    }
    const counts = this.total.counts(elapsed, threads);
    return {
      stats: this.total.stats.snapshot(),
      items,
      detail: {
        ...counts,
        waiting: this.book.unsettled - counts.queued - counts.running,
        busyThreads: this.busy,
        threads: this.threads,
        maxThreads: threads,
        threadsStarted: this.threadsStarted,
        threadsEnded: this.threadsEnded,
        crashes: this.crashes,
        terminations: this.terminations,
        paused: !this.dispatching,
      },
    };
  }

  // ------------------------------------------------------------- internals

  private makeRunner(executor: string, initArgs: unknown): TaskRunner {
    const { config, label, logger } = this.ctx;
    return this.ctx.createRunner({
      name: label,
      executor,
      initArgs,
      abortTable: this.abortTable,
      minThreads: config.minThreads,
      maxThreads: config.maxThreads,
      idleTimeoutMs: config.idleTimeoutMs,
      resourceLimits: config.resourceLimits,
      execArgv: config.execArgv,
      env: config.env,
      logger,
      hooks: {
        onProgress: (seq, slot, value) => this.onProgress(seq, slot, value),
        onLoadError: (seq, _slot, error) => {
          // Kept until the task's rejection (which follows) picks it up.
          if (this.loadErrors.size > 64) this.loadErrors.clear();
          this.loadErrors.set(seq, error);
        },
        onThreadStart: () => this.threadsStarted++,
        onThreadEnd: () => this.threadsEnded++,
      },
    });
  }

  /** A new request record (not yet registered). */
  create(
    key: string,
    target: string,
    args: unknown,
    priority: number,
    group: string | undefined,
  ): WorkerRequest {
    const n = ++this.nextId;
    return new WorkerRequest(n, seqOf(n), key, target, args, priority, group, this.ctx.clock.now());
  }

  private statsOf(request: WorkerRequest): TargetStats {
    if (request.targetStats !== undefined) return request.targetStats;
    let t = this.targets.get(request.target);
    if (t === undefined) {
      t = new TargetStats();
      if (!Number.isNaN(this.periodStart)) t.reset(this.periodStart);
      this.targets.set(request.target, t);
    }
    request.targetStats = t;
    return t;
  }

  /** Settles on a microtask: for requests refused inside `send`, so no callback runs there. */
  settleSoon(request: WorkerRequest, state: TerminalState, error: Error): void {
    queueMicrotask(() => this.settle(request, state, undefined, error));
  }

  /** Queues a ready request (or refuses it when the queue is full) and dispatches what it can. */
  enqueue(request: WorkerRequest, now = this.ctx.clock.now()): void {
    const { maxQueue } = this.ctx.config;
    // maxQueue bounds the requests left waiting: one a free thread takes at
    // once never waits (with maxQueue 0, nothing could run otherwise).
    if (this.queue.size >= maxQueue && !this.startsAtOnce()) {
      const error = new OverrunError(
        `${this.ctx.label}: request ${request.id} refused: the queue is full (maxQueue ${maxQueue})`,
      );
      this.settleSoon(request, 'failed', error);
      return;
    }
    request.state = 'queued';
    request.readyAt = now;
    this.statsOf(request).queued++;
    this.total.queued++;
    this.queue.push(request);
    this.pump(now);
  }

  /** Whether a request queued now would be dispatched by the pump that follows. */
  private startsAtOnce(): boolean {
    return this.dispatching && this.holding.size === 0 && this.freeSlots.length > this.queue.size;
  }

  private pump(now = this.ctx.clock.now()): void {
    // While a result waits for its progress (one event-loop turn at most),
    // its slot stays unused, so nothing overtakes a command it unblocks.
    if (!this.dispatching || this.holding.size > 0) return;
    while (this.freeSlots.length > 0) {
      const request = this.queue.pop();
      if (request === undefined) return;
      this.dispatch(request, now);
    }
  }

  private dispatch(request: WorkerRequest, now: number): void {
    const slot = this.freeSlots.pop()!;
    request.slot = slot;
    this.slots[slot] = request;
    this.busy++;
    request.state = 'running';
    request.startedAt = now;
    const runner = this.runners.current;
    request.runner = runner;
    const extra = request.extra;
    const limit = request.timeoutMs > 0 ? request.timeoutMs : (extra?.deadlineMs ?? 0);
    const message: TaskMessage =
      extra?.upstream === undefined && limit === 0
        ? [request.n, slot, request.key, request.target, request.args]
        : [
            request.n,
            slot,
            request.key,
            request.target,
            request.args,
            extra?.upstream,
            limit > 0 ? limit : undefined,
          ];
    // Posted first: the bookkeeping below runs while the thread starts.
    runner.run(message, request).then(
      (result) => this.onResult(request, result),
      (error: unknown) => this.onRunError(request, error),
    );
    this.runners.started(runner);
    const t = this.statsOf(request);
    t.queued--;
    t.running++;
    t.stats.runStarted(request.readyAt, now);
    this.total.queued--;
    this.total.running++;
    this.total.stats.runStarted(request.readyAt, now);
    if (extra?.joiners !== undefined) {
      for (const j of extra.joiners) {
        j.state = 'running';
        j.startedAt = now;
      }
    }
    if (request.timeoutMs > 0) this.armTimer(request, now + request.timeoutMs);
    extra?.onStart?.(request);
  }

  /** Arms (or moves) the request's timeout / deadline timer. */
  armTimer(request: WorkerRequest, dueAt: number): void {
    request.timer ??= this.ctx.scheduler.createTimer(() => this.onTimer(request));
    request.timer.schedule(dueAt);
  }

  private onTimer(request: WorkerRequest): void {
    if (isTerminal(request.state)) return;
    const deadlineMs = request.extra?.deadlineMs ?? 0;
    const command = deadlineMs > 0;
    const ms = command ? deadlineMs : request.timeoutMs;
    const what = `${this.ctx.label}: ${command ? 'command' : 'request'} ${request.id} (target "${request.target}")`;
    const where =
      command && request.state !== 'running' ? ' waiting for the work queued before it' : '';
    const error = new TimeoutError(`${what} timed out after ${ms} ms${where}`, ms);
    this.settle(request, 'timed-out', undefined, error);
  }

  private onResult(request: WorkerRequest, result: TaskResult): void {
    const now = this.ctx.clock.now();
    this.release(request, now);
    // The freed thread gets its next request before this one's bookkeeping,
    // which keeps threads busy; not when settling this one may make another
    // ready (a waiting command, an `after` dependent, a key's queued run):
    // that one must compete for the slot by priority.
    if (this.commands === 0 && request.waiters === undefined) this.pump(now);
    const expected = isEnvelope(result) ? (result.p ?? 0) : 0;
    const seen = request.extra?.progressSeen ?? 0;
    if (expected > seen && !isTerminal(request.state)) {
      // Progress posted before the result is still on its way (another channel).
      request.x.held = { result, expected };
      this.holding.set(request.seq, request);
    } else {
      this.settleWith(request, result, now);
    }
    this.pump(now);
  }

  private settleWith(request: WorkerRequest, result: TaskResult, now = this.ctx.clock.now()): void {
    if (isTerminal(request.state)) return;
    if (!isEnvelope(result)) this.settle(request, 'completed', result, undefined, now);
    else if (result[RESULT_MARK] === 'ok')
      this.settle(request, 'completed', result.v, undefined, now);
    else this.settle(request, 'failed', undefined, deserializeError(result.e), now);
  }

  private onRunError(request: WorkerRequest, error: unknown): void {
    const terminated = request.aborted;
    this.release(request);
    const loadError = this.loadErrors.get(request.seq);
    if (loadError !== undefined) this.loadErrors.delete(request.seq);
    if (!terminated && this.ctx.isAlive()) {
      const e = crashError(this.ctx.label, request, error, loadError);
      if (e.name === 'WorkerCrashedError') {
        this.crashes++;
        this.ctx.logger.warn(
          { err: e, component: this.ctx.name, request: request.id, target: request.target },
          'WorkerProcess: a worker thread died; it is replaced',
        );
        if (this.events.observed) {
          const event = { id: request.id, target: request.target, error: e };
          this.events.next({ type: 'thread-replaced', reason: 'crashed', ...event });
        }
      }
      if (!isTerminal(request.state)) this.settle(request, 'failed', undefined, e);
    }
    this.pump();
  }

  /** The thread let go of the request's slot (answered, died or was terminated). */
  private release(request: WorkerRequest, now = this.ctx.clock.now()): void {
    const slot = request.slot;
    if (slot < 0) return;
    request.slot = -1;
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    this.busy--;
    const grace = request.extra?.graceTimer;
    if (grace !== undefined) {
      grace.cancel();
      request.x.graceTimer = undefined;
    }
    const busyMs = now - request.startedAt;
    this.statsOf(request).busyMs += busyMs;
    this.total.busyMs += busyMs;
    if (request.runner !== undefined) this.runners.finished(request.runner);
    if (this.busy === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.checkDrained();
  }

  /**
   * The one place a request reaches a terminal state; a second call for the
   * same request does nothing and returns false.
   */
  settle(
    request: WorkerRequest,
    state: TerminalState,
    result: unknown,
    error: Error | undefined,
    now = this.ctx.clock.now(),
  ): boolean {
    const previous = request.state;
    if (isTerminal(previous)) return false;
    request.state = state;
    request.finishedAt = now;
    request.result = result;
    request.error = error;
    const t = this.statsOf(request);
    const extra = request.extra;
    const primary = extra?.primary;
    if (primary !== undefined) {
      // A joiner ran nothing itself; it only leaves its primary.
      const joiners = primary.extra?.joiners;
      const i = joiners === undefined ? -1 : joiners.indexOf(request);
      if (i >= 0) joiners!.splice(i, 1);
    } else if (previous === 'queued') {
      this.queue.remove(request);
      t.queued--;
      this.total.queued--;
    } else if (previous === 'running') {
      t.running--;
      this.total.running--;
      const failed = state !== 'completed';
      t.stats.runFinished(request.startedAt, now - request.startedAt, failed, error);
      this.total.stats.runFinished(request.startedAt, now - request.startedAt, failed, error);
      if (failed && request.slot >= 0) this.abortRunning(request, state, error);
    }
    t.count(state);
    this.total.count(state);
    request.timer?.cancel();
    if (extra !== undefined) this.settleExtra(request, extra);
    const groupFinished = this.book.settle(request);
    const joiners = extra?.joiners;
    if (joiners !== undefined) {
      extra!.joiners = undefined;
      for (const j of joiners) this.settle(j, state, result, error);
    }
    request.deliver(this.ctx.logger);
    const waiters = request.waiters;
    request.waiters = undefined;
    if (waiters !== undefined) {
      for (const w of waiters) {
        try {
          w(request);
        } catch (e) {
          const log = { err: e, request: request.id };
          this.ctx.logger.error(log, 'WorkerProcess: an internal continuation threw');
        }
      }
    }
    if (this.events.observed) {
      this.events.next({ type: 'settled', request: request.info() });
      if (groupFinished) this.events.next({ type: 'group-finished', group: request.group! });
    }
    this.checkDrained();
    return true;
  }

  private settleExtra(request: WorkerRequest, extra: NonNullable<WorkerRequest['extra']>): void {
    if (extra.command) this.commands--;
    if (extra.held !== undefined) {
      extra.held = undefined;
      this.holding.delete(request.seq);
      queueMicrotask(() => this.pump());
    }
    if (extra.signal !== undefined && extra.signalListener !== undefined) {
      extra.signal.removeEventListener('abort', extra.signalListener);
      extra.signalListener = undefined;
    }
  }

  /**
   * Tells the thread running a request that settled early (canceled, timed
   * out, stopped) to stop, through the shared abort table; terminates it
   * after `abortGraceMs` if it has not let go by then.
   */
  private abortRunning(
    request: WorkerRequest,
    state: TerminalState,
    error: Error | undefined,
  ): void {
    const code: AbortCodeValue =
      state === 'timed-out'
        ? AbortCode.timedOut
        : error instanceof StoppedError
          ? AbortCode.stopped
          : AbortCode.canceled;
    const i = 2 * request.slot;
    Atomics.store(this.abortTable, i + 1, code);
    Atomics.store(this.abortTable, i, request.seq);
    Atomics.notify(this.abortTable, i);
    if (!this.ctx.isAlive()) return;
    const grace = this.ctx.config.abortGraceMs;
    if (grace === 0) {
      this.terminate(request);
      return;
    }
    const dueAt = this.ctx.clock.now() + grace;
    request.x.graceTimer = this.ctx.scheduler.at(dueAt, () => this.terminate(request));
  }

  private terminate(request: WorkerRequest): void {
    const extra = request.extra;
    if (extra !== undefined) extra.graceTimer = undefined;
    if (request.slot < 0 || !request.terminate()) return;
    this.terminations++;
    this.ctx.logger.warn(
      {
        component: this.ctx.name,
        request: request.id,
        target: request.target,
        abortGraceMs: this.ctx.config.abortGraceMs,
      },
      'WorkerProcess: a handler did not stop after its request was aborted; its thread is replaced',
    );
    if (this.events.observed) {
      const event = { id: request.id, target: request.target, error: request.error };
      this.events.next({ type: 'thread-replaced', reason: 'terminated', ...event });
    }
  }

  private onProgress(seq: number, slot: number, value: unknown): void {
    let request = this.slots[slot];
    if (request === undefined || request.seq !== seq) request = this.holding.get(seq);
    if (request === undefined || request.state !== 'running') return;
    const extra = request.x;
    extra.progressSeen++;
    this.notifyProgress(request, value);
    if (extra.joiners !== undefined) for (const j of extra.joiners) this.notifyProgress(j, value);
    if (this.events.observed) {
      const { id, key, target } = request;
      this.events.next({ type: 'progress', id, key, target, value });
    }
    const held = extra.held;
    if (held !== undefined && extra.progressSeen >= held.expected) {
      extra.held = undefined;
      this.holding.delete(seq);
      this.settleWith(request, held.result);
      this.pump();
    }
  }

  private notifyProgress(request: WorkerRequest, value: unknown): void {
    const onProgress = request.extra?.onProgress;
    if (onProgress === undefined) return;
    try {
      onProgress(value);
    } catch (error) {
      const log = { err: error, request: request.id };
      this.ctx.logger.error(log, 'WorkerProcess: an onProgress callback threw');
    }
  }

  private isDrained(): boolean {
    return this.book.unsettled === 0 && this.busy === 0;
  }

  private checkDrained(): void {
    if (this.drainWaiters.length === 0 || !this.isDrained()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
