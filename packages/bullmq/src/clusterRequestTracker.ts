import { AbortError, type Clock, type Logger, type Scheduler } from '@tickwork/core';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeWithin } from './closeWithin.js';
import type { ClusterJobResult } from './clusterRequest.js';
import type { ClusterOutcome } from './clusterRequestInfo.js';
import { CANCEL_EVENT, type ClusterLayout, STOP_GROUP_EVENT } from './clusterRequestLayout.js';
import { type ClusterRequestStore, outcomeOf, tombstoneOutcome } from './clusterRequestStore.js';
import { blockingConnection, type RedisConnectionOptions } from './redisConnection.js';

/** @internal what the tracker reports besides the outcomes of watched jobs */
export interface TrackerHooks {
  /** A periodic-key job (`repeat:<key>:<slot>`) finished. */
  onPeriodic(jobId: string, outcome: ClusterOutcome): void;
  /** Some client stopped a group. */
  onStopGroup(group: string, message: string): void;
}

interface Watch {
  readonly queue: string;
  /** Whether the job is known to be in Redis, so the fallback read may conclude. */
  added: boolean;
  readonly listeners: Set<(outcome: ClusterOutcome) => void>;
  readonly onActive: Set<(at: number) => void>;
}

/** How many jobs the fallback check reads at once. */
const CHECK_BATCH = 64;

/**
 * @internal learns the outcomes of jobs: `QueueEvents` on every request
 * queue (`completed`, `failed`, `active`) and on the control queue (cancels
 * of queued requests, stopped groups), plus a fallback read of the watched
 * jobs for events missed during a reconnect. Each `QueueEvents` starts from
 * the stream's last entry read *before* it is created, so nothing published
 * after {@link ClusterRequestTracker.ready} is missed.
 */
export class ClusterRequestTracker {
  /** Resolves once every event stream is being read from a known point; never rejects. */
  readonly ready: Promise<void>;
  private readonly label: string;
  private readonly layout: ClusterLayout;
  private readonly redis: Redis;
  private readonly store: ClusterRequestStore;
  private readonly hooks: TrackerHooks;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly watches = new Map<string, Watch>();
  private readonly events: QueueEvents[] = [];
  private checking = false;
  private closed = false;

  constructor(
    label: string,
    layout: ClusterLayout,
    connection: RedisConnectionOptions,
    redis: Redis,
    store: ClusterRequestStore,
    hooks: TrackerHooks,
    logger: Logger,
    clock: Clock,
    scheduler: Scheduler,
  ) {
    this.label = label;
    this.layout = layout;
    this.redis = redis;
    this.store = store;
    this.hooks = hooks;
    this.logger = logger;
    this.clock = clock;
    this.scheduler = scheduler;
    const names = [...layout.queues, layout.control];
    this.ready = Promise.all(names.map((q) => this.open(q, connection))).then(() => undefined);
  }

  /** Jobs watched now. */
  get size(): number {
    return this.watches.size;
  }

  /**
   * Calls `listener` once with the outcome of job `jobId` of `queue` (and
   * `onActive` each time a node starts it). Returns the way to stop watching.
   */
  watch(
    jobId: string,
    queue: string,
    listener: (outcome: ClusterOutcome) => void,
    onActive?: (at: number) => void,
    added = false,
  ): () => void {
    let w = this.watches.get(jobId);
    if (w === undefined) {
      w = { queue, added, listeners: new Set(), onActive: new Set() };
      this.watches.set(jobId, w);
    }
    if (added) w.added = true;
    const watch = w;
    watch.listeners.add(listener);
    if (onActive !== undefined) watch.onActive.add(onActive);
    return () => {
      watch.listeners.delete(listener);
      if (onActive !== undefined) watch.onActive.delete(onActive);
      if (watch.listeners.size === 0 && this.watches.get(jobId) === watch) {
        this.watches.delete(jobId);
      }
    };
  }

  /** The outcome of job `jobId` of `queue` (known to be in Redis), once it finishes. */
  outcomeOf(jobId: string, queue: string): Promise<ClusterOutcome> {
    return new Promise((resolve) => {
      this.watch(jobId, queue, resolve, undefined, true);
      void this.checkOne(jobId, queue).catch(() => undefined);
    });
  }

