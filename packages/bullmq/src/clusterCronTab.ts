import {
  type ComponentDiagnostics,
  ConfigError,
  checkInteger,
  KeyNotFoundError,
  Lifecycle,
  type ScheduledTimer,
  Stats,
  StoppedError,
} from '@tickwork/core';
import { type CronRun, type CrontabEntry, parseCrontab, previousRuns } from '@tickwork/crontab';
import { type Observable, Subject } from 'rxjs';
import { CLOSE_WITHIN_MS, settledWithin } from './closeWithin.js';
import { type ClusterCrontabBindings, prepareEntries } from './clusterCronFile.js';
import type {
  ClusterCronJobInfo,
  ClusterCronJobOptions,
  ClusterCronJobState,
  ClusterCronTask,
  ClusterCronTriggerOptions,
  ClusterSchedule,
} from './clusterCronJob.js';
import { createJobState, isFinished, nextSlotOf, upcomingSlots } from './clusterCronJobState.js';
import {
  type ClusterCronTabOptions,
  type ClusterCronTabSettings,
  checkTabOptions,
} from './clusterCronOptions.js';
import { ClusterCronProcessor } from './clusterCronProcessor.js';
import { ClusterCronReconciler } from './clusterCronReconciler.js';
import { ClusterCronSchedules } from './clusterCronSchedules.js';
import { ClusterCronState } from './clusterCronState.js';
import { ClusterCronTriggers } from './clusterCronTrigger.js';

const C = 'ClusterCronTab';

/**
 * A `CronTab` for a cluster: each job is a BullMQ job scheduler
 * (`upsertJobScheduler` with the pattern and zone) in Redis, so each slot
 * becomes exactly one BullMQ job whatever the number of nodes, and a BullMQ
 * `Worker` on every node runs whichever slot jobs it takes. What BullMQ does
 * not hold (pause flags, cluster-wide run counts, the overrun lock of each
 * job) lives in Redis next to the queue and is decided atomically there.
 *
 * Delivery is at-least-once: a node dying mid-run makes BullMQ redeliver the
 * slot after stall detection; `context.jobId` is the same for every delivery.
 *
 * @example
 * ```ts
 * const crontab = new ClusterCronTab({ connection: { host: '10.0.0.5', port: 6379 } });
 * crontab.add('0 3 * * *', () => compactLogs(), { name: 'compact', tz: 'Europe/Paris' });
 * await crontab.synced(); // the schedule is in Redis
 * await crontab.pause('compact'); // on every node
 * ```
 */
export class ClusterCronTab extends Lifecycle {
  private readonly options: ClusterCronTabSettings;
  private readonly jobsByName = new Map<string, ClusterCronJobState>();
  private readonly totals = new Stats();
  private readonly runSubject = new Subject<CronRun>();
  private readonly bull: ClusterCronSchedules;
  private readonly store: ClusterCronState;
  private readonly processor: ClusterCronProcessor;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly triggers: ClusterCronTriggers;
  private readonly reconciler: ClusterCronReconciler;
  private readonly reconcileTimer: ScheduledTimer;

  /** Every finished run on this node; completes on `kill()`. */
  readonly runs$: Observable<CronRun> = this.runSubject.asObservable();

