import {
  type Clock,
  KeyNotFoundError,
  type Logger,
  type Scheduler,
  type Stats,
} from '@tickwork/core';
import type { CronRun, CronTrigger } from '@tickwork/crontab';
import { passedSlots } from '@tickwork/crontab';
import { type Job, WaitingError, Worker } from 'bullmq';
import { closeWithin } from './closeWithin.js';
import type { ClusterCronJobState } from './clusterCronJob.js';
import { nextSlotOf } from './clusterCronJobState.js';
import type { ClusterCronTabSettings } from './clusterCronOptions.js';
import { isManualData, type ManualOutcome, runTask, toManualOutcome } from './clusterCronRun.js';
import type { ClaimMode, ClaimOutcome, ClusterCronState } from './clusterCronState.js';
import { blockingConnection } from './redisConnection.js';

/** @internal what the processor needs from its ClusterCronTab */
export interface ClusterCronProcessorHost {
  readonly name: string;
  readonly options: ClusterCronTabSettings;
  readonly store: ClusterCronState;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly totals: Stats;
  readonly jobs: ReadonlyMap<string, ClusterCronJobState>;
  isStarted(): boolean;
  /** A run finished on this node. */
  onRun(run: CronRun): void;
  /** The job has no run left. */
  onDone(job: ClusterCronJobState): void;
}

/** Polling a held lock for overrun `'queue'`: first and longest wait, ms. */
const QUEUE_POLL_MS = [25, 200] as const;

/**
 * @internal The node's BullMQ `Worker` and what it does with each job it
 * takes: a slot job (catch-up, pause, maxRuns and overrun decided in Redis,
 * then the task) or a manual trigger job.
 */
