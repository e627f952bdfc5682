import {
  ConfigError,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  describeValue,
  OVERRUN_POLICIES,
  type OverrunPolicy,
} from '@tickwork/core';
import type { RequestCallback, RequestId } from './workerRequest.js';

/** Named priorities; any finite number works too (higher runs first). */
export const Priority = {
  /** Runs after `normal` work. */
  low: -1,
  /** The default. */
  normal: 0,
  /** Runs before `normal` work. */
  high: 1,
} as const;

/** A name from {@link Priority}. */
export type PriorityName = keyof typeof Priority;

/** Options of `WorkerProcess.send`. */
export interface SendOptions<R = unknown> {
  /** Called exactly once with `(error)` or `(null, result)`. @defaultValue none */
  callback?: RequestCallback<R>;
  /**
   * Higher runs first; equal priorities run in submission order. A number,
   * or `'low'` / `'normal'` / `'high'` (-1, 0, 1). @defaultValue 0
   */
  priority?: number | PriorityName;
  /** Group name, for `stopGroup` and the `group-finished` event. @defaultValue none */
  group?: string;
  /**
   * Ids of upstream requests. The request waits until all of them settle;
   * it runs only if all completed, with their results in `ctx.upstream` (in
   * this order). An unknown id, or an upstream that failed, timed out or was
   * canceled, settles it without running (see the README). @defaultValue none
   */
  after?: RequestId | readonly RequestId[];
  /** Aborting it cancels the request (queued: removed; running: aborted). @defaultValue none */
  signal?: AbortSignal;
  /**
   * Longest run time, ms, measured from when a thread starts it (time in the
   * queue does not count). Past it the request ends `timed-out` with a
   * `TimeoutError`, its `ctx.signal` aborts, and a thread that does not stop
   * within `abortGraceMs` is replaced. 0 for none.
   * @defaultValue the pool's `timeoutMs`
   */
  timeoutMs?: number;
  /**
   * Coalesce with an identical request in flight (same key, target and
   * deeply equal args): this send gets its own id and callback but shares
   * the other's run and outcome. @defaultValue false (every send runs)
   */
  dedupe?: boolean;
  /** Receives the handler's `ctx.progress(value)` reports. @defaultValue none */
  onProgress?: (value: unknown) => void;
}

/** Options of `WorkerProcess.command`. */
export interface CommandOptions<R = unknown> {
  /**
   * Limit on the whole command, ms, from the call: waiting for the work
   * queued before it plus its own run. 0 for none.
   * @defaultValue the pool's `timeoutMs`
   */
  timeoutMs?: number;
  /** Aborting it cancels the command. @defaultValue none */
  signal?: AbortSignal;
  /** Called exactly once with `(error)` or `(null, result)`. @defaultValue none */
  callback?: RequestCallback<R>;
}

/** Options of `WorkerProcess.add`. */
export interface AddOptions<R = unknown> {
  /** Period of the key's refresh, ms (>= 1). Required. */
  periodMs: number;
  /** Age after which `get(key)` throws `ExpiredError`, ms. @defaultValue 4 x `periodMs` */
  expireMs?: number;
  /** Called after each run with `(error)` or `(null, value)`. @defaultValue none */
  callback?: RequestCallback<R>;
  /** What a slot does while the previous run is still going. @defaultValue `'skip'` */
  overrun?: OverrunPolicy;
  /** Priority of the key's requests. @defaultValue 0 */
  priority?: number | PriorityName;
  /** Run-time limit of each refresh, ms; 0 for none. @defaultValue the pool's `timeoutMs` */
  timeoutMs?: number;
}

/** Options of `WorkerProcess.waitCompleted`. */
export interface WaitOptions {
  /** Reject with `TimeoutError` after this long, ms; 0 waits for ever. @defaultValue 0 */
  timeoutMs?: number;
}

/** Options of `WorkerProcess.close`. */
export interface CloseOptions {
  /** How long to let queued and running work finish before killing, ms; 0 waits for ever. @defaultValue 30000 */
  timeoutMs?: number;
}

/** Send options after validation. @internal */
export interface ParsedSend<R> {
  callback: RequestCallback<R> | undefined;
  priority: number;
  group: string | undefined;
  after: readonly RequestId[] | undefined;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  dedupe: boolean;
  onProgress: ((value: unknown) => void) | undefined;
}

const C = 'WorkerProcess';
const SEND_KEYS = new Set([
  'callback',
  'priority',
  'group',
  'after',
  'signal',
  'timeoutMs',
  'dedupe',
  'onProgress',
]);
const COMMAND_KEYS = new Set(['timeoutMs', 'signal', 'callback']);
const ADD_KEYS = new Set(['periodMs', 'expireMs', 'callback', 'overrun', 'priority', 'timeoutMs']);
const WAIT_KEYS = new Set(['timeoutMs']);

/** A priority option as a number. @internal */
export function parsePriority(path: string, value: unknown): number {
  if (typeof value === 'string') {
    return Priority[checkOneOf(C, path, value, Object.keys(Priority) as PriorityName[])];
  }
  return checkNumber(C, path, value, {});
}

/** An `AbortSignal` option. @internal */
export function parseSignal(path: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) {
    throw new ConfigError(
      `${C}: ${path} must be an AbortSignal (got ${describeValue(value)})`,
      path,
    );
  }
  return value;
}

