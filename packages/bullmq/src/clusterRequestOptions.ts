import {
  ConfigError,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkOneOf,
  checkOptions,
  checkString,
  describeValue,
} from '@tickwork/core';
import { Priority, type PriorityName, type RequestCallback } from '@tickwork/workers';
import { checkRequestId } from './clusterRequestLayout.js';

/** Options of {@link ClusterWorkerProcess.send}. */
export interface ClusterSendOptions<R = unknown> {
  /** Called exactly once with `(error)` or `(null, result)`. @defaultValue none */
  callback?: RequestCallback<R>;
  /**
   * Request id, used as the BullMQ job id: sending the same id again (a retry
   * after a crash or a timeout) does not run the job again while it is kept,
   * and settles with its outcome. Must not contain `:` or be all digits.
   * @defaultValue a random UUID
   */
  requestId?: string;
  /**
   * Higher runs first; equal priorities run in the order they reached Redis.
   * An integer from -1048575 to 1048575, or `'low'` / `'normal'` / `'high'`
   * (-1, 0, 1). @defaultValue 0
   */
  priority?: number | PriorityName;
  /** Group name, for {@link ClusterWorkerProcess.stopGroup}. @defaultValue none */
  group?: string;
  /**
   * Ids of upstream requests (sent by any client). This client holds the
   * request until all of them settle, then sends it with their results
   * (`ctx.upstream`, in this order) if all completed; see the README.
   * @defaultValue none
   */
  after?: string | readonly string[];
  /** Aborting it cancels the request (queued: removed; running: aborted on its node). @defaultValue none */
  signal?: AbortSignal;
  /**
   * Longest run time, ms, measured on the node from when it starts the
   * request (time in the queue does not count). Past it the request ends
   * `timed-out` with a `TimeoutError` and its `ctx.signal` aborts. 0 for none.
   * @defaultValue the client's `timeoutMs`
   */
  timeoutMs?: number;
  /**
   * Join an identical request in flight (same key, target and args as JSON)
   * instead of adding a job: BullMQ deduplication, cluster-wide. This send
   * keeps its own id and callback but shares the other's run and outcome.
   * @defaultValue false
   */
  dedupe?: boolean;
}

/** Options of {@link ClusterWorkerProcess.command}. */
export interface ClusterCommandOptions<R = unknown> {
  /**
   * Limit on the whole command, ms from the call: waiting for this client's
   * earlier requests plus its own queue wait and run. 0 for none.
   * @defaultValue the client's `timeoutMs`
   */
  timeoutMs?: number;
  /** Aborting it cancels the command. @defaultValue none */
  signal?: AbortSignal;
  /** Called exactly once with `(error)` or `(null, result)`. @defaultValue none */
  callback?: RequestCallback<R>;
  /** Request id (see {@link ClusterSendOptions.requestId}). @defaultValue a random UUID */
  requestId?: string;
}

/** Options of {@link ClusterWorkerProcess.add}. */
export interface ClusterAddOptions<R = unknown> {
  /** Period of the key's refresh, ms (>= 10). Required. */
  periodMs: number;
  /** Age after which `get(key)` throws `ExpiredError`, ms. @defaultValue 4 x `periodMs` */
  expireMs?: number;
  /** Called on this client after each run with `(error)` or `(null, value)`. @defaultValue none */
  callback?: RequestCallback<R>;
  /** Priority of the key's jobs, as for `send`. @defaultValue 0 */
  priority?: number | PriorityName;
  /** Run-time limit of each refresh on its node, ms; 0 for none. @defaultValue the client's `timeoutMs` */
  timeoutMs?: number;
}

/** @internal send options after validation */
export interface ParsedClusterSend {
  callback: RequestCallback<unknown> | undefined;
  requestId: string | undefined;
  priority: number;
  group: string | undefined;
  after: readonly string[] | undefined;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  dedupe: boolean;
}

const C = 'ClusterWorkerProcess';
// Sets, made once: checkKnownKeys runs on every send.
const SEND_KEYS: ReadonlySet<string> = new Set([
  'callback',
  'requestId',
  'priority',
  'group',
  'after',
  'signal',
  'timeoutMs',
  'dedupe',
]);
const COMMAND_KEYS: ReadonlySet<string> = new Set(['timeoutMs', 'signal', 'callback', 'requestId']);
const ADD_KEYS: ReadonlySet<string> = new Set([
  'periodMs',
  'expireMs',
  'callback',
  'priority',
  'timeoutMs',
]);
const WAIT_KEYS: ReadonlySet<string> = new Set(['timeoutMs']);

/** Largest priority magnitude: BullMQ priorities run from 1 to 2^21. */
export const MAX_PRIORITY = 2 ** 20 - 1;