  /**
   * @param options - see {@link ClusterCronTabOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterCronTabOptions) {
    const o = checkTabOptions(C, options);
    super(C, options);
    this.options = o;
    this.bull = new ClusterCronSchedules(o.connection, o.queueName, o.prefix, o.keepJobs);
    this.bull.queue.on('error', (error) =>
      this.logger.error({ component: this.name, error }, 'queue'),
    );
    this.store = new ClusterCronState(o.connection, o.prefix, o.queueName);
    this.store.client.on('error', (error) =>
      this.logger.debug({ component: this.name, error }, 'state connection'),
    );
    this.reconciler = new ClusterCronReconciler({
      name: this.name,
      logger: this.logger,
      clock: this.clock,
      store: this.store,
      jobs: () => [...this.jobsByName.values()],
      isAlive: () => this.isAlive(),
      sync: (job) => this.sync(job),
      markDone: (job) => this.markDone(job),
      refreshNext: (job) => this.refreshNext(job),
    });
    // A (re)connection may be to a Redis that lost everything: check at once.
    this.store.client.on('ready', () => void this.reconciler.check());
    this.reconcileTimer = this.scheduler.every(o.reconcileMs, () => void this.reconciler.check());
    this.triggers = new ClusterCronTriggers(
      this.bull,
      this.scheduler,
      this.clock,
      this.logger,
      this.name,
    );
    this.processor = new ClusterCronProcessor({
      name: this.name,
      options: o,
      store: this.store,
      clock: this.clock,
      scheduler: this.scheduler,
      logger: this.logger,
      totals: this.totals,
      jobs: this.jobsByName,
      isStarted: () => this.isStarted(),
      onRun: (run) => this.runSubject.next(run),
      onDone: (job) => this.markDone(job),
    });
    if (o.start) this.start();
  }

  /**
   * Parses crontab text into entries without adding anything, as
   * `CronTab.parseFile` (same syntax and errors).
   *
   * @throws CronSyntaxError with `line` set for a bad schedule; ConfigError for a bad line
   */
  static parseFile(text: string): CrontabEntry[] {
    return parseCrontab(text);
  }

  /**
   * Adds a job running `task` on `expression` (5 fields, or 6 with seconds
   * first) and returns its name. With `manageSchedules` the job's BullMQ
   * scheduler is put in place in the background: await {@link ClusterCronTab.synced}.
   *
   * @throws CronSyntaxError for a bad expression; ConfigError for a bad
   *   option, a bad zone or a name already used on this node
   */
  add(expression: string, task: ClusterCronTask, options: ClusterCronJobOptions = {}): string {
    this.assertAlive('add');
    const c = `${C}.add`;
    const job = createJobState(c, expression, task, options, {
      tz: this.options.tz,
      keepJobs: this.options.keepJobs,
    });
    if (this.jobsByName.has(job.name)) {
      throw new ConfigError(
        `${c}: a job named "${job.name}" exists already; pass a unique options.name`,
        'options.name',
      );
    }
    job.stats.reset(this.clock.now());
    this.jobsByName.set(job.name, job);
    this.refreshNext(job);
    job.synced = this.sync(job);
    return job.name;
  }

  /**
   * Adds every line of a crontab (text or entries from
   * {@link ClusterCronTab.parseFile}), binding each name to `bindings.tasks`,
   * else to a `bindings.worker` target (shell commands are not supported).
   * Returns the job names added; nothing is added when any line fails.
   */
  load(crontab: string | readonly CrontabEntry[], bindings: ClusterCrontabBindings = {}): string[] {
    this.assertAlive('load');
    const entries = typeof crontab === 'string' ? parseCrontab(crontab) : crontab;
    const prepared = prepareEntries(entries, bindings, (name) => this.jobsByName.has(name));
    return prepared.map((p) =>
      this.add(p.entry.expression, p.task, {
        name: p.name,
        ...(p.entry.tz === undefined ? {} : { tz: p.entry.tz }),
        args: p.entry.args,
      }),
    );
  }

  /**
   * Removes a job from this node, aborting its running task's signal, and,
   * with `manageSchedules`, its BullMQ scheduler and its state in Redis (so no
   * node runs it any more). Resolves whether it existed here.
   */
  async remove(name: string): Promise<boolean> {
    const job = this.jobsByName.get(name);
    if (job === undefined) return false;
    job.removed = true;
    this.jobsByName.delete(name);
    for (const controller of job.controllers) {
      controller.abort(new StoppedError(`${C} ${this.name}: job "${name}" removed`));
    }
    if (this.manageSchedules) {
      await this.track(
        job.synced.then(() => this.bull.remove(name)).then(() => this.store.forget(name)),
      );
    }
    return true;
  }

  /**
   * Pauses a job (or, without a name, every job of this node) on **every
   * node**: a flag in Redis that each node reads atomically when it takes a
   * slot, so a slot due while paused is counted as skipped, not run. Running
   * tasks finish.
   *
   * @throws KeyNotFoundError for an unknown name (the promise rejects)
   */
  async pause(name?: string): Promise<void> {
    this.assertAlive('pause');
    const jobs = this.select(name, 'pause');
    await this.store.setPaused(
      jobs.map((job) => job.name),
      true,
    );
    for (const job of jobs) {
      job.paused = true;
      this.refreshNext(job);
    }
  }