  /** The job is in Redis: the fallback read may now settle it. */
  markAdded(jobId: string): void {
    const w = this.watches.get(jobId);
    if (w !== undefined) w.added = true;
  }

  /** Hands `outcome` to every watcher of `jobId`, once. */
  deliver(jobId: string, outcome: ClusterOutcome): void {
    const w = this.watches.get(jobId);
    if (w === undefined) return;
    this.watches.delete(jobId);
    for (const listener of w.listeners) listener(outcome);
  }

  /** Reads the watched jobs that are in Redis and settles those that finished or vanished. */
  async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      const due = [...this.watches].filter(([, w]) => w.added);
      for (let i = 0; i < due.length && !this.closed; i += CHECK_BATCH) {
        const batch = due.slice(i, i + CHECK_BATCH);
        await Promise.all(batch.map(([id, w]) => this.checkOne(id, w.queue)));
      }
    } catch (error) {
      this.logger.warn({ err: error }, `${this.label}: result check failed`);
    } finally {
      this.checking = false;
    }
  }

  /** Settles `jobId` from Redis if it finished (or is gone). */
  async checkOne(jobId: string, queue: string): Promise<void> {
    const job = await this.store.job(queue, jobId);
    if (job === undefined) {
      const t = await this.store.tombstone(jobId);
      this.deliver(jobId, t === undefined ? this.store.gone(jobId) : tombstoneOutcome(t));
    } else if (job.finishedOn !== undefined && job.finishedOn > 0) {
      const outcome = outcomeOf(
        this.label,
        jobId,
        job.returnvalue,
        job.failedReason,
        job.attemptsStarted,
      );
      this.deliver(jobId, outcome);
    }
  }

  /** Stops reading events. */
  async close(): Promise<void> {
    // Not waiting for `ready`: with Redis down it may take long; streams opened later see `closed`.
    this.closed = true;
    await closeWithin(this.events, this.scheduler);
  }

  private async open(queue: string, connection: RedisConnectionOptions): Promise<void> {
    let lastEventId = '$';
    try {
      const key = `${this.layout.prefix}:${queue}:events`;
      const last = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
      lastEventId = last[0]?.[0] ?? '0';
    } catch (error) {
      // Redis unreachable now: read from whenever the events connection gets through.
      this.logger.warn({ err: error, queue }, `${this.label}: could not read the event stream`);
    }
    if (this.closed) return;
    const events = new QueueEvents(queue, {
      connection: blockingConnection(connection),
      prefix: this.layout.prefix,
      lastEventId,
    });
    this.events.push(events);
    events.on('error', (error) =>
      this.logger.error({ err: error, queue }, `${this.label}: events`),
    );
    if (queue === this.layout.control) this.listenControl(events);
    else this.listenRequests(events);
    try {
      await events.waitUntilReady();
    } catch {
      // The connection is retried by ioredis and the fallback read covers the gap.
    }
  }

  private listenRequests(events: QueueEvents): void {
    events.on('completed', ({ jobId, returnvalue }) => {
      const result = returnvalue as unknown as ClusterJobResult;
      this.finished(jobId, outcomeOf(this.label, jobId, result, undefined));
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.finished(jobId, outcomeOf(this.label, jobId, undefined, failedReason));
    });
    events.on('active', ({ jobId }) => {
      const w = this.watches.get(jobId);
      if (w === undefined) return;
      const now = this.clock.now();
      for (const onActive of w.onActive) onActive(now);
    });
  }

  private listenControl(events: QueueEvents): void {
    const on = events.on.bind(events) as (
      event: string,
      listener: (args: Record<string, string | undefined>) => void,
    ) => QueueEvents;
    on(CANCEL_EVENT, (args) => {
      // A running request is settled when its node reports it; a removed one only here.
      if (args['removed'] !== '1' || args['jobId'] === undefined) return;
      const message = args['message'] ?? `${this.label}: request ${args['jobId']} was canceled`;
      this.deliver(args['jobId'], { state: 'canceled', error: new AbortError(message) });
    });
    on(STOP_GROUP_EVENT, (args) => {
      if (args['group'] !== undefined) this.hooks.onStopGroup(args['group'], args['message'] ?? '');
    });
  }

  private finished(jobId: string, outcome: ClusterOutcome): void {
    if (jobId.startsWith('repeat:')) this.hooks.onPeriodic(jobId, outcome);
    this.deliver(jobId, outcome);
  }
}
