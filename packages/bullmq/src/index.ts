/**
 * `@tickwork/bullmq`: tickwork across machines on BullMQ + Redis. This first
 * slice gives cluster-wide cron (`ClusterCronTab`).
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
  ClusterResultOf,
  ClusterTargetOf,
} from './clusterRequest.js';
export type { ClusterWorkerNodeOptions } from './clusterWorkerNode.js';
export { ClusterWorkerNode } from './clusterWorkerNode.js';
export type { ClusterSendOptions, ClusterWorkerProcessOptions } from './clusterWorkerProcess.js';
export { ClusterWorkerProcess } from './clusterWorkerProcess.js';
export type { RedisConnectionOptions } from './redisConnection.js';
