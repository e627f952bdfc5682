import { ConfigError, checkInteger, checkString, type Logger } from '@tickwork/core';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Name of the custom event asking nodes to abort a running request (and clients to settle it). */
export const CANCEL_EVENT = 'tw-cancel';
/** Name of the custom event asking clients to cancel their held requests of a group. */
export const STOP_GROUP_EVENT = 'tw-stop-group';
/** BullMQ's default stream length, kept when publishing custom events. */
export const MAX_EVENTS = 10_000;

/**
 * @internal where the requests of one `ClusterWorkerProcess` queue live in
 * Redis, shared by clients and nodes: the base queue (commands, periodic
 * keys, and keyed requests without `partitions`), one queue per partition
 * (keyed requests when `partitions > 0`, each with BullMQ global concurrency
 * 1, so one key's requests run one at a time in order), the control queue
 * whose event stream carries cancels, and a few keys of our own.
 */
export class ClusterLayout {
  /** The base queue name. */
  readonly base: string;
  /** BullMQ key prefix. */
  readonly prefix: string;
  /** Partition queues (0: none). */
  readonly partitions: number;
  /** Queue whose event stream carries the custom control events. */
  readonly control: string;
  /** Every request queue: base first, then the partitions. */
  readonly queues: readonly string[];

  constructor(base: string, prefix: string | undefined, partitions: number) {
    this.base = base;
    this.prefix = prefix ?? 'bull';
    this.partitions = partitions;
    this.control = `${base}-control`;
    this.queues = [base, ...Array.from({ length: partitions }, (_, i) => `${base}-p${i}`)];
  }

  /** The queue of a request with `key` (`''`: a command, always the base queue). */
  queueOf(key: string): string {
    if (this.partitions === 0 || key === '') return this.base;
    return this.queues[1 + (fnv1a(key) % this.partitions)]!;
  }

  /** Whether `queue` is a partition queue (strictly ordered). */
  isPartition(queue: string): boolean {
    return queue !== this.base;
  }

  /** Key of the tombstone of a canceled request: readers find it once the job is removed. */
  tombstoneKey(id: string): string {
    return `${this.prefix}:${this.base}:tw:canceled:${id}`;
  }

  /** Key of the latest value of a periodic key, written by the node that ran it. */
  valueKey(key: string): string {
    return `${this.prefix}:${this.base}:tw:value:${key}`;
  }

  /** Key recording the partition count every client and node must agree on. */
  get partitionsKey(): string {
    return `${this.prefix}:${this.base}:tw:partitions`;
  }

  /**
   * Records this partition count in Redis unless one is there, and fails
   * when another one is: a client and a node disagreeing would leave
   * requests on queues nobody serves.
   */
  async checkPartitions(redis: Redis, component: string): Promise<void> {
    await redis.set(this.partitionsKey, String(this.partitions), 'NX');
    const stored = await redis.get(this.partitionsKey);
    if (stored !== null && Number(stored) !== this.partitions) {
      throw new ConfigError(
        `${component}: options.partitions is ${this.partitions} but queue "${this.base}" uses ${stored} ` +
          `(every client and node of a queue must agree; to change it, drain the queues and delete ${this.partitionsKey})`,
        'options.partitions',
      );
    }
  }
}

/** FNV-1a over UTF-16 code units: the same partition for a key on every machine. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** @internal validates a request queue name (shared by client and node) */
export function clusterQueueName(component: string, value: unknown): string {
  const name = checkString(component, 'options.queueName', value ?? 'tickwork-requests');
  if (name.includes(':')) {
    throw new ConfigError(
      `${component}: options.queueName must not contain ":" (got ${JSON.stringify(name)})`,
      'options.queueName',
    );
  }
  return name;
}

/** @internal validates `options.partitions` (0: no per-key ordering) */
export function clusterPartitions(component: string, value: unknown): number {
  return checkInteger(component, 'options.partitions', value ?? 0, { min: 0, max: 1024 });
}

/** @internal a request id usable as a BullMQ job id */
export function checkRequestId(component: string, path: string, value: unknown): string {
  const id = checkString(component, path, value);
  if (id.includes(':') || /^\d+$/.test(id)) {
    throw new ConfigError(
      `${component}: ${path} must not be all digits or contain ":" (BullMQ reserves those; got ${JSON.stringify(id)})`,
      path,
    );
  }
  return id;
}

/**
 * @internal reads the jobs waiting (plain, prioritized, delayed) in each of
 * `queues` into `sizes`, for diagnostics; a failure is logged, the last
 * sizes stay.
 */
export async function readQueueSizes(
  queues: ReadonlyMap<string, Queue>,
  sizes: Map<string, number>,
  logger: Logger,
  label: string,
): Promise<void> {
  try {
    for (const [name, queue] of queues) {
      const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed');
      sizes.set(
        name,
        Object.values(counts).reduce((a, b) => a + b, 0),
      );
    }
  } catch (error) {
    logger.warn({ err: error }, `${label}: queue sizes`);
  }
}
