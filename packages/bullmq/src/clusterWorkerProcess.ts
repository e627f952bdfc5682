import { randomUUID } from 'node:crypto';
import {
  type ComponentDiagnostics,
  type ComponentOptions,
  ConfigError,
  checkDuration,
  checkOptions,
  checkString,
  deserializeError,
  KeyNotFoundError,
  Lifecycle,
  type ScheduledTimer,
  Stats,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { Job, Queue, QueueEvents } from 'bullmq';
import type {
  ClusterArgsOf,
  ClusterHandlers,
  ClusterJobData,
  ClusterJobResult,
  ClusterResultOf,
  ClusterTargetOf,
} from './clusterRequest.js';
import {
  blockingConnection,
  checkConnection,
  type RedisConnectionOptions,
} from './redisConnection.js';

/** Options of {@link ClusterWorkerProcess}. */
export interface ClusterWorkerProcessOptions extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /** Queue name shared with the `ClusterWorkerNode`s. @defaultValue `'tickwork-requests'` */
  queueName?: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /** Default limit on a request, ms from the call, 0 for none. @defaultValue 0 */
  timeoutMs?: number;
  /**
   * How long finished jobs stay in Redis, ms: long enough for a caller that
   * missed the `QueueEvents` event to read the result, and for a retried
   * request id to find the first outcome instead of running again.
   * @defaultValue 600000 (10 min)
   */
  keepFinishedMs?: number;
  /**
   * Period of the fallback read of the state of requests still waiting, ms:
   * a result whose event was missed (reconnect, a job finished before the
   * event stream was read) is found by then. @defaultValue 1000
   */
  resultCheckMs?: number;
}

/** Options of {@link ClusterWorkerProcess.send} and {@link ClusterWorkerProcess.command}. */
export interface ClusterSendOptions {
  /**
   * Request id, used as the BullMQ job id: sending the same id again (a retry
   * after a crash or a timeout) does not run the job again while it is kept,
   * and settles with its outcome. Must not contain `:`.
   * @defaultValue a random UUID
   */
  requestId?: string;
  /** Limit on this request, ms from the call, 0 for none. @defaultValue the client's `timeoutMs` */
  timeoutMs?: number;
}

const C = 'ClusterWorkerProcess';

/** @internal validates a request queue name (shared with ClusterWorkerNode) */
export function clusterQueueName(component: string, value: unknown): string {
  const name = checkString(component, 'options.queueName', value ?? 'tickwork-requests');
  if (name === '' || name.includes(':')) {
    throw new ConfigError(
      `${component}: options.queueName must be non-empty without ":" (got ${JSON.stringify(name)})`,
      'options.queueName',
    );
  }
  return name;
}

interface Pending {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Whether the job is known to be in Redis (its add resolved). */
  added: boolean;
  /** When it was sent, epoch ms. */
  readonly sentAt: number;
  timer: ScheduledTimer | undefined;
}

/**
 * The `send` / `command` side of `WorkerProcess` over a BullMQ queue: each
 * request is a job whose id is the request id, run by whichever
 * `ClusterWorkerNode` takes it. Results come back through `QueueEvents`,
 * with a periodic read of the job's state as a fallback for missed events,
 * so every request settles exactly once on this client.
 *
 * Delivery is at-least-once: a node dying mid-run makes BullMQ run the job
 * again elsewhere after stall detection (the handler sees `attempt > 1`).
 *
 * @example
 * ```ts
 * const client = new ClusterWorkerProcess<typeof handlers>({ connection: { port: 6379 } });
 * const peak = await client.send('wave/1', 'peak', samples); // number
 * ```
 */
