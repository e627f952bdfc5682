import { deserializeError, isSerializedError } from '@tickwork/core';
import { Piscina } from 'piscina';
import {
  ENTRY_EXPORT,
  MESSAGE_MARK,
  type TaskMessage,
  type TaskResult,
  type WorkerData,
  type WorkerMessage,
} from './protocol.js';
import type { RunnerSpec, TaskRunner, TerminateTarget } from './taskRunner.js';
import { resolveWorkerRuntime } from './workerRuntime.js';

function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && MESSAGE_MARK in value;
}

/**
 * The default {@link TaskRunner}: a piscina pool whose threads load the
 * package's worker entry, which loads the executor. What it relies on in
 * piscina (5.x):
 * - a task whose thread throws an uncaught error, runs out of memory under
 *   `resourceLimits` or calls `process.exit` rejects, and piscina removes
 *   the thread and starts another when needed;
 * - aborting a running task through its signal terminates the thread;
 * - `destroy()` rejects pending tasks and terminates every thread;
 * - messages a thread posts on `parentPort` are re-emitted as `'message'`,
 *   and arrive before the `'exit'` that fails its task.
 * piscina's own queue stays empty (it is fed one task per free thread), so
 * `maxQueue` is left unbounded here and priority lives in `WorkerProcess`;
 * `recordTiming` is off because core `Stats` keep the histograms.
 */
export class ThreadPool implements TaskRunner {
  private readonly pool: Piscina<TaskMessage, TaskResult>;

  /** @param spec - see {@link RunnerSpec} */
  constructor(spec: RunnerSpec) {
    const runtime = resolveWorkerRuntime(spec.name, spec.executor, spec.execArgv);
    const workerData: WorkerData = {
      executor: spec.executor,
      initArgs: spec.initArgs,
      abortTable: spec.abortTable,
    };
    this.pool = new Piscina<TaskMessage, TaskResult>({
      filename: runtime.entry,
      name: ENTRY_EXPORT,
      minThreads: spec.minThreads,
      maxThreads: spec.maxThreads,
      idleTimeout: spec.idleTimeoutMs,
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      workerData,
      ...(runtime.execArgv === undefined ? {} : { execArgv: [...runtime.execArgv] }),
      ...(spec.resourceLimits === undefined ? {} : { resourceLimits: spec.resourceLimits }),
      ...(spec.env === undefined ? {} : { env: { ...spec.env } }),
    });
    const { hooks, logger, name } = spec;
    this.pool.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message[MESSAGE_MARK] === 'progress') hooks.onProgress(message.s, message.l, message.v);
      else if (message[MESSAGE_MARK] === 'load-error' && isSerializedError(message.e)) {
        hooks.onLoadError(message.s, message.l, deserializeError(message.e));
      }
    });
    // piscina emits 'error' for a thread that died with no task (e.g. failing
    // at startup); an EventEmitter 'error' without a listener would throw.
    this.pool.on('error', (error: unknown) => {
      logger.error(
        { err: error, component: name },
        'WorkerProcess: a worker thread failed outside a task',
      );
    });
    this.pool.on('workerCreate', () => hooks.onThreadStart());
    this.pool.on('workerDestroy', () => hooks.onThreadEnd());
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  run(message: TaskMessage, abort: TerminateTarget): Promise<TaskResult> {
    return this.pool.run(message, { signal: abort });
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
