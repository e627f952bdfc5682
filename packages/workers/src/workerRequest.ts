import type { Logger, ScheduledTimer } from '@tickwork/core';
import type { Prioritized } from './priorityQueue.js';
import type { TaskResult } from './protocol.js';
import type { TargetStats } from './targetStats.js';
import type { TaskRunner } from './taskRunner.js';

/** Id of a request: unique within its `WorkerProcess`. */
export type RequestId = string;

/** The four ways a request can end; each request ends in exactly one. */
export type TerminalState = 'completed' | 'failed' | 'canceled' | 'timed-out';

/**
 * Where a request is: `waiting` for its `after` upstreams (or, for a
 * `command`, for everything sent before it), `queued` for a thread,
 * `running`, or one of the {@link TerminalState}s.
 */
export type RequestState = 'waiting' | 'queued' | 'running' | TerminalState;

/**
 * Node-style callback of a request: `(null, result)` on success, `(error)`
 * otherwise. Called exactly once.
 */
export type RequestCallback<R> = (error: Error | null, result?: R) => void;

/** Plain-data view of a request. Times are epoch ms from the pool's clock. */
export interface RequestInfo<R = unknown> {
  /** The request's id. */
  readonly id: RequestId;
  /** Key it was sent with. */
  readonly key: string;
  /** Handler name. */
  readonly target: string;
  /** Group, if any. */
  readonly group: string | undefined;
  /** Priority (higher runs first). */
  readonly priority: number;
  /** Current state. */
  readonly state: RequestState;
  /** When it was sent. */
  readonly queuedAt: number;
  /** When it started running in a thread, or null. */
  readonly startedAt: number | null;
  /** When it reached its terminal state, or null. */
  readonly finishedAt: number | null;
  /** The result, when `completed`. */
  readonly result?: R;
  /** The error, when `failed`, `canceled` or `timed-out`. */
  readonly error?: Error;
}

/** Whether `state` is terminal. */
export function isTerminal(state: RequestState): state is TerminalState {
  return state !== 'waiting' && state !== 'queued' && state !== 'running';
}

const nan = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Fields only some requests use, kept apart so the common request stays small. @internal */
export interface RequestExtra {
  /** Whether it came from `command`. */
  command: boolean;
  /** A command's limit on wait plus run, ms; 0 for none. */
  deadlineMs: number;
  onProgress: ((value: unknown) => void) | undefined;
  /** Called when it starts running (periodic keys record their stats). */
  onStart: ((request: WorkerRequest) => void) | undefined;
  /** Results of its `after` upstreams, in order. */
  upstream: unknown[] | undefined;
  /** Upstreams (or earlier requests, for a command) still unsettled. */
  blockers: number;
  /** Requests coalesced into this one by `dedupe`. */
  joiners: WorkerRequest[] | undefined;
  /** The request this one was coalesced into. */
  primary: WorkerRequest | undefined;
  /** The `signal` option and the listener attached to it. */
  signal: AbortSignal | undefined;
  signalListener: (() => void) | undefined;
  /** Grace timer after an abort, before its thread is terminated. */
  graceTimer: ScheduledTimer | undefined;
  /** Progress values received from the thread. */
  progressSeen: number;
  /** A result held until the progress posted before it has arrived. */
  held: { result: TaskResult; expected: number } | undefined;
}

/**
 * The main side's record of one request. Internal: users see it through
 * `RequestHandle` and {@link RequestInfo}. It doubles as the abort target
 * handed to piscina for the request's task (piscina only needs
 * `addEventListener`/`removeEventListener`/`aborted`), so terminating a
 * stuck thread costs no `AbortController` per request. Hot fields only;
 * the rest live in {@link RequestExtra}, made on first use.
 * @internal
 */
