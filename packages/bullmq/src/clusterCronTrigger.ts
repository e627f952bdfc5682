import { randomUUID } from 'node:crypto';
import {
  type Clock,
  ConfigError,
  checkDuration,
  checkOptions,
  checkString,
  KeyNotFoundError,
  type Logger,
  type ScheduledTimer,
  type Scheduler,
  TimeoutError,
} from '@tickwork/core';
import type { CronRun } from '@tickwork/crontab';
import type { Job } from 'bullmq';
import type { ClusterCronTriggerOptions } from './clusterCronJob.js';
import { fromManualOutcome, type ManualOutcome } from './clusterCronRun.js';
import type { ClusterCronSchedules } from './clusterCronSchedules.js';

const C = 'ClusterCronTab.trigger';

/** Polling a trigger's job for its outcome: first and longest wait, ms. */
const POLL_MS = [20, 250] as const;

/**
 * @internal Manual triggers of a ClusterCronTab: each is a BullMQ job
 * (id = trigger id) run by whichever node takes it; the caller polls the job
 * until it finished and rebuilds the run from its return value.
 */
export class ClusterCronTriggers {
  private readonly waits = new Set<(error: unknown) => void>();

  constructor(
    private readonly bull: ClusterCronSchedules,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly component: string,
  ) {}

  /** Adds the trigger job for `name` and resolves with its run. */
  async trigger(name: string, options: ClusterCronTriggerOptions): Promise<CronRun> {
    const o = checkOptions(C, 'options', options);
    const id = o.id === undefined ? `tickwork-manual-${randomUUID()}` : triggerId(o.id);
    const timeoutMs =
      o.timeoutMs === undefined ? 0 : checkDuration(C, 'options.timeoutMs', o.timeoutMs);
    const requestedAt = this.clock.now();
    await this.bull.trigger(name, id, requestedAt);
    const deadline = timeoutMs === 0 ? Number.POSITIVE_INFINITY : requestedAt + timeoutMs;
    return this.wait(name, id, deadline);
  }

  /** Rejects every wait in progress with `error` (on kill). */
  rejectAll(error: unknown): void {
    for (const stop of [...this.waits]) stop(error);
  }

  /** Polls the trigger's job until a node has run it (or the deadline, or `rejectAll`). */
  private wait(name: string, id: string, deadline: number): Promise<CronRun> {
    return new Promise<CronRun>((resolve, reject) => {
      let timer: ScheduledTimer | undefined;
      let intervalMs: number = POLL_MS[0];
      const settle = (outcome: { run: CronRun } | { error: unknown }): void => {
        if (!this.waits.delete(stop)) return;
        timer?.cancel();
        if ('run' in outcome) resolve(outcome.run);
        else reject(outcome.error);
      };
      const stop = (error: unknown): void => settle({ error });
      this.waits.add(stop);
      const poll = async (): Promise<void> => {
        try {
          const bullJob = await this.bull.getJob(id);
          if (bullJob === undefined) {
            settle({
              error: new KeyNotFoundError(id, `${C}: trigger ${id} is no longer in Redis`),
            });
            return;
          }
          if (bullJob.finishedOn !== undefined) {
            settle({ run: triggeredRun(name, bullJob) });
            return;
          }
        } catch (error) {
          // Redis unreachable for a moment: try again until the deadline.
          this.logger.debug({ component: this.component, error }, 'trigger poll failed');
        }
        const now = this.clock.now();
        if (now >= deadline) {
          settle({
            error: new TimeoutError(
              `${C}: no node ran job "${name}" (trigger ${id}) in time; it stays queued`,
              Math.max(0, deadline - now),
            ),
          });
          return;
        }
        if (!this.waits.has(stop)) return;
        timer = this.scheduler.at(Math.min(deadline, now + intervalMs), () => void poll());
        intervalMs = Math.min(intervalMs * 1.5, POLL_MS[1]);
      };
      void poll();
    });
  }
}

/** The run a finished trigger job describes. */
function triggeredRun(name: string, bullJob: Job): CronRun {
  const outcome = bullJob.returnvalue as ManualOutcome | null | undefined;
  if (typeof outcome === 'object' && outcome !== null && typeof outcome.ok === 'boolean') {
    return fromManualOutcome(name, outcome);
  }
  // BullMQ failed it without the task's outcome (stalled too often, for one).
  const startedAt = bullJob.processedOn ?? bullJob.timestamp;
  const finishedAt = bullJob.finishedOn ?? startedAt;
  return {
    job: name,
    trigger: 'manual',
    scheduledAt: bullJob.timestamp,
    startedAt,
    finishedAt,
    durationMs: Math.max(0, finishedAt - startedAt),
    ok: false,
    error: new Error(bullJob.failedReason || 'trigger job failed'),
  };
}

function triggerId(value: unknown): string {
  const id = checkString(C, 'options.id', value);
  if (id.includes(':') || `${Number.parseInt(id, 10)}` === id) {
    throw new ConfigError(
      `${C}: options.id must not contain ":" or be an integer (BullMQ reserves those; got ${JSON.stringify(id)})`,
      'options.id',
    );
  }
  return id;
}
