/**
 * What crosses between the main side (`WorkerProcess`) and the worker side
 * (`defineExecutor` and the thread entry): message shapes, the handler
 * contract and a few constants. It is the only module both sides import, so
 * neither side ever loads the other's code.
 * @module
 */
import type { SerializedError } from '@tickwork/core';

/**
 * What a handler gets besides its arguments.
 *
 * @example
 * ```ts
 * defineExecutor({
 *   async fetch(url: string, ctx) {
 *     const res = await fetch(url, { signal: ctx.signal });
 *     ctx.progress('headers');
 *     return res.text();
 *   },
 * });
 * ```
 */
export interface ExecutorContext {
  /** Id of the request being run (the same id `send` returned on the main side). */
  readonly id: string;
  /** The key the request was sent with. */
  readonly key: string;
  /** The handler name the request was sent to. */
  readonly target: string;
  /**
   * Results of the requests named in the `after` option, in that order;
   * empty when there were none.
   */
  readonly upstream: readonly unknown[];
  /**
   * Aborted when the request is canceled, times out or the pool is killed;
   * its `reason` is the matching `AbortError`, `TimeoutError` or
   * `StoppedError`. Created on first access.
   */
  readonly signal: AbortSignal;
  /**
   * Whether the request was aborted, read synchronously from shared memory:
   * a CPU-bound loop can poll it without yielding to the event loop.
   */
  readonly aborted: boolean;
  /** Throws the abort reason when {@link ExecutorContext.aborted} is true. */
  throwIfAborted(): void;
  /**
   * Reports progress to the main side (`onProgress` of the send, and
   * `events$`). Best effort: a value that arrives after the request settled
   * is dropped. The value must be structured-cloneable.
   */
  progress(value: unknown): void;
}

/**
 * A handler: a function of the request's `args` and its
 * {@link ExecutorContext}, returning a result or a promise of one. `args`
 * and the result must be structured-cloneable.
 */
export type Handler<A = never, R = unknown> = (args: A, ctx: ExecutorContext) => R | PromiseLike<R>;

/**
 * A map of handler names to handlers, as given to `defineExecutor`. The
 * `never` argument type lets handlers with any argument type fit.
 */
export interface HandlerMap {
  readonly [target: string]: (args: never, ctx: ExecutorContext) => unknown;
}

/** The handler map assumed when a `WorkerProcess` is not given one: any target, any args. */
export interface UntypedHandlers {
  readonly [target: string]: (args: unknown, ctx: ExecutorContext) => unknown;
}

/** Handler names of a handler map. */
export type TargetOf<H extends HandlerMap> = keyof H & string;

/** The `args` type a handler takes. */
export type ArgsOf<F> = F extends (args: infer A, ctx: ExecutorContext) => unknown ? A : never;

/** The (awaited) result type of a handler. */
export type ResultOf<F> = F extends (args: never, ctx: ExecutorContext) => infer R
  ? Awaited<R>
  : never;

/** Name of the entry module's export that piscina calls for every task. */
export const ENTRY_EXPORT = 'run';

/**
 * Global slot where `defineExecutor` records the executors a worker thread
 * defined. A global rather than a module variable, so that the entry finds
 * the executor even when the user's module resolved `@tickwork/workers` to
 * another copy (dist vs src) than the entry's own.
 */
export const EXECUTOR_SLOT: unique symbol = Symbol.for('@tickwork/workers.executors');

/** What `defineExecutor` records for the entry. */
export interface ExecutorRecord {
  /** The handlers by target name. */
  readonly handlers: HandlerMap;
  /** Called once per thread with the pool's `initArgs` before the first task. */
  readonly init: ((initArgs: unknown) => unknown) | undefined;
}

/** `workerData` of every thread in a pool (structured-cloned once per thread). */
export interface WorkerData {
  /** File URL of the user's executor module. */
  readonly executor: string;
  /** `initArgs` given to the `WorkerProcess` or to `bind`. */
  readonly initArgs: unknown;
  /**
   * Abort flags shared with the main side: two `Int32` cells per dispatch
   * slot, `[2 * slot]` holds the seq of the aborted request and
   * `[2 * slot + 1]` its {@link AbortCode}. The main side writes the code,
   * then the seq, then notifies `[2 * slot]`.
   */
  readonly abortTable: Int32Array;
}

