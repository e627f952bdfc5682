import { hostname } from 'node:os';
import {
  type ComponentOptions,
  ConfigError,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
  checkOptions,
  checkString,
  isTickworkError,
} from '@tickwork/core';
import {
  type ReadFn,
  type ReadManyFn,
  type RetryOptions,
  ThreadDict,
  type ThreadDictOptions,
} from '@tickwork/polling';
import type { MirrorEntry } from './clusterThreadDictMirrorEntry.js';
import type { ClusterAppendOptions } from './clusterThreadDictTypes.js';
import { checkConnection, type RedisConnectionOptions } from './redisConnection.js';
import { MAX_SHARDS } from './shardOf.js';

/**
 * Options of `ClusterThreadDict`. Durations are in ms. Every node of one
 * dict must use the same `name`, `prefix`, `shards` and `leaseMs`, and append
 * the same keys with the same options (a node whose `shards` or `leaseMs`
 * differ logs an error and reports `layoutConflict` in its diagnostics).
 */
export interface ClusterThreadDictOptions<V> extends ComponentOptions {
  /** How to reach Redis (ioredis options). Required. */
  connection: RedisConnectionOptions;
  /**
   * The dict's name **across the cluster**: nodes with the same name share
   * shards, leases and values. Required; non-empty, without `:`. Its BullMQ
   * queue is `tickwork-poll-<name>`.
   */
  name: string;
  /** BullMQ key prefix in Redis. @defaultValue `'bull'` (BullMQ's) */
  prefix?: string;
  /** This node's id in lease records and messages. @defaultValue `<hostname>-<pid>-<random>` */
  nodeId?: string;
  /** Number of shards (and BullMQ job schedulers), 1 to 1024. @defaultValue 16 */
  shards?: number;
  /** Length of a lease window: the shard schedulers' `every`, 2000 to 10000. @defaultValue 5000 */
  leaseMs?: number;
  /**
   * How long a node keeps polling a shard after its window ended while the
   * next window's job has not been taken (by it or, as a claim announces,
   * by another node): covers the pickup latency without a gap.
   * @defaultValue `leaseMs / 4`
   */
  graceMs?: number;
  /** BullMQ lock of a lease job (renewed every half of it). @defaultValue `leaseMs` */
  lockDurationMs?: number;
  /** How often each node's worker looks for stalled lease jobs (a dead node's). @defaultValue `leaseMs` */
  stalledIntervalMs?: number;
  /** How often changed (and aging unchanged) values are published, in one script call. @defaultValue 20 */
  flushMs?: number;
  /**
   * `false`: this node only mirrors values (`get`, `watch`), takes no
   * leases and needs no `read`. @defaultValue true
   */
  poll?: boolean;
  /** Reads one key (as `ThreadDict`'s `read`). One of `read` / `readMany` is required when polling. */
  read?: ReadFn<V>;
  /** Reads keys due together in one call (as `ThreadDict`'s `readMany`). */
  readMany?: ReadManyFn<V>;
  /** Splits `readMany` batches (as `ThreadDict`'s `batchBy`). */
  batchBy?: (key: string) => string;
  /** Default polling period of a key. @defaultValue 3000 */
  periodMs?: number;
  /**
   * Age after which a value expires (`get` throws `ExpiredError`), and its
   * TTL in Redis; `Infinity` for never. @defaultValue 4 x the key's period
   */
  expireMs?: number;
  /** Longest a read may take. @defaultValue the key's `expireMs` */
  timeoutMs?: number;
  /** Most async reads in flight **per shard** on this node. @defaultValue Infinity */
  concurrency?: number;
  /** Backoff of failing keys (as `ThreadDict`'s). @defaultValue `{}` */
  retry?: RetryOptions | false;
  /** Values kept per key in the local history of a polled shard. @defaultValue 10 */
  historyDepth?: number;
  /** Equality of values: equal values are not re-sent, only their sample time. @defaultValue `Object.is` */
  equals?: (a: V, b: V) => boolean;
  /** Start at once. @defaultValue true */
  start?: boolean;
}

/** The checked options. @internal */
export interface ResolvedClusterOptions<V> {
  readonly connection: RedisConnectionOptions;
  readonly name: string;
  readonly prefix: string;
  readonly queueName: string;
  readonly nodeId: string;
  readonly shards: number;
  readonly leaseMs: number;
  readonly graceMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly flushMs: number;
  readonly poll: boolean;
  readonly periodMs: number;
  /** NaN: 4 x the key's period. */
  readonly expireMs: number;
  readonly equals: (a: V, b: V) => boolean;
  readonly start: boolean;
}

const C = 'ClusterThreadDict';

