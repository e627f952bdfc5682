import { type Clock, type ItemDiagnostics, KeyNotFoundError, type Logger } from '@tickwork/core';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import type { ClusterOutcome } from './clusterRequestInfo.js';
import type { ClusterLayout } from './clusterRequestLayout.js';
import { bullPriority, type ParsedClusterAdd } from './clusterRequestOptions.js';
import { ClusterWorkerKey } from './clusterWorkerKey.js';

/**
 * @internal the BullMQ job scheduler id of a periodic key: the key with `%`
 * and `:` escaped, so scheduler job ids (`repeat:<id>:<slot>`) split back
 * into key and slot, and BullMQ never mistakes the id for a legacy
 * repeatable key (those have four `:`).
 */
export function schedulerIdOf(key: string): string {
  return key.replaceAll('%', '%25').replaceAll(':', '%3A');
}

/** @internal key and slot of a scheduler job id, or undefined for another id */
export function parseSlotJobId(jobId: string): { key: string; slotMs: number } | undefined {
  const match = /^repeat:([^:]+):(\d+)$/.exec(jobId);
  if (match === null) return undefined;
  return { key: decodeURIComponent(match[1]!), slotMs: Number(match[2]) };
}

/**
 * @internal the periodic keys of one client (`add`): each is a BullMQ job
 * scheduler (`every: periodMs`) on the base queue, upserted here and run by
 * whichever node takes each slot job; its latest value is cached on every
 * client that added it.
 */
export class ClusterWorkerKeys {
  private readonly keys = new Map<string, ClusterWorkerKey>();
  private readonly pending = new Set<Promise<void>>();
  private readonly label: string;
  private readonly layout: ClusterLayout;
  private readonly queue: Queue<ClusterJobData, ClusterJobResult>;
  private readonly redis: Redis;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly keepSeconds: number;

  constructor(
    label: string,
    layout: ClusterLayout,
    queue: Queue<ClusterJobData, ClusterJobResult>,
    redis: Redis,
    logger: Logger,
    clock: Clock,
    keepFinishedMs: number,
  ) {
    this.label = label;
    this.layout = layout;
    this.queue = queue;
    this.redis = redis;
    this.logger = logger;
    this.clock = clock;
    this.keepSeconds = Math.ceil(keepFinishedMs / 1000);
  }

  /** Adds (or replaces) `key` and upserts its scheduler after `before`. */
  add(
    key: string,
    target: string,
    args: unknown,
    options: ParsedClusterAdd,
    timeoutMs: number,
    before: Promise<void>,
  ): void {
    const existing = this.keys.get(key);
    if (existing === undefined) {
      this.keys.set(key, new ClusterWorkerKey(key, target, args, options, this.logger));
    } else {
      existing.update(target, args, options);
    }
    const data: ClusterJobData = {
      key,
      args,
      expireMs: options.expireMs,
      ...(timeoutMs > 0 ? { timeoutMs } : {}),
    };
    const age = this.keepSeconds;
    this.track(
      before.then(async () => {
        await this.queue.upsertJobScheduler(
          schedulerIdOf(key),
          { every: options.periodMs },
          {
            name: target,
            data,
            opts: {
              priority: bullPriority(options.priority),
              removeOnComplete: { age },
              removeOnFail: { age },
            },
          },
        );
        const stored = await this.redis.get(this.layout.valueKey(key));
        if (stored !== null) {
          const result = JSON.parse(stored) as ClusterJobResult;
          const now = this.clock.now();
          if (result.ok) this.keys.get(key)?.seed(result.value, result.finishedAt ?? now, now);
        }
      }),
      `could not add key "${key}"`,
    );
  }

  /** Drops `key` here and its scheduler in Redis (for every client). */
  remove(key: string): boolean {
    const k = this.keys.get(key);
    if (k === undefined) return false;
    this.keys.delete(key);
    k.dispose();
    this.track(
      (async () => {
        await this.queue.removeJobScheduler(schedulerIdOf(key));
        await this.redis.del(this.layout.valueKey(key));
      })(),
      `could not remove key "${key}"`,
    );
    return true;
  }

  /** The key, or KeyNotFoundError. */
  get(key: string): ClusterWorkerKey {
    const k = this.keys.get(key);
    if (k === undefined) {
      throw new KeyNotFoundError(key, `${this.label}: key "${key}" was not added (or was removed)`);
    }
    return k;
  }

  /** A slot job finished: the key's value or error is updated. */
  ran(jobId: string, outcome: ClusterOutcome): void {
    const slot = parseSlotJobId(jobId);
    if (slot === undefined) return;
    this.keys.get(slot.key)?.ran(outcome, slot.slotMs, this.clock.now());
  }

  /** Resolves once every scheduler upsert and removal so far is done in Redis. */
  async synced(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Restarts the keys' counters. */
  resetStats(now: number): void {
    for (const k of this.keys.values()) k.stats.reset(now);
  }

  /** One diagnostics item per key. */
  items(now: number): ItemDiagnostics[] {
    return [...this.keys.values()].map((k) => k.item(now));
  }

  /** Ends every key's stream (kill); the schedulers stay in Redis. */
  disposeAll(): void {
    for (const k of this.keys.values()) k.dispose();
    this.keys.clear();
  }

  private track(work: Promise<void>, what: string): void {
    const done = work.catch((error: unknown) => {
      this.logger.error({ err: error }, `${this.label}: ${what}`);
    });
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
  }
}
