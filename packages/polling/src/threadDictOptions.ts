import {
  type ComponentOptions,
  ConfigError,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
} from '@tickwork/core';
import { checkLimit } from './checks.js';
import { KEYS_PER_PHASE } from './phaseSpreader.js';
import type { ReadFailure } from './readFailure.js';
import { type RetryOptions, type RetryPolicy, resolveRetryPolicy } from './retryPolicy.js';
import type { Entry } from './threadDictTypes.js';

/** What `read` is given besides the key. */
export interface ReadContext<V> {
  /**
   * Aborted when this read times out (reason: `TimeoutError`), its key is
   * removed (`AbortError`) or the dict is killed (`StoppedError`). Made on
   * first access, so reads that ignore it cost nothing.
   */
  readonly signal: AbortSignal;
  /** The key's entry before this read. */
  readonly previous: Entry<V>;
  /**
   * Scheduled time of the slot this read is for, epoch ms (the request time
   * for reads asked for with `read()` or `get()`): what a value timestamp
   * aligned to the polling grid should use.
   */
  readonly dueAt: number;
}

/** What `readMany` is given besides the keys. */
export interface ReadManyContext {
  /** As {@link ReadContext.signal}, for the whole batch. */
  readonly signal: AbortSignal;
}

/** Reads one key: returns its value, or a promise of it. Throwing or rejecting is a failed read. */
export type ReadFn<V> = (key: string, ctx: ReadContext<V>) => V | PromiseLike<V>;

/**
 * What `readMany` returns: the values in the order of `keys`, or a map by
 * key. A key with no value in it fails with `KeyNotFoundError`.
 */
export type ReadManyResult<V> =
  | ReadonlyArray<V | ReadFailure>
  | ReadonlyMap<string, V | ReadFailure>;

/** Reads several keys due together in one call (as Tango reads same-period attributes). */
export type ReadManyFn<V> = (
  keys: readonly string[],
  ctx: ReadManyContext,
) => ReadManyResult<V> | PromiseLike<ReadManyResult<V>>;

/** Writes a value; what it returns (or resolves to) is what gets cached. */
export type WriteFn<V> = (key: string, value: V) => V | PromiseLike<V>;

/**
 * Options of `ThreadDict`. Durations are in milliseconds. At least one of
 * `read` and `readMany` is required.
 */
export interface ThreadDictOptions<V> extends ComponentOptions {
  /** Reads one key (sync or async). Used for single reads; polls use it unless `readMany` is set. */
  read?: ReadFn<V>;
  /**
   * Reads all keys that fall due in the same scheduler tick with the same
   * period in one call. When set, keys of one period are aligned on a common
   * grid so they keep falling due together.
   */
  readMany?: ReadManyFn<V>;
  /**
   * Splits `readMany` batches further: keys due together with the same
   * period are read in one call per `batchBy(key)` value — e.g. the device
   * of an attribute, as Tango reads a device's attributes together — so a
   * slow or hung device holds up only its own batch. Called once per key
   * when it is appended. @defaultValue one batch per period
   */
  batchBy?: (key: string) => string;
  /** Writes for `set(key, value)`; its result is cached. Without it `set` caches `value` as is. */
  write?: WriteFn<V>;
  /** Default polling period of a key, ms (Tango's default). @defaultValue 3000 */
  periodMs?: number;
  /**
   * Age after which a value expires and `get` throws `ExpiredError`, ms;
   * `Infinity` for never. @defaultValue 4 x the key's period (Tango's staleness factor)
   */
  expireMs?: number;
  /**
   * Longest a read may take before it is abandoned as a `TimeoutError` and its
   * signal aborted, ms; `Infinity` for no limit. @defaultValue the key's `expireMs`
   */
  timeoutMs?: number;
  /**
   * Most reads (or `readMany` batches) in flight at once; due keys beyond it
   * wait in FIFO order. Synchronous reads never wait. @defaultValue Infinity
   */
  concurrency?: number;
  /**
   * Backoff for keys whose reads fail, or `false` to keep failing keys on
   * their period. @defaultValue `{}` (see {@link RetryOptions} for its defaults)
   */
  retry?: RetryOptions | false;
  /** Values kept per key in the history ring; 0 keeps none. @defaultValue 10 */
  historyDepth?: number;
  /**
   * Keys appended together (a loop, or every key on `start()`) are spread
   * over their period in phases of about this many keys; a phase's keys are
   * read one after another in one scheduler wake. Larger phases mean fewer
   * wakes (each costs tens of microseconds of CPU); smaller ones keep a
   * wake's synchronous work, and so the lateness of a phase's last key,
   * short. Lower it when synchronous reads take more than a microsecond or
   * so. @defaultValue 2000
   */
  keysPerPhase?: number;
  /**
   * Most keys held; beyond it the least recently used key (by `get`, `read`,
   * `append` or `set`) is removed as by `remove`. @defaultValue unbounded
   */
  maxEntries?: number;
  /** Equality of values: an equal new value refreshes the entry but emits no change. @defaultValue `Object.is` */
  equals?: (a: V, b: V) => boolean;
  /**
   * `false`: no polling; `get`/`read` read a key on access when its value is
   * older than the key's `periodMs`. @defaultValue true
   */
  threaded?: boolean;
  /** Start polling at construction. @defaultValue false */
  start?: boolean;
}

