import type { Logger, ScheduledTimer, Scheduler } from '@tickwork/core';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { CLOSE_WITHIN_MS, closeWithin, settledWithin } from './closeWithin.js';
import type { ResolvedClusterOptions } from './clusterThreadDictOptions.js';
import { blockingConnection } from './redisConnection.js';
import { parseLeaseJobId, shardOfJobName, shardSchedulerId, windowEnd } from './shardLeaseJob.js';
import type { LeaseEnd, ShardLeases } from './shardLeases.js';
import type { ValueStore } from './valueStore.js';

/** How long a lease job is given to go back to the queue on stop, ms. */
const HAND_BACK_MS = 1000;

/** What the lease worker needs from its `ClusterThreadDict`. @internal */
export interface ShardLeaseWorkerHost {
  readonly name: string;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  /** Whether the dict is running (takes leases). */
  isStarted(): boolean;
}

/**
 * The BullMQ side of the shard leases of one node: the queue holding one job
 * scheduler per shard (`every: leaseMs`, checked and re-created at start,
 * every `leaseMs` and after a reconnect), and the worker whose processor
 * claims a lease job's window and holds it while the shard is polled here.
 *
 * BullMQ 6.7 creates a scheduler's next job when the current one moves to
 * active, due at the next slot; so the window of a job runs from its slot
 * (in its id) to that next slot, which any node may take. A killed node's
 * shards are taken at their next slot, or by stall detection before.
 * @internal
 */
