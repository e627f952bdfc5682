import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from '@tickwork/core';
import type { TaskMessage, TaskResult } from './protocol.js';

/**
 * What a runner calls to terminate the thread running a task: piscina's
 * abort-signal shape, implemented by the request record itself.
 */
export interface TerminateTarget {
  /** Whether termination was asked for. */
  readonly aborted: boolean;
  /** Registers the runner's terminate listener. */
  addEventListener(type: 'abort', listener: () => void): void;
  /** Unregisters it. */
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Messages a runner passes up from its threads. */
export interface RunnerHooks {
  /** `ctx.progress(value)` of the request with seq `seq` in dispatch slot `slot`. */
  onProgress(seq: number, slot: number, value: unknown): void;
  /** The executor failed to load in the thread running `seq`; the thread is exiting. */
  onLoadError(seq: number, slot: number, error: Error): void;
  /** A thread was started (`replaced` when it takes the place of one that died). */
  onThreadStart(): void;
  /** A thread ended (crash, termination, idle timeout or shutdown). */
  onThreadEnd(): void;
}

/** Everything a runner is made from. */
export interface RunnerSpec {
  /** Name of the owning `WorkerProcess`, for messages and thread names. */
  readonly name: string;
  /** File URL of the executor module. */
  readonly executor: string;
  /** Passed to the executor's `init` in each thread. */
  readonly initArgs: unknown;
  /** The shared abort table (see `WorkerData.abortTable`). */
  readonly abortTable: Int32Array;
  /** Threads kept alive when idle. */
  readonly minThreads: number;
  /** Most threads; also how many tasks run at once. */
  readonly maxThreads: number;
  /** How long a thread above `minThreads` may idle before it ends, ms. */
  readonly idleTimeoutMs: number;
  /** Heap and stack limits of each thread. */
  readonly resourceLimits: ResourceLimits | undefined;
  /** Node options of each thread; undefined to let the runtime decide. */
  readonly execArgv: readonly string[] | undefined;
  /** Environment of each thread. */
  readonly env: Readonly<Record<string, string>> | undefined;
  /** Where runner-level problems are logged. */
  readonly logger: Logger;
  /** Callbacks into the owner. */
  readonly hooks: RunnerHooks;
}

/**
 * Runs tasks on threads. `WorkerProcess` feeds it at most `maxThreads` tasks
 * at a time (its own priority queue holds the rest), so the runner never
 * queues. The default is the piscina-backed `ThreadPool`; tests substitute an
 * in-process one to drive timing logic in virtual time.
 */
export interface TaskRunner {
  /**
   * Runs one task. Resolves with the entry's result; rejects when the thread
   * died (crash, `process.exit`, out of memory), was terminated through
   * `abort`, or the task could not be posted (uncloneable args).
   */
  run(message: TaskMessage, abort: TerminateTarget): Promise<TaskResult>;
  /** Live threads. */
  readonly threads: number;
  /** Terminates every thread; pending tasks reject. */
  destroy(): Promise<void>;
}
