import {
  type ComponentOptions,
  ConfigError,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
  checkOptions,
  checkString,
} from '@tickwork/core';
import type { ClusterHandlers } from './clusterRequest.js';
import { ClusterLayout, clusterPartitions, clusterQueueName } from './clusterRequestLayout.js';
import type { ClusterWorkerPool } from './clusterWorkerRun.js';
import { checkConnection, type RedisConnectionOptions } from './redisConnection.js';

/** Options of {@link ClusterWorkerNode}. */
export interface ClusterWorkerNodeOptions<H extends ClusterHandlers> extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /** Handlers run in this process, by target name. Required unless `pool` is given. */
  handlers?: H;
  /**
   * A `@tickwork/workers` `WorkerProcess` whose executor runs the targets not
   * in `handlers`, in its worker threads. The node does not own it: `kill()`
   * leaves it running. @defaultValue none
   */
  pool?: ClusterWorkerPool;
  /** Queue name shared with the `ClusterWorkerProcess` clients. @defaultValue `'tickwork-requests'` */
  queueName?: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /** Partition queues for per-key ordering; must match the clients'. @defaultValue 0 */
  partitions?: number;
  /** Requests of the base queue this node runs at once (each partition adds one). @defaultValue 16 */
  concurrency?: number;
  /**
   * BullMQ lock of a running request, ms, renewed every half of it: a node
   * silent (dead or blocked) past it loses its requests to the others.
   * @defaultValue 30000
   */
  lockDurationMs?: number;
  /** How often this node looks for stalled requests (lock lost), ms. @defaultValue 30000 */
  stalledIntervalMs?: number;
  /** Stalls a request survives before it fails (`WorkerCrashedError` at the caller). @defaultValue 1 */
  maxStalledCount?: number;
  /** Start taking requests at once. @defaultValue true */
  start?: boolean;
}

/** @internal node options after validation */
export interface ParsedNodeOptions<H extends ClusterHandlers> {
  readonly connection: RedisConnectionOptions;
  readonly handlers: H;
  readonly pool: ClusterWorkerPool | undefined;
  readonly layout: ClusterLayout;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly start: boolean;
}

/** @internal validates the options of `ClusterWorkerNode` (ConfigError naming the option) */
export function parseNodeOptions<H extends ClusterHandlers>(
  C: string,
  options: ClusterWorkerNodeOptions<H>,
): ParsedNodeOptions<H> {
  const o = checkOptions(C, 'options', options);
  const connection = checkConnection(C, o.connection);
  if (o.handlers === undefined && o.pool === undefined) {
    throw new ConfigError(
      `${C}: options.handlers is required (or options.pool)`,
      'options.handlers',
    );
  }
  const handlers = checkOptions(C, 'options.handlers', o.handlers ?? ({} as H));
  for (const [target, handler] of Object.entries(handlers)) {
    checkFunction(C, `options.handlers.${target}`, handler);
  }
  if (o.pool !== undefined) checkFunction(C, 'options.pool.send', o.pool?.send);
  return {
    connection,
    handlers,
    pool: o.pool,
    layout: new ClusterLayout(
      clusterQueueName(C, o.queueName),
      o.prefix === undefined ? undefined : checkString(C, 'options.prefix', o.prefix),
      clusterPartitions(C, o.partitions),
    ),
    concurrency: checkInteger(C, 'options.concurrency', o.concurrency ?? 16, {
      min: 1,
      max: 10_000,
    }),
    lockDurationMs: checkDuration(C, 'options.lockDurationMs', o.lockDurationMs ?? 30_000, {
      min: 100,
    }),
    stalledIntervalMs: checkDuration(
      C,
      'options.stalledIntervalMs',
      o.stalledIntervalMs ?? 30_000,
      {
        min: 100,
      },
    ),
    maxStalledCount: checkInteger(C, 'options.maxStalledCount', o.maxStalledCount ?? 1, {
      min: 0,
      max: 1_000,
    }),
    start: o.start === undefined ? true : checkBoolean(C, 'options.start', o.start),
  };
}