/** The options with checks done and defaults filled in. @internal */
export interface ResolvedDictOptions<V> {
  readonly read: ReadFn<V> | undefined;
  readonly readMany: ReadManyFn<V> | undefined;
  readonly batchBy: ((key: string) => string) | undefined;
  readonly write: WriteFn<V> | undefined;
  readonly periodMs: number;
  /** NaN: 4 x the key's period. */
  readonly expireMs: number;
  /** NaN: the key's expireMs. */
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly retry: RetryPolicy | null;
  readonly historyDepth: number;
  readonly keysPerPhase: number;
  readonly maxEntries: number;
  readonly equals: (a: V, b: V) => boolean;
  readonly threaded: boolean;
  readonly start: boolean;
}

/** Checks every option of a `ThreadDict`. @internal */
export function resolveDictOptions<V>(c: string, o: ThreadDictOptions<V>): ResolvedDictOptions<V> {
  const read =
    o.read === undefined ? undefined : checkFunction<ReadFn<V>>(c, 'options.read', o.read);
  const readMany =
    o.readMany === undefined
      ? undefined
      : checkFunction<ReadManyFn<V>>(c, 'options.readMany', o.readMany);
  const batchBy =
    o.batchBy === undefined
      ? undefined
      : checkFunction<(key: string) => string>(c, 'options.batchBy', o.batchBy);
  if (batchBy !== undefined && readMany === undefined) {
    throw new ConfigError(`${c}: options.batchBy needs options.readMany`, 'options.batchBy');
  }
  if (read === undefined && readMany === undefined) {
    throw new ConfigError(
      `${c}: options.read or options.readMany must be a function (got neither)`,
      'options.read',
    );
  }
  return {
    read,
    readMany,
    batchBy,
    write:
      o.write === undefined ? undefined : checkFunction<WriteFn<V>>(c, 'options.write', o.write),
    periodMs: checkDuration(c, 'options.periodMs', o.periodMs ?? 3000, { min: 1 }),
    expireMs:
      o.expireMs === undefined ? Number.NaN : checkLimit(c, 'options.expireMs', o.expireMs, 1),
    timeoutMs:
      o.timeoutMs === undefined ? Number.NaN : checkLimit(c, 'options.timeoutMs', o.timeoutMs, 1),
    concurrency:
      o.concurrency === undefined || o.concurrency === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : checkInteger(c, 'options.concurrency', o.concurrency, { min: 1 }),
    retry: resolveRetryPolicy(c, o.retry),
    historyDepth: checkInteger(c, 'options.historyDepth', o.historyDepth ?? 10, {
      min: 0,
      max: 100_000,
    }),
    keysPerPhase: checkInteger(c, 'options.keysPerPhase', o.keysPerPhase ?? KEYS_PER_PHASE, {
      min: 1,
    }),
    maxEntries:
      o.maxEntries === undefined
        ? Number.POSITIVE_INFINITY
        : checkInteger(c, 'options.maxEntries', o.maxEntries, { min: 1, max: 2 ** 32 - 1 }),
    equals:
      o.equals === undefined
        ? Object.is
        : checkFunction<(a: V, b: V) => boolean>(c, 'options.equals', o.equals),
    threaded: o.threaded === undefined ? true : checkBoolean(c, 'options.threaded', o.threaded),
    start: o.start === undefined ? false : checkBoolean(c, 'options.start', o.start),
  };
}
