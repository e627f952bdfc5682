import {
  type ComponentDiagnostics,
  type ComponentOptions,
  ConfigError,
  checkDuration,
  checkFunction,
  checkInteger,
  checkOptions,
  checkString,
  KeyNotFoundError,
  Lifecycle,
  Stats,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { type CronRun, nextRun, toCronPattern } from '@tickwork/crontab';
import { type Job, Queue, Worker } from 'bullmq';
import { type Observable, Subject } from 'rxjs';
import type {
  ClusterCronJobInfo,
  ClusterCronJobOptions,
  ClusterCronJobState,
  ClusterCronTask,
  ClusterSchedule,
} from './clusterCronJob.js';
import {
  blockingConnection,
  checkConnection,
  type RedisConnectionOptions,
} from './redisConnection.js';

/** Options of {@link ClusterCronTab}. */
export interface ClusterCronTabOptions extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /**
   * BullMQ queue holding the schedules and their slot jobs. Every node of one
   * cluster crontab uses the same queue name. @defaultValue `'tickwork-cron'`
   */
  queueName?: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /** Default IANA zone of jobs added without `tz`. @defaultValue the system zone */
  tz?: string;
  /** Slot jobs this node runs at once, all jobs together. @defaultValue 8 */
  concurrency?: number;
  /** Finished (and failed) slot jobs kept in Redis per queue, for inspection. @defaultValue 100 */
  keepJobs?: number;
  /** Runs kept in each job's local history. @defaultValue 10 */
  keep?: number;
  /**
   * Whether `add` upserts the job's BullMQ scheduler and `remove` deletes it.
   * Pass `false` on nodes that should only run tasks, leaving the schedules
   * to the one place that owns them (a deploy step, one designated node).
   * @defaultValue true
   */
  manageSchedules?: boolean;
  /** Start at once (run this node's BullMQ worker). @defaultValue true */
  start?: boolean;
}

const C = 'ClusterCronTab';

/**
 * A `CronTab` for a cluster: each job is a BullMQ job scheduler
 * (`upsertJobScheduler` with the pattern and zone) in Redis, so each slot
 * becomes exactly one BullMQ job whatever the number of nodes, and a BullMQ
 * `Worker` on every node runs whichever slot jobs it takes. Upserting is
 * idempotent by scheduler id (the job name), so nodes deploying the same jobs
 * at once neither duplicate nor drop schedules.
 *
 * Delivery is at-least-once: a node dying mid-run makes BullMQ redeliver the
 * slot after stall detection; `context.jobId` is the same for every delivery.
 *
 * @example
 * ```ts
 * const crontab = new ClusterCronTab({ connection: { host: '10.0.0.5', port: 6379 } });
 * crontab.add('0 3 * * *', () => compactLogs(), { name: 'compact', tz: 'Europe/Paris' });
 * await crontab.synced(); // the schedule is in Redis
 * ```
 */
export class ClusterCronTab extends Lifecycle {
  private readonly connection: RedisConnectionOptions;
  private readonly queueName: string;
  private readonly prefix: string | undefined;
  private readonly tz: string | undefined;
  private readonly concurrency: number;
  private readonly keepJobs: number;
  private readonly keep: number;
  private readonly manageSchedules: boolean;
  private readonly jobsByName = new Map<string, ClusterCronJobState>();
  private readonly totals = new Stats();
  private readonly runSubject = new Subject<CronRun>();
  private readonly controllers = new Set<AbortController>();
  private readonly queue: Queue;
  private readonly removals = new Set<Promise<unknown>>();
  private worker: Worker | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  /** Every finished run on this node; completes on `kill()`. */
  readonly runs$: Observable<CronRun> = this.runSubject.asObservable();