/** Why a running request was aborted, as written to the abort table. */
export const AbortCode = {
  /** `cancel`, `stopGroup`, its `signal`, or `remove` of its key. */
  canceled: 1,
  /** It ran past its `timeoutMs`. */
  timedOut: 2,
  /** The pool was killed. */
  stopped: 3,
} as const;

/** One of the {@link AbortCode} values. */
export type AbortCodeValue = (typeof AbortCode)[keyof typeof AbortCode];

/**
 * A task as posted to a worker thread. A tuple rather than an object:
 * structured clone writes every property name of an object, for every
 * request, and this is on the hot path.
 */
export type TaskMessage = readonly [
  /** Request ordinal; the request id is its decimal form. */
  n: number,
  /** Dispatch slot, indexing the abort table. */
  slot: number,
  key: string,
  target: string,
  args: unknown,
  /** Upstream results, when the request had `after`. */
  upstream?: readonly unknown[] | undefined,
  /** The request's time limit, ms, when it has one (for the abort reason's message). */
  limitMs?: number | undefined,
];

/**
 * The seq of request `n`: `n` wrapped into a positive Int32, as written to
 * the abort table. It only has to tell apart the few requests running at
 * once.
 */
export function seqOf(n: number): number {
  return ((n - 1) % 0x7fffffff) + 1;
}

/** Marker key of a {@link ResultEnvelope}. */
export const RESULT_MARK = '$tickworkResult';

/**
 * What the entry returns when a bare value will not do: a handler error
 * (travelling as a {@link SerializedError} inside a resolved result, because
 * piscina would structured-clone a thrown error and lose its class and own
 * properties), a result preceded by progress messages, or a value that
 * itself carries {@link RESULT_MARK}.
 */
export type ResultEnvelope =
  | {
      readonly [RESULT_MARK]: 'ok';
      readonly v: unknown;
      /** Progress messages posted before this result (see `ProgressMessage`). */
      readonly p?: number;
    }
  | {
      readonly [RESULT_MARK]: 'error';
      readonly e: SerializedError;
      /** Set when the entry gave up on an async handler after an abort. */
      readonly x?: 'aborted';
      /** Progress messages posted before this result. */
      readonly p?: number;
    };

/**
 * What the entry returns for a task: the handler's value as is (the common
 * case, so nothing is wrapped or cloned twice), or a {@link ResultEnvelope}.
 */
export type TaskResult = unknown;

/** Whether a task result is a {@link ResultEnvelope}. */
export function isEnvelope(result: unknown): result is ResultEnvelope {
  return typeof result === 'object' && result !== null && RESULT_MARK in result;
}

/** Marker key of messages a worker thread posts to the main side outside task results. */
export const MESSAGE_MARK = '$tickwork';

/**
 * Progress reported by `ctx.progress(value)`. It travels on the thread's
 * `parentPort`, a different channel from the task result, so the result
 * counts the progress messages before it and the main side holds the
 * settlement until all of them arrived: every value reported before the
 * handler returned is delivered before the request settles.
 */
export interface ProgressMessage {
  readonly [MESSAGE_MARK]: 'progress';
  /** Seq of the request. */
  readonly s: number;
  /** Its dispatch slot. */
  readonly l: number;
  /** The value reported. */
  readonly v: unknown;
}

/**
 * The executor module failed to load (or its `init` threw) in a thread; the
 * thread exits right after posting this, so its task fails as a crash whose
 * cause is this error.
 */
export interface LoadErrorMessage {
  readonly [MESSAGE_MARK]: 'load-error';
  /** Seq of the request that found the executor broken. */
  readonly s: number;
  /** Its dispatch slot. */
  readonly l: number;
  /** The load error. */
  readonly e: SerializedError;
}

/** Any message a worker thread posts outside task results. */
export type WorkerMessage = ProgressMessage | LoadErrorMessage;
