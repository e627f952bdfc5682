import type { Clock } from '@tickwork/core';
import type { Queue, QueueEventsProducer } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import {
  CANCEL_EVENT,
  type ClusterLayout,
  MAX_EVENTS,
  STOP_GROUP_EVENT,
} from './clusterRequestLayout.js';
import { type ClusterRequestStore, priorityOf, type Tombstone } from './clusterRequestStore.js';

/** @internal what a cluster-wide cancel found */
export type CancelResult =
  /** It was queued: its job is removed (the node that takes it next would skip it anyway). */
  | 'removed'
  /** It was running: its node was asked to abort it, and will report it canceled. */
  | 'aborted'
  /** It had finished already: nothing changed. */
  | 'finished'
  /** No such job. */
  | 'unknown';

/** @internal what the cancel protocol needs */
export interface CancelContext {
  readonly layout: ClusterLayout;
  readonly redis: Redis;
  readonly store: ClusterRequestStore;
  readonly producer: QueueEventsProducer;
  readonly queues: ReadonlyMap<string, Queue<ClusterJobData, ClusterJobResult>>;
  /** How long the tombstone stays, ms (as long as finished jobs). */
  readonly keepMs: number;
}

const QUEUED = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children', 'paused', 'wait']);

/**
 * @internal cancels request `id` of `queue` cluster-wide. The tombstone is
 * written first, so whatever happens next is consistent: a node taking the
 * job after it sees it and ends the job `canceled` without running it; a
 * queued job is removed (`Queue.remove` refuses a locked, i.e. running,
 * one); a running job's node gets the cancel event and aborts it.
 */
export async function cancelInRedis(
  ctx: CancelContext,
  id: string,
  queue: string,
  tombstone: Omit<Tombstone, 'queue'>,
): Promise<CancelResult> {
  const key = ctx.layout.tombstoneKey(id);
  await ctx.redis.set(key, JSON.stringify({ ...tombstone, queue }), 'PX', ctx.keepMs);
  const job = await ctx.store.job(queue, id);
  const state = job === undefined ? 'unknown' : await job.getState();
  if (state === 'unknown' || state === 'completed' || state === 'failed') {
    await ctx.redis.del(key);
    return state === 'unknown' ? 'unknown' : 'finished';
  }
  let removed = false;
  if (QUEUED.has(state)) removed = (await ctx.queues.get(queue)!.remove(id)) === 1;
  await ctx.producer.publishEvent(
    {
      eventName: CANCEL_EVENT,
      jobId: id,
      queue,
      removed: removed ? '1' : '0',
      message: tombstone.message,
    },
    MAX_EVENTS,
  );
  return removed ? 'removed' : 'aborted';
}

/**
 * @internal cancels request `id` that this client did not send, as Redis
 * knows it: true when it was queued (removed) or running (aborted).
 */
export async function cancelStored(
  ctx: CancelContext,
  id: string,
  label: string,
  clock: Clock,
): Promise<boolean> {
  const read = await ctx.store.read(id);
  // A periodic key's slot job is stopped with remove(key), not canceled.
  if (read === undefined || read.outcome !== undefined || id.startsWith('repeat:')) return false;
  const i = read.info;
  const done = await cancelInRedis(ctx, id, i.queue, {
    key: i.key,
    target: i.target,
    group: i.group,
    priority: i.priority,
    queuedAt: i.queuedAt,
    finishedAt: clock.now(),
    message: `${label}: request ${id} (target "${i.target}") was canceled`,
  });
  return done === 'removed' || done === 'aborted';
}

/**
 * @internal the cluster-wide part of `stopGroup`: tells every client to
 * cancel the requests of `group` it holds for `after`, then cancels every
 * unfinished job of the group in Redis but those in `skip` (found by
 * reading every job of the queues: O(queued jobs)). Resolves with how many
 * it canceled.
 */
export async function stopGroupInRedis(
  ctx: CancelContext,
  group: string,
  skip: ReadonlySet<string>,
  label: string,
  clock: Clock,
): Promise<number> {
  const message = `${label}: group "${group}" was stopped`;
  await ctx.producer.publishEvent({ eventName: STOP_GROUP_EVENT, group, message }, MAX_EVENTS);
  let n = 0;
  for (const [name, queue] of ctx.queues) {
    const jobs = await queue.getJobs(['wait', 'prioritized', 'delayed', 'active']);
    for (const job of jobs) {
      if (job?.id === undefined || job.data?.group !== group || skip.has(job.id)) continue;
      const done = await cancelInRedis(ctx, job.id, name, {
        key: job.data.key,
        target: job.name,
        group,
        priority: priorityOf(job.priority),
        queuedAt: job.timestamp,
        finishedAt: clock.now(),
        message: `${label}: request ${job.id} canceled: group "${group}" was stopped`,
      });
      if (done === 'removed' || done === 'aborted') n++;
    }
  }
  return n;
}