  /**
   * @param options - see {@link ClusterCronTabOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterCronTabOptions) {
    const o = checkOptions(C, 'options', options);
    const connection = checkConnection(C, o.connection);
    const queueName = checkString(C, 'options.queueName', o.queueName ?? 'tickwork-cron');
    if (queueName === '' || queueName.includes(':')) {
      throw new ConfigError(
        `${C}: options.queueName must be non-empty without ":" (got ${JSON.stringify(queueName)})`,
        'options.queueName',
      );
    }
    super(C, options);
    this.connection = connection;
    this.queueName = queueName;
    this.prefix = o.prefix === undefined ? undefined : checkString(C, 'options.prefix', o.prefix);
    this.tz = o.tz === undefined ? undefined : checkString(C, 'options.tz', o.tz);
    if (this.tz !== undefined) nextRun('* * * * *', 0, { tz: this.tz });
    this.concurrency = checkInteger(C, 'options.concurrency', o.concurrency ?? 8, {
      min: 1,
      max: 10_000,
    });
    this.keepJobs = checkInteger(C, 'options.keepJobs', o.keepJobs ?? 100, { min: 0 });
    this.keep = checkInteger(C, 'options.keep', o.keep ?? 10, { min: 0, max: 100_000 });
    this.manageSchedules = o.manageSchedules ?? true;
    this.queue = new Queue(this.queueName, { connection: { ...connection }, prefix: this.prefix });
    this.queue.on('error', (error) => this.logger.error({ component: this.name, error }, 'queue'));
    if (o.start ?? true) this.start();
  }

  /**
   * Adds a job running `task` on `expression` (5 fields, or 6 with seconds
   * first) and returns its name. With `manageSchedules` the job's BullMQ
   * scheduler is upserted in the background: await {@link ClusterCronTab.synced}.
   *
   * @throws CronSyntaxError for a bad expression; ConfigError for a bad
   *   option, a bad zone or a name already used on this node
   */
  add(expression: string, task: ClusterCronTask, options: ClusterCronJobOptions = {}): string {
    this.assertAlive('add');
    const c = `${C}.add`;
    checkString(c, 'expression', expression);
    const pattern = toCronPattern(expression);
    checkFunction(c, 'task', task);
    const o = checkOptions(c, 'options', options);
    const name = o.name === undefined ? expression : checkString(c, 'options.name', o.name);
    if (name === '') throw new ConfigError(`${c}: options.name must not be empty`, 'options.name');
    if (this.jobsByName.has(name)) {
      throw new ConfigError(
        `${c}: a job named "${name}" exists already; pass a unique options.name`,
        'options.name',
      );
    }
    const tz = o.tz === undefined ? this.tz : checkString(c, 'options.tz', o.tz);
    const next = nextRun(pattern, this.clock.now(), { tz }); // validates the zone now
    const job: ClusterCronJobState = {
      name,
      expression,
      tz,
      task,
      timeoutMs:
        o.timeoutMs === undefined
          ? 0
          : checkDuration(c, 'options.timeoutMs', o.timeoutMs, { min: 1 }),
      stats: new Stats(),
      history: [],
      synced: Promise.resolve(undefined),
    };
    job.stats.reset(this.clock.now());
    job.stats.next = next ?? Number.NaN;
    this.jobsByName.set(name, job);
    if (this.manageSchedules) job.synced = this.upsert(job);
    return name;
  }

  /**
   * Removes a job from this node and, with `manageSchedules`, its BullMQ
   * scheduler (so no node runs it any more). Resolves whether it existed here.
   */
  async remove(name: string): Promise<boolean> {
    const job = this.jobsByName.get(name);
    if (job === undefined) return false;
    this.jobsByName.delete(name);
    if (this.manageSchedules) {
      const removal = job.synced.then(() => this.queue.removeJobScheduler(name));
      this.removals.add(removal);
      try {
        await removal;
      } finally {
        this.removals.delete(removal);
      }
    }
    return true;
  }

  /**
   * Resolves once every schedule added so far is upserted in Redis; rejects
   * with the first upsert error.
   */
  async synced(): Promise<void> {
    const outcomes = await Promise.all([...this.jobsByName.values()].map((job) => job.synced));
    const error = outcomes.find((outcome) => outcome !== undefined);
    if (error !== undefined) throw error;
  }

