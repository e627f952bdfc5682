import {
  AbortError,
  type ComponentDiagnostics,
  checkDuration,
  checkOneOf,
  checkOptions,
  ExpiredError,
  isThenable,
  KeyNotFoundError,
  type StatsSnapshot,
} from '@tickwork/core';
import type { Observable } from 'rxjs';
import { checkKey, checkLimit } from './checks.js';
import { itemDiagnostics } from './dictDiagnostics.js';
import { DictEngine, KIND } from './dictEngine.js';
import { IDLE, type KeyState, OK, toLimit } from './keyState.js';
import type { ThreadDictOptions } from './threadDictOptions.js';
import type {
  AppendOptions,
  Entry,
  GetOptions,
  HistoryRecord,
  PollStatus,
  ReadOptions,
  ReadSource,
} from './threadDictTypes.js';
import { TurnClock } from './turnClock.js';
import { watchKey } from './watchKey.js';

const SOURCES: readonly ReadSource[] = ['device', 'cache', 'cache-device'];

/**
 * A dictionary whose values are produced by polling: each appended key is
 * read every `periodMs` on the shared tickwork scheduler (one timer per key,
 * one host timer in all), and `get(key)` returns the cached value
 * synchronously.
 *
 * - A failing, hanging or slow key never delays the others: reads time out
 *   (`timeoutMs`), failures are recorded per key, failing keys back off
 *   (`retry`), and a failed read is never stored as the value: the last good
 *   value stays until it expires (`expireMs`), then `get` throws `ExpiredError`.
 * - Keys appended in one burst are spread over their period (see README).
 * - With `readMany`, keys of one period that fall due in the same tick are read in one call.
 * - `watch(key)` and `changes$` emit only real changes (per `equals`, or a key
 *   starting or stopping failing) and complete on `kill()`.
 *
 * @example
 * ```ts
 * const dict = new ThreadDict<number>({ read: (key) => device.read(key), periodMs: 1000, start: true });
 * dict.append('sys/tg/1/temperature');
 * const t = await dict.read('sys/tg/1/temperature'); // first value
 * dict.get('sys/tg/1/temperature');                   // cached, synchronous
 * ```
 */
export class ThreadDict<V> extends DictEngine<V> {
  /** Every change of every key: values that differ per `equals`, and failure transitions. Completes on `kill()`. */
  readonly changes$: Observable<Entry<V>>;
  private readonly turn: TurnClock;

  /** @param options - see {@link ThreadDictOptions}; `read` or `readMany` is required */
  constructor(options: ThreadDictOptions<V>) {
    super(options);
    this.turn = new TurnClock(this.clock);
    this.changes$ = this.changes.asObservable();
    if (this.o.start) this.start();
  }

  /** Number of keys (appended or set). */
  get size(): number {
    return this.store.size;
  }

  /** The keys, appended or set. */
  keys(): string[] {
    return [...this.store.keys()];
  }

  /** Whether `key` was appended or set (and not removed). */
  has(key: string): boolean {
    return this.store.peek(key) !== undefined;
  }

  /**
   * Starts polling `key` every `periodMs` (the first read within one period,
   * see README); appending it again changes its period, expiry or timeout
   * from its next slot. `value` caches an initial value.
   */
  append(key: string, options: AppendOptions<V> = {}): this {
    this.assertAlive('append');
    checkKey(KIND, key);
    const o = checkOptions(KIND, 'append options', options);
    const periodMs =
      o.periodMs === undefined
        ? undefined
        : checkDuration(KIND, 'append options.periodMs', o.periodMs, { min: 1 });
    const expireMs =
      o.expireMs === undefined
        ? undefined
        : checkLimit(KIND, 'append options.expireMs', o.expireMs, 1);
    const timeoutMs =
      o.timeoutMs === undefined
        ? undefined
        : checkLimit(KIND, 'append options.timeoutMs', o.timeoutMs, 1);
    let state = this.store.get(key);
    const isNew = state === undefined;
    if (state === undefined) {
      state = this.newState(key, periodMs ?? this.o.periodMs);
      this.store.set(key, state);
    }
    const reschedule = !state.polled || (periodMs !== undefined && periodMs !== state.pollPeriodMs);
    state.polled = true;
    if (periodMs !== undefined) state.pollPeriodMs = periodMs;
    // A key only set so far has no batch yet (set() does not call batchBy).
    if (reschedule) state.batchId = this.batchIdOf(key, state.pollPeriodMs);
    if (expireMs !== undefined) {
      state.expireMs = toLimit(expireMs);
      state.ownExpire = true;
    }
    if (timeoutMs !== undefined) {
      state.timeoutMs = toLimit(timeoutMs);
      state.ownTimeout = true;
    }
    this.applyLimits(state);
    if ('value' in o) this.storeValue(state, o.value as V, this.now(), false);
    if (reschedule && this.o.threaded && this.state === 'running') this.schedule(state, !isNew);
    return this;
  }