  /**
   * Resumes a paused job (or every job of this node) on every node; its next
   * run is the next slot from now, with no burst.
   *
   * @throws KeyNotFoundError for an unknown name (the promise rejects)
   */
  async resume(name?: string): Promise<void> {
    this.assertAlive('resume');
    const jobs = this.select(name, 'resume');
    await this.store.setPaused(
      jobs.map((job) => job.name),
      false,
    );
    for (const job of jobs) {
      job.paused = false;
      this.refreshNext(job);
    }
  }

  /**
   * Runs a job once now on one node of the cluster, whatever its schedule,
   * pause, `maxRuns` or overrun policy, and resolves with the run (failed runs
   * resolve too, with `ok: false`). The run is a BullMQ job whose id is the
   * trigger id; its value and error cross Redis as JSON (errors keep their
   * class, message and code).
   *
   * @throws KeyNotFoundError for an unknown name; ConfigError for a bad
   *   option; TimeoutError when no node ran it within `timeoutMs` (all reject)
   */
  async trigger(name: string, options: ClusterCronTriggerOptions = {}): Promise<CronRun> {
    this.assertAlive('trigger');
    return this.triggers.trigger(this.get(name, 'trigger').name, options);
  }

  /**
   * Resolves once every schedule added so far is in place in Redis; rejects
   * with the first error.
   */
  async synced(): Promise<void> {
    const outcomes = await Promise.all([...this.jobsByName.values()].map((job) => job.synced));
    const error = outcomes.find((outcome) => outcome !== undefined);
    if (error !== undefined) throw error;
  }

  /** Every schedule stored in Redis for this queue, whichever node upserted it. */
  async schedules(): Promise<ClusterSchedule[]> {
    this.assertAlive('schedules');
    return this.bull.list();
  }

  /**
   * Deletes every schedule in Redis that this node has no job for, and
   * resolves their names. Run it from **one place** that knows the full job
   * list (a deploy step, one designated node) after `synced()`: nodes of an
   * older or newer deploy pruning each other would drop schedules.
   */
  async prune(): Promise<string[]> {
    await this.synced();
    const pruned: string[] = [];
    for (const schedule of await this.schedules()) {
      if (this.jobsByName.has(schedule.name)) continue;
      if (await this.bull.remove(schedule.name)) {
        await this.store.forget(schedule.name);
        pruned.push(schedule.name);
      }
    }
    return pruned;
  }

  /** Names of this node's jobs, in the order added. */
  jobs(): string[] {
    return [...this.jobsByName.keys()];
  }

  /** A job's description. @throws KeyNotFoundError for an unknown name */
  job(name: string): ClusterCronJobInfo {
    const job = this.get(name, 'job');
    const next = nextSlotOf(job, this.clock.now());
    return {
      name: job.name,
      expression: job.expression,
      tz: job.tz,
      paused: job.paused,
      done: job.done,
      next: Number.isNaN(next) ? null : next,
      runs: job.runs,
    };
  }

  /**
   * The next `n` slots of a job from now by the local cron maths, respecting
   * `startAt`, `stopAt` and `maxRuns` (as CronTab). @throws KeyNotFoundError for an unknown name
   */
  nextRuns(name: string, n = 5): number[] {
    const job = this.get(name, 'nextRuns');
    checkInteger(`${C}.nextRuns`, 'n', n, { min: 0, max: 100_000 });
    return upcomingSlots(job, this.clock.now(), n);
  }

  /** The last `n` slots of a job's schedule before now, most recent first. @throws KeyNotFoundError for an unknown name */
  previousRuns(name: string, n = 5): number[] {
    const job = this.get(name, 'previousRuns');
    checkInteger(`${C}.previousRuns`, 'n', n, { min: 0, max: 100_000 });
    return previousRuns(job.pattern, n, this.clock.now() + 1, { tz: job.tz });
  }

  /** The last runs of a job on this node, oldest first. @throws KeyNotFoundError for an unknown name */
  history(name: string): readonly CronRun[] {
    return [...this.get(name, 'history').history];
  }

