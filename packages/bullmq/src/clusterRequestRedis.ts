import type { Clock, Logger, Scheduler } from '@tickwork/core';
import { Queue, QueueEventsProducer } from 'bullmq';
import { Redis } from 'ioredis';
import { closeWithin } from './closeWithin.js';
import type { ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import type { CancelContext } from './clusterRequestCancel.js';
import { type ClusterLayout, readQueueSizes } from './clusterRequestLayout.js';
import { ClusterRequestStore } from './clusterRequestStore.js';
import { ClusterRequestTracker, type TrackerHooks } from './clusterRequestTracker.js';
import type { RedisConnectionOptions } from './redisConnection.js';

/**
 * @internal what a `ClusterWorkerProcess` holds in Redis: one plain
 * connection shared by its `Queue`s (one per request queue) and the
 * control queue's event producer, the store that reads requests back, and
 * the tracker with its `QueueEvents` (one blocking connection each).
 */
export class ClusterRequestRedis {
  readonly redis: Redis;
  readonly queues = new Map<string, Queue<ClusterJobData, ClusterJobResult>>();
  readonly producer: QueueEventsProducer;
  readonly store: ClusterRequestStore;
  readonly tracker: ClusterRequestTracker;
  /** Resolves once requests may go to Redis; rejects with the ConfigError of a partition mismatch. */
  readonly ready: Promise<void>;
  /** Jobs waiting in each queue, as last read. */
  readonly sizes = new Map<string, number>();
  private readonly label: string;
  private readonly logger: Logger;

  private readonly scheduler: Scheduler;

  constructor(
    label: string,
    component: string,
    layout: ClusterLayout,
    connection: RedisConnectionOptions,
    hooks: TrackerHooks,
    logger: Logger,
    clock: Clock,
    scheduler: Scheduler,
  ) {
    this.label = label;
    this.logger = logger;
    this.scheduler = scheduler;
    this.redis = new Redis({ ...connection });
    this.redis.on('error', (error) => logger.warn({ err: error }, `${label}: redis`));
    for (const name of layout.queues) {
      const queue = new Queue<ClusterJobData, ClusterJobResult>(name, {
        connection: this.redis,
        prefix: layout.prefix,
      });
      queue.on('error', (error) => logger.error({ err: error }, `${label}: queue`));
      this.queues.set(name, queue);
    }
    this.producer = new QueueEventsProducer(layout.control, {
      connection: this.redis,
      prefix: layout.prefix,
    });
    // Without a listener BullMQ prints connection errors to the console.
    this.producer.on('error', (error) => logger.warn({ err: error }, `${label}: control`));
    this.store = new ClusterRequestStore(label, layout, this.redis, this.queues, clock, scheduler);
    this.tracker = new ClusterRequestTracker(
      label,
      layout,
      connection,
      this.redis,
      this.store,
      hooks,
      logger,
      clock,
      scheduler,
    );
    const checked = layout.checkPartitions(this.redis, component);
    // Logged here; sends report the failure themselves.
    checked.catch((error: unknown) => logger.error({ err: error }, label));
    this.ready = Promise.all([checked, this.tracker.ready]).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** What canceling needs, keeping tombstones `keepMs`. */
  cancelContext(layout: ClusterLayout, keepMs: number): CancelContext {
    return {
      layout,
      redis: this.redis,
      store: this.store,
      producer: this.producer,
      queues: this.queues,
      keepMs,
    };
  }

  /** Reads the number of jobs waiting in each queue (for diagnostics). */
  async readSizes(): Promise<void> {
    await readQueueSizes(this.queues, this.sizes, this.logger, this.label);
  }

  /** Closes everything. */
  async close(): Promise<void> {
    await this.tracker.close();
    await closeWithin([this.producer, ...this.queues.values()], this.scheduler);
    this.redis.disconnect();
  }
}
