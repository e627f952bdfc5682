import type { LastErrorSnapshot } from '@tickwork/core';

/**
 * Outcome of a key's last read: `'pending'` before any read finished, `'ok'`
 * after a success (or a `set`), `'error'` after a failure.
 */
export type EntryStatus = 'pending' | 'ok' | 'error';

/** A snapshot of one key of a `ThreadDict`, as `entry(key)` and `watch(key)` give it. */
export interface Entry<V> {
  /** The key. */
  readonly key: string;
  /** The last good value, or `undefined` when the key has none yet. */
  readonly value: V | undefined;
  /** Whether the key has a value at all (a value may itself be `undefined`). */
  readonly hasValue: boolean;
  /** When the value was sampled (the read finished, or `set` stored it), epoch ms; null without a value. */
  readonly sampledAt: number | null;
  /** When the value expires, epoch ms; null without a value, `Infinity` when it never does. */
  readonly expiresAt: number | null;
  /** Whether the value is missing or older than `expireMs`: `get` would throw `ExpiredError`. */
  readonly stale: boolean;
  /**
   * The error of the last read when it failed, else `undefined`. The value
   * is then the last good one (failed reads are never stored as values).
   */
  readonly error: Error | undefined;
  /** Outcome of the last read. */
  readonly status: EntryStatus;
}

/** One record of a key's history ring (`historyDepth` of them, oldest first). */
export interface HistoryRecord<V> {
  /** The value read (or set). */
  readonly value: V;
  /** When it was sampled, epoch ms. */
  readonly sampledAt: number;
}

/** Where a key's polling stands right now. */
export type PollState = 'idle' | 'queued' | 'reading' | 'backoff' | 'stopped' | 'unpolled';

/**
 * Polling status of one key, after Tango's `DevPollStatus`: what an operator
 * asks of a key that looks wrong.
 */
export interface PollStatus {
  /** The key. */
  readonly key: string;
  /** Whether the key is polled (appended on a threaded dict) rather than only set. */
  readonly polled: boolean;
  /** Where its polling stands. */
  readonly state: PollState;
  /** Polling period, ms. */
  readonly periodMs: number;
  /** Age after which its value expires, ms (`Infinity`: never). */
  readonly expireMs: number;
  /** Longest a read may take, ms (`Infinity`: no limit). */
  readonly timeoutMs: number;
  /** Start of the last read, epoch ms, or null. */
  readonly lastReadAt: number | null;
  /** Duration of the last finished read, ms, or null ("time needed for the last reading"). */
  readonly lastReadMs: number | null;
  /** When the current value was sampled, epoch ms, or null. */
  readonly sampledAt: number | null;
  /** Age of the value, ms, or null ("data not updated since"). */
  readonly ageMs: number | null;
  /** Gaps between consecutive history records, ms, newest first ("delta between last records"). */
  readonly deltasMs: readonly number[];
  /** The last read error, or null. */
  readonly lastError: LastErrorSnapshot | null;
  /** Failures in a row (0 after a success). */
  readonly consecutiveErrors: number;
  /** Reads finished since the last start. */
  readonly count: number;
  /** Reads failed since the last start. */
  readonly errors: number;
  /** Slots skipped because the previous read was still going. */
  readonly skipped: number;
  /** Slots missed (process blocked or suspended, clock jump). */
  readonly missed: number;
  /** Next scheduled read, epoch ms, or null. */
  readonly next: number | null;
}

/** Options of `ThreadDict.get`. */
export interface GetOptions {
  /**
   * Return the last good value even when it is older than `expireMs`
   * (a key with no value at all still throws). @defaultValue false
   */
  allowStale?: boolean;
}

/**
 * Where `ThreadDict.read` takes a value from: `'device'` reads now, `'cache'`
 * is `get`, `'cache-device'` returns the cached value when fresh, else reads now.
 */
export type ReadSource = 'device' | 'cache' | 'cache-device';

/** Options of `ThreadDict.read`. */
export interface ReadOptions {
  /** @defaultValue `'cache-device'` */
  source?: ReadSource;
  /** For `'cache'`: as {@link GetOptions.allowStale}. @defaultValue false */
  allowStale?: boolean;
}

/** Options of `ThreadDict.append`. */
export interface AppendOptions<V> {
  /** Polling period of this key, ms. @defaultValue the dict's `periodMs` */
  periodMs?: number;
  /** Initial value, cached at once (no `write`), so `get` works before the first read. */
  value?: V;
  /** Expiry of this key's values, ms. @defaultValue the dict's `expireMs` (4 x this key's period) */
  expireMs?: number;
  /** Read timeout of this key, ms. @defaultValue the dict's `timeoutMs` (this key's `expireMs`) */
  timeoutMs?: number;
}
