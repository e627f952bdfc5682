import {
  AbortError,
  type Clock,
  deserializeError,
  KeyNotFoundError,
  type Scheduler,
  WorkerCrashedError,
} from '@tickwork/core';
import type { RequestState } from '@tickwork/workers';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import type { ClusterOutcome, ClusterRequestInfo } from './clusterRequestInfo.js';
import type { ClusterLayout } from './clusterRequestLayout.js';

/** How long an id unknown to Redis is looked for again before it counts as unknown, ms. */
const UNKNOWN_GRACE_MS = 1_000;

/** @internal what a canceled request leaves in Redis once its job is removed */
export interface Tombstone {
  readonly queue: string;
  readonly key: string;
  readonly target: string;
  readonly group?: string | undefined;
  readonly priority: number | null;
  readonly queuedAt: number;
  readonly finishedAt: number;
  readonly message: string;
}

/** @internal a request as Redis knows it: its info, and its outcome once terminal */
export interface StoredRequest {
  readonly info: ClusterRequestInfo;
  readonly outcome: ClusterOutcome | undefined;
}

/** @internal our priority (higher first; Infinity for a command) from BullMQ's */
export function priorityOf(bull: number): number {
  return bull === 0 ? Number.POSITIVE_INFINITY : 2 ** 20 - bull;
}

/** @internal the outcome a job's return value (or BullMQ failure) stands for */
export function outcomeOf(
  label: string,
  id: string,
  result: ClusterJobResult | null | undefined,
  failedReason: string | undefined,
  attempts?: number,
): ClusterOutcome {
  if (result != null && typeof result === 'object' && typeof result.ok === 'boolean') {
    const times = {
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      node: result.node,
      attempts,
    };
    if (result.ok) return { state: 'completed', value: result.value, ...times };
    return { state: result.state ?? 'failed', error: deserializeError(result.error), ...times };
  }
  // Not a handler's outcome: BullMQ itself failed the job (its node died too often, lost its lock).
  const why = failedReason === undefined || failedReason === '' ? 'no result' : failedReason;
  return {
    state: 'failed',
    error: new WorkerCrashedError(`${label}: request ${id} failed in BullMQ: ${why}`),
    attempts,
  };
}

/** @internal the outcome of a canceled request's tombstone */
export function tombstoneOutcome(t: Tombstone): ClusterOutcome {
  return { state: 'canceled', error: new AbortError(t.message), finishedAt: t.finishedAt };
}

/**
 * @internal reads requests back from Redis: the job (any state) or, for a
 * canceled one whose job was removed, its tombstone.
 */
export class ClusterRequestStore {
  private readonly label: string;
  private readonly layout: ClusterLayout;
  private readonly redis: Redis;
  private readonly queues: ReadonlyMap<string, Queue>;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;

  constructor(
    label: string,
    layout: ClusterLayout,
    redis: Redis,
    queues: ReadonlyMap<string, Queue>,
    clock: Clock,
    scheduler: Scheduler,
  ) {
    this.label = label;
    this.layout = layout;
    this.redis = redis;
    this.queues = queues;
    this.clock = clock;
    this.scheduler = scheduler;
  }

  /**
   * {@link ClusterRequestStore.read}, looking again for a second when the id
   * is not there yet: another client may hand an id over before its job
   * reached Redis.
   */
  async readSoon(id: string): Promise<StoredRequest | undefined> {
    let read = await this.read(id);
    for (let waited = 0; read === undefined && waited < UNKNOWN_GRACE_MS; waited += 50) {
      await new Promise<void>((r) => this.scheduler.at(this.clock.now() + 50, () => r()));
      read = await this.read(id);
    }
    return read;
  }

  /** The tombstone of `id`, if it was canceled. */
  async tombstone(id: string): Promise<Tombstone | undefined> {
    const text = await this.redis.get(this.layout.tombstoneKey(id));
    return text === null ? undefined : (JSON.parse(text) as Tombstone);
  }

  /** The job of `id` in `queue`, if there. */
  job(queue: string, id: string): Promise<Job<ClusterJobData, ClusterJobResult> | undefined> {
    return Job.fromId<ClusterJobData, ClusterJobResult>(this.queues.get(queue)!, id);
  }

  /**
   * The request `id` as stored: in `queue` when known, else looked up in
   * every queue of the layout. Undefined when neither a job nor a tombstone
   * is there (never sent, or forgotten after `keepFinishedMs`).
   */
  async read(id: string, queue?: string, withState = false): Promise<StoredRequest | undefined> {
    const queues = queue === undefined ? this.layout.queues : [queue];
    const jobs = await Promise.all(queues.map((q) => this.job(q, id)));
    const i = jobs.findIndex((j) => j !== undefined);
    if (i < 0) {
      const t = await this.tombstone(id);
      return t === undefined ? undefined : this.fromTombstone(id, t);
    }
    return this.fromJob(id, queues[i]!, jobs[i]!, withState);
  }

  private fromTombstone(id: string, t: Tombstone): StoredRequest {
    const outcome = tombstoneOutcome(t);
    const info: ClusterRequestInfo = {
      id,
      jobId: id,
      queue: t.queue,
      key: t.key,
      target: t.target,
      group: t.group,
      priority: t.priority ?? Number.POSITIVE_INFINITY,
      state: 'canceled',
      queuedAt: t.queuedAt,
      startedAt: null,
      finishedAt: t.finishedAt,
      attempts: 0,
      node: null,
      error: outcome.error!,
    };
    return { info, outcome };
  }

  private async fromJob(
    id: string,
    queue: string,
    job: Job<ClusterJobData, ClusterJobResult>,
    withState: boolean,
  ): Promise<StoredRequest> {
    const finished = job.finishedOn !== undefined && job.finishedOn > 0;
    const outcome = finished
      ? outcomeOf(this.label, id, job.returnvalue, job.failedReason, job.attemptsStarted)
      : undefined;
    let state: RequestState;
    if (outcome !== undefined) state = outcome.state;
    else if (withState) state = (await job.getState()) === 'active' ? 'running' : 'queued';
    else state = job.processedOn ? 'running' : 'queued';
    const result = job.returnvalue as ClusterJobResult | null | undefined;
    const info: ClusterRequestInfo = {
      id,
      jobId: id,
      queue,
      key: job.data.key,
      target: job.name,
      group: job.data.group,
      priority: priorityOf(job.priority),
      state,
      queuedAt: job.timestamp,
      startedAt: result?.startedAt ?? job.processedOn ?? null,
      finishedAt: outcome === undefined ? null : (result?.finishedAt ?? job.finishedOn ?? null),
      attempts: job.attemptsStarted,
      node: result?.node ?? null,
      ...(outcome?.state === 'completed' ? { result: outcome.value } : {}),
      ...(outcome?.error === undefined ? {} : { error: outcome.error }),
    };
    return { info, outcome };
  }

  /** The outcome for a request whose job and tombstone are both gone. */
  gone(id: string): ClusterOutcome {
    return {
      state: 'failed',
      error: new KeyNotFoundError(
        id,
        `${this.label}: request ${id} is gone from Redis before its result was read`,
      ),
    };
  }
}
