import {
  AbortError,
  ConfigError,
  checkOptions,
  isThenable,
  KeyNotFoundError,
  Lifecycle,
  type ScheduledTimer,
  type Slot,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { LRUCache } from 'lru-cache';
import { Subject } from 'rxjs';
import { ChangeFeed } from './changeFeed.js';
import { checkKey } from './checks.js';
import { Deferred } from './deferred.js';
import {
  AWAITING,
  BATCH_READING,
  BATCHED,
  IDLE,
  KeyState,
  NEVER,
  QUEUED,
  READING,
  toLimit,
  UNLIMITED,
} from './keyState.js';
import { PhaseSpreader, phaseOffset } from './phaseSpreader.js';
import { PollTotals } from './pollTotals.js';
import { MISSING, missingError, pickResult, ReadBatch } from './readBatch.js';
import { KeyReadContext } from './readContext.js';
import { ReadFailure } from './readFailure.js';
import { retryDelay } from './retryPolicy.js';
import {
  type ReadFn,
  type ReadManyResult,
  type ResolvedDictOptions,
  resolveDictOptions,
  type ThreadDictOptions,
} from './threadDictOptions.js';
import type { Entry } from './threadDictTypes.js';
import { toError } from './toError.js';

/** Component kind, and the prefix of every message. @internal */
export const KIND = 'ThreadDict';

/** The key table: a Map, or an LRU cache when `maxEntries` bounds it. */
interface KeyStore<V> {
  get(key: string): KeyState<V> | undefined;
  peek(key: string): KeyState<V> | undefined;
  set(key: string, state: KeyState<V>): unknown;
  delete(key: string): boolean;
  keys(): Iterable<string>;
  values(): Iterable<KeyState<V>>;
  readonly size: number;
}

/** A Map with `peek` (in the LRU variant, a lookup that leaves recency alone). */
class MapStore<V> extends Map<string, KeyState<V>> implements KeyStore<V> {
  peek(key: string): KeyState<V> | undefined {
    return this.get(key);
  }
}

/**
 * The machinery under `ThreadDict`: the key table, one scheduler timer per
 * key, reads (synchronous without allocation, async with timeouts and
 * bounded concurrency), `readMany` batches, retry backoff, values, history
 * and change notification, and the lifecycle hooks. `ThreadDict` adds the
 * public API on top.
 * @internal
 */
export abstract class DictEngine<V> extends Lifecycle {
  protected readonly o: ResolvedDictOptions<V>;
  protected readonly store: KeyStore<V>;
  protected readonly readOne: ReadFn<V>;
  protected readonly batching: boolean;
  protected readonly concurrency: number;
  /** `options.equals`, or null for `Object.is` (inlined on the hot path). */
  protected readonly equals: ((a: V, b: V) => boolean) | null;
  /** Epoch ms that per-key relative times count from (they stay small integers). */
  protected readonly epoch: number;
  /** Keys appended in one synchronous burst, spread over their period when it ends. */
  protected readonly spreader = new PhaseSpreader<KeyState<V>>((burst) => this.spread(burst));
  protected readonly totals: PollTotals;
  protected readonly changes = new Subject<Entry<V>>();
  /** Delivers changes to watchers and `changes$` in the order they happened. */
  protected readonly feed = new ChangeFeed<V>(this.changes);
  /** Context lent to synchronous reads, pointed at each key in turn. */
  protected syncCtx: KeyReadContext<V>;
  /** `syncCtx` is in use by a read that has not returned yet. */
  protected syncCtxLent = false;
  /** Single async reads and batches in flight (what `concurrency` bounds). */
  protected inFlight = 0;
  /** Keys (single reads) and key lists (`readMany` batches) waiting for a concurrency slot. */
  protected readonly queue: (KeyState<V> | KeyState<V>[])[] = [];
  protected queueHead = 0;
  /** `readMany`: keys collected in this tick, by period. */
  protected readonly pendingBatches = new Map<number, KeyState<V>[]>();
  /** Ids of (period, batchBy group) pairs; see `batchIdOf`. */
  protected readonly batchIds = new Map<string, number>();
  protected flushQueued = false;
  protected readonly activeBatches = new Set<ReadBatch<V>>();
  /** `readMany`: origin of each period's shared slot grid (relative ms). */
  protected readonly gridAnchors = new Map<number, number>();
  protected idleWaiters: (() => void)[] = [];
  protected startedAt = Number.NaN;
  protected readonly flush = (): void => this.flushBatches();
  /** The one slot callback of every key's timer (the timer is the key's state). */
  protected readonly onTimer = (slot: Readonly<Slot>, timer: ScheduledTimer): void =>
    this.onSlot(timer as KeyState<V>, slot);

  /** @param options - see {@link ThreadDictOptions}; `read` or `readMany` is required */
  constructor(options: ThreadDictOptions<V>) {
    const resolved = resolveDictOptions(KIND, checkOptions(KIND, 'options', options));
    super(KIND, options);
    this.o = resolved;
    this.batching = resolved.readMany !== undefined && resolved.threaded;
    this.concurrency = resolved.concurrency;
    this.equals = resolved.equals === Object.is ? null : resolved.equals;
    const readMany = resolved.readMany;
    this.readOne =
      resolved.read ??
      ((key, ctx) => {
        const result = readMany!([key], ctx);
        if (!isThenable(result)) return pickOne(result, key);
        return Promise.resolve(result).then((r) => pickOne(r, key));
      });
    this.store =
      resolved.maxEntries === Number.POSITIVE_INFINITY
        ? new MapStore<V>()
        : new LRUCache<string, KeyState<V>>({
            max: resolved.maxEntries,
            dispose: (state, key, reason) => {
              if (reason === 'evict') {
                this.teardown(
                  state,
                  new AbortError(`${KIND} ${this.name}: ${key} was evicted (maxEntries)`),
                );
              }
            },
          });
    this.epoch = this.clock.now();
    this.totals = new PollTotals(this.epoch);
    this.syncCtx = new KeyReadContext<V>(
      new KeyState<V>('-', 1, 0, this.scheduler, this.onTimer),
      this.clock,
      this.epoch,
    );
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.startedAt = now;
    this.totals.reset(now);
    this.gridAnchors.clear();
    for (const s of this.store.values()) {
      s.resetStats();
      if (s.polled && this.o.threaded) this.schedule(s, false);
    }
    // Every key is known: spread them now rather than at the next microtask.
    this.spreader.flush();
  }

  protected onStop(): void {
    const stopped = new StoppedError(`${KIND} ${this.name}: stopped before the read started`);
    for (const s of this.store.values()) {
      s.cancel();
      s.backoff = false;
      if (s.phase === QUEUED || s.phase === BATCHED) {
        // Reads not started yet are dropped; those in flight finish.
        s.phase = IDLE;
        this.rejectWaiters(s, stopped);
      }
    }
    this.queue.length = 0;
    this.queueHead = 0;
    this.pendingBatches.clear();
  }

  protected onKill(): void {
    const stopped = new StoppedError(`${KIND} ${this.name}: killed`);
    for (const b of this.activeBatches) {
      b.done = true;
      b.timer?.cancel();
      b.ctx.abort(stopped);
    }
    this.activeBatches.clear();
    for (const s of this.store.values()) {
      s.cancel();
      const extra = s.extra;
      if (extra !== null) {
        extra.timeoutTimer?.cancel();
        if (s.phase === AWAITING) {
          extra.ctx?.abort(stopped);
          extra.ctx = null;
        }
      }
      s.readSeq++;
      s.phase = IDLE;
      this.rejectWaiters(s, stopped);
      if (extra !== null && extra.subject !== null) {
        extra.subject.complete();
        extra.subject = null;
      }
    }
    this.queue.length = 0;
    this.queueHead = 0;
    this.pendingBatches.clear();
    this.inFlight = 0;
    this.changes.complete();
    this.notifyIdle();
  }

  protected whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
  // ---- scheduling ---------------------------------------------------------

  /** Now, relative to the epoch. */
  protected now(): number {
    return this.clock.now() - this.epoch;
  }

  /**
   * When a read starts. Reads fired in one scheduler wake run back to back in
   * one synchronous turn, so a read starts when the previous one ended: one
   * clock reading per synchronous read instead of two (a clock reading is a
   * good share of a poll's cost). A microtask ends the chain.
   */
  protected readStartTime(): number {
    const chained = this.chainNow;
    if (!Number.isNaN(chained)) return chained;
    const now = this.now();
    this.chainNow = now;
    queueMicrotask(this.endChain);
    return now;
  }

  /** The end of a synchronous read, which is where the next one in this turn starts. */
  protected readEndTime(): number {
    const now = this.now();
    this.chainNow = now;
    return now;
  }

  private chainNow = Number.NaN;
  private readonly endChain = (): void => {
    this.chainNow = Number.NaN;
  };

  /** Arms the poll timer of `state`: spread (or on its period's grid with readMany), or from its last slot on re-append. */
  protected schedule(state: KeyState<V>, reappend: boolean): void {
    const period = state.pollPeriodMs;
    if (this.batching) {
      const now = this.now();
      let anchor = this.gridAnchors.get(period);
      if (anchor === undefined) {
        anchor = now;
        this.gridAnchors.set(period, anchor);
      }
      this.arm(state, anchor + Math.ceil((now - anchor) / period) * period);
    } else if (reappend && state.readDue !== NEVER) {
      this.arm(state, Math.max(this.now(), state.readDue + period));
    } else if (!state.spreading) {
      state.spreading = true;
      this.spreader.add(state);
    }
  }

  /** Gives the keys of one append burst their phases, by period (see `phaseOffset`). */
  protected spread(burst: KeyState<V>[]): void {
    const running = this.state === 'running';
    const byPeriod = new Map<number, KeyState<V>[]>();
    for (const s of burst) {
      s.spreading = false;
      if (!running || s.removed || !s.polled) continue;
      let group = byPeriod.get(s.pollPeriodMs);
      if (group === undefined) {
        group = [];
        byPeriod.set(s.pollPeriodMs, group);
      }
      group.push(s);
    }
    const now = this.now();
    for (const [period, group] of byPeriod) {
      for (let i = 0; i < group.length; i++)
        this.arm(group[i]!, now + phaseOffset(i, group.length, period, this.o.keysPerPhase));
    }
  }

  /** Starts the key's periodic slots at `due` (relative ms). */
  protected arm(state: KeyState<V>, due: number): void {
    state.anchor = due;
    state.backoff = false;
    state.schedule(this.epoch + due, state.pollPeriodMs);
  }

  /** A key's slot: the hot path. Allocates nothing unless the read is async. */
  protected onSlot(state: KeyState<V>, slot: Readonly<Slot>): void {
    if (slot.missed > 0) {
      state.missed += slot.missed;
      this.totals.missed += slot.missed;
    }
    if (state.phase !== IDLE) {
      state.skipped++;
      this.totals.skipped++;
      return;
    }
    state.readDue = slot.dueAt - this.epoch;
    if (this.batching) this.addToBatch(state);
    else if (this.inFlight >= this.concurrency) this.enqueue(state);
    else this.readKey(state);
  }

  /** Back on the period grid after a backoff. */
  protected resumePeriod(state: KeyState<V>, now: number): void {
    state.backoff = false;
    if (state.removed || !state.polled || this.state !== 'running') return;
    const period = state.pollPeriodMs;
    const due = state.anchor + (Math.floor((now - state.anchor) / period) + 1) * period;
    state.schedule(this.epoch + due, period);
  }

  protected backOff(state: KeyState<V>, now: number): void {
    const policy = this.o.retry;
    // An unthreaded dict reads on access only: a retry timer would start polling the key.
    if (policy === null || !this.o.threaded) return;
    if (state.removed || !state.polled || this.state !== 'running') return;
    state.backoff = true;
    state.schedule(
      this.epoch + now + retryDelay(policy, state.consecutiveErrors, state.pollPeriodMs),
    );
  }

  protected enqueue(state: KeyState<V>): void {
    state.phase = QUEUED;
    this.queue.push(state);
  }

  /** Starts queued reads while concurrency allows. */
  protected drain(): void {
    const queue = this.queue;
    while (this.inFlight < this.concurrency && this.queueHead < queue.length) {
      const job = queue[this.queueHead]!;
      this.queueHead++;
      if (Array.isArray(job)) {
        this.startBatch(job);
      } else if (job.phase === QUEUED && !job.removed) {
        job.phase = IDLE;
        this.readKey(job);
      }
    }
    if (this.queueHead === queue.length) {
      queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > queue.length) {
      queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  // ---- single reads -------------------------------------------------------

  /** Reads one key for the slot at `state.readDue`; a synchronous result is handled without a promise. */
  protected readKey(state: KeyState<V>): void {
    const start = this.readStartTime();
    state.phase = READING;
    const seq = ++state.readSeq;
    state.writesAtRead = state.writes;
    this.totals.readStarted(start, state.started(start));
    const extra = state.extra;
    let ctx = extra === null ? null : extra.ctx;
    let shared = false;
    if (ctx === null) {
      // Lent already: this read runs inside another one's `read` (a key derived
      // from others), which keeps the context it was given.
      if (this.syncCtxLent) this.renewSyncCtx();
      ctx = this.syncCtx;
      ctx.state = state;
      shared = true;
      this.syncCtxLent = true;
    }
    let result: V | PromiseLike<V>;
    try {
      result = this.readOne(state.key, ctx);
    } catch (error) {
      if (shared) this.returnSyncCtx(ctx);
      if (state.readSeq === seq)
        this.finish(state, false, undefined, toError(error), this.readEndTime());
      return;
    }
    if (!isThenable(result)) {
      if (shared) this.returnSyncCtx(ctx);
      if (state.readSeq === seq) this.finish(state, true, result, undefined, this.readEndTime());
      return;
    }
    if (shared) {
      // The pending read keeps this context; later synchronous reads get another one.
      state.more().ctx = ctx;
      if (ctx === this.syncCtx) {
        this.syncCtxLent = false;
        this.renewSyncCtx();
      }
    }
    if (state.readSeq !== seq) return;
    state.phase = AWAITING;
    this.inFlight++;
    if (state.timeoutMs < UNLIMITED) {
      const more = state.more();
      if (more.timeoutTimer === null)
        more.timeoutTimer = this.scheduler.createTimer(() => this.onTimeout(state));
      more.timeoutTimer.schedule(this.epoch + start + state.timeoutMs);
    }
    result.then(
      (value) => {
        if (state.readSeq === seq && state.phase === AWAITING)
          this.finishAsync(state, true, value, undefined);
      },
      (error: unknown) => {
        if (state.readSeq === seq && state.phase === AWAITING) {
          this.finishAsync(state, false, undefined, toError(error));
        }
      },
    );
  }

  /**
   * A synchronous read lent the shared context is done with it. A context a
   * nested read replaced is dropped; the shared one is kept unless the read
   * handed out its signal (which may carry the read's listeners).
   */
  protected returnSyncCtx(ctx: KeyReadContext<V>): void {
    if (ctx !== this.syncCtx) return;
    this.syncCtxLent = false;
    if (ctx.used) this.renewSyncCtx();
  }

  protected renewSyncCtx(): void {
    this.syncCtx = new KeyReadContext<V>(this.syncCtx.state, this.clock, this.epoch);
  }

  protected onTimeout(state: KeyState<V>): void {
    if (state.phase !== AWAITING) return;
    state.readSeq++;
    const error = new TimeoutError(
      `${KIND} ${this.name}: read of ${state.key} took longer than ${state.timeoutMs} ms`,
      state.timeoutMs,
    );
    const extra = state.more();
    extra.ctx?.abort(error);
    extra.ctx = null;
    this.finishAsync(state, false, undefined, error);
  }

  /** Ends an async read: frees its concurrency slot and timeout, then lets queued reads start. */
  protected finishAsync(
    state: KeyState<V>,
    ok: boolean,
    value: V | undefined,
    error: Error | undefined,
  ): void {
    this.inFlight--;
    const extra = state.extra;
    if (extra !== null) {
      extra.timeoutTimer?.cancel();
      // A context whose signal was handed out may carry the read's listeners: never reuse it.
      if (extra.ctx?.used === true) extra.ctx = null;
    }
    this.finish(state, ok, value, error, this.now());
    this.drain();
    if (this.inFlight === 0) this.notifyIdle();
  }

  /** Ends a read at `end` (relative ms): counters, then the value stored or the failure recorded. */
  protected finish(
    state: KeyState<V>,
    ok: boolean,
    value: V | undefined,
    error: Error | undefined,
    end: number,
  ): void {
    state.phase = IDLE;
    const duration = end - state.readStart;
    if (ok) {
      state.finished(duration, false);
      this.totals.readSucceeded(end, duration);
      const recovering = state.backoff;
      // A read that started before a completed `set` holds older data than the cache.
      if (state.writesAtRead === state.writes) this.storeValue(state, value as V, end, false);
      if (recovering) this.resumePeriod(state, end);
      const extra = state.extra;
      if (extra !== null && extra.waiters !== null) {
        const waiters = extra.waiters;
        extra.waiters = null;
        waiters.resolve(state.value as V);
      }
      return;
    }
    state.finished(duration, true);
    this.totals.readFailed(duration, error!, this.epoch + end);
    if (state.fail(error!, end)) {
      this.logger.warn({ component: this.name, key: state.key, err: error }, 'read failed');
      this.emit(state);
    }
    this.backOff(state, end);
    this.rejectWaiters(state, error);
  }

  // ---- readMany batches ---------------------------------------------------

  /**
   * The batch a key joins: its period, or with `batchBy` a negative id for
   * (period, group), so the hot path keys a Map by a number and builds no string.
   */
  protected batchIdOf(key: string, periodMs: number): number {
    const batchBy = this.o.batchBy;
    if (batchBy === undefined) return periodMs;
    const group = batchBy(key);
    if (typeof group !== 'string') {
      throw new ConfigError(
        `${KIND} ${this.name}: options.batchBy must return a string (got ${typeof group} for ${key})`,
        'options.batchBy',
      );
    }
    const name = `${periodMs}\u0000${group}`;
    let id = this.batchIds.get(name);
    if (id === undefined) {
      id = -(this.batchIds.size + 1);
      this.batchIds.set(name, id);
    }
    return id;
  }

  protected addToBatch(state: KeyState<V>): void {
    state.phase = BATCHED;
    const batchId = state.batchId === 0 ? state.pollPeriodMs : state.batchId;
    let list = this.pendingBatches.get(batchId);
    if (list === undefined) {
      list = [];
      this.pendingBatches.set(batchId, list);
    }
    list.push(state);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // Every key due in this scheduler wake is collected before the microtask runs.
      queueMicrotask(this.flush);
    }
  }

  protected flushBatches(): void {
    this.flushQueued = false;
    if (this.pendingBatches.size === 0) return;
    const lists = [...this.pendingBatches.values()];
    this.pendingBatches.clear();
    for (const list of lists) {
      if (this.inFlight >= this.concurrency) this.queue.push(list);
      else this.startBatch(list);
    }
  }

  protected startBatch(list: KeyState<V>[]): void {
    // Keys removed (or the dict stopped) since they were collected drop out.
    const states = list.filter((s) => s.phase === BATCHED && !s.removed);
    if (states.length === 0) return;
    const batch = new ReadBatch(states);
    const start = this.now();
    for (const s of states) {
      s.phase = BATCH_READING;
      s.writesAtRead = s.writes;
      this.totals.readStarted(start, s.started(start));
    }
    let result: ReadManyResult<V> | PromiseLike<ReadManyResult<V>>;
    try {
      result = this.o.readMany!(batch.keys, batch.ctx);
    } catch (error) {
      this.settleBatch(batch, undefined, toError(error), false);
      return;
    }
    if (!isThenable(result)) {
      this.settleBatch(batch, result, undefined, false);
      return;
    }
    this.inFlight++;
    this.activeBatches.add(batch);
    const timeoutMs = batch.timeoutMs();
    if (timeoutMs < UNLIMITED) {
      batch.timer = this.scheduler.at(this.epoch + start + timeoutMs, () => {
        const error = new TimeoutError(
          `${KIND} ${this.name}: readMany of ${batch.keys.length} keys took longer than ${timeoutMs} ms`,
          timeoutMs,
        );
        batch.ctx.abort(error);
        this.settleBatch(batch, undefined, error, true);
      });
    }
    result.then(
      (r) => this.settleBatch(batch, r, undefined, true),
      (error: unknown) => this.settleBatch(batch, undefined, toError(error), true),
    );
  }

  protected settleBatch(
    batch: ReadBatch<V>,
    result: ReadManyResult<V> | undefined,
    error: Error | undefined,
    async: boolean,
  ): void {
    if (batch.done) return;
    batch.done = true;
    if (async) {
      this.inFlight--;
      batch.timer?.cancel();
      this.activeBatches.delete(batch);
    }
    const end = this.now();
    const states = batch.states;
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      if (s.phase !== BATCH_READING || s.removed) continue;
      if (result === undefined) {
        this.finish(s, false, undefined, error, end);
      } else {
        const value = pickResult(result, s.key, i);
        if (value === MISSING)
          this.finish(s, false, undefined, missingError(`${KIND} ${this.name}`, s.key), end);
        else if (value instanceof ReadFailure)
          this.finish(s, false, undefined, toError(value.error), end);
        else this.finish(s, true, value, undefined, end);
      }
    }
    if (async) {
      this.drain();
      if (this.inFlight === 0) this.notifyIdle();
    }
  }

  // ---- values, watchers, helpers -------------------------------------------

  /** Caches a good value sampled at `at` (relative ms); `byWrite` marks a `set`. */
  protected storeValue(state: KeyState<V>, value: V, at: number, byWrite: boolean): void {
    if (byWrite) state.writes++;
    let changed: boolean;
    try {
      changed = state.store(value, at, this.equals, this.freshFor(state));
    } catch (error) {
      // `equals` threw before anything was stored: store the value as a change.
      changed = state.store(value, at, neverEqual, this.freshFor(state));
      this.logger.error(
        { component: this.name, key: state.key, err: error },
        'options.equals threw',
      );
    }
    if (changed) this.emit(state);
  }

  /** How long after sampling `get` serves a value without more checks, ms. */
  protected freshFor(state: KeyState<V>): number {
    if (this.o.threaded || !state.polled) return state.expireMs;
    return Math.min(state.pollPeriodMs, state.expireMs);
  }

  /** Fills in the expiry and timeout that follow the period, and refreshes `freshUntil`. */
  protected applyLimits(state: KeyState<V>): void {
    if (!state.ownExpire) {
      if (!state.polled) state.expireMs = UNLIMITED;
      else
        state.expireMs = toLimit(
          Number.isNaN(this.o.expireMs) ? 4 * state.pollPeriodMs : this.o.expireMs,
        );
    }
    if (!state.ownTimeout) {
      state.timeoutMs = Number.isNaN(this.o.timeoutMs) ? state.expireMs : toLimit(this.o.timeoutMs);
    }
    if (state.hasValue) state.freshUntil = state.sampledAt + this.freshFor(state);
  }

  protected emit(state: KeyState<V>): void {
    const extra = state.extra;
    const subject = extra === null ? null : extra.subject;
    const forKey = subject?.observed === true;
    const forAll = this.changes.observed;
    if (!forKey && !forAll) return;
    this.feed.deliver(forKey ? subject : null, state.entry(this.now(), this.epoch));
  }

  protected readNow(state: KeyState<V>): Promise<V> {
    const extra = state.more();
    let waiters = extra.waiters;
    if (waiters === null) {
      waiters = new Deferred<V>();
      extra.waiters = waiters;
    }
    // A read already queued or in flight serves this caller too.
    if (state.phase !== IDLE) return waiters.promise;
    state.readDue = this.now();
    if (this.inFlight >= this.concurrency) this.enqueue(state);
    else this.readKey(state);
    return waiters.promise;
  }

  protected rejectWaiters(state: KeyState<V>, reason: unknown): void {
    const extra = state.extra;
    if (extra === null || extra.waiters === null) return;
    const waiters = extra.waiters;
    extra.waiters = null;
    waiters.reject(reason);
  }

  /** Drops a removed or evicted key: timers off, read abandoned, waiters rejected, watchers completed. */
  protected teardown(state: KeyState<V>, reason: AbortError): void {
    state.removed = true;
    state.cancel();
    const phase = state.phase;
    const extra = state.extra;
    if (phase === READING || phase === AWAITING) {
      state.readSeq++;
      if (phase === READING && this.syncCtx.state === state) this.syncCtx.abort(reason);
      if (extra !== null) {
        extra.ctx?.abort(reason);
        extra.ctx = null;
      }
    }
    state.phase = IDLE;
    this.rejectWaiters(state, reason);
    if (extra !== null) {
      extra.timeoutTimer?.cancel();
      extra.subject?.complete();
      extra.subject = null;
    }
    state.clearHistory();
    if (phase === AWAITING) {
      this.inFlight--;
      this.drain();
      if (this.inFlight === 0) this.notifyIdle();
    }
  }

  protected notifyIdle(): void {
    const waiters = this.idleWaiters;
    if (waiters.length === 0) return;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** A new key's state, which is also its (unscheduled) poll timer. */
  protected newState(key: string, periodMs: number): KeyState<V> {
    return new KeyState<V>(key, periodMs, this.o.historyDepth, this.scheduler, this.onTimer);
  }

  protected ensure(key: string): KeyState<V> {
    let state = this.store.get(key);
    if (state === undefined) {
      state = this.newState(key, this.o.periodMs);
      this.applyLimits(state);
      this.store.set(key, state);
    }
    return state;
  }

  /** The state of `key` or `KeyNotFoundError`; `touch` counts as a use for `maxEntries` (diagnostics do not). */
  protected require(key: string, touch = true): KeyState<V> {
    checkKey(KIND, key);
    const state = touch ? this.store.get(key) : this.store.peek(key);
    if (state === undefined)
      throw new KeyNotFoundError(key, `${KIND} ${this.name}: key not found: ${key}`);
    return state;
  }

  protected assertAlive(method: string): void {
    if (!this.isAlive())
      throw new StoppedError(`${KIND} ${this.name}: ${method}() called after kill()`);
  }
}

function neverEqual(): boolean {
  return false;
}

function pickOne<V>(result: ReadManyResult<V>, key: string): V {
  const value = pickResult(result, key, 0);
  if (value === MISSING) throw missingError(KIND, key);
  if (value instanceof ReadFailure) throw toError(value.error);
  return value;
}