  /** Stops polling `key` and drops it; a read in flight is aborted and its result ignored. */
  remove(key: string): boolean {
    checkKey(KIND, key);
    const state = this.store.peek(key);
    if (state === undefined) return false;
    this.store.delete(key);
    this.teardown(state, new AbortError(`${KIND} ${this.name}: ${key} was removed`));
    return true;
  }

  /**
   * The cached value of `key`, synchronously: one table lookup and an expiry
   * compare. Throws `KeyNotFoundError` for a key never appended or set, and
   * `ExpiredError` (with the stale value, its age, and the last read error
   * as `cause`) when the value is missing or older than `expireMs`, unless
   * `allowStale`. A key whose last read failed returns its last good value
   * while fresh. On a non-threaded dict a value older than the key's period
   * is read again first.
   *
   * Expiry is judged against a clock reading shared by the calls of one
   * synchronous turn (renewed every 1024 calls): no poll can refresh a value
   * while that code runs, and it saves a clock read per call.
   */
  get(key: string, options?: GetOptions): V {
    const state = this.store.get(key);
    if (state !== undefined && this.turn.now() - this.epoch <= state.freshUntil)
      return state.value as V;
    return this.getSlow(key, state, options);
  }

  /** Snapshot of `key`: value, sample time, expiry, staleness, last error, status. */
  entry(key: string): Entry<V> {
    return this.require(key).entry(this.now(), this.epoch);
  }