  /** Diagnostics: totals of this node and one item per job (lateness from the slot time). */
  diagnostics(): ComponentDiagnostics {
    const o = this.options;
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.totals.snapshot(),
      items: [...this.jobsByName.values()].map((job) => ({
        name: job.name,
        stats: job.stats.snapshot(),
        detail: {
          expression: job.expression,
          tz: job.tz ?? null,
          queue: o.queueName,
          paused: job.paused,
          done: job.done,
          runs: job.runs,
          overrun: job.overrun,
          catchUp: job.catchUp,
        },
      })),
      detail: { queue: o.queueName, concurrency: o.concurrency, running: this.processor.inFlight },
    };
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.totals.reset(now);
    for (const job of this.jobsByName.values()) job.stats.reset(now);
    this.processor.start();
  }

  protected onStop(): void {
    this.processor.pause();
  }

  protected async onKill(): Promise<void> {
    this.reconcileTimer.cancel();
    const killed = new StoppedError(`${C} ${this.name}: killed`);
    for (const job of this.jobsByName.values()) {
      for (const controller of job.controllers) controller.abort(killed);
    }
    this.triggers.rejectAll(killed);
    // Bounded: with Redis unreachable these would wait for it to come back.
    const within = (work: Promise<unknown>): Promise<void> =>
      settledWithin(work, CLOSE_WITHIN_MS, this.clock, this.scheduler);
    await within(Promise.all([...this.jobsByName.values()].map((job) => job.synced)));
    await within(Promise.allSettled([...this.pending]));
    await this.processor.close();
    await within(this.reconciler.check());
    await this.bull.close(this.scheduler);
    await this.store.close();
    this.runSubject.complete();
  }

  protected whenIdle(): Promise<void> {
    return this.processor.whenIdle();
  }

  private get manageSchedules(): boolean {
    return this.options.manageSchedules;
  }

  private assertAlive(method: string): void {
    if (!this.isAlive()) throw new StoppedError(`${C} ${this.name}: ${method}() after kill()`);
  }

  private get(name: string, method: string): ClusterCronJobState {
    const job = this.jobsByName.get(name);
    if (job === undefined) {
      throw new KeyNotFoundError(name, `${C}.${method}: no job named "${name}"`);
    }
    return job;
  }

  private select(name: string | undefined, method: string): ClusterCronJobState[] {
    return name === undefined ? [...this.jobsByName.values()] : [this.get(name, method)];
  }

  private refreshNext(job: ClusterCronJobState): void {
    job.stats.next = nextSlotOf(job, this.clock.now());
  }

  /** Keeps a background Redis operation for `kill()` to wait for. */
  private track<T>(operation: Promise<T>): Promise<T> {
    this.pending.add(operation);
    const forget = (): void => {
      this.pending.delete(operation);
    };
    operation.then(forget, forget);
    return operation;
  }

  /** The job has no run left: no more slots (its scheduler goes when this node manages them). */
  private markDone(job: ClusterCronJobState): void {
    if (job.done) return;
    job.done = true;
    job.stats.next = Number.NaN;
    if (!this.manageSchedules || job.removed) return;
    this.track(this.bull.remove(job.name)).catch((error: unknown) =>
      this.logger.warn({ component: this.name, job: job.name, error }, 'scheduler removal failed'),
    );
  }

  /**
   * Reads the job's cluster-wide run count and pause flag, then (with
   * `manageSchedules`) makes Redis hold its scheduler, or none once it is
   * done. Settles with undefined or the error; never rejects.
   */
  private async sync(job: ClusterCronJobState): Promise<unknown> {
    try {
      const stored = await this.store.job(job.name);
      job.runs = Math.max(job.runs, stored.runs);
      job.paused = job.paused || stored.paused;
    } catch (error) {
      if (this.manageSchedules) return error;
    }
    if (!job.done && isFinished(job, this.clock.now())) job.done = true;
    this.refreshNext(job);
    if (!this.manageSchedules) return undefined;
    const error = await this.bull.ensure(job, job.done);
    if (error !== undefined) {
      this.logger.error({ component: this.name, job: job.name, error }, 'schedule sync failed');
    }
    return error;
  }
}

export type { ClusterCronTabOptions } from './clusterCronOptions.js';