export class ClusterCronProcessor {
  /** Jobs being handled on this node (running, or waiting for the overrun lock). */
  inFlight = 0;
  private worker: Worker | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly host: ClusterCronProcessorHost) {}

  /** Starts taking jobs (creates the worker, or resumes it). */
  start(): void {
    const { options, logger, name } = this.host;
    if (this.worker !== undefined) {
      this.worker.resume().catch((error: unknown) => {
        logger.warn({ component: name, error }, 'resume failed');
      });
      return;
    }
    this.worker = new Worker(options.queueName, (job, token) => this.process(job, token), {
      connection: blockingConnection(options.connection),
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      autorun: true,
    });
    this.worker.on('error', (error) => logger.error({ component: name, error }, 'worker'));
  }

  /** Stops taking jobs; the running ones finish. */
  pause(): void {
    this.worker?.pause(true).catch((error: unknown) => {
      this.host.logger.warn({ component: this.host.name, error }, 'pause failed');
    });
  }

  /** Closes the worker once its running jobs settled. */
  async close(): Promise<void> {
    await closeWithin([this.worker], this.host.scheduler);
  }

  /** Resolves once no job is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async process(bullJob: Job, token: string | undefined): Promise<unknown> {
    if (!this.host.isStarted() && token !== undefined) {
      // BullMQ's pause lets a fetch already under way hand this stopped node
      // one more job: give it back for another node (or for when one starts).
      await bullJob.moveToWait(token);
      throw new WaitingError();
    }
    this.inFlight++;
    try {
      const job = this.host.jobs.get(bullJob.name);
      const manual = isManualData(bullJob.data);
      if (job === undefined) {
        const error = new KeyNotFoundError(
          bullJob.name,
          `ClusterCronTab ${this.host.name}: no task for job "${bullJob.name}" on this node; every node must add every job of the queue`,
        );
        if (!manual) throw error;
        const now = this.host.clock.now();
        const run = { job: bullJob.name, trigger: 'manual' as const, durationMs: 0, ok: false };
        return toManualOutcome({
          ...run,
          scheduledAt: now,
          startedAt: now,
          finishedAt: now,
          error,
        });
      }
      if (manual) return await this.processManual(job, bullJob, bullJob.data.requestedAt);
      return await this.processSlot(job, bullJob);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  /** A manual trigger: runs whatever the pause, maxRuns or overrun; holds the lock when free. */
  private async processManual(
    job: ClusterCronJobState,
    bullJob: Job,
    requestedAt: number,
  ): Promise<ManualOutcome> {
    const token = bullJob.id ?? `manual-${requestedAt}`;
    const { store, options } = this.host;
    const locked =
      job.overrun !== 'parallel' &&
      (await store.lock(job.name, token, options.lockDurationMs).catch(() => false));
    const run = await this.execute(job, bullJob, requestedAt, 'manual', locked ? token : undefined);
    return toManualOutcome(run);
  }

  private async processSlot(job: ClusterCronJobState, bullJob: Job): Promise<unknown> {
    const slot = bullJob.opts.prevMillis ?? bullJob.timestamp;
    const token = bullJob.id ?? `repeat:${job.name}:${slot}`;
    const attempt = attemptOf(bullJob);
    if (slot > job.stopAt) {
      this.host.onDone(job);
      return undefined;
    }
    if (slot < job.startAt) return undefined;
    let scheduledAt = slot;
    let trigger: CronTrigger = 'schedule';
    // BullMQ creates a slot's successor when the slot is taken, as the first
    // slot after that moment: slots passed by then were never created (no node
    // ran, or all were busy). A redelivered slot had its successor made on
    // its first delivery, so this holds on the first attempt only.
    // "Then" is when the job was taken (`processedOn`), not now: the worker
    // makes the successor before calling us, and a slot boundary crossed in
    // between would otherwise be both the successor and our catch-up slot,
    // one slot run twice (seen under load).
    if (attempt <= 1) {
      const now = this.host.clock.now();
      const takenAt = Math.min(bullJob.processedOn ?? now, now);
      const { passed, latest } = passedSlots(job.pattern, slot, takenAt, {
        tz: job.tz,
        until: job.stopAt,
      });
      if (passed > 0) {
        if (job.catchUp === 'skip') {
          this.count(job, 'miss', passed + 1);
          return undefined;
        }
        this.count(job, 'miss', passed);
        scheduledAt = latest;
        trigger = 'catch-up';
      }
    }
    // A redelivered slot (its node died mid-run) waits for the lock instead of
    // being skipped: delivery is at-least-once.
    const mode: ClaimMode = job.overrun === 'skip' && attempt > 1 ? 'queue' : job.overrun;
    const claim = await this.claim(job, token, slot, mode);
    if (claim !== 'run') {
      if (claim === 'done') this.host.onDone(job);
      else this.count(job, 'skip', 1);
      return undefined;
    }
    const run = await this.execute(
      job,
      bullJob,
      scheduledAt,
      trigger,
      mode === 'parallel' ? undefined : token,
    );
    // A failed run fails its slot job, so BullMQ shows it (it needs an Error).
    if (!run.ok) throw run.error instanceof Error ? run.error : new Error(String(run.error));
    return run.value;
  }

  /**
   * Asks Redis whether the slot runs; with `'queue'` waits (polling) while
   * the lock is held, keeping the job's one queue place, until it runs or
   * the node stops. Resolves the final outcome (`'queued'` never).
   */
  private async claim(
    job: ClusterCronJobState,
    token: string,
    slot: number,
    mode: ClaimMode,
  ): Promise<Exclude<ClaimOutcome, 'queued'>> {
    const { store, options } = this.host;
    let waitMs: number = QUEUE_POLL_MS[0];
    for (;;) {
      const { outcome, runs } = await store.claim(job.name, token, slot, {
        ttlMs: options.lockDurationMs,
        maxRuns: job.maxRuns,
        mode,
        respectPause: true,
      });
      job.runs = Math.max(job.runs, runs);
      if (outcome === 'run') {
        if (job.runs >= job.maxRuns) this.host.onDone(job); // the last run: no more slots
        return outcome;
      }
      if (outcome !== 'queued' || !this.host.isStarted() || job.removed) {
        if (mode === 'queue') await store.release(job.name, token).catch(() => undefined);
        return outcome === 'queued' ? 'busy' : outcome;
      }
      await new Promise<void>((resolve) =>
        this.host.scheduler.at(this.host.clock.now() + waitMs, () => resolve()),
      );
      waitMs = Math.min(waitMs * 2, QUEUE_POLL_MS[1]);
    }
  }

  /** Runs the task once, holding (and renewing) the overrun lock when given its token. */
  private async execute(
    job: ClusterCronJobState,
    bullJob: Job,
    scheduledAt: number,
    trigger: CronTrigger,
    lockToken: string | undefined,
  ): Promise<CronRun> {
    const { clock, scheduler, store, options, totals, logger, name } = this.host;
    const startedAt = clock.now();
    job.stats.runStarted(scheduledAt, startedAt);
    totals.runStarted(scheduledAt, startedAt);
    job.stats.next = nextSlotOf(job, startedAt);
    const controller = new AbortController();
    job.controllers.add(controller);
    const renewal =
      lockToken === undefined
        ? undefined
        : scheduler.every(options.lockDurationMs / 2, () => {
            store.lock(job.name, lockToken, options.lockDurationMs).then(
              (held) => {
                if (!held) logger.warn({ component: name, job: job.name }, 'overrun lock lost');
              },
              (error: unknown) => logger.warn({ component: name, error }, 'lock renewal failed'),
            );
          });
    const { ok, outcome } = await runTask(
      job.task,
      {
        job: job.name,
        scheduledAt,
        trigger,
        signal: controller.signal,
        args: job.args,
        jobId: bullJob.id ?? '',
        attempt: attemptOf(bullJob),
      },
      {
        controller,
        timeoutMs: job.timeoutMs,
        scheduler,
        clock,
        timeoutMessage: `ClusterCronTab ${name}: job "${job.name}" ran longer than ${job.timeoutMs} ms`,
      },
    );
    renewal?.cancel();
    job.controllers.delete(controller);
    if (lockToken !== undefined) {
      // Freed before the run is reported, so a queued slot elsewhere starts at once.
      await store.release(job.name, lockToken).catch((error: unknown) => {
        logger.warn({ component: name, job: job.name, error }, 'lock release failed');
      });
    }
    const finishedAt = clock.now();
    const durationMs = Math.max(0, finishedAt - startedAt);
    job.stats.runFinished(startedAt, durationMs, !ok, ok ? undefined : outcome);
    totals.runFinished(startedAt, durationMs, !ok, ok ? undefined : outcome);
    if (!ok) logger.warn({ component: name, job: job.name, err: outcome }, 'cron job failed');
    const base = { job: job.name, trigger, scheduledAt, startedAt, finishedAt, durationMs };
    const run: CronRun = ok
      ? { ...base, ok: true, value: outcome }
      : { ...base, ok: false, error: outcome };
    if (options.keep > 0) {
      job.history.push(run);
      if (job.history.length > options.keep) job.history.shift();
    }
    this.host.onRun(run);
    return run;
  }

  private count(job: ClusterCronJobState, what: 'skip' | 'miss', n: number): void {
    job.stats[what](n);
    this.host.totals[what](n);
  }
}

/**
 * Which delivery of the job this is: 1, plus one per stalled run BullMQ
 * redelivered (its `stalledCounter`). Not `attemptsStarted`, which also
 * counts a job a stopped node handed back unrun.
 */
function attemptOf(bullJob: Job): number {
  return 1 + bullJob.stalledCounter;
}