export class WorkerRequest implements Prioritized {
  /** Ordinal within the pool; the id is its decimal form. */
  readonly n: number;
  /** `n` wrapped into a positive Int32, matched in the abort table. */
  readonly seq: number;
  readonly key: string;
  readonly target: string;
  readonly args: unknown;
  readonly group: string | undefined;
  readonly priority: number;
  inQueue = false;
  state: RequestState = 'waiting';
  readonly queuedAt: number;
  /** When it became ready to run (sent, or its upstreams done): the queue wait starts here. */
  readyAt = Number.NaN;
  startedAt = Number.NaN;
  finishedAt = Number.NaN;
  result: unknown = undefined;
  error: Error | undefined = undefined;
  /** Run-time limit from start, ms; 0 for none. */
  timeoutMs = 0;
  callback: RequestCallback<unknown> | undefined = undefined;
  /** Internal continuations run when it settles (dependents, waitCompleted, keys). */
  waiters: ((request: WorkerRequest) => void)[] | undefined = undefined;
  /** Whether a `dedupe` send may join it (not a command, not itself a joiner). */
  joinable = false;
  /** Timeout / deadline timer. */
  timer: ScheduledTimer | undefined = undefined;
  /** Dispatch slot while a thread runs it (also after it settled, until the thread lets go). */
  slot = -1;
  runner: TaskRunner | undefined = undefined;
  /** Its target's stats, looked up once. */
  targetStats: TargetStats | undefined = undefined;
  /** piscina reads this: set once the thread is being terminated. */
  aborted = false;
  private extraFields: RequestExtra | undefined = undefined;
  private idText: string | undefined = undefined;
  private terminateListener: (() => void) | undefined = undefined;
  private deferred:
    | { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void }
    | undefined = undefined;

  constructor(
    n: number,
    seq: number,
    key: string,
    target: string,
    args: unknown,
    priority: number,
    group: string | undefined,
    queuedAt: number,
  ) {
    this.n = n;
    this.seq = seq;
    this.key = key;
    this.target = target;
    this.args = args;
    this.priority = priority;
    this.group = group;
    this.queuedAt = queuedAt;
  }

  /** The request id (made on first use). */
  get id(): RequestId {
    this.idText ??= String(this.n);
    return this.idText;
  }

  /** The rarely used fields, made on first access. */
  get x(): RequestExtra {
    this.extraFields ??= {
      command: false,
      deadlineMs: 0,
      onProgress: undefined,
      onStart: undefined,
      upstream: undefined,
      blockers: 0,
      joiners: undefined,
      primary: undefined,
      signal: undefined,
      signalListener: undefined,
      graceTimer: undefined,
      progressSeen: 0,
      held: undefined,
    };
    return this.extraFields;
  }

  /** The extra fields if any were set, without making them. */
  get extra(): RequestExtra | undefined {
    return this.extraFields;
  }

  /** Adds an internal continuation run when the request settles. */
  onSettled(waiter: (request: WorkerRequest) => void): void {
    if (this.waiters === undefined) this.waiters = [waiter];
    else this.waiters.push(waiter);
  }

  /** piscina's abort listener registration; the listener terminates the thread. */
  addEventListener(_type: 'abort', listener: () => void): void {
    this.terminateListener = listener;
  }

  /** piscina removes its listener when the task ends. */
  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.terminateListener === listener) this.terminateListener = undefined;
  }

  /** Terminates the thread running this request; false when none is. */
  terminate(): boolean {
    const listener = this.terminateListener;
    if (listener === undefined) return false;
    this.terminateListener = undefined;
    this.aborted = true;
    listener();
    return true;
  }

  /** The request's promise, made on first use so callback users pay nothing for it. */
  promise(): Promise<unknown> {
    if (this.deferred !== undefined) return this.deferred.promise;
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.deferred = { promise, resolve, reject };
    if (this.state === 'completed') resolve(this.result);
    else if (isTerminal(this.state)) reject(this.error!);
    return promise;
  }

  /** Hands the outcome to the callback and the promise. Call once, after the state is terminal. */
  deliver(logger: Logger): void {
    const failed = this.state !== 'completed';
    const callback = this.callback;
    this.callback = undefined;
    if (callback !== undefined) {
      try {
        if (failed) callback(this.error!);
        else callback(null, this.result);
      } catch (error) {
        logger.error({ err: error, request: this.id }, 'WorkerProcess: a request callback threw');
      }
    }
    const d = this.deferred;
    if (d !== undefined) {
      if (failed) d.reject(this.error!);
      else d.resolve(this.result);
    }
  }

  /** Plain-data view. */
  info(): RequestInfo {
    const base = {
      id: this.id,
      key: this.key,
      target: this.target,
      group: this.group,
      priority: this.priority,
      state: this.state,
      queuedAt: this.queuedAt,
      startedAt: nan(this.startedAt),
      finishedAt: nan(this.finishedAt),
    };
    if (this.state === 'completed') return { ...base, result: this.result };
    if (this.error !== undefined) return { ...base, error: this.error };
    return base;
  }
}
