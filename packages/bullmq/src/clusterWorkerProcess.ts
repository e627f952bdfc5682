import {
  type ComponentDiagnostics,
  checkString,
  Lifecycle,
  type ScheduledTimer,
  StoppedError,
} from '@tickwork/core';
import type { KeyEntry } from '@tickwork/workers';
import type { Observable } from 'rxjs';
import { settledWithin } from './closeWithin.js';
import type {
  ClusterArgsOf,
  ClusterHandlers,
  ClusterHandlerTypes,
  ClusterResultOf,
  ClusterTargetOf,
} from './clusterRequest.js';
import { type BookDeps, ClusterRequestBook } from './clusterRequestBook.js';
import { ClusterRequestHandle } from './clusterRequestHandle.js';
import type { ClusterRequestInfo } from './clusterRequestInfo.js';
import { ClusterRequestIntake } from './clusterRequestIntake.js';
import type { ClusterLayout } from './clusterRequestLayout.js';
import {
  type ClusterAddOptions,
  type ClusterCommandOptions,
  type ClusterSendOptions,
  parseAddOptions,
  parseCommandOptions,
  parseSendOptions,
  parseWaitOptions,
} from './clusterRequestOptions.js';
import { ClusterRequestRedis } from './clusterRequestRedis.js';
import { ClusterWorkerKeys } from './clusterWorkerKeys.js';
import {
  type ClusterWorkerProcessOptions,
  parseClientOptions,
} from './clusterWorkerProcessOptions.js';

// Kept for the first slice's import paths; the types live in their own files.
export type { ClusterSendOptions } from './clusterRequestOptions.js';
export type { ClusterWorkerProcessOptions } from './clusterWorkerProcessOptions.js';

const C = 'ClusterWorkerProcess';

/**
 * `WorkerProcess` across machines: the same `send` / `command` / `add` API,
 * each request a BullMQ job (the request id is the job id) run by whichever
 * {@link ClusterWorkerNode} takes it. Results come back through `QueueEvents`
 * with a periodic read of the job as a fallback, so every request settles
 * exactly once on the client that sent it. Priorities, groups, `after`,
 * `dedupe`, cancel (queued: removed; running: aborted on its node), per-key
 * ordering (`partitions`) and periodic keys work cluster-wide.
 *
 * Delivery is at-least-once: a node dying mid-run makes BullMQ run the job
 * again elsewhere after stall detection (the handler sees `attempt > 1` and
 * the same `ctx.id`).
 *
 * @typeParam H - the handler map of the nodes (`typeof handlers`, or of the executor of their
 *   pool), for typed targets, args and results
 *
 * @example
 * ```ts
 * const client = new ClusterWorkerProcess<typeof handlers>({ connection: { port: 6379 } });
 * const peak = await client.send('wave/1', 'peak', samples, { priority: 'high' });
 * client.add('sys/tg/1/temperature', 'read', { attr: 'temperature' }, { periodMs: 1_000 });
 * client.get('sys/tg/1/temperature'); // latest value; ExpiredError when older than 4 s
 * ```
 */
export class ClusterWorkerProcess<
  H extends ClusterHandlerTypes = ClusterHandlers,
