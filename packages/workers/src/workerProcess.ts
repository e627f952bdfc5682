import {
  AbortError,
  type ComponentDiagnostics,
  checkString,
  KeyNotFoundError,
  Lifecycle,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import type { Observable } from 'rxjs';
import type { KeyEntry } from './cachedKey.js';
import type { PeriodicKey } from './periodicKey.js';
import { PeriodicKeys } from './periodicKeys.js';
import type { ArgsOf, HandlerMap, ResultOf, TargetOf, UntypedHandlers } from './protocol.js';
import { RequestEngine } from './requestEngine.js';
import { RequestHandle, type RequestOwner } from './requestHandle.js';
import { RequestIntake } from './requestIntake.js';
import {
  type AddOptions,
  type CloseOptions,
  type CommandOptions,
  type ParsedAdd,
  type ParsedSend,
  parseAddOptions,
  parseCloseOptions,
  parseCommandOptions,
  parseSendOptions,
  parseWaitOptions,
  type SendOptions,
  type WaitOptions,
} from './requestOptions.js';
import type { RunnerSpec, TaskRunner } from './taskRunner.js';
import { ThreadPool } from './threadPool.js';
import type { WorkerProcessEvent } from './workerProcessEvent.js';
import {
  type ParsedWorkerProcessOptions,
  parseExecutor,
  parseWorkerProcessOptions,
  type WorkerProcessOptions,
} from './workerProcessOptions.js';
import {
  isTerminal,
  type RequestCallback,
  type RequestId,
  type RequestInfo,
  type WorkerRequest,
} from './workerRequest.js';

const KIND = 'WorkerProcess';

function validated(options: WorkerProcessOptions): WorkerProcessOptions {
  parseWorkerProcessOptions(options);
  return options;
}

/**
 * Keyed requests run by handlers in a pool of worker threads (piscina
 * underneath), with results delivered to callbacks and promises, after
 * fandango's `WorkerProcess` and the task managers of atasker and ShotGrid.
 *
 * - `send` queues a request and returns at once; each request ends in
 *   exactly one terminal state (`completed`, `failed`, `canceled`,
 *   `timed-out`) and its callback fires exactly once.
 * - Requests wait in a priority queue in front of piscina, which is fed one
 *   task per free thread, so priority holds under load.
 * - A thread that crashes, exits or runs out of memory fails only its own
 *   request (`WorkerCrashedError`) and is replaced; one that ignores a
 *   cancel or timeout is terminated after `abortGraceMs`.
 * - `add` keeps keyed values fresh on the core scheduler; `get`/`data` read
 *   them from an expiring cache.
 *
 * @typeParam H - the executor's handler map (`typeof handlers`), for typed
 *   targets, args and results; untyped by default.
 *
 * @example
 * ```ts
 * const pool = new WorkerProcess<typeof handlers>({
 *   executor: new URL('./executor.js', import.meta.url),
 *   maxThreads: 4,
 *   timeoutMs: 5_000,
 * });
 * pool.send('wave/1', 'fft', samples, (err, spectrum) => { ... });
 * const peak = await pool.send('wave/1', 'peak', samples, { priority: 'high' });
 * pool.add('sys/tg/1', 'read', { attr: 'temperature' }, { periodMs: 1_000 });
 * pool.get('sys/tg/1'); // cached value, ExpiredError when stale
 * await pool.close();
 * ```
 */
export class WorkerProcess<H extends HandlerMap = UntypedHandlers>
  extends Lifecycle
  implements RequestOwner
{
  private readonly config: ParsedWorkerProcessOptions;
  private readonly engine: RequestEngine;
  private readonly intake: RequestIntake;
  private readonly keys: PeriodicKeys;

  /**
   * Every event: settlements, progress, finished groups, replaced threads.
   * Completes on `kill()`.
   */
  readonly events$: Observable<WorkerProcessEvent>;

  /**
   * @param options - see {@link WorkerProcessOptions}
   * @throws ConfigError on a bad option (nothing is started or registered then)
   */
  constructor(options: WorkerProcessOptions) {
    // Validated before Lifecycle registers the component, so a bad config
    // never leaves a half-built one in the registry.
    super(KIND, validated(options));
    this.config = parseWorkerProcessOptions(options);
    const label = `${KIND} ${this.name}`;
    this.engine = new RequestEngine({
      label,
      name: this.name,
      clock: this.clock,
      scheduler: this.scheduler,
      logger: this.logger,
      config: this.config,
      createRunner: (spec) => this.createRunner(spec),
      isAlive: () => this.isAlive(),
    });
    this.intake = new RequestIntake(this.engine, label, this.config, () => this.isAlive());
    this.events$ = this.engine.events$;
    this.keys = new PeriodicKeys(
      label,
      this.clock,
      this.scheduler,
      this.logger,
      (periodic, dueAt) => this.intake.periodic(periodic, dueAt),
    );
    if (this.config.start) this.start();
  }

  /**
   * Makes the runner for an executor. The default is a piscina
   * {@link ThreadPool}; a subclass may return another {@link TaskRunner}
   * (tests run handlers in-process to drive time virtually). Called from the
   * constructor, so it must not rely on the subclass's own fields.
   */
  protected createRunner(spec: RunnerSpec): TaskRunner {
    return new ThreadPool(spec);
  }

  // ---------------------------------------------------------------- requests

  /**
   * Queues `target(args)` for key `key` and returns at once. The returned
   * handle carries the id and is awaitable; the callback (the 4th argument,
   * or `options.callback`) fires exactly once.
   *
   * @param key - what the request is about (`dedupe` coalesces per key)
   * @param target - handler name in the executor
   * @param args - the handler's first argument (structured-cloned)
   * @param callbackOrOptions - a node-style callback, or {@link SendOptions}
   * @throws ConfigError on a bad key, target or option
   */
  send<T extends TargetOf<H>>(
    key: string,
    target: T,
    args?: ArgsOf<H[T]>,
    callbackOrOptions?: RequestCallback<ResultOf<H[T]>> | SendOptions<ResultOf<H[T]>>,
  ): RequestHandle<ResultOf<H[T]>> {
    checkString(KIND, 'key', key);
    checkString(KIND, 'target', target);
    const o = parseSendOptions<ResultOf<H[T]>>(callbackOrOptions) as ParsedSend<unknown>;
    return new RequestHandle(this.intake.send(key, target, args, o), this);
  }

  /**
   * Runs `target(args)` after everything sent before it has settled (in any
   * state), ahead of anything still queued behind it, and resolves with its
   * result. `timeoutMs` bounds the whole wait plus run, so a command never
   * hangs its caller (fandango's `command` had no timeout).
   *
   * @throws ConfigError on a bad target or option
   */
  command<T extends TargetOf<H>>(
    target: T,
    args?: ArgsOf<H[T]>,
    options?: CommandOptions<ResultOf<H[T]>>,
  ): RequestHandle<ResultOf<H[T]>> {
    checkString(KIND, 'target', target);
    const o = parseCommandOptions(options) as CommandOptions<unknown>;
    return new RequestHandle(this.intake.command(target, args, o), this);
  }

  /**
   * Cancels a request: a queued or waiting one is removed, a running one is
   * aborted through its `ctx.signal` (and its thread replaced if it has not
   * stopped within `abortGraceMs`). It settles `canceled` with `AbortError`
   * at once. Returns false when the id is unknown or already settled.
   */
  cancel(id: RequestId): boolean {
    const request = this.engine.find(id);
    if (request === undefined || isTerminal(request.state)) return false;
    const what = `${this.label}: request ${id} (target "${request.target}")`;
    return this.engine.cancel(request, new AbortError(`${what} was canceled`));
  }

  /**
   * Cancels every unsettled request of `group` (queued ones removed, running
   * ones aborted), each settling `canceled`; `group-finished` follows.
   * Returns how many were canceled.
   */
  stopGroup(group: string): number {
    checkString(KIND, 'group', group);
    const requests = this.engine.inGroup(group);
    for (const request of requests) {
      const why = `${this.label}: request ${request.id} canceled: group "${group}" was stopped`;
      this.engine.cancel(request, new AbortError(why));
    }
    // Counted after the loop: canceling an upstream or a joined request also
    // cancels its dependents and joiners, so their own cancel finds them settled.
    return requests.filter((r) => r.state === 'canceled').length;
  }

  /**
   * Resolves once every listed request has settled, with their
   * {@link RequestInfo}s (in the same order; one info for one id). Rejects
   * with `KeyNotFoundError` for an unknown or forgotten id, and with
   * `TimeoutError` when `timeoutMs` passes first.
   */
  waitCompleted(id: RequestId, options?: WaitOptions): Promise<RequestInfo>;
  waitCompleted(ids: readonly RequestId[], options?: WaitOptions): Promise<RequestInfo[]>;
  waitCompleted(
    ids: RequestId | readonly RequestId[],
    options?: WaitOptions,
  ): Promise<RequestInfo | RequestInfo[]> {
    const single = !Array.isArray(ids);
    let requests: WorkerRequest[];
    let timeoutMs: number;
    try {
      timeoutMs = parseWaitOptions('waitCompleted options', options);
      const list: readonly unknown[] = single ? [ids] : (ids as readonly unknown[]);
      requests = list.map((id, i) =>
        this.known(checkString(KIND, single ? 'id' : `ids[${i}]`, id)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let pending = 0;
      let finished = false;
      const fail = (): void => {
        finished = true;
        const counts = `${pending} of ${requests.length} requests unsettled`;
        const what = `${this.label}: waitCompleted timed out after ${timeoutMs} ms with ${counts}`;
        reject(new TimeoutError(what, timeoutMs));
      };
      const timer =
        timeoutMs > 0 ? this.scheduler.at(this.clock.now() + timeoutMs, fail) : undefined;
      const done = (): void => {
        finished = true;
        timer?.cancel();
        const infos = requests.map((r) => r.info());
        resolve(single ? infos[0]! : infos);
      };
      for (const r of requests) {
        if (isTerminal(r.state)) continue;
        pending++;
        r.onSettled(() => {
          if (--pending === 0 && !finished) done();
        });
      }
      if (pending === 0) done();
    });
  }

  /** Plain-data view of a request, or undefined when unknown or forgotten. */
  info(id: RequestId): RequestInfo | undefined {
    return this.engine.find(id)?.info();
  }

  // ------------------------------------------------------------- periodic keys

  /**
   * Refreshes `key` by running `target(args)` every `periodMs` on the core
   * scheduler (first run at once when the pool is started; drift-free; the
   * `overrun` policy decides what a slot does while the last run is still
   * going). Results go to an expiring cache read by {@link WorkerProcess.get}
   * and {@link WorkerProcess.data}; `callback` fires after every run.
   * Adding a key again replaces its target, args and options and refreshes it
   * at once; its cached value stays.
   *
   * @throws ConfigError on bad input; StoppedError after `close()`/`kill()`
   */
  add<T extends TargetOf<H>>(
    key: string,
    target: T,
    args: ArgsOf<H[T]>,
    options: AddOptions<ResultOf<H[T]>>,
  ): void {
    checkString(KIND, 'key', key);
    checkString(KIND, 'target', target);
    const o = parseAddOptions(options) as ParsedAdd<unknown>;
    if (!this.engine.accepting)
      throw new StoppedError(`${this.label}: add() after close() or kill()`);
    this.keys.add(key, target, args, o, this.engine.isDispatching);
  }

  /**
   * Stops refreshing `key` and drops its value. Its queued run is canceled;
   * a running one finishes but its result is discarded (a removed key never
   * comes back). Returns false when the key was not added.
   */
  remove(key: string): boolean {
    const periodic: PeriodicKey | undefined = this.keys.remove(key);
    if (periodic === undefined) return false;
    for (const request of [...periodic.inFlight]) {
      if (request.state === 'queued' || request.state === 'waiting') {
        const why = `${this.label}: request ${request.id} canceled: key "${key}" was removed`;
        this.engine.cancel(request, new AbortError(why));
      }
    }
    return true;
  }

  /**
   * The cached value of a key added with {@link WorkerProcess.add}.
   *
   * @throws KeyNotFoundError for a key never added (or removed) or without a
   *   value yet; ExpiredError when the value is older than `expireMs`
   *   (unless `allowStale`). After a failed run the last good value is
   *   returned while fresh; {@link WorkerProcess.entry} shows the error.
   */
  get(key: string, options: { allowStale?: boolean } = {}): unknown {
    return this.periodic(key).get(this.clock.now(), options.allowStale === true);
  }

  /** The full cache entry of an added key (value, times, staleness, last error). */
  entry(key: string): KeyEntry {
    return this.periodic(key).entry(this.clock.now());
  }

  /** The cache entries of a key as it changes, the current one first; completes on `remove` or `kill`. */
  watch(key: string): Observable<KeyEntry> {
    return this.periodic(key).watch(() => this.clock.now());
  }

  /**
   * A live read-only map of the added keys whose value is present and fresh
   * (fandango's `data`). Missing or expired values are absent rather than
   * thrown.
   */
  get data(): ReadonlyMap<string, unknown> {
    return this.keys.data;
  }

  // --------------------------------------------------------------- lifecycle

  /**
   * Swaps the executor: requests dispatched from now on run in a new pool
   * loading `executor` with `initArgs`; queued requests are kept, and those
   * running finish in the old pool, which is then shut down. Resolves once
   * it is.
   *
   * @throws ConfigError on a bad executor; StoppedError after `close()`/`kill()`
   */
  bind(executor: string | URL, initArgs?: unknown): Promise<void> {
    const ex = parseExecutor('bind executor', executor);
    if (!this.engine.accepting)
      throw new StoppedError(`${this.label}: bind() after close() or kill()`);
    this.config.executor = ex.url;
    this.config.executorPath = ex.path;
    return this.engine.bind(ex.url, initArgs);
  }

  /**
   * Pauses: nothing new starts (requests keep queuing) and periodic keys
   * stop; resolves `true` once the running requests have finished (exopy's
   * "paused" acknowledgement), `false` after `timeoutMs` (default 30 s).
   * Same as `stop()`.
   */
  pause(options?: { timeoutMs?: number }): Promise<boolean> {
    return this.stop(options);
  }

  /** Resumes after {@link WorkerProcess.pause}: dispatching restarts and keys refresh at once. Same as `start()`. */
  resume(): this {
    return this.start();
  }

  /**
   * Drains and ends: new sends are refused (`StoppedError`), periodic keys
   * stop, and everything queued or running is run to its end (even when
   * paused); then the pool is killed. Resolves `true` when it drained,
   * `false` when `timeoutMs` passed and the rest was settled by `kill()`.
   */
  async close(options: CloseOptions = {}): Promise<boolean> {
    const timeoutMs = parseCloseOptions(options);
    if (!this.isAlive()) return true;
    this.engine.refuse();
    this.keys.disarmAll();
    this.engine.setDispatching(true);
    const drained = await this.engine.whenDrained(timeoutMs);
    await this.kill();
    return drained;
  }

  protected override onStart(): void {
    const now = this.clock.now();
    this.engine.resetStats(now);
    this.keys.resetStats(now);
    if (this.engine.accepting) this.keys.armAll(now);
    this.engine.setDispatching(true);
  }

  protected override onStop(): void {
    this.engine.setDispatching(false);
    this.keys.disarmAll();
  }

  protected override whenIdle(): Promise<void> {
    return this.engine.whenIdle();
  }

  protected override async onKill(): Promise<void> {
    this.keys.disposeAll();
    await this.engine.kill();
  }

  // ------------------------------------------------------------- diagnostics

  /** Requests waiting in the queue. */
  get queued(): number {
    return this.engine.queued;
  }

  /** Requests running. */
  get running(): number {
    return this.engine.running;
  }

  /** Requests not settled yet (waiting, queued or running). */
  get pending(): number {
    return this.engine.unsettled;
  }

  /** Live worker threads. */
  get threads(): number {
    return this.engine.threads;
  }

  /**
   * Diagnostics: the pool's own stats (all requests), one item per target
   * (`target:<name>`; `lateness` is queue wait, `duration` run time; detail
   * has counts by terminal state, queue size, running, utilization) and one
   * per periodic key (`key:<name>`; lateness against its slots, period, age).
   */
  diagnostics(): ComponentDiagnostics {
    const now = this.clock.now();
    const d = this.engine.diagnostics(now);
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: d.stats,
      items: [...d.items, ...this.keys.items(now)],
      detail: { executor: this.config.executor, ...d.detail },
    };
  }

  // ---------------------------------------------------------------- internals

  private get label(): string {
    return `${KIND} ${this.name}`;
  }

  private known(id: RequestId): WorkerRequest {
    const request = this.engine.find(id);
    if (request === undefined) {
      const why = `${this.label}: request ${id} is unknown or forgotten (keepSettled: ${this.config.keepSettled})`;
      throw new KeyNotFoundError(id, why);
    }
    return request;
  }

  private periodic(key: string): PeriodicKey {
    checkString(KIND, 'key', key);
    return this.keys.get(key);
  }
}
