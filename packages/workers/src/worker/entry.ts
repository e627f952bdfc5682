/**
 * The module piscina loads in every worker thread of a `WorkerProcess`. It
 * imports the user's executor module (named in `workerData`), runs its
 * `init` once, and runs each task as `handlers[target](args, ctx)`,
 * returning a {@link TaskResult}.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, isThenable, serializeError } from '@tickwork/core';
import {
  EXECUTOR_SLOT,
  type ExecutorRecord,
  type HandlerMap,
  isEnvelope,
  type LoadErrorMessage,
  MESSAGE_MARK,
  RESULT_MARK,
  type ResultEnvelope,
  seqOf,
  type TaskMessage,
  type TaskResult,
  type WorkerData,
} from '../protocol.js';
import { TaskContext } from './taskContext.js';

const data = workerData as WorkerData;
let handlers: HandlerMap | undefined;
let loading: Promise<HandlerMap> | undefined;

async function load(): Promise<HandlerMap> {
  const before = registered().length;
  await import(data.executor);
  const records = registered().slice(before);
  if (records.length !== 1) {
    throw new ConfigError(
      records.length === 0
        ? `WorkerProcess: executor ${data.executor} did not call defineExecutor()`
        : `WorkerProcess: executor ${data.executor} called defineExecutor() ${records.length} times; call it once`,
      'options.executor',
    );
  }
  const record = records[0]!;
  if (record.init !== undefined) await record.init(data.initArgs);
  handlers = record.handlers;
  return record.handlers;
}

function registered(): readonly ExecutorRecord[] {
  return (globalThis as { [EXECUTOR_SLOT]?: ExecutorRecord[] })[EXECUTOR_SLOT] ?? [];
}

/**
 * Reports the load error for the task and ends the thread: piscina fails the
 * task as a crash and starts a fresh thread for the next one, which loads the
 * executor again (so a transient `init` failure heals).
 */
function loadFailed(message: TaskMessage, error: unknown): never {
  const report: LoadErrorMessage = {
    [MESSAGE_MARK]: 'load-error',
    s: seqOf(message[0]),
    l: message[1],
    e: serializeError(error),
  };
  parentPort?.postMessage(report);
  process.exit(1);
}

function failure(error: unknown, ctx: TaskContext | undefined, aborted = false): ResultEnvelope {
  const e = serializeError(error);
  const p = ctx?.progressCount ?? 0;
  if (aborted)
    return p === 0
      ? { [RESULT_MARK]: 'error', e, x: 'aborted' }
      : { [RESULT_MARK]: 'error', e, x: 'aborted', p };
  return p === 0 ? { [RESULT_MARK]: 'error', e } : { [RESULT_MARK]: 'error', e, p };
}

/** The value as is when it needs no envelope; see {@link ResultEnvelope}. */
function success(value: unknown, ctx: TaskContext): TaskResult {
  const p = ctx.progressCount;
  if (p === 0 && !isEnvelope(value)) return value;
  return p === 0 ? { [RESULT_MARK]: 'ok', v: value } : { [RESULT_MARK]: 'ok', v: value, p };
}

function execute(h: HandlerMap, message: TaskMessage): TaskResult | Promise<TaskResult> {
  const target = message[3];
  const handler = Object.hasOwn(h, target) ? h[target] : undefined;
  if (handler === undefined) {
    const names = Object.keys(h).join(', ') || '(none)';
    const error = new ConfigError(
      `WorkerProcess: request ${message[0]}: unknown target "${target}"; the executor defines: ${names}`,
      'target',
    );
    return failure(error, undefined);
  }
  const ctx = new TaskContext(message, data.abortTable);
  let value: unknown;
  try {
    value = handler(message[4] as never, ctx);
  } catch (error) {
    ctx.finish();
    return failure(error, ctx);
  }
  if (!isThenable(value)) {
    ctx.finish();
    return success(value, ctx);
  }
  return settleAsync(value, ctx);
}

/**
 * Waits for an async handler, or for its abort: a handler that ignores its
 * signal but yields to the event loop frees the thread at once instead of
 * waiting to be terminated (its leftover work stays suspended while the
 * thread sleeps between tasks).
 */
function settleAsync(value: PromiseLike<unknown>, ctx: TaskContext): Promise<TaskResult> {
  return new Promise<TaskResult>((resolve) => {
    let done = false;
    const finish = (result: () => TaskResult): void => {
      if (done) return;
      done = true;
      ctx.finish();
      resolve(result());
    };
    // Both branches attached, so a late rejection is never unhandled (which
    // would crash the thread).
    Promise.resolve(value).then(
      (v) => finish(() => success(v, ctx)),
      (error: unknown) => finish(() => failure(error, ctx)),
    );
    ctx.onAbort((reason) => finish(() => failure(reason, ctx, true)));
  });
}

/**
 * Runs one task. Synchronous handlers are answered synchronously (piscina
 * awaits either way), which keeps the round trip short.
 */
export function run(message: TaskMessage): TaskResult | Promise<TaskResult> {
  if (handlers !== undefined) return execute(handlers, message);
  loading ??= load();
  return loading.then(
    (h) => execute(h, message),
    (error: unknown) => loadFailed(message, error),
  );
}
