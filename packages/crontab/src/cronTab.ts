import {
  type ComponentDiagnostics,
  type ComponentOptions,
  ConfigError,
  checkDuration,
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  isThenable,
  KeyNotFoundError,
  Lifecycle,
  OVERRUN_POLICIES,
  type Slot,
  Stats,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { type Observable, Subject } from 'rxjs';
import { checkRunWindow } from './checkRunWindow.js';
import type {
  CronJobInfo,
  CronJobOptions,
  CronJobState,
  CronRun,
  CronTask,
  CronTrigger,
} from './cronJob.js';
import { bindEntry, type CrontabBindings, type CrontabEntry, parseCrontab } from './crontabFile.js';
import { nextRun, nextRuns, previousRuns, toCronPattern } from './nextRun.js';
import { passedSlots } from './passedSlots.js';

/** Options of {@link CronTab}. */
export interface CronTabOptions extends ComponentOptions {
  /** Runs kept in each job's history. @defaultValue 10 (as fandango) */
  keep?: number;
  /** Default IANA zone of jobs added without `tz`. @defaultValue the system zone */
  tz?: string;
  /**
   * Start at once. A crontab runs its jobs as soon as it is loaded, as cron
   * and croner do; pass `false` to start it later. @defaultValue true
   */
  start?: boolean;
}

/**
 * Runs tasks on cron schedules, on the shared tickwork scheduler: one
 * wall-clock timer per job, armed for its next run in the job's IANA zone, so
 * there is no polling (fandango checked every 15 s) and a run is late only by
 * the host timer's own lateness.
 *
 * @example
 * ```ts
 * const crontab = new CronTab({ name: 'maintenance' });
 * crontab.add('0 3 * * *', () => compactLogs(), { name: 'compact', tz: 'Europe/Paris' });
 * crontab.add('*\/10 * * * * *', ({ signal }) => snapshot(signal), { overrun: 'skip', timeoutMs: 5_000 });
 * ```
 */
export class CronTab extends Lifecycle {
  private readonly keep: number;
  private readonly tz: string | undefined;
  private readonly jobsByName = new Map<string, CronJobState>();
  private readonly totals = new Stats();
  private readonly runSubject = new Subject<CronRun>();
  private inFlight = 0;
  /** Ends a run in flight as failed, one per run (of removed jobs too): what `kill()` calls. */
  private readonly runEnders = new Set<(reason: Error) => void>();
  private idleWaiters: (() => void)[] = [];

  /** Every finished run of every job; completes on `kill()`. */
  readonly runs$: Observable<CronRun> = this.runSubject.asObservable();

  /** @param options - see {@link CronTabOptions} */
  constructor(options: CronTabOptions = {}) {
    // Checked before Lifecycle registers the component, so a bad option
    // never leaves a half-built tab in the registry.
    const o = checkOptions('CronTab', 'options', options);
    const keep = checkInteger('CronTab', 'options.keep', o.keep ?? 10, { min: 0, max: 100_000 });
    const tz = o.tz === undefined ? undefined : checkString('CronTab', 'options.tz', o.tz);
    if (tz !== undefined) nextRun('* * * * *', 0, { tz });
    super('CronTab', options);
    this.keep = keep;
    this.tz = tz;
    if (o.start ?? true) this.start();
  }

  /**
   * Adds a job running `task` on `expression` and returns its name.
   *
   * @throws CronSyntaxError for a bad expression; ConfigError for a bad
   *   option, a bad zone or a name already used
   */
  add(expression: string, task: CronTask, options: CronJobOptions = {}): string {
    this.assertAlive('add');
    const c = 'CronTab.add';
    checkString(c, 'expression', expression);
    const pattern = toCronPattern(expression);
    checkFunction(c, 'task', task);
    const o = checkOptions(c, 'options', options);
    const name = o.name === undefined ? expression : checkString(c, 'options.name', o.name);
    if (this.jobsByName.has(name)) {
      throw new ConfigError(
        `${c}: a job named "${name}" exists already; pass a unique options.name`,
        'options.name',
      );
    }
    const tz = o.tz === undefined ? this.tz : checkString(c, 'options.tz', o.tz);
    nextRun(pattern, 0, { tz }); // validates the zone now rather than at the first run
    const { startAt, stopAt, args } = checkRunWindow(c, o);
    const job: CronJobState = {
      name,
      expression,
      pattern,
      tz,
      task,
      overrun: checkOneOf(c, 'options.overrun', o.overrun ?? 'skip', OVERRUN_POLICIES),
      catchUp: checkOneOf(c, 'options.catchUp', o.catchUp ?? 'once', ['skip', 'once'] as const),
      maxRuns:
        o.maxRuns === undefined
          ? Number.POSITIVE_INFINITY
          : checkInteger(c, 'options.maxRuns', o.maxRuns, { min: 1 }),
      startAt,
      stopAt,
      timeoutMs:
        o.timeoutMs === undefined
          ? 0
          : checkDuration(c, 'options.timeoutMs', o.timeoutMs, { min: 1 }),
      args,
      stats: new Stats(),
      history: [],
      controllers: new Set(),
      timer: undefined,
      paused: false,
      done: false,
      removed: false,
      runs: 0,
      running: 0,
      lastSlot: Number.NEGATIVE_INFINITY,
      queued: undefined,
    };
    job.timer = this.scheduler.createTimer((slot) => this.onSlot(job, slot), { wallClock: true });
    job.stats.reset(this.clock.now());
    this.jobsByName.set(name, job);
    this.arm(job);
    return name;
  }

  /** Removes a job: no more runs; a running one is aborted through its signal. */
  remove(name: string): boolean {
    const job = this.jobsByName.get(name);
    if (job === undefined) return false;
    job.removed = true;
    job.timer?.cancel();
    for (const ac of job.controllers)
      ac.abort(new StoppedError(`CronTab ${this.name}: job ${name} removed`));
    this.jobsByName.delete(name);
    return true;
  }

  /** Holds a job (or, without a name, every job): no scheduled runs until resumed. */
  pause(name?: string): void {
    for (const job of this.select(name, 'pause')) {
      job.paused = true;
      job.timer?.cancel();
      // A slot waiting for the running one belongs to before the pause: left
      // here, it would run after some later slot, long after its time.
      job.queued = undefined;
      job.stats.next = Number.NaN;
    }
  }

  /** Resumes a held job (or every job); its next run is the next slot from now. */
  resume(name?: string): void {
    for (const job of this.select(name, 'resume')) {
      // A job that is not paused keeps its timer: moving it to "after now"
      // would drop a slot that is due but not yet fired.
      if (!job.paused) continue;
      job.paused = false;
      job.lastSlot = Math.max(job.lastSlot, this.clock.now());
      this.arm(job);
    }
  }

  /**
   * Runs a job now, whatever its schedule, pause or overrun policy, and
   * resolves with the run (failed runs resolve too, with `ok: false`).
   */
  trigger(name: string): Promise<CronRun> {
    try {
      this.assertAlive('trigger');
      return this.execute(this.get(name, 'trigger'), this.clock.now(), 'manual');
    } catch (error) {
      // Like every async API: a bad call rejects rather than throws.
      return Promise.reject(error);
    }
  }

  /** The next `n` scheduled runs of a job from now (respecting startAt/stopAt/maxRuns). */
  nextRuns(name: string, n = 5): number[] {
    const job = this.get(name, 'nextRuns');
    checkInteger('CronTab.nextRuns', 'n', n, { min: 0, max: 100_000 });
    const left = Math.min(n, job.maxRuns - job.runs);
    if (left <= 0) return [];
    const from = Math.max(this.clock.now(), job.lastSlot, job.startAt - 1);
    return nextRuns(job.pattern, left, from, { tz: job.tz }).filter((t) => t <= job.stopAt);
  }

  /** The last `n` slots of a job's schedule before now, most recent first. */
  previousRuns(name: string, n = 5): number[] {
    const job = this.get(name, 'previousRuns');
    checkInteger('CronTab.previousRuns', 'n', n, { min: 0, max: 100_000 });
    return previousRuns(job.pattern, n, this.clock.now() + 1, { tz: job.tz });
  }

  /** The last `keep` runs of a job, oldest first. */
  history(name: string): readonly CronRun[] {
    return [...this.get(name, 'history').history];
  }

  /** Names of the jobs, in the order added. */
  names(): string[] {
    return [...this.jobsByName.keys()];
  }

  /** A description of one job. */
  job(name: string): CronJobInfo {
    const job = this.get(name, 'job');
    return {
      name: job.name,
      expression: job.expression,
      tz: job.tz,
      paused: job.paused,
      done: job.done,
      next: job.timer?.scheduled ? job.timer.dueAt : null,
      runs: job.runs,
    };
  }

  /** Diagnostics: totals over all jobs, and each job's Stats with its schedule. */
  diagnostics(): ComponentDiagnostics {
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
          paused: job.paused,
          done: job.done,
          runs: job.runs,
          overrun: job.overrun,
          catchUp: job.catchUp,
        },
      })),
    };
  }

  /**
   * Parses crontab text (`m h dom mon dow name [args]` lines, `@daily name`,
   * comments, blank lines, `CRON_TZ=` and other `NAME=value` lines) into
   * entries, without running anything.
   *
   * @throws CronSyntaxError with `line` set for a bad schedule
   */
  static parseFile(text: string): CrontabEntry[] {
    return parseCrontab(text);
  }

  /**
   * Adds every line of a crontab (text or entries from {@link CronTab.parseFile}),
   * binding each name to `bindings.tasks`, else to a `bindings.worker`
   * target, else (only with `bindings.shell: true`) to a shell command.
   * Returns the job names added. Nothing is added when any line fails.
   */
  load(crontab: string | readonly CrontabEntry[], bindings: CrontabBindings = {}): string[] {
    this.assertAlive('load');
    const entries = typeof crontab === 'string' ? parseCrontab(crontab) : crontab;
    const b = checkOptions('CronTab.load', 'bindings', bindings);
    const prepared = entries.map((entry) => {
      const name = this.jobsByName.has(entry.name) ? `${entry.name}#${entry.line}` : entry.name;
      return { entry, name, task: bindEntry(entry, b) };
    });
    const taken = new Set<string>();
    for (const p of prepared) {
      if (taken.has(p.name) || this.jobsByName.has(p.name)) {
        throw new ConfigError(
          `CronTab.load: line ${p.entry.line}: job name "${p.name}" is used twice`,
          'crontab',
        );
      }
      taken.add(p.name);
    }
    return prepared.map((p) =>
      this.add(p.entry.expression, p.task, {
        name: p.name,
        ...(p.entry.tz === undefined ? {} : { tz: p.entry.tz }),
        args: p.entry.args,
      }),
    );
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.totals.reset(now);
    for (const job of this.jobsByName.values()) {
      job.stats.reset(now);
      this.arm(job);
    }
  }

  protected onStop(): void {
    for (const job of this.jobsByName.values()) {
      job.timer?.cancel();
      job.queued = undefined;
      job.stats.next = Number.NaN;
    }
  }

  protected onKill(): void {
    const killed = new StoppedError(`CronTab ${this.name} killed`);
    for (const job of this.jobsByName.values()) {
      job.timer?.cancel();
      job.queued = undefined;
      for (const ac of job.controllers) ac.abort(killed);
    }
    // A task may ignore its signal and never settle: its run ends now, failed
    // with the StoppedError and its timeout cancelled, rather than holding
    // trigger() callers and counting as running for ever.
    for (const end of [...this.runEnders]) end(killed);
    this.runSubject.complete();
  }

  protected whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private assertAlive(method: string): void {
    if (!this.isAlive())
      throw new StoppedError(`CronTab ${this.name}: ${method}() called after kill()`);
  }

  private get(name: string, method: string): CronJobState {
    const job = this.jobsByName.get(name);
    if (job === undefined) {
      throw new KeyNotFoundError(name, `CronTab.${method}: no job named "${name}"`);
    }
    return job;
  }

  private select(name: string | undefined, method: string): CronJobState[] {
    return name === undefined ? [...this.jobsByName.values()] : [this.get(name, method)];
  }

  /** Arms a job's timer for its next slot after everything already handled. */
  private arm(job: CronJobState): void {
    const timer = job.timer;
    if (timer === undefined) return;
    if (!this.isStarted() || job.paused || job.done || job.removed) {
      timer.cancel();
      return;
    }
    const from = Math.max(this.clock.now(), job.lastSlot, job.startAt - 1);
    const next = job.runs >= job.maxRuns ? null : nextRun(job.pattern, from, { tz: job.tz });
    if (next === null || next > job.stopAt) {
      job.done = true;
      job.stats.next = Number.NaN;
      timer.cancel();
      return;
    }
    job.stats.next = next;
    timer.schedule(next);
  }

  private onSlot(job: CronJobState, slot: Readonly<Slot>): void {
    const due = slot.dueAt;
    const now = slot.firedAt;
    // Later slots that have passed too mean the process slept, was blocked or
    // the clock jumped forward: those slots were missed.
    const { passed, latest } = passedSlots(job.pattern, due, now, {
      tz: job.tz,
      until: job.stopAt,
    });
    job.lastSlot = Math.max(latest, now);
    if (passed === 0) {
      this.runSlot(job, due, 'schedule');
    } else if (job.catchUp === 'once') {
      job.stats.miss(passed);
      this.totals.miss(passed);
      this.runSlot(job, latest, 'catch-up');
    } else {
      job.stats.miss(passed + 1);
      this.totals.miss(passed + 1);
    }
    this.arm(job);
  }

  private runSlot(job: CronJobState, scheduledAt: number, trigger: CronTrigger): void {
    if (job.runs >= job.maxRuns) return;
    if (job.running > 0 && job.overrun !== 'parallel') {
      if (job.overrun === 'queue' && job.queued === undefined) {
        job.queued = { scheduledAt, trigger };
      } else {
        job.stats.skip();
        this.totals.skip();
      }
      return;
    }
    job.runs++;
    void this.execute(job, scheduledAt, trigger);
  }

  private execute(job: CronJobState, scheduledAt: number, trigger: CronTrigger): Promise<CronRun> {
    const startedAt = this.clock.now();
    job.stats.runStarted(scheduledAt, startedAt);
    this.totals.runStarted(scheduledAt, startedAt);
    job.running++;
    this.inFlight++;
    const controller = new AbortController();
    job.controllers.add(controller);
    return new Promise<CronRun>((resolve) => {
      let settled = false;
      let deadline: { cancel(): void } | undefined;
      const finish = (ok: boolean, outcome: unknown): void => {
        if (settled) return;
        settled = true;
        deadline?.cancel();
        job.controllers.delete(controller);
        this.runEnders.delete(end);
        resolve(this.finish(job, scheduledAt, startedAt, trigger, ok, outcome));
      };
      const end = (reason: Error): void => finish(false, reason);
      this.runEnders.add(end);
      let result: unknown;
      try {
        result = job.task({
          job: job.name,
          scheduledAt,
          trigger,
          signal: controller.signal,
          args: job.args,
        });
      } catch (error) {
        finish(false, error);
        return;
      }
      if (!isThenable(result)) {
        finish(true, result);
        return;
      }
      if (job.timeoutMs > 0) {
        deadline = this.scheduler.at(startedAt + job.timeoutMs, () => {
          const error = new TimeoutError(
            `CronTab ${this.name}: job ${job.name} ran longer than ${job.timeoutMs} ms`,
            job.timeoutMs,
          );
          controller.abort(error);
          finish(false, error);
        });
      }
      result.then(
        (value) => finish(true, value),
        (error: unknown) => finish(false, error),
      );
    });
  }

  private finish(
    job: CronJobState,
    scheduledAt: number,
    startedAt: number,
    trigger: CronTrigger,
    ok: boolean,
    outcome: unknown,
  ): CronRun {
    const finishedAt = this.clock.now();
    const durationMs = Math.max(0, finishedAt - startedAt);
    job.stats.runFinished(startedAt, durationMs, !ok, ok ? undefined : outcome);
    this.totals.runFinished(startedAt, durationMs, !ok, ok ? undefined : outcome);
    if (!ok)
      this.logger.warn({ component: this.name, job: job.name, err: outcome }, 'cron job failed');
    const base = { job: job.name, trigger, scheduledAt, startedAt, finishedAt, durationMs, ok };
    const run: CronRun = ok ? { ...base, value: outcome } : { ...base, error: outcome };
    if (this.keep > 0) {
      job.history.push(run);
      if (job.history.length > this.keep) job.history.shift();
    }
    job.running--;
    this.inFlight--;
    if (this.runSubject.observed) this.runSubject.next(run);
    const queued = job.queued;
    if (
      queued !== undefined &&
      job.running === 0 &&
      this.isStarted() &&
      !job.paused &&
      !job.removed
    ) {
      job.queued = undefined;
      job.runs++;
      void this.execute(job, queued.scheduledAt, queued.trigger);
      // That was the last run maxRuns allows: the job is done now, not at its
      // next slot (only then, as re-arming from now could drop a due slot).
      if (job.runs >= job.maxRuns) this.arm(job);
    }
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    return run;
  }
}
