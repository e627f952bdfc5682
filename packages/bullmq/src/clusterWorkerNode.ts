import {
  type ComponentDiagnostics,
  type ComponentOptions,
  ConfigError,
  checkFunction,
  checkInteger,
  checkOptions,
  KeyNotFoundError,
  Lifecycle,
  Stats,
  StoppedError,
  serializeError,
} from '@tickwork/core';
import { type Job, Worker } from 'bullmq';
import type { ClusterHandlers, ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import { clusterQueueName } from './clusterWorkerProcess.js';
import {
  blockingConnection,
  checkConnection,
  type RedisConnectionOptions,
} from './redisConnection.js';

/** Options of {@link ClusterWorkerNode}. */
export interface ClusterWorkerNodeOptions<H extends ClusterHandlers> extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /** Handlers by target name. Required. */
  handlers: H;
  /** Queue name shared with the `ClusterWorkerProcess` clients. @defaultValue `'tickwork-requests'` */
  queueName?: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /** Requests this node runs at once. @defaultValue 16 */
  concurrency?: number;
  /** Start taking requests at once. @defaultValue true */
  start?: boolean;
}

const C = 'ClusterWorkerNode';

/**
 * The node side of {@link ClusterWorkerProcess}: a BullMQ `Worker` that takes
 * request jobs from the queue and runs the named handler in this process.
 * A handler's error goes back to the caller with its class and code.
 *
 * @example
 * ```ts
 * const node = new ClusterWorkerNode({
 *   connection: { host: '10.0.0.5', port: 6379 },
 *   handlers: { peak: (samples: number[]) => Math.max(...samples) },
 * });
 * ```
 */
export class ClusterWorkerNode<H extends ClusterHandlers = ClusterHandlers> extends Lifecycle {
  private readonly handlers: H;
  private readonly statsByTarget = new Map<string, Stats>();
  private readonly totals = new Stats();
  private readonly controllers = new Set<AbortController>();
  private readonly worker: Worker<ClusterJobData, ClusterJobResult>;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param options - see {@link ClusterWorkerNodeOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterWorkerNodeOptions<H>) {
    const o = checkOptions(C, 'options', options);
    const connection = checkConnection(C, o.connection);
    if (o.handlers === undefined) {
      throw new ConfigError(`${C}: options.handlers is required`, 'options.handlers');
    }
    const handlers = checkOptions(C, 'options.handlers', o.handlers);
    for (const [target, handler] of Object.entries(handlers)) {
      checkFunction(C, `options.handlers.${target}`, handler);
    }
    const queueName = clusterQueueName(C, o.queueName);
    const concurrency = checkInteger(C, 'options.concurrency', o.concurrency ?? 16, {
      min: 1,
      max: 10_000,
    });
    super(C, options);
    this.handlers = handlers as H;
    this.worker = new Worker<ClusterJobData, ClusterJobResult>(
      queueName,
      (job) => this.process(job),
      {
        connection: blockingConnection(connection),
        prefix: o.prefix,
        concurrency,
        autorun: false,
      },
    );
    this.worker.on('error', (error) =>
      this.logger.error({ component: this.name, error }, 'worker'),
    );
    if (o.start ?? true) this.start();
  }

  /** Requests running on this node now. */
  get running(): number {
    return this.inFlight;
  }

  /** Diagnostics: totals and one item per target (delay = time queued). */
  diagnostics(): ComponentDiagnostics {
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.totals.snapshot(),
      items: [...this.statsByTarget].map(([name, stats]) => ({ name, stats: stats.snapshot() })),
      detail: { running: this.inFlight },
    };
  }

  protected onStart(): void {
    this.totals.reset(this.clock.now());
    if (this.worker.isPaused()) {
      this.worker.resume().catch((error: unknown) => {
        this.logger.warn({ component: this.name, error }, 'resume failed');
      });
    } else if (!this.worker.isRunning()) {
      this.worker.run().catch((error: unknown) => {
        this.logger.error({ component: this.name, error }, 'worker stopped');
      });
    }
  }

  protected onStop(): void {
    this.worker.pause(true).catch((error: unknown) => {
      this.logger.warn({ component: this.name, error }, 'pause failed');
    });
  }

  protected async onKill(): Promise<void> {
    for (const controller of this.controllers) {
      controller.abort(new StoppedError(`${C} ${this.name}: killed`));
    }
    await this.worker.close();
  }

  protected whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private statsOf(target: string): Stats {
    let stats = this.statsByTarget.get(target);
    if (stats === undefined) {
      stats = new Stats();
      stats.reset(this.clock.now());
      this.statsByTarget.set(target, stats);
    }
    return stats;
  }

  private async process(job: Job<ClusterJobData, ClusterJobResult>): Promise<ClusterJobResult> {
    const target = job.name;
    const handler = Object.hasOwn(this.handlers, target) ? this.handlers[target] : undefined;
    if (handler === undefined) {
      // A failed job, not a result: another node may know the target.
      throw new KeyNotFoundError(target, `${C} ${this.name}: no handler named "${target}"`);
    }
    const stats = this.statsOf(target);
    const startedAt = this.clock.now();
    stats.runStarted(job.timestamp, startedAt);
    this.totals.runStarted(job.timestamp, startedAt);
    const controller = new AbortController();
    this.controllers.add(controller);
    this.inFlight++;
    let result: ClusterJobResult;
    try {
      const value = await (handler as (args: unknown, context: unknown) => unknown)(job.data.args, {
        id: job.id ?? '',
        key: job.data.key,
        target,
        attempt: job.attemptsStarted,
        signal: controller.signal,
      });
      result = { ok: true, value };
    } catch (error) {
      result = { ok: false, error: serializeError(error) };
    } finally {
      this.controllers.delete(controller);
      this.inFlight--;
    }
    const durationMs = this.clock.now() - startedAt;
    const error = result.ok ? undefined : result.error;
    stats.runFinished(startedAt, durationMs, !result.ok, error);
    this.totals.runFinished(startedAt, durationMs, !result.ok, error);
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    return result;
  }
}