/** A duration, or `Infinity` (never). @internal */
export function checkLimit(c: string, path: string, value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return checkDuration(c, path, value, { min: 1 });
}

/** Checks the options this package reads itself; the rest is checked by `ThreadDict`. @internal */
export function resolveClusterOptions<V>(
  options: ClusterThreadDictOptions<V>,
): ResolvedClusterOptions<V> {
  const o = checkOptions(C, 'options', options);
  const connection = checkConnection(C, o.connection);
  if (o.name === undefined) {
    throw new ConfigError(
      `${C}: options.name is required (the dict's name across nodes)`,
      'options.name',
    );
  }
  const name = checkString(C, 'options.name', o.name);
  if (name.includes(':')) {
    throw new ConfigError(
      `${C}: options.name must not contain ":" (got ${JSON.stringify(name)})`,
      'options.name',
    );
  }
  const nodeId = checkString(C, 'options.nodeId', o.nodeId ?? defaultNodeId());
  if (/[|\n]/.test(nodeId)) {
    throw new ConfigError(
      `${C}: options.nodeId must not contain "|" or a newline`,
      'options.nodeId',
    );
  }
  const leaseMs = checkInteger(C, 'options.leaseMs', o.leaseMs ?? 5000, { min: 2000, max: 10_000 });
  const poll = o.poll === undefined ? true : checkBoolean(C, 'options.poll', o.poll);
  if (poll && o.read === undefined && o.readMany === undefined) {
    throw new ConfigError(
      `${C}: options.read or options.readMany must be a function (or options.poll false)`,
      'options.read',
    );
  }
  const periodMs = checkDuration(C, 'options.periodMs', o.periodMs ?? 3000, { min: 1 });
  return {
    connection,
    name,
    prefix: o.prefix === undefined ? 'bull' : checkString(C, 'options.prefix', o.prefix),
    queueName: `tickwork-poll-${name}`,
    nodeId,
    shards: checkInteger(C, 'options.shards', o.shards ?? 16, { min: 1, max: MAX_SHARDS }),
    leaseMs,
    graceMs: checkDuration(C, 'options.graceMs', o.graceMs ?? Math.round(leaseMs / 4), {
      max: leaseMs,
    }),
    lockDurationMs: checkInteger(C, 'options.lockDurationMs', o.lockDurationMs ?? leaseMs, {
      min: 1000,
      max: 600_000,
    }),
    stalledIntervalMs: checkInteger(
      C,
      'options.stalledIntervalMs',
      o.stalledIntervalMs ?? leaseMs,
      { min: 100, max: 600_000 },
    ),
    flushMs: checkDuration(C, 'options.flushMs', o.flushMs ?? 20, { min: 1, max: 10_000 }),
    poll,
    periodMs,
    expireMs: o.expireMs === undefined ? Number.NaN : checkLimit(C, 'options.expireMs', o.expireMs),
    equals:
      o.equals === undefined
        ? Object.is
        : checkFunction<(a: V, b: V) => boolean>(C, 'options.equals', o.equals),
    start: o.start === undefined ? true : checkBoolean(C, 'options.start', o.start),
  };
}

function defaultNodeId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The options of each shard's local ThreadDict: the ThreadDict ones given, and `base`. @internal */
export function localDictOptions<V>(
  options: ClusterThreadDictOptions<V>,
  base: ThreadDictOptions<V>,
): ThreadDictOptions<V> {
  const { read, readMany, batchBy, timeoutMs, concurrency, retry, historyDepth, equals } = options;
  return {
    ...(read === undefined ? {} : { read }),
    ...(readMany === undefined ? {} : { readMany }),
    ...(batchBy === undefined ? {} : { batchBy }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(retry === undefined ? {} : { retry }),
    ...(historyDepth === undefined ? {} : { historyDepth }),
    ...(equals === undefined ? {} : { equals }),
    ...base,
  };
}

/** Checks the ThreadDict options by building one, so a bad one fails the constructor. @internal */
export function checkDictOptions<V>(options: ThreadDictOptions<V>): void {
  try {
    void new ThreadDict<V>(options).kill();
  } catch (error) {
    if (isTickworkError(error) && error instanceof ConfigError) {
      throw new ConfigError(`${C}: ${error.message.replace(/^ThreadDict: /, '')}`, error.path, {
        cause: error,
      });
    }
    throw error;
  }
}

/** A key's append options for its shard's ThreadDict (expiry explicit, so both sides agree). @internal */
export function dictAppendOptions<V>(e: MirrorEntry<V>): ClusterAppendOptions {
  const o: ClusterAppendOptions = { periodMs: e.periodMs, expireMs: e.expireMs };
  if (e.options.timeoutMs !== undefined) o.timeoutMs = e.options.timeoutMs;
  return o;
}