  /** Every schedule stored in Redis for this queue, whichever node upserted it. */
  async schedules(): Promise<ClusterSchedule[]> {
    this.assertAlive('schedules');
    const stored = await this.queue.getJobSchedulers(0, -1, true);
    return stored.map((s) => ({
      name: s.id ?? s.key,
      pattern: s.pattern,
      tz: s.tz,
      next: s.next,
    }));
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
      if (await this.queue.removeJobScheduler(schedule.name)) pruned.push(schedule.name);
    }
    return pruned;
  }

  /** Names of this node's jobs. */
  jobs(): string[] {
    return [...this.jobsByName.keys()];
  }

  /** A job's description. @throws KeyNotFoundError for an unknown name */
  job(name: string): ClusterCronJobInfo {
    const job = this.jobsByName.get(name);
    if (job === undefined) throw new KeyNotFoundError(name, `${C}: no job named "${name}"`);
    const next = nextRun(job.expression, this.clock.now(), { tz: job.tz });
    return { name: job.name, expression: job.expression, tz: job.tz, next };
  }

  /** The last runs of a job on this node, oldest first. @throws KeyNotFoundError for an unknown name */
  history(name: string): readonly CronRun[] {
    const job = this.jobsByName.get(name);
    if (job === undefined) throw new KeyNotFoundError(name, `${C}: no job named "${name}"`);
    return [...job.history];
  }

  /** Diagnostics: totals of this node and one item per job (lateness from the slot time). */
  diagnostics(): ComponentDiagnostics {
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.totals.snapshot(),
      items: [...this.jobsByName.values()].map((job) => ({
        name: job.name,
        stats: job.stats.snapshot(),
        detail: { expression: job.expression, tz: job.tz ?? null, queue: this.queueName },
      })),
      detail: { queue: this.queueName, concurrency: this.concurrency, running: this.inFlight },
    };
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.totals.reset(now);
    for (const job of this.jobsByName.values()) job.stats.reset(now);
    if (this.worker === undefined) {
      this.worker = new Worker(this.queueName, (job) => this.process(job), {
        connection: blockingConnection(this.connection),
        prefix: this.prefix,
        concurrency: this.concurrency,
        autorun: true,
      });
      this.worker.on('error', (error) =>
        this.logger.error({ component: this.name, error }, 'worker'),
      );
    } else {
      this.worker.resume().catch((error: unknown) => {
        this.logger.warn({ component: this.name, error }, 'resume failed');
      });
    }
  }

  protected onStop(): void {
    // Stop taking slot jobs; the running ones finish (whenIdle waits for them).
    this.worker?.pause(true).catch((error: unknown) => {
      this.logger.warn({ component: this.name, error }, 'pause failed');
    });
  }

  protected async onKill(): Promise<void> {
    for (const controller of this.controllers) {
      controller.abort(new StoppedError(`${C} ${this.name}: killed`));
    }
    await Promise.all([...this.jobsByName.values()].map((job) => job.synced));
    await Promise.allSettled([...this.removals]);
    await this.worker?.close();
    await this.queue.close();
    this.runSubject.complete();
  }

  protected whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private assertAlive(method: string): void {
    if (!this.isAlive()) throw new StoppedError(`${C} ${this.name}: ${method}() after kill()`);
  }

  /** Upserts the job's scheduler; settles with undefined or the error (never rejects). */
  private async upsert(job: ClusterCronJobState): Promise<unknown> {
    const keep = { count: this.keepJobs };
    const repeat =
      job.tz === undefined ? { pattern: job.expression } : { pattern: job.expression, tz: job.tz };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.queue.upsertJobScheduler(job.name, repeat, {
          name: job.name,
          opts: { removeOnComplete: keep, removeOnFail: keep },
        });
        return undefined;
      } catch (error) {
        // Nodes upserting the same scheduler in the same instant race to create
        // the same slot job (`repeat:<name>:<slot>`); the loser gets "job ID
        // already exists". The schedule is then in place: check it and move on.
        if (attempt < 3 && (await this.isScheduled(job))) return undefined;
        if (attempt >= 3) {
          this.logger.error({ component: this.name, job: job.name, error }, 'upsert failed');
          return error;
        }
      }
    }
  }

  /** Whether Redis holds the job's scheduler with its pattern and zone. */
  private async isScheduled(job: ClusterCronJobState): Promise<boolean> {
    try {
      const stored = await this.queue.getJobScheduler(job.name);
      return stored?.pattern === job.expression && stored.tz === job.tz;
    } catch {
      return false;
    }
  }

  /** The BullMQ processor: runs the slot job's task and keeps its Stats. */
  private async process(bullJob: Job): Promise<unknown> {
    const job = this.jobsByName.get(bullJob.name);
    if (job === undefined) {
      throw new KeyNotFoundError(
        bullJob.name,
        `${C} ${this.name}: no task for job "${bullJob.name}" on this node; every node must add every job of the queue`,
      );
    }
    const scheduledAt = bullJob.opts.prevMillis ?? bullJob.timestamp;
    const startedAt = this.clock.now();
    const controller = new AbortController();
    this.controllers.add(controller);
    this.inFlight++;
    job.stats.runStarted(scheduledAt, startedAt);
    this.totals.runStarted(scheduledAt, startedAt);
    job.stats.next = nextRun(job.expression, startedAt, { tz: job.tz }) ?? Number.NaN;
    const timer =
      job.timeoutMs > 0
        ? this.scheduler.at(startedAt + job.timeoutMs, () =>
            controller.abort(
              new TimeoutError(`${C} ${this.name}: job "${job.name}" timed out`, job.timeoutMs),
            ),
          )
        : undefined;
    let ok = false;
    let outcome: unknown;
    try {
      outcome = await Promise.race([
        Promise.resolve().then(() =>
          job.task({
            job: job.name,
            scheduledAt,
            trigger: 'schedule',
            signal: controller.signal,
            args: [],
            jobId: bullJob.id ?? '',
            attempt: bullJob.attemptsStarted,
          }),
        ),
        aborted(controller.signal),
      ]);
      ok = true;
      return outcome;
    } catch (error) {
      outcome = error;
      throw error;
    } finally {
      timer?.cancel();
      this.controllers.delete(controller);
      const finishedAt = this.clock.now();
      const durationMs = finishedAt - startedAt;
      job.stats.runFinished(startedAt, durationMs, !ok, ok ? undefined : outcome);
      this.totals.runFinished(startedAt, durationMs, !ok, ok ? undefined : outcome);
      const run: CronRun = {
        job: job.name,
        trigger: 'schedule',
        scheduledAt,
        startedAt,
        finishedAt,
        durationMs,
        ok,
        ...(ok ? { value: outcome } : { error: outcome }),
      };
      job.history.push(run);
      if (job.history.length > this.keep) job.history.shift();
      this.inFlight--;
      this.runSubject.next(run);
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
