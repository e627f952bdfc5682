import {
  AbortError,
  type ComponentDiagnostics,
  KeyNotFoundError,
  Lifecycle,
  type ScheduledTimer,
  StoppedError,
  serializeError,
} from '@tickwork/core';
import { type Job, Queue, QueueEvents, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { closeWithin, settledWithin } from './closeWithin.js';
import type { ClusterHandlers, ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import { DEFAULT_KEEP_FINISHED_MS } from './clusterRequestJob.js';
import { CANCEL_EVENT, type ClusterLayout, readQueueSizes } from './clusterRequestLayout.js';
import { ClusterTargetStats } from './clusterRequestStats.js';
import { type ClusterWorkerNodeOptions, parseNodeOptions } from './clusterWorkerNodeOptions.js';
import {
  type ClusterWorkerPool,
  LazyAbort,
  type RunEnd,
  runUntilAborted,
} from './clusterWorkerRun.js';
import { blockingConnection } from './redisConnection.js';

// Kept for the first slice's import path; the type lives in clusterWorkerNodeOptions.ts.
export type { ClusterWorkerNodeOptions } from './clusterWorkerNodeOptions.js';

const C = 'ClusterWorkerNode';

/**
 * For this long after the node starts reading the control stream, and for
 * redelivered jobs, a run also asks Redis for the request's tombstone: a
 * cancel published before the node listened is not in its stream. Past it,
 * the cancels the node read are enough (the stream resumes from its last id
 * after a reconnect), which saves two Redis round trips per request.
 */
const LISTEN_GRACE_MS = 5_000;
/** Cancels remembered, at most (oldest dropped first). */
const CANCELS_KEPT = 10_000;

/**
 * The node side of {@link ClusterWorkerProcess}: BullMQ `Worker`s on the
 * request queue (and its partitions) that run the named handler in this
 * process, or in a `WorkerProcess` thread pool. Cancels reach the node that
 * runs a request through the control queue's event stream; a request whose
 * tombstone is set is never started. `kill()` hands running requests back to
 * the queue for another node.
 *
 * @example
 * ```ts
 * const node = new ClusterWorkerNode({
 *   connection: { host: '10.0.0.5', port: 6379 },
 *   handlers: { peak: (samples: number[]) => Math.max(...samples) },
 *   pool, // targets not in handlers run in this WorkerProcess's threads
 * });
 * ```
 */
export class ClusterWorkerNode<H extends ClusterHandlers = ClusterHandlers> extends Lifecycle {
  private readonly handlers: H;
  private readonly pool: ClusterWorkerPool | undefined;
  private readonly layout: ClusterLayout;
  private readonly redis: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker<ClusterJobData, ClusterJobResult>[] = [];
  private readonly control: QueueEvents;
  private readonly stats: ClusterTargetStats;
  private readonly runs = new Map<string, LazyAbort>();
  /** Ids canceled through the control stream since the node started listening. */
  private readonly canceled = new Set<string>();
  /** When the control stream was ready (epoch ms); NaN before. */
  private listeningSince = Number.NaN;
  private readonly readiness: Promise<void>;
  private readonly sizes = new Map<string, number>();
  private sizeTimer: ScheduledTimer | undefined;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param options - see {@link ClusterWorkerNodeOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterWorkerNodeOptions<H>) {
    const o = parseNodeOptions(C, options);
    super(C, options);
    const { layout, connection } = o;
    this.handlers = o.handlers;
    this.pool = o.pool;
    this.layout = layout;
    this.stats = new ClusterTargetStats(this.clock.now());
    this.redis = new Redis({ ...connection });
    this.redis.on('error', (error) => this.logger.warn({ err: error }, `${this.label}: redis`));
    for (const name of layout.queues) {
      const queue = new Queue(name, { connection: this.redis, prefix: layout.prefix });
      // Without a listener BullMQ prints connection errors to the console.
      queue.on('error', (error) => this.logger.warn({ err: error }, `${this.label}: queue`));
      this.queues.set(name, queue);
      const worker = new Worker<ClusterJobData, ClusterJobResult>(
        name,
        // Two parameters: BullMQ makes an AbortController per job for a processor
        // taking a third (its signal), aborted only by Worker.cancelJob, which
        // this node never calls (cancels come through the control stream).
        (job, token) => this.process(job, token),
        {
          connection: blockingConnection(connection),
          prefix: layout.prefix,
          // A partition runs one request at a time anyway (global concurrency 1).
          concurrency: layout.isPartition(name) ? 1 : o.concurrency,
          // BullMQ wakes no other worker when a job of a maxed queue ends, so idle nodes poll
          // partitions every second (not every 5 s) to take over from a node that stopped.
          ...(layout.isPartition(name) ? { drainDelay: 1 } : {}),
          // The default keep of finished requests; a client keeping them longer or
          // shorter sets it on its jobs, which wins.
          removeOnComplete: { age: DEFAULT_KEEP_FINISHED_MS / 1000 },
          removeOnFail: { age: DEFAULT_KEEP_FINISHED_MS / 1000 },
          lockDuration: o.lockDurationMs,
          stalledInterval: o.stalledIntervalMs,
          maxStalledCount: o.maxStalledCount,
          autorun: false,
        },
      );
      worker.on('error', (error) => this.logger.error({ err: error }, `${this.label}: worker`));
      this.workers.push(worker);
    }
    this.control = new QueueEvents(layout.control, {
      connection: blockingConnection(connection),
      prefix: layout.prefix,
    });
    this.control.on('error', (error) => this.logger.error({ err: error }, `${this.label}: events`));
    const on = this.control.on.bind(this.control) as (
      event: string,
      listener: (args: Record<string, string | undefined>) => void,
    ) => QueueEvents;
    on(CANCEL_EVENT, (args) => this.onCancel(args['jobId'], args['message']));
    this.control.waitUntilReady().then(
      () => {
        this.listeningSince = this.clock.now();
      },
      () => undefined,
    );
    this.readiness = this.prepare();
    // Marked handled: a failure is reported by ready() and logged, never unhandled.
    this.readiness.catch((error: unknown) => this.logger.error({ err: error }, `${this.label}`));
    if (o.start) this.start();
  }

  /** Requests running on this node now. */
  get running(): number {
    return this.runs.size;
  }

  /**
   * Resolves once the node is connected and takes requests (its partition
   * count checked against Redis, partitions set to global concurrency 1).
   *
   * @throws (rejects) ConfigError when `partitions` differs from the queue's
   */
  async ready(): Promise<void> {
    await this.readiness;
    await Promise.all([
      ...this.workers.map((w) => w.waitUntilReady()),
      this.control.waitUntilReady(),
    ]);
  }

  /** Same as `stop()`: this node stops taking requests; running ones finish. */
  pause(options?: { timeoutMs?: number }): Promise<boolean> {
    return this.stop(options);
  }

  /** Same as `start()`. */
  resume(): this {
    return this.start();
  }

  /**
   * Diagnostics: totals and one item per target, `target:<name>` (duration
   * = run time, lateness = queue wait; detail counts by terminal state),
   * plus the queue sizes last read from Redis.
   */
  diagnostics(): ComponentDiagnostics {
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.stats.totals.stats.snapshot(),
      items: this.stats.items(),
      detail: {
        ...this.stats.totals.detail(),
        running: this.runs.size,
        partitions: this.layout.partitions,
        queueSizes: Object.fromEntries(this.sizes),
      },
    };
  }

  protected onStart(): void {
    this.stats.reset(this.clock.now());
    this.readiness.then(
      () => {
        if (!this.isStarted()) return;
        for (const worker of this.workers) {
          if (worker.isPaused()) worker.resume();
          else if (!worker.isRunning()) {
            worker.run().catch((error: unknown) => {
              this.logger.error({ err: error }, `${this.label}: worker stopped`);
            });
          }
        }
      },
      () => undefined,
    );
    this.sizeTimer = this.scheduler.every(1_000, () => void this.readSizes());
  }

  protected onStop(): void {
    this.sizeTimer?.cancel();
    for (const worker of this.workers) {
      worker.pause(true).catch((error: unknown) => {
        this.logger.warn({ err: error }, `${this.label}: pause failed`);
      });
    }
  }

  protected async onKill(): Promise<void> {
    this.sizeTimer?.cancel();
    for (const run of this.runs.values()) {
      run.abort(new StoppedError(`${this.label}: killed`));
    }
    await settledWithin(this.readiness, 1_000, this.clock, this.scheduler);
    await closeWithin([...this.workers, this.control, ...this.queues.values()], this.scheduler);
    this.redis.disconnect();
  }

  protected whenIdle(): Promise<void> {
    if (this.runs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private get label(): string {
    return `${C} ${this.name}`;
  }

  private async prepare(): Promise<void> {
    await this.layout.checkPartitions(this.redis, C);
    for (const name of this.layout.queues) {
      if (this.layout.isPartition(name)) await this.queues.get(name)!.setGlobalConcurrency(1);
    }
  }

  private async readSizes(): Promise<void> {
    await readQueueSizes(this.queues, this.sizes, this.logger, this.label);
  }

  private onCancel(jobId: string | undefined, message: string | undefined): void {
    if (jobId === undefined) return;
    // Remembered even when not running here: the job may be about to start.
    this.canceled.add(jobId);
    if (this.canceled.size > CANCELS_KEPT) {
      this.canceled.delete(this.canceled.values().next().value as string);
    }
    this.runs
      .get(jobId)
      ?.abort(new AbortError(message ?? `${this.label}: request ${jobId} canceled`));
  }

  /**
   * Whether request `id` was canceled: a cancel read from the control stream,
   * or, when the stream cannot be trusted to hold it (`askRedis`), a tombstone.
   */
  private async isCanceled(id: string, askRedis: boolean): Promise<boolean> {
    if (this.canceled.has(id)) return true;
    if (!askRedis) return false;
    return (await this.redis.exists(this.layout.tombstoneKey(id))) === 1;
  }

  private invoker(job: Job<ClusterJobData, ClusterJobResult>, run: LazyAbort): () => unknown {
    const target = job.name;
    const { key, args, timeoutMs } = job.data;
    const handler = Object.hasOwn(this.handlers, target) ? this.handlers[target] : undefined;
    if (handler !== undefined) {
      const context = {
        id: job.id ?? '',
        key,
        target,
        attempt: job.attemptsStarted,
        upstream: job.data.upstream ?? [],
        get signal(): AbortSignal {
          return run.signal;
        },
      };
      return () => (handler as (a: unknown, c: unknown) => unknown)(args, context);
    }
    const pool = this.pool;
    if (pool === undefined) {
      return () => {
        throw new KeyNotFoundError(target, `${this.label}: no handler named "${target}"`);
      };
    }
    const priority = job.priority === 0 ? undefined : 2 ** 20 - job.priority;
    return () =>
      pool.send(key, target, args, {
        signal: run.signal,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(priority === undefined ? {} : { priority }),
      });
  }

  private async process(
    job: Job<ClusterJobData, ClusterJobResult>,
    token: string | undefined,
  ): Promise<ClusterJobResult> {
    const id = job.id ?? '';
    const target = job.name;
    const ready = job.opts.prevMillis ?? job.timestamp + (job.delay ?? 0);
    const what = `${this.label}: request ${id} (target "${target}")`;
    const run = new LazyAbort();
    this.runs.set(id, run);
    const stats = this.stats.of(target);
    const startedAt = this.clock.now();
    stats.started(ready, startedAt);
    // Redelivered, or possibly canceled before this node listened: ask Redis too.
    const askRedis =
      job.attemptsStarted > 1 ||
      !(startedAt - this.listeningSince >= LISTEN_GRACE_MS) ||
      job.stalledCounter > 0;
    let end: RunEnd;
    try {
      end = (await this.isCanceled(id, askRedis))
        ? { kind: 'result', result: canceledResult(what, startedAt, this.clock.now()) }
        : await runUntilAborted(
            this.invoker(job, run),
            run,
            job.data.timeoutMs ?? 0,
            this.clock,
            this.scheduler,
            what,
          );
      // A cancel that came while the handler ran wins even if the handler ignored its signal.
      if (end.kind === 'result' && end.result.ok && (await this.isCanceled(id, askRedis))) {
        end = { kind: 'result', result: canceledResult(what, startedAt, this.clock.now()) };
      }
    } catch (error) {
      // Redis failed around the run: report it as the run's failure rather than lose the job.
      end = {
        kind: 'result',
        result: {
          ok: false,
          error: serializeError(error),
          startedAt,
          finishedAt: this.clock.now(),
        },
      };
    } finally {
      this.runs.delete(id);
    }
    if (end.kind === 'handback') stats.finished(undefined, startedAt, this.clock.now());
    else {
      const r = end.result;
      const error = r.ok ? undefined : r.error;
      stats.finished(
        r.ok ? 'completed' : (r.state ?? 'failed'),
        startedAt,
        this.clock.now(),
        error,
      );
    }
    this.wakeIdle();
    if (end.kind === 'handback') {
      // Killed: another node takes it (at-least-once). If this fails, the stall check does it.
      await job.moveToWait(token).catch(() => undefined);
      throw new WaitingError();
    }
    const result = { ...end.result, node: this.name };
    if (result.ok && job.data.expireMs !== undefined) await this.storeValue(job, result);
    return result;
  }

  /** The latest value of a periodic key, for clients that add it later (their first `get`). */
  private async storeValue(
    job: Job<ClusterJobData, ClusterJobResult>,
    result: ClusterJobResult,
  ): Promise<void> {
    try {
      const key = this.layout.valueKey(job.data.key);
      await this.redis.set(key, JSON.stringify(result), 'PX', Math.max(1, job.data.expireMs ?? 1));
    } catch (error) {
      this.logger.warn({ err: error }, `${this.label}: could not store the value of a key`);
    }
  }

  private wakeIdle(): void {
    if (this.runs.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function canceledResult(what: string, startedAt: number, finishedAt: number): ClusterJobResult {
  const error = serializeError(new AbortError(`${what} was canceled`));
  return { ok: false, error, state: 'canceled', startedAt, finishedAt };
}
