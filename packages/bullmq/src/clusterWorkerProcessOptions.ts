import {
  type ComponentOptions,
  checkDuration,
  checkInteger,
  checkOptions,
  checkString,
} from '@tickwork/core';
import { DEFAULT_KEEP_FINISHED_MS } from './clusterRequestJob.js';
import { ClusterLayout, clusterPartitions, clusterQueueName } from './clusterRequestLayout.js';
import { checkConnection, type RedisConnectionOptions } from './redisConnection.js';

/** Options of {@link ClusterWorkerProcess}. */
export interface ClusterWorkerProcessOptions extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /** Queue name shared with the `ClusterWorkerNode`s. @defaultValue `'tickwork-requests'` */
  queueName?: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /**
   * Partition queues for per-key ordering: with N > 0, requests with a key
   * go to one of N queues by a hash of the key, each with BullMQ global
   * concurrency 1, so the requests of one key run one at a time in the order
   * they reached Redis, across all nodes (and so do the other keys of the
   * same partition: at most N keyed requests run at once). Every client and
   * node of a queue must use the same N (checked in Redis). 0: no ordering.
   * @defaultValue 0
   */
  partitions?: number;
  /** Default run-time limit of requests, ms on the node from their start; 0 for none. @defaultValue 0 */
  timeoutMs?: number;
  /**
   * How long finished jobs (and tombstones of canceled ones) stay in Redis,
   * ms: long enough for a caller that missed the `QueueEvents` event to read
   * the result, and for a retried request id to find the first outcome
   * instead of running again. @defaultValue 600000 (10 min)
   */
  keepFinishedMs?: number;
  /**
   * Period of the fallback read of the state of requests still waiting, ms:
   * a result whose event was missed (reconnect) is found by then.
   * @defaultValue 1000
   */
  resultCheckMs?: number;
  /** Settled requests this client remembers for `after`, `waitCompleted` and `info`. @defaultValue 1000 */
  keepSettled?: number;
}

/** @internal client options after validation */
export interface ParsedClientOptions {
  readonly connection: RedisConnectionOptions;
  readonly layout: ClusterLayout;
  readonly timeoutMs: number;
  readonly keepFinishedMs: number;
  readonly resultCheckMs: number;
  readonly keepSettled: number;
}

/** @internal validates the options of `ClusterWorkerProcess` (ConfigError naming the option) */
export function parseClientOptions(
  component: string,
  options: ClusterWorkerProcessOptions,
): ParsedClientOptions {
  const o = checkOptions(component, 'options', options);
  return {
    connection: checkConnection(component, o.connection),
    layout: new ClusterLayout(
      clusterQueueName(component, o.queueName),
      o.prefix === undefined ? undefined : checkString(component, 'options.prefix', o.prefix),
      clusterPartitions(component, o.partitions),
    ),
    timeoutMs: checkDuration(component, 'options.timeoutMs', o.timeoutMs ?? 0),
    keepFinishedMs: checkDuration(
      component,
      'options.keepFinishedMs',
      o.keepFinishedMs ?? DEFAULT_KEEP_FINISHED_MS,
      { min: 1_000 },
    ),
    resultCheckMs: checkDuration(component, 'options.resultCheckMs', o.resultCheckMs ?? 1_000, {
      min: 10,
    }),
    keepSettled: checkInteger(component, 'options.keepSettled', o.keepSettled ?? 1_000, {
      min: 0,
    }),
  };
}