export class ShardLeaseWorker<V> {
  /** Schedulers this node created or repaired. */
  upserts = 0;
  private readonly queue: Queue;
  private readonly worker: Worker;
  private timer: ScheduledTimer | undefined;
  private reconciling: Promise<void> | undefined;
  private processing = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly o: ResolvedClusterOptions<V>,
    private readonly leases: ShardLeases<V>,
    private readonly store: ValueStore,
    private readonly host: ShardLeaseWorkerHost,
  ) {
    const { connection, prefix, queueName, shards } = o;
    this.queue = new Queue(queueName, { connection: { ...connection }, prefix });
    this.queue.on('error', (error) => host.logger.warn({ component: host.name, error }, 'queue'));
    this.worker = new Worker(queueName, (job, token) => this.process(job, token), {
      connection: blockingConnection(connection),
      prefix,
      // Every shard, plus the overlap of consecutive windows of each.
      concurrency: 2 * shards + 2,
      autorun: false,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: 1,
      // BullMQ waits 15 s after a connection error by default: too long for a lease.
      runRetryDelay: Math.min(1000, o.leaseMs / 4),
    });
    this.worker.on('error', (error) => host.logger.warn({ component: host.name, error }, 'worker'));
    this.worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) {
        const job = parseLeaseJobId(id);
        if (job !== undefined) this.leases.lockLost(job.shard, job.slot);
      }
    });
  }

  /** Takes lease jobs (again) and keeps the schedulers in place. */
  start(): void {
    if (this.worker.isPaused()) {
      this.worker.resume();
    } else if (!this.worker.isRunning()) {
      this.worker.run().catch((error: unknown) => {
        this.host.logger.error({ component: this.host.name, error }, 'worker stopped');
      });
    }
    this.timer?.cancel();
    this.timer = this.host.scheduler.every(this.o.leaseMs, () => void this.reconcile());
    void this.reconcile();
  }

  /** Takes no more lease jobs (the held ones are released by the owner). */
  stop(): void {
    this.timer?.cancel();
    this.worker.pause(true).catch((error: unknown) => {
      this.host.logger.warn({ component: this.host.name, error }, 'pause failed');
    });
  }

  /** Closes the worker (once its jobs returned) and the queue. */
  async close(): Promise<void> {
    this.timer?.cancel();
    await closeWithin([this.worker], this.host.scheduler);
    await settledWithin(
      this.reconciling ?? Promise.resolve(),
      CLOSE_WITHIN_MS,
      this.host.scheduler.clock,
      this.host.scheduler,
    );
    await closeWithin([this.queue], this.host.scheduler);
  }

  /** Resolves once no lease job is being processed. */
  whenIdle(): Promise<void> {
    if (this.processing === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Creates the shard schedulers that are missing (a new or emptied Redis),
   * have another `every`, or are stuck (next slot long past: its job lost).
   * One check at a time; never rejects.
   */
  reconcile(): Promise<void> {
    if (!this.host.isStarted()) return Promise.resolve();
    this.reconciling ??= this.check().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async check(): Promise<void> {
    const { leaseMs, graceMs, shards } = this.o;
    try {
      const late = this.host.scheduler.clock.now() - (leaseMs + graceMs + 1000);
      const checks: Promise<void>[] = [];
      for (let shard = 0; shard < shards; shard++) {
        checks.push(
          (async () => {
            const id = shardSchedulerId(shard);
            const stored = await this.queue.getJobScheduler(id);
            const fine =
              stored !== undefined &&
              Number(stored.every) === leaseMs &&
              !(Number(stored.next) < late);
            if (fine) return;
            await this.queue.upsertJobScheduler(
              id,
              { every: leaseMs },
              { name: id, data: { shard }, opts: { removeOnComplete: true, removeOnFail: true } },
            );
            this.upserts++;
          })(),
        );
      }
      await Promise.all(checks);
    } catch (error) {
      this.host.logger.warn({ component: this.host.name, error }, 'scheduler check failed');
    }
  }

  /** The processor: claims the job's window and polls the shard for it. */
  private async process(job: Job, token: string | undefined): Promise<string> {
    // For `every` schedulers BullMQ 6.7 keeps the slot only in the job id
    // (`opts.prevMillis` is unset): `repeat:shard-<n>:<slot ms>`.
    const parsed = parseLeaseJobId(job.id ?? '');
    const shard = parsed?.shard ?? shardOfJobName(job.name);
    if (shard === undefined || shard >= this.o.shards) return 'not a shard of this dict';
    const clock = this.host.scheduler.clock;
    this.processing++;
    try {
      if (!this.host.isStarted()) return await this.handBack(job, token, 'stopped');
      const slot = parsed?.slot ?? job.timestamp;
      const now = clock.now();
      const end = windowEnd(slot, this.o.leaseMs, job.processedOn ?? now);
      if (now >= end) return 'late';
      const ttlMs = end + this.o.graceMs - now + this.o.leaseMs;
      const claim = await this.store.claim(shard, slot, ttlMs);
      if (claim !== true) return `superseded by ${claim}`;
      if (!this.host.isStarted()) return await this.handBack(job, token, 'stopped');
      const lease = this.leases.acquire(shard, slot, end, clock.now());
      if (lease === 'stale') return 'stale';
      const outcome: LeaseEnd = await lease;
      return outcome === 'released' ? await this.handBack(job, token, outcome) : outcome;
    } finally {
      this.processing--;
      if (this.processing === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  /**
   * Gives a lease job this node stops holding back to the queue (due now),
   * so another node polls the rest of its window; throws BullMQ's
   * DelayedError when done, else returns `outcome`.
   */
  private async handBack(job: Job, token: string | undefined, outcome: string): Promise<string> {
    if (token === undefined) return outcome;
    const scheduler = this.host.scheduler;
    let timer: ScheduledTimer | undefined;
    try {
      await Promise.race([
        job.moveToDelayed(scheduler.clock.now(), token),
        new Promise((_, reject) => {
          timer = scheduler.at(scheduler.clock.now() + HAND_BACK_MS, () =>
            reject(new Error('hand back timed out')),
          );
        }),
      ]);
    } catch (error) {
      this.host.logger.warn({ component: this.host.name, job: job.id, error }, 'hand back failed');
      return outcome;
    } finally {
      timer?.cancel();
    }
    throw new DelayedError();
  }
}