  /**
   * The value of `key`, asynchronously. `source: 'device'` reads now,
   * `'cache'` is {@link ThreadDict.get}, `'cache-device'` (the default)
   * returns the cached value when fresh, else reads now. Concurrent reads of
   * one key share one call of `read`. Rejects with the read's error, or
   * `KeyNotFoundError` / `ConfigError` / `StoppedError`.
   */
  read(key: string, options: ReadOptions = {}): Promise<V> {
    try {
      checkKey(KIND, key);
      const o = checkOptions(KIND, 'read options', options);
      const source = checkOneOf(KIND, 'read options.source', o.source ?? 'cache-device', SOURCES);
      if (source === 'cache') return Promise.resolve(this.get(key, o));
      this.assertAlive('read');
      const state = this.require(key);
      if (source === 'cache-device' && state.hasValue) {
        const now = this.now();
        if (!state.isStale(now) && now <= state.freshUntil)
          return Promise.resolve(state.value as V);
      }
      return this.readNow(state);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Writes `value` through `write` (if given) and caches what it returns,
   * notifying watchers when it differs. A key not appended yet is created,
   * unpolled and never expiring. Resolves with the cached value.
   */
  set(key: string, value: V): Promise<V> {
    try {
      checkKey(KIND, key);
      this.assertAlive('set');
      const write = this.o.write;
      if (write === undefined) {
        this.storeValue(this.ensure(key), value, this.now(), true);
        return Promise.resolve(value);
      }
      const before = this.store.peek(key);
      const result = write(key, value);
      if (!isThenable(result)) {
        this.storeValue(this.ensure(key), result, this.now(), true);
        return Promise.resolve(result);
      }
      return Promise.resolve(result).then((written) => {
        // A key removed (or a dict killed) while writing is not brought back.
        if (this.isAlive() && !before?.removed) {
          this.storeValue(this.ensure(key), written, this.now(), true);
        }
        return written;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Entries of `key`: the current one on subscription, then each real change.
   * Errors with `KeyNotFoundError` if the key is unknown when subscribed;
   * completes when the key is removed or the dict killed.
   */
  watch(key: string): Observable<Entry<V>> {
    checkKey(KIND, key);
    return watchKey(
      () => this.store.peek(key),
      (state) => state.entry(this.now(), this.epoch),
      () => this.isAlive(),
      () => new KeyNotFoundError(key, `${KIND} ${this.name}: key not found: ${key}`),
    );
  }

  /** Polling status of `key`, after Tango's DevPollStatus. */
  status(key: string): PollStatus {
    return this.require(key, false).pollStatus(
      this.now(),
      this.epoch,
      this.o.threaded,
      this.state === 'running',
    );
  }

  /** The last `historyDepth` values of `key` with their sample times, oldest first. */
  history(key: string): HistoryRecord<V>[] {
    return this.require(key, false).historyRecords(this.epoch);
  }

  /**
   * Counters since the last start: of all keys together (with the
   * distribution of read duration and lateness), or of one key (count, min,
   * mean and max only; its percentiles are reported as the max, an upper bound).
   */
  stats(key?: string): StatsSnapshot {
    if (key === undefined) {
      // `usage` of the whole dict is its busiest key's, so above 1 still means
      // "a key is overrunning"; read time over wall time is detail.readLoad.
      return {
        ...this.totals.snapshot(this.clock.now(), this.inFlight),
        usage: this.busiestUsage(),
      };
    }
    return this.require(key, false).stats(this.epoch, this.startedAt);
  }

  private busiestUsage(): number {
    let max = 0;
    for (const s of this.store.values()) {
      const u = s.usage();
      if (u > max) max = u;
    }
    return max;
  }

  /** Diagnostics of the dict and of every key, for the registry and `@tickwork/ops`. */
  diagnostics(): ComponentDiagnostics {
    const now = this.now();
    const running = this.state === 'running';
    const items = [];
    for (const s of this.store.values()) {
      items.push(itemDiagnostics(s, now, this.epoch, this.startedAt, this.o.threaded, running));
    }
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.stats(),
      items,
      detail: {
        size: this.store.size,
        // Keys have their own periods: this is only the default for new ones.
        defaultPeriodMs: this.o.periodMs,
        // Read time over wall time: above 1 when reads run in parallel.
        readLoad: this.totals.snapshot(this.clock.now(), this.inFlight).usage,
        threaded: this.o.threaded,
        inFlight: this.inFlight,
        queued: this.queue.length - this.queueHead,
        concurrency: Number.isFinite(this.concurrency) ? this.concurrency : null,
        maxEntries: Number.isFinite(this.o.maxEntries) ? this.o.maxEntries : null,
        historyDepth: this.o.historyDepth,
      },
    };
  }

  private getSlow(key: string, state: KeyState<V> | undefined, options: GetOptions | undefined): V {
    if (state === undefined) {
      checkKey(KIND, key);
      throw new KeyNotFoundError(key, `${KIND} ${this.name}: key not found: ${key}`);
    }
    let now = this.now();
    if (!this.o.threaded && state.polled && state.phase === IDLE && this.isAlive()) {
      // Read on access; an async read finishes in the background and serves later calls.
      state.readDue = now;
      if (this.inFlight >= this.concurrency) this.enqueue(state);
      else this.readKey(state);
      now = this.now();
      if (state.phase === IDLE && state.outcome === OK && now <= state.freshUntil)
        return state.value as V;
    }
    if (state.hasValue && (!state.isStale(now) || options?.allowStale === true)) {
      return state.value as V;
    }
    throw this.expiredError(state, now);
  }

  private expiredError(state: KeyState<V>, now: number): ExpiredError<V | undefined> {
    const error = state.error;
    const cause = error === undefined ? undefined : { cause: error };
    if (!state.hasValue) {
      const why = !this.o.threaded
        ? ''
        : this.state === 'running'
          ? ' (first read pending)'
          : ' (the dict is not started)';
      return new ExpiredError<V | undefined>(
        state.key,
        undefined,
        Number.POSITIVE_INFINITY,
        `${KIND} ${this.name}: ${state.key} has no value yet${why}`,
        cause,
      );
    }
    const age = now - state.sampledAt;
    return new ExpiredError<V | undefined>(
      state.key,
      state.value,
      age,
      `${KIND} ${this.name}: value of ${state.key} expired: sampled ${Math.round(age)} ms ago (expireMs ${state.expireMs})`,
      cause,
    );
  }
}
