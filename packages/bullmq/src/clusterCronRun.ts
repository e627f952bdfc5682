import {
  type Clock,
  deserializeError,
  isSerializedError,
  type Scheduler,
  type SerializedError,
  serializeError,
  TimeoutError,
} from '@tickwork/core';
import type { CronRun } from '@tickwork/crontab';
import type { ClusterCronRunContext, ClusterCronTask } from './clusterCronJob.js';

/** @internal data of the BullMQ job a manual trigger adds */
export interface ManualJobData {
  readonly tickwork: 'manual';
  /** When the trigger was asked for, epoch ms: the run's `scheduledAt`. */
  readonly requestedAt: number;
}

/** @internal what the node that ran a manual trigger stores as the job's return value */
export interface ManualOutcome {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: SerializedError;
  readonly scheduledAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** @internal whether a BullMQ job's data is a manual trigger's */
export function isManualData(data: unknown): data is ManualJobData {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { tickwork?: unknown }).tickwork === 'manual' &&
    typeof (data as { requestedAt?: unknown }).requestedAt === 'number'
  );
}

/** @internal a finished run as stored in Redis for the node that triggered it */
export function toManualOutcome(run: CronRun): ManualOutcome {
  const times = {
    scheduledAt: run.scheduledAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
  return run.ok
    ? { ok: true, value: run.value, ...times }
    : { ok: false, error: serializeError(run.error), ...times };
}

/** @internal the run of a manual trigger, rebuilt from the job's return value */
export function fromManualOutcome(job: string, outcome: ManualOutcome): CronRun {
  const base = {
    job,
    trigger: 'manual' as const,
    scheduledAt: outcome.scheduledAt,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    durationMs: Math.max(0, outcome.finishedAt - outcome.startedAt),
  };
  if (outcome.ok) return { ...base, ok: true, value: outcome.value };
  const error = isSerializedError(outcome.error)
    ? deserializeError(outcome.error)
    : new Error(String(outcome.error));
  return { ...base, ok: false, error };
}

/** @internal what {@link runTask} needs besides the task */
export interface RunTaskOptions {
  readonly controller: AbortController;
  /** 0 for none. */
  readonly timeoutMs: number;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  /** Message of the TimeoutError. */
  readonly timeoutMessage: string;
}

/**
 * @internal Runs a task (sync or async) once: settles with its outcome, a
 * `TimeoutError` after `timeoutMs`, or the abort reason once the controller
 * aborts (kill, remove), whichever comes first. Never rejects.
 */
export async function runTask(
  task: ClusterCronTask,
  context: ClusterCronRunContext,
  options: RunTaskOptions,
): Promise<{ ok: boolean; outcome: unknown }> {
  const { controller, timeoutMs } = options;
  const timer =
    timeoutMs > 0
      ? options.scheduler.at(options.clock.now() + timeoutMs, () =>
          controller.abort(new TimeoutError(options.timeoutMessage, timeoutMs)),
        )
      : undefined;
  try {
    const outcome = await Promise.race([
      Promise.resolve().then(() => task(context)),
      aborted(controller.signal),
    ]);
    return { ok: true, outcome };
  } catch (error) {
    return { ok: false, outcome: error };
  } finally {
    timer?.cancel();
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