export class ClusterWorkerProcess<H extends ClusterHandlers = ClusterHandlers> extends Lifecycle {
  private readonly queue: Queue<ClusterJobData, ClusterJobResult>;
  private readonly events: QueueEvents;
  private readonly timeoutMs: number;
  private readonly keepFinishedMs: number;
  private readonly resultCheckMs: number;
  private readonly pending = new Map<string, Pending>();
  /** Round trips: duration is from the call to the settlement. */
  private readonly totals = new Stats();
  private readonly eventsReady: Promise<unknown>;
  private checkTimer: ScheduledTimer | undefined;
  private checking = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param options - see {@link ClusterWorkerProcessOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterWorkerProcessOptions) {
    const o = checkOptions(C, 'options', options);
    const connection = checkConnection(C, o.connection);
    const queueName = clusterQueueName(C, o.queueName);
    super(C, options);
    this.timeoutMs = checkDuration(C, 'options.timeoutMs', o.timeoutMs ?? 0);
    this.keepFinishedMs = checkDuration(C, 'options.keepFinishedMs', o.keepFinishedMs ?? 600_000, {
      min: 1_000,
    });
    this.resultCheckMs = checkDuration(C, 'options.resultCheckMs', o.resultCheckMs ?? 1_000, {
      min: 10,
    });
    const prefix = o.prefix === undefined ? undefined : checkString(C, 'options.prefix', o.prefix);
    this.queue = new Queue<ClusterJobData, ClusterJobResult>(queueName, {
      connection: { ...connection },
      prefix,
    });
    this.events = new QueueEvents(queueName, {
      connection: blockingConnection(connection),
      prefix,
    });
    this.queue.on('error', (error) => this.logger.error({ component: this.name, error }, 'queue'));
    this.events.on('error', (error) =>
      this.logger.error({ component: this.name, error }, 'events'),
    );
    this.events.on('completed', ({ jobId, returnvalue }) =>
      this.settle(jobId, returnvalue as unknown as ClusterJobResult),
    );
    this.events.on('failed', ({ jobId, failedReason }) => this.fail(jobId, failedReason));
    // Never rejects: a connection error is retried by ioredis, and the fallback read covers the gap.
    this.eventsReady = this.events.waitUntilReady().catch(() => undefined);
    this.start();
  }

