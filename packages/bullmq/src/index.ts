/**
 * `@tickwork/bullmq`: tickwork across machines on BullMQ + Redis: cluster-wide
 * cron (`ClusterCronTab`), `WorkerProcess` over queues (`ClusterWorkerProcess`,
 * `ClusterWorkerNode`) and polling spread by shard leases (`ClusterThreadDict`).
 *
 * @packageDocumentation
 * @module @tickwork/bullmq
 */
export type { ClusterCrontabBindings } from './clusterCronFile.js';
export type {
  ClusterCronJobInfo,
  ClusterCronJobOptions,
  ClusterCronRunContext,
  ClusterCronTask,
  ClusterCronTriggerOptions,
  ClusterSchedule,
} from './clusterCronJob.js';
export type { ClusterCronTabOptions } from './clusterCronOptions.js';
export { ClusterCronTab } from './clusterCronTab.js';
export type {
  ClusterArgsOf,
  ClusterHandler,
  ClusterHandlerContext,
  ClusterHandlers,
  ClusterHandlerTypes,
  ClusterResultOf,
  ClusterTargetOf,
} from './clusterRequest.js';
export { ClusterRequestHandle } from './clusterRequestHandle.js';
export type { ClusterRequestInfo } from './clusterRequestInfo.js';
export type {
  ClusterAddOptions,
  ClusterCommandOptions,
  ClusterSendOptions,
} from './clusterRequestOptions.js';
export { ClusterThreadDict } from './clusterThreadDict.js';
export type { ClusterThreadDictOptions } from './clusterThreadDictOptions.js';
export type {
  ClusterAppendOptions,
  ClusterEntry,
  ClusterGetOptions,
  ShardLeaseInfo,
} from './clusterThreadDictTypes.js';
export { ClusterWorkerNode } from './clusterWorkerNode.js';
export type { ClusterWorkerNodeOptions } from './clusterWorkerNodeOptions.js';
export { ClusterWorkerProcess } from './clusterWorkerProcess.js';
export type { ClusterWorkerProcessOptions } from './clusterWorkerProcessOptions.js';
export type { ClusterWorkerPool } from './clusterWorkerRun.js';
export type { RedisConnectionOptions } from './redisConnection.js';
export { shardOf } from './shardOf.js';