> extends Lifecycle {
  private readonly book: ClusterRequestBook;
  private readonly intake: ClusterRequestIntake;
  private readonly keys: ClusterWorkerKeys;
  private readonly r: ClusterRequestRedis;
  private readonly layout: ClusterLayout;
  private readonly resultCheckMs: number;
  private readonly timeoutMs: number;
  private checkTimer: ScheduledTimer | undefined;

  /**
   * @param options - see {@link ClusterWorkerProcessOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterWorkerProcessOptions) {
    const o = parseClientOptions(C, options);
    super(C, options);
    const { layout, keepFinishedMs } = o;
    this.layout = layout;
    this.timeoutMs = o.timeoutMs;
    this.resultCheckMs = o.resultCheckMs;
    this.r = new ClusterRequestRedis(
      this.label,
      C,
      layout,
      o.connection,
      {
        onPeriodic: (jobId, outcome) => this.keys.ran(jobId, outcome),
        onStopGroup: (group, message) => this.book.stopHeld(group, message),
      },
      this.logger,
      this.clock,
      this.scheduler,
    );
    const deps: BookDeps = {
      label: this.label,
      layout,
      tracker: this.r.tracker,
      store: this.r.store,
      cancel: this.r.cancelContext(layout, keepFinishedMs),
      queues: this.r.queues,
      ready: this.r.ready,
      clock: this.clock,
      scheduler: this.scheduler,
      logger: this.logger,
      timeoutMs: o.timeoutMs,
      keepFinishedMs,
      keepSettled: o.keepSettled,
      accepting: () => this.isStarted(),
    };
    this.book = new ClusterRequestBook(deps);
    this.intake = new ClusterRequestIntake(this.book, deps);
    this.keys = new ClusterWorkerKeys(
      this.label,
      layout,
      this.r.queues.get(layout.base)!,
      this.r.redis,
      this.logger,
      this.clock,
      keepFinishedMs,
    );
    this.start();
  }

  /** Requests sent and not settled yet (waiting, queued or running). */
  get inFlight(): number {
    return this.book.unsettledCount;
  }

  /** Same as {@link ClusterWorkerProcess.inFlight}, as `WorkerProcess` names it. */
  get pending(): number {
    return this.book.unsettledCount;
  }

  /**
   * Sends `target(args)` for `key` and returns at once a handle carrying the
   * request id; awaiting it gives the handler's result (or its error, class
   * and code kept). The callback (4th argument, or `options.callback`) fires
   * exactly once.
   *
   * @throws ConfigError on a bad key, target or option (synchronously). The
   *   handle rejects with StoppedError when the client is stopped or killed,
   *   and with the ConfigError of a partition mismatch.
   */
  send<T extends ClusterTargetOf<H>>(
    key: string,
    target: T,
    args?: ClusterArgsOf<H[T]>,
    callbackOrOptions?:
      | ((error: Error | null, result?: ClusterResultOf<H[T]>) => void)
      | ClusterSendOptions<ClusterResultOf<H[T]>>,
  ): ClusterRequestHandle<ClusterResultOf<H[T]>> {
    checkString(C, 'key', key);
    checkString(C, 'target', target);
    const o = parseSendOptions(callbackOrOptions);
    return new ClusterRequestHandle(this.intake.send(key, target, args, o), this);
  }

  /**
   * Runs `target(args)` (key `''`) once every request this client sent
   * before it has settled, ahead of every queued request (no BullMQ
   * priority: BullMQ serves those first), and resolves with its result.
   * `timeoutMs` bounds the whole call, wait included.
   *
   * @throws ConfigError on a bad target or option
   */
  command<T extends ClusterTargetOf<H>>(
    target: T,
    args?: ClusterArgsOf<H[T]>,
    options?: ClusterCommandOptions<ClusterResultOf<H[T]>>,
  ): ClusterRequestHandle<ClusterResultOf<H[T]>> {
    checkString(C, 'target', target);
    const o = parseCommandOptions(options);
    const limit = o.timeoutMs ?? this.timeoutMs;
    return new ClusterRequestHandle(this.intake.command(target, args, o, limit), this);
  }

  /**
   * Cancels request `id` (sent by any client): a waiting or queued one is
   * removed from Redis, a running one is aborted on its node (`ctx.signal`),
   * and it ends `canceled` with `AbortError`. A request of this client
   * settles at once; the returned promise resolves once Redis is updated,
   * with false when the id is unknown or already finished. Canceling a
   * `dedupe` joiner only detaches it.
   */
  cancel(id: string): Promise<boolean> {
    try {
      checkString(C, 'id', id);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.book.cancel(id);
  }

  /**
   * Cancels every unfinished request of `group` cluster-wide: this client's
   * (held ones included), and every queued or running job of the group in
   * Redis (found by reading the queues: O(queued jobs)); other clients
   * cancel the requests of the group they hold for `after`. Resolves with
   * how many requests were canceled.
   */
  stopGroup(group: string): Promise<number> {
    try {
      checkString(C, 'group', group);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.book.stopGroup(group);
  }

  /**
   * Resolves once every listed request (sent by any client) has settled,
   * with their {@link ClusterRequestInfo}s in the same order. Rejects with
   * `KeyNotFoundError` for an id neither this client nor Redis knows, and
   * with `TimeoutError` when `timeoutMs` passes first.
   */
  waitCompleted(id: string, options?: { timeoutMs?: number }): Promise<ClusterRequestInfo>;
  waitCompleted(
    ids: readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<ClusterRequestInfo[]>;
  waitCompleted(
    ids: string | readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<ClusterRequestInfo | ClusterRequestInfo[]> {
    const single = !Array.isArray(ids);
    let list: string[];
    let timeoutMs: number;
    try {
      timeoutMs = parseWaitOptions(options);
      const raw: readonly unknown[] = single ? [ids] : (ids as readonly unknown[]);
      list = raw.map((id, i) => checkString(C, single ? 'id' : `ids[${i}]`, id));
    } catch (error) {
      return Promise.reject(error);
    }
    const all = this.book.waitCompleted(list, timeoutMs);
    return single ? all.then((infos) => infos[0]!) : all;
  }

  /**
   * The request `id` (sent by any client) as Redis and this client know it:
   * state, times, node, result or error. Undefined when unknown (never
   * sent, or forgotten after `keepFinishedMs`).
   */
  info(id: string): Promise<ClusterRequestInfo | undefined> {
    try {
      checkString(C, 'id', id);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.book.info(id);
  }

  /**
   * Refreshes `key` every `periodMs` in the cluster: a BullMQ job scheduler
   * (`every: periodMs`, id = the key) whose slot jobs any node runs. Its
   * latest value is cached here ({@link ClusterWorkerProcess.get}, `watch`),
   * fed by the `completed` events and, at first, by the value the last node
   * stored in Redis. Adding a key again (here or on another client) replaces
   * target, args and period for everyone.
   *
   * @throws ConfigError on bad input; StoppedError after `kill()`
   */
  add<T extends ClusterTargetOf<H>>(
    key: string,
    target: T,
    args: ClusterArgsOf<H[T]>,
    options: ClusterAddOptions<ClusterResultOf<H[T]>>,
  ): void {
    checkString(C, 'key', key);
    checkString(C, 'target', target);
    const o = parseAddOptions(options);
    if (!this.isAlive()) throw new StoppedError(`${this.label}: add() after kill()`);
    this.keys.add(key, target, args, o, o.timeoutMs ?? this.timeoutMs, this.r.ready);
  }

  /**
   * Stops refreshing `key` cluster-wide (its scheduler is removed from
   * Redis) and drops its value here. Returns false when it was not added on
   * this client.
   */
  remove(key: string): boolean {
    checkString(C, 'key', key);
    return this.keys.remove(key);
  }

  /**
   * The cached value of an added key.
   *
   * @throws KeyNotFoundError for a key not added here (or removed) or without
   *   a value yet; ExpiredError when older than `expireMs` (unless `allowStale`)
   */
  get(key: string, options: { allowStale?: boolean } = {}): unknown {
    checkString(C, 'key', key);
    return this.keys.get(key).get(this.clock.now(), options.allowStale === true);
  }

  /** The full cache entry of an added key (value, times, staleness, last error). */
  entry(key: string): KeyEntry {
    checkString(C, 'key', key);
    return this.keys.get(key).entry(this.clock.now());
  }

  /** The entries of an added key as it changes, the current one first; completes on `remove` or `kill`. */
  watch(key: string): Observable<KeyEntry> {
    checkString(C, 'key', key);
    return this.keys.get(key).watch(() => this.clock.now());
  }

  /** Resolves once the schedulers of `add` / `remove` so far are in Redis (failures are logged). */
  synced(): Promise<void> {
    return this.keys.synced();
  }

  /**
   * Drains and ends: new sends are refused (`StoppedError`), requests in
   * flight settle (within `timeoutMs`, default 30 s), then the client is
   * killed. Resolves whether it drained.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<boolean> {
    const drained = await this.stop(options);
    await this.kill();
    return drained;
  }

  /**
   * Diagnostics of this client's requests: totals and one item per target,
   * `target:<name>` (`duration` is the run time on the node, `lateness` the
   * queue wait; detail counts by terminal state, queued and running), one
   * per periodic key, `key:<name>`, and the queue sizes last read from Redis.
   */
  diagnostics(): ComponentDiagnostics {
    const now = this.clock.now();
    this.book.stats.setLoad(
      this.book.unsettledList().map((e) => ({ target: e.target, running: e.state === 'running' })),
    );
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.book.stats.totals.stats.snapshot(),
      items: [...this.book.stats.items(), ...this.keys.items(now)],
      detail: {
        ...this.book.stats.totals.detail(),
        inFlight: this.book.unsettledCount,
        watching: this.r.tracker.size,
        partitions: this.layout.partitions,
        queueSizes: Object.fromEntries(this.r.sizes),
      },
    };
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.book.stats.reset(now);
    this.keys.resetStats(now);
    this.armCheck();
  }

  protected onStop(): void {
    // Results of requests in flight still come through events; keep the fallback until killed.
  }

  protected async onKill(): Promise<void> {
    this.checkTimer?.cancel();
    this.book.killAll(new StoppedError(`${this.label}: killed before a result came`));
    this.keys.disposeAll();
    await settledWithin(this.keys.synced(), 1_000, this.clock, this.scheduler);
    await this.r.close();
  }

  protected whenIdle(): Promise<void> {
    return this.book.whenIdle();
  }

  private get label(): string {
    return `${C} ${this.name}`;
  }

  private armCheck(): void {
    if (this.checkTimer !== undefined) return;
    this.checkTimer = this.scheduler.every(this.resultCheckMs, () => {
      void this.r.tracker.check();
      void this.r.readSizes();
    });
  }
}