/**
 * @internal BullMQ's priority (1 first, larger later) for ours (higher
 * first). Every request gets one, so `'high'` can pass `'normal'`; commands
 * get none, which BullMQ serves before any prioritized job.
 */
export function bullPriority(priority: number): number {
  return 2 ** 20 - priority;
}

function parsePriority(path: string, value: unknown): number {
  if (typeof value === 'string') {
    return Priority[checkOneOf(C, path, value, Object.keys(Priority) as PriorityName[])];
  }
  return checkInteger(C, path, value, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
}

function parseSignal(path: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) {
    throw new ConfigError(
      `${C}: ${path} must be an AbortSignal (got ${describeValue(value)})`,
      path,
    );
  }
  return value;
}

function parseAfter(path: string, value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    throw new ConfigError(
      `${C}: ${path} must be a request id or an array of them (got ${describeValue(value)})`,
      path,
    );
  }
  return list.map((id, i) => checkString(C, `${path}[${i}]`, id));
}

function parseCallback(path: string, value: unknown): RequestCallback<unknown> | undefined {
  return value === undefined ? undefined : checkFunction<RequestCallback<unknown>>(C, path, value);
}

/** @internal the 4th argument of `send`: a callback or options */
export function parseSendOptions(value: unknown): ParsedClusterSend {
  if (typeof value === 'function') return parseSendOptions({ callback: value });
  const o = checkOptions(C, 'send options', value as ClusterSendOptions | undefined);
  checkKnownKeys(C, 'send options', o, SEND_KEYS);
  return {
    callback: parseCallback('send options.callback', o.callback),
    requestId:
      o.requestId === undefined
        ? undefined
        : checkRequestId(C, 'send options.requestId', o.requestId),
    priority: o.priority === undefined ? 0 : parsePriority('send options.priority', o.priority),
    group: o.group === undefined ? undefined : checkString(C, 'send options.group', o.group),
    after: o.after === undefined ? undefined : parseAfter('send options.after', o.after),
    signal: o.signal === undefined ? undefined : parseSignal('send options.signal', o.signal),
    timeoutMs:
      o.timeoutMs === undefined
        ? undefined
        : checkDuration(C, 'send options.timeoutMs', o.timeoutMs),
    dedupe: o.dedupe === undefined ? false : checkBoolean(C, 'send options.dedupe', o.dedupe),
  };
}

/** @internal validated command options, as send options */
export function parseCommandOptions(value: unknown): ParsedClusterSend {
  const o = checkOptions(C, 'command options', value as ClusterCommandOptions | undefined);
  checkKnownKeys(C, 'command options', o, COMMAND_KEYS);
  return {
    ...parseSendOptions({ callback: o.callback, requestId: o.requestId, signal: o.signal }),
    timeoutMs:
      o.timeoutMs === undefined
        ? undefined
        : checkDuration(C, 'command options.timeoutMs', o.timeoutMs),
  };
}

/** @internal add options after validation */
export interface ParsedClusterAdd {
  periodMs: number;
  expireMs: number;
  callback: RequestCallback<unknown> | undefined;
  priority: number;
  timeoutMs: number | undefined;
}

/** @internal validated add options */
export function parseAddOptions(value: unknown): ParsedClusterAdd {
  if (value === undefined) {
    throw new ConfigError(`${C}: add options are required (at least { periodMs })`, 'add options');
  }
  const o = checkOptions(C, 'add options', value as ClusterAddOptions);
  checkKnownKeys(C, 'add options', o, ADD_KEYS);
  const periodMs = checkDuration(C, 'add options.periodMs', o.periodMs, { min: 10 });
  return {
    periodMs,
    expireMs:
      o.expireMs === undefined
        ? 4 * periodMs
        : checkDuration(C, 'add options.expireMs', o.expireMs, { min: 1 }),
    callback: parseCallback('add options.callback', o.callback),
    priority: o.priority === undefined ? 0 : parsePriority('add options.priority', o.priority),
    timeoutMs:
      o.timeoutMs === undefined
        ? undefined
        : checkDuration(C, 'add options.timeoutMs', o.timeoutMs),
  };
}

/** @internal validated `{ timeoutMs }` of `waitCompleted` (0: none) */
export function parseWaitOptions(value: unknown): number {
  const o = checkOptions(C, 'waitCompleted options', value as { timeoutMs?: number } | undefined);
  checkKnownKeys(C, 'waitCompleted options', o, WAIT_KEYS);
  return o.timeoutMs === undefined
    ? 0
    : checkDuration(C, 'waitCompleted options.timeoutMs', o.timeoutMs);
}