/** A request timeout option: 0 (none) or 1 ms up to 2^31 - 1. @internal */
export function parseTimeout(path: string, value: unknown): number {
  return value === 0 ? 0 : checkDuration(C, path, value, { min: 1 });
}

function parseAfter(path: string, value: unknown): readonly RequestId[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    throw new ConfigError(
      `${C}: ${path} must be a request id or an array of them (got ${describeValue(value)})`,
      path,
    );
  }
  for (let i = 0; i < list.length; i++) checkString(C, `${path}[${i}]`, list[i]);
  return list as RequestId[];
}

const NO_OPTIONS: ParsedSend<never> = {
  callback: undefined,
  priority: 0,
  group: undefined,
  after: undefined,
  signal: undefined,
  timeoutMs: undefined,
  dedupe: false,
  onProgress: undefined,
};

/**
 * The fourth argument of `send`: a callback or an options object.
 * @internal
 */
export function parseSendOptions<R>(value: unknown): ParsedSend<R> {
  if (value === undefined) return NO_OPTIONS as ParsedSend<R>;
  if (typeof value === 'function') return { ...NO_OPTIONS, callback: value as RequestCallback<R> };
  const o = checkOptions(C, 'send options', value as SendOptions<R>);
  checkKnownKeys(C, 'send options', o, SEND_KEYS);
  return {
    callback:
      o.callback === undefined
        ? undefined
        : checkFunction<RequestCallback<R>>(C, 'send options.callback', o.callback),
    priority: o.priority === undefined ? 0 : parsePriority('send options.priority', o.priority),
    group: o.group === undefined ? undefined : checkString(C, 'send options.group', o.group),
    after: o.after === undefined ? undefined : parseAfter('send options.after', o.after),
    signal: o.signal === undefined ? undefined : parseSignal('send options.signal', o.signal),
    timeoutMs:
      o.timeoutMs === undefined ? undefined : parseTimeout('send options.timeoutMs', o.timeoutMs),
    dedupe: o.dedupe === undefined ? false : checkBoolean(C, 'send options.dedupe', o.dedupe),
    onProgress:
      o.onProgress === undefined
        ? undefined
        : checkFunction<(value: unknown) => void>(C, 'send options.onProgress', o.onProgress),
  };
}

/** Validated command options. @internal */
export function parseCommandOptions<R>(value: CommandOptions<R> | undefined): CommandOptions<R> {
  const o = checkOptions(C, 'command options', value);
  checkKnownKeys(C, 'command options', o, COMMAND_KEYS);
  const out: CommandOptions<R> = {};
  if (o.timeoutMs !== undefined)
    out.timeoutMs = parseTimeout('command options.timeoutMs', o.timeoutMs);
  if (o.signal !== undefined) out.signal = parseSignal('command options.signal', o.signal);
  if (o.callback !== undefined) {
    out.callback = checkFunction<RequestCallback<R>>(C, 'command options.callback', o.callback);
  }
  return out;
}

/** Add options after validation. @internal */
export interface ParsedAdd<R> {
  periodMs: number;
  expireMs: number;
  callback: RequestCallback<R> | undefined;
  overrun: OverrunPolicy;
  priority: number;
  timeoutMs: number | undefined;
}

/** Validated add options. @internal */
export function parseAddOptions<R>(value: AddOptions<R> | undefined): ParsedAdd<R> {
  if (value === undefined) {
    throw new ConfigError(`${C}: add options are required (at least { periodMs })`, 'add options');
  }
  const o = checkOptions(C, 'add options', value);
  checkKnownKeys(C, 'add options', o, ADD_KEYS);
  const periodMs = checkDuration(C, 'add options.periodMs', o.periodMs, { min: 1 });
  return {
    periodMs,
    expireMs:
      o.expireMs === undefined
        ? 4 * periodMs
        : checkDuration(C, 'add options.expireMs', o.expireMs, { min: 1 }),
    callback:
      o.callback === undefined
        ? undefined
        : checkFunction<RequestCallback<R>>(C, 'add options.callback', o.callback),
    overrun:
      o.overrun === undefined
        ? 'skip'
        : checkOneOf(C, 'add options.overrun', o.overrun, OVERRUN_POLICIES),
    priority: o.priority === undefined ? 0 : parsePriority('add options.priority', o.priority),
    timeoutMs:
      o.timeoutMs === undefined ? undefined : parseTimeout('add options.timeoutMs', o.timeoutMs),
  };
}

/** Validated close options: `timeoutMs`, default 30000, 0 waits for ever. @internal */
export function parseCloseOptions(value: CloseOptions | undefined): number {
  const o = checkOptions(C, 'close options', value);
  checkKnownKeys(C, 'close options', o, WAIT_KEYS);
  return o.timeoutMs === undefined ? 30_000 : parseTimeout('close options.timeoutMs', o.timeoutMs);
}

/** Validated wait options (`timeoutMs`, 0 for none). @internal */
export function parseWaitOptions(path: string, value: WaitOptions | undefined): number {
  const o = checkOptions(C, path, value);
  checkKnownKeys(C, path, o, WAIT_KEYS);
  return o.timeoutMs === undefined ? 0 : parseTimeout(`${path}.timeoutMs`, o.timeoutMs);
}
