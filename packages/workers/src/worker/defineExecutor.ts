import { isMainThread } from 'node:worker_threads';
import { ConfigError, checkFunction } from '@tickwork/core';
import { EXECUTOR_SLOT, type ExecutorRecord, type HandlerMap } from '../protocol.js';

/** Options of {@link defineExecutor}. */
export interface ExecutorOptions<I = unknown> {
  /**
   * Called once in each worker thread, before its first task, with the
   * `initArgs` of the `WorkerProcess` (or of the `bind` that installed this
   * executor). A throw (or rejection) fails the task with
   * `WorkerCrashedError` and the thread is replaced, so a later request
   * retries it. @defaultValue none
   */
  init?: (initArgs: I) => void | PromiseLike<void>;
}

type Registry = ExecutorRecord[];

function registry(): Registry {
  const g = globalThis as { [EXECUTOR_SLOT]?: Registry };
  let list = g[EXECUTOR_SLOT];
  if (list === undefined) {
    list = [];
    g[EXECUTOR_SLOT] = list;
  }
  return list;
}

/**
 * Declares the handlers a `WorkerProcess` runs. Call it once, at the top
 * level of the executor module the `WorkerProcess` is given; every worker
 * thread of the pool imports that module and runs `send(key, target, args)`
 * as `handlers[target](args, ctx)`.
 *
 * Returns `handlers` unchanged, so the module can export it and the main
 * side can type its `WorkerProcess` with `typeof handlers` (a type-only
 * import: the main side never loads this module).
 *
 * @example
 * ```ts
 * // executor.ts
 * import { defineExecutor } from '@tickwork/workers/worker';
 * export const handlers = defineExecutor({
 *   add: (args: { a: number; b: number }) => args.a + args.b,
 *   async slow(ms: number, ctx) {
 *     await setTimeout(ms, undefined, { signal: ctx.signal });
 *     return 'done';
 *   },
 * });
 *
 * // main.ts
 * import type { handlers } from './executor.js';
 * const pool = new WorkerProcess<typeof handlers>({ executor: new URL('./executor.js', import.meta.url) });
 * const sum = await pool.send('k', 'add', { a: 1, b: 2 }); // number
 * ```
 *
 * @param handlers - handler functions by target name
 * @param options - see {@link ExecutorOptions}
 * @throws ConfigError when `handlers` is not an object of functions
 */
export function defineExecutor<H extends HandlerMap, I = unknown>(
  handlers: H,
  options: ExecutorOptions<I> = {},
): H {
  if (handlers === null || typeof handlers !== 'object' || Array.isArray(handlers)) {
    throw new ConfigError('defineExecutor: handlers must be an object of functions', 'handlers');
  }
  for (const name of Object.keys(handlers)) {
    checkFunction('defineExecutor', `handlers.${name}`, handlers[name]);
  }
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('defineExecutor: options must be an object', 'options');
  }
  const init =
    options.init === undefined
      ? undefined
      : checkFunction<(initArgs: I) => unknown>('defineExecutor', 'options.init', options.init);
  // The main thread may import an executor module too (tests, type exports);
  // only worker threads keep the record, so nothing accumulates there.
  if (!isMainThread) {
    registry().push({
      handlers: Object.freeze({ ...handlers }),
      init: init as ((initArgs: unknown) => unknown) | undefined,
    });
  }
  return handlers;
}
