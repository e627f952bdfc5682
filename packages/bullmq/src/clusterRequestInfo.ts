import type { Logger, ScheduledTimer } from '@tickwork/core';
import {
  isTerminal,
  type RequestCallback,
  type RequestInfo,
  type RequestState,
  type TerminalState,
} from '@tickwork/workers';

/**
 * Plain-data view of a request. Times are epoch ms: `queuedAt` from the
 * clock of the client that sent it, `startedAt` / `finishedAt` from the
 * clock of the node that ran it (or of the client that canceled it).
 */
export interface ClusterRequestInfo<R = unknown> extends RequestInfo<R> {
  /**
   * The BullMQ job that runs it: the id itself, or, for a send that joined
   * an identical request (`dedupe`), that request's id.
   */
  readonly jobId: string;
  /** The BullMQ queue of the job. */
  readonly queue: string;
  /** Key it was sent with (`''` for a command). */
  readonly key: string;
  /** Priority (higher runs first; `Infinity` for a command). */
  readonly priority: number;
  /** State: `waiting` (held for `after` upstreams), `queued`, `running` or terminal. */
  readonly state: RequestState;
  /** When it was sent (or added to Redis, when read from there). */
  readonly queuedAt: number;
  /** When a node started it (its last delivery), or null. */
  readonly startedAt: number | null;
  /** Deliveries to a node so far (more than 1 after a node died mid-run). */
  readonly attempts: number;
  /** Name of the node that ran it, when known. */
  readonly node: string | null;
}

/** @internal the terminal outcome of a job, however it was learnt */
export interface ClusterOutcome {
  readonly state: TerminalState;
  readonly value?: unknown;
  readonly error?: Error;
  readonly startedAt?: number | undefined;
  readonly finishedAt?: number | undefined;
  readonly node?: string | undefined;
  readonly attempts?: number | undefined;
}

/**
 * @internal a request sent through this client: its state, times and the
 * one settlement of its callback and promise.
 */
export class ClusterRequestEntry {
  readonly id: string;
  readonly key: string;
  readonly target: string;
  readonly args: unknown;
  readonly group: string | undefined;
  readonly priority: number;
  readonly queuedAt: number;
  queue: string;
  /** The job it follows: its own id, or the one it joined. */
  jobId: string;
  state: RequestState = 'waiting';
  startedAt = Number.NaN;
  finishedAt = Number.NaN;
  attempts = 0;
  node: string | null = null;
  result: unknown = undefined;
  error: Error | undefined = undefined;
  /** Whether it joined another request's job (`dedupe`). */
  joined = false;
  callback: RequestCallback<unknown> | undefined;
  timer: ScheduledTimer | undefined;
  /** Resolves once the job is in Redis (or will never be); never rejects. */
  added: Promise<void> = Promise.resolve();
  /** Whether its job was added to Redis (or joined one there). */
  inRedis = false;
  /** When its job was added to Redis (queue wait counts from there), epoch ms. */
  readyAt = Number.NaN;
  /** Stops watching its job's outcome. */
  unwatch: (() => void) | undefined;
  /** Undoes the `signal` option's listener. */
  detach: (() => void) | undefined;
  private deferred:
    | { promise: Promise<unknown>; resolve(v: unknown): void; reject(e: Error): void }
    | undefined;
  private waiters: (() => void)[] | undefined;

  constructor(
    id: string,
    key: string,
    target: string,
    args: unknown,
    group: string | undefined,
    priority: number,
    queue: string,
    queuedAt: number,
  ) {
    this.id = id;
    this.key = key;
    this.target = target;
    this.args = args;
    this.group = group;
    this.priority = priority;
    this.queue = queue;
    this.jobId = id;
    this.queuedAt = queuedAt;
  }

  /** Whether it has reached its terminal state. */
  get settled(): boolean {
    return isTerminal(this.state);
  }

  /** The promise of its result, made on first use (no unhandled rejection for callback users). */
  promise(): Promise<unknown> {
    if (this.deferred === undefined) {
      let resolve!: (v: unknown) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.deferred = { promise, resolve, reject };
      if (this.state === 'completed') resolve(this.result);
      else if (this.settled) reject(this.error!);
    }
    return this.deferred.promise;
  }

  /** Runs `waiter` once settled (at once if it is). */
  onSettled(waiter: () => void): void {
    if (this.settled) waiter();
    else if (this.waiters === undefined) this.waiters = [waiter];
    else this.waiters.push(waiter);
  }

  /**
   * Reaches the terminal state of `outcome`: false (and nothing happens)
   * when already settled, so the first outcome wins whatever the race.
   */
  settle(outcome: ClusterOutcome, now: number, logger: Logger): boolean {
    if (this.settled) return false;
    this.state = outcome.state;
    if (outcome.startedAt !== undefined) this.startedAt = outcome.startedAt;
    this.finishedAt = outcome.finishedAt ?? now;
    if (outcome.node !== undefined) this.node = outcome.node;
    if (outcome.attempts !== undefined) this.attempts = outcome.attempts;
    this.result = outcome.value;
    this.error = outcome.state === 'completed' ? undefined : outcome.error;
    this.timer?.cancel();
    this.timer = undefined;
    this.detach?.();
    this.detach = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    const failed = outcome.state !== 'completed';
    const callback = this.callback;
    this.callback = undefined;
    if (callback !== undefined) {
      try {
        if (failed) callback(this.error!);
        else callback(null, this.result);
      } catch (error) {
        logger.error({ err: error, request: this.id }, 'ClusterWorkerProcess: a callback threw');
      }
    }
    const d = this.deferred;
    if (d !== undefined) {
      if (failed) d.reject(this.error!);
      else d.resolve(this.result);
    }
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters !== undefined) for (const w of waiters) w();
    return true;
  }

  /** Plain-data view. */
  info(): ClusterRequestInfo {
    const nan = (v: number): number | null => (Number.isNaN(v) ? null : v);
    const base = {
      id: this.id,
      jobId: this.jobId,
      queue: this.queue,
      key: this.key,
      target: this.target,
      group: this.group,
      priority: this.priority,
      state: this.state,
      queuedAt: this.queuedAt,
      startedAt: nan(this.startedAt),
      finishedAt: nan(this.finishedAt),
      attempts: this.attempts,
      node: this.node,
    };
    if (this.state === 'completed') return { ...base, result: this.result };
    if (this.error !== undefined) return { ...base, error: this.error };
    return base;
  }
}