  /** Requests sent and not settled yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends a request for `target` with `args` and resolves with the handler's
   * result (or rejects with its error, class and code kept).
   *
   * @throws (rejects) TimeoutError past `timeoutMs`; StoppedError when
   *   stopped or killed; ConfigError for bad arguments
   */
  send<T extends ClusterTargetOf<H>>(
    key: string,
    target: T,
    args: ClusterArgsOf<H[T]>,
    options: ClusterSendOptions = {},
  ): Promise<ClusterResultOf<H[T]>> {
    try {
      checkString(C, 'key', key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.request(key, target, args, options) as Promise<ClusterResultOf<H[T]>>;
  }

  /** A `send` without a key (the handler sees `key === ''`). */
  command<T extends ClusterTargetOf<H>>(
    target: T,
    args: ClusterArgsOf<H[T]>,
    options: ClusterSendOptions = {},
  ): Promise<ClusterResultOf<H[T]>> {
    return this.request('', target, args, options) as Promise<ClusterResultOf<H[T]>>;
  }

  /** Diagnostics: requests waiting for their result. */
  diagnostics(): ComponentDiagnostics {
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.totals.snapshot(),
      detail: { inFlight: this.pending.size, queue: this.queue.name },
    };
  }

  protected onStart(): void {
    this.totals.reset(this.clock.now());
    this.checkTimer = this.scheduler.every(this.resultCheckMs, () => {
      void this.checkPending();
    });
  }

  protected onStop(): void {
    this.checkTimer?.cancel();
    this.checkTimer = undefined;
    // Results of requests in flight still come through events; keep the fallback until idle.
    if (this.pending.size > 0) {
      this.checkTimer = this.scheduler.every(this.resultCheckMs, () => {
        void this.checkPending();
      });
    }
  }

  protected async onKill(): Promise<void> {
    this.checkTimer?.cancel();
    for (const id of [...this.pending.keys()]) {
      this.finish(
        id,
        undefined,
        new StoppedError(`${C} ${this.name}: killed before a result came`),
      );
    }
    await this.eventsReady;
    await this.events.close();
    await this.queue.close();
  }

  protected whenIdle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private request(
    key: string,
    target: string,
    args: unknown,
    options: ClusterSendOptions,
  ): Promise<unknown> {
    try {
      if (!this.isStarted()) {
        throw new StoppedError(`${C} ${this.name}: send() while ${this.state}`);
      }
      checkString(C, 'target', target);
      const o = checkOptions(C, 'options', options);
      const id =
        o.requestId === undefined ? randomUUID() : checkString(C, 'options.requestId', o.requestId);
      if (id === '' || id.includes(':') || /^\d+$/.test(id)) {
        throw new ConfigError(
          `${C}: options.requestId must be non-empty, not all digits and without ":" (got ${JSON.stringify(id)})`,
          'options.requestId',
        );
      }
      const timeoutMs = checkDuration(C, 'options.timeoutMs', o.timeoutMs ?? this.timeoutMs);
      const same = this.pending.get(id);
      if (same !== undefined) return same.promise;
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const sentAt = this.clock.now();
      const entry: Pending = { promise, resolve, reject, added: false, sentAt, timer: undefined };
      this.totals.runStarted(sentAt, sentAt);
      if (timeoutMs > 0) {
        entry.timer = this.scheduler.at(this.clock.now() + timeoutMs, () =>
          this.finish(
            id,
            undefined,
            new TimeoutError(`${C} ${this.name}: request ${id} (${target}) timed out`, timeoutMs),
          ),
        );
      }
      this.pending.set(id, entry);
      void this.add(id, key, target, args, entry);
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async add(
    id: string,
    key: string,
    target: string,
    args: unknown,
    entry: Pending,
  ): Promise<void> {
    const age = Math.ceil(this.keepFinishedMs / 1000);
    try {
      // Listening before adding: an event for this job is not missed for lack of a reader.
      await this.eventsReady;
      await this.queue.add(
        target,
        { key, args },
        { jobId: id, removeOnComplete: { age }, removeOnFail: { age } },
      );
      entry.added = true;
      // The job may have existed already (a retried id) and be finished: no event will come.
      await this.read(id);
    } catch (error) {
      this.finish(id, undefined, error);
    }
  }

  /** The fallback: settles the request from the job's stored state if it finished. */
  private async read(id: string): Promise<void> {
    if (!this.pending.has(id)) return;
    const job = await Job.fromId<ClusterJobData, ClusterJobResult>(this.queue, id);
    if (job === undefined) {
      this.finish(
        id,
        undefined,
        new KeyNotFoundError(
          id,
          `${C} ${this.name}: job ${id} is gone from Redis before its result was read`,
        ),
      );
      return;
    }
    if (job.finishedOn === undefined) return;
    if (job.failedReason !== undefined && job.failedReason !== '' && job.returnvalue == null) {
      this.fail(id, job.failedReason);
    } else {
      this.settle(id, job.returnvalue);
    }
  }

  private async checkPending(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const [id, entry] of this.pending) {
        if (entry.added) await this.read(id);
      }
    } catch (error) {
      this.logger.warn({ component: this.name, error }, 'result check failed');
    } finally {
      this.checking = false;
    }
  }

  private settle(id: string, result: ClusterJobResult | null | undefined): void {
    if (!this.pending.has(id)) return;
    if (result == null || typeof result !== 'object') {
      this.finish(id, undefined, new Error(`${C} ${this.name}: job ${id} returned no result`));
    } else if (result.ok) {
      this.finish(id, result.value, undefined);
    } else {
      this.finish(id, undefined, deserializeError(result.error));
    }
  }

  private fail(id: string, reason: string): void {
    if (!this.pending.has(id)) return;
    this.finish(id, undefined, new Error(`${C} ${this.name}: job ${id} failed: ${reason}`));
  }

  /** Settles a request exactly once. */
  private finish(id: string, value: unknown, error: unknown): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    entry.timer?.cancel();
    const durationMs = this.clock.now() - entry.sentAt;
    this.totals.runFinished(entry.sentAt, durationMs, error !== undefined, error);
    if (error === undefined) entry.resolve(value);
    else entry.reject(error);
    if (this.pending.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
