import {
  errorSnapshot,
  type HistogramSnapshot,
  type LastErrorSnapshot,
  ScheduledTimer,
  type Scheduler,
  type SlotCallback,
  type StatsSnapshot,
} from '@tickwork/core';
import type { Subject } from 'rxjs';
import type { Deferred } from './deferred.js';
import type { KeyReadContext } from './readContext.js';
import type {
  Entry,
  EntryStatus,
  HistoryRecord,
  PollState,
  PollStatus,
} from './threadDictTypes.js';

/** Where a key's read stands; small integers so the hot path compares Smis. @internal */
export const IDLE = 0;
/** Waiting for a concurrency slot. @internal */
export const QUEUED = 1;
/** Collected for the `readMany` batch flushed at the end of this tick. @internal */
export const BATCHED = 2;
/** Inside a call of `read` that has not returned yet. @internal */
export const READING = 3;
/** A single async read is in flight, holding a concurrency slot. @internal */
export const AWAITING = 4;
/** Part of a `readMany` batch in flight (the batch holds the slot). @internal */
export const BATCH_READING = 5;

/** @internal */
export type ReadPhase =
  | typeof IDLE
  | typeof QUEUED
  | typeof BATCHED
  | typeof READING
  | typeof AWAITING
  | typeof BATCH_READING;

const STATUS: readonly EntryStatus[] = ['pending', 'ok', 'error'];
/** Outcome codes, indexes into {@link STATUS}. @internal */
export const PENDING = 0;
/** @internal */
export const OK = 1;
/** @internal */
export const FAILED = 2;

/**
 * A relative time before any real one: `freshUntil` of a key without a value.
 * A Smi, like every relative time, so it is stored unboxed. @internal
 */
export const NEVER = -(2 ** 30);

/**
 * `expireMs` / `timeoutMs` meaning "never" (about 12.4 days, or more). A Smi
 * rather than `Infinity`: one key holding a double in a field turns that field
 * into a boxed double for every key. @internal
 */
export const UNLIMITED = 2 ** 30 - 1;

/** An option value (possibly `Infinity`) as stored. @internal */
export function toLimit(ms: number): number {
  return Math.min(ms, UNLIMITED);
}

/** A stored limit as reported (`Infinity` for never). @internal */
export function fromLimit(ms: number): number {
  return ms >= UNLIMITED ? Number.POSITIVE_INFINITY : ms;
}

const POLLED = 1;
const REMOVED = 2;
const BACKOFF = 4;
const HAS_VALUE = 8;
const OWN_EXPIRE = 16;
const OWN_TIMEOUT = 32;
const SPREADING = 64;

/** `Object.is`, small enough to be inlined where a call through `options.equals` would not be. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return a !== 0 || 1 / (a as number) === 1 / (b as number);
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

function summary(count: number, sum: number, min: number, max: number): HistogramSnapshot {
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  // Per key only count/min/mean/max are kept; percentiles are reported as the
  // max, an upper bound. The dict-wide stats hold the real distribution.
  return { count, min, mean: sum / count, p50: max, p90: max, p99: max, max };
}

/**
 * What only some keys need, made on demand: failure details, the context of
 * an async read, its timeout timer, `read()` callers waiting, watchers.
 * @internal
 */
export class KeyExtra<V> {
  error: Error | undefined = undefined;
  /** Relative ms. */
  errorAt = 0;
  consecutiveErrors = 0;
  ctx: KeyReadContext<V> | null = null;
  timeoutTimer: ScheduledTimer | null = null;
  waiters: Deferred<V> | null = null;
  subject: Subject<Entry<V>> | null = null;
}

/**
 * Everything a `ThreadDict` keeps for one key: value and expiry, the state of
 * its read, its timer, per-key counters and its history ring.
 *
 * It *is* the key's scheduler timer (a `ScheduledTimer` subclass with the
 * dict's one shared callback): a poll touches the timer's fields and the
 * key's in one object, where a timer plus a closure per key cost two more
 * cold objects per poll at 10k keys.
 *
 * Laid out for 100k keys in under 1 KiB each and a `get` that touches one
 * object: times are whole ms relative to the dict's epoch, so they stay Smis
 * (an epoch-ms double field costs a separate 16-byte heap box and a pointer
 * hop); flags share one field; what only failing, async or watched keys need
 * lives in a {@link KeyExtra} made on demand; the history ring is one array
 * allocated once. Per-key counters are plain fields: a core `Stats` per key
 * carries two HDR histograms, hundreds of kilobytes of native memory each.
 * @internal
 */
export class KeyState<V> extends ScheduledTimer {
  // Field order is memory order: what every poll reads or writes comes first,
  // so a poll touches as few cache lines as possible.
  /** `get` serves the value without more checks while `now - epoch <= freshUntil`. */
  freshUntil = NEVER;
  value: V | undefined = undefined;
  readonly key: string;
  private flags = 0;
  phase: ReadPhase = IDLE;
  outcome = PENDING;
  /** Stored as {@link toLimit} gives it. */
  expireMs: number;
  /** When the value was sampled (relative ms). */
  sampledAt = 0;
  /** Start of the read in flight or of the last one (relative ms). */
  readStart = NEVER;
  /** Slot the queued, batched or running read is for (relative ms). */
  readDue = NEVER;
  /** Identifies the read in flight; bumped when one is abandoned so its late result is ignored. */
  readSeq = 0;
  /** Completed `set`s; a read that started before one is not stored (it holds older data). */
  writes = 0;
  writesAtRead = 0;
  extra: KeyExtra<V> | null = null;
  // Counters since the last start (StatsSnapshot meanings). -1: none yet.
  count = 0;
  reads = 0;
  delay = 0;
  accDelay = 0;
  latMin = -1;
  latMax = 0;
  lastDuration = -1;
  durSum = 0;
  durMin = -1;
  durMax = 0;
  /**
   * History ring, allocated once: value and relative sample time side by
   * side (`[v0, t0, v1, t1, ...]`), so recording touches one array, and the
   * times, being Smis, need no boxes.
   */
  private readonly hist: unknown[] | null;
  private histHead = 0;
  private histSize = 0;
  // Colder: read on schedule changes, failures and skips.
  pollPeriodMs: number;
  /** Stored as {@link toLimit} gives it. */
  timeoutMs: number;
  /** Origin of the key's slot grid (relative ms): slots are `anchor + k * periodMs`. */
  anchor = 0;
  /**
   * Which `readMany` batch the key joins when due: its period, or with
   * `batchBy` a negative id standing for (period, group).
   */
  batchId = 0;
  errors = 0;
  skipped = 0;
  missed = 0;

  /**
   * @param scheduler - runs the key's poll timer
   * @param onSlot - the dict's shared slot callback (given this state as the timer)
   */
  constructor(
    key: string,
    periodMs: number,
    historyDepth: number,
    scheduler: Scheduler,
    onSlot: SlotCallback,
  ) {
    super(scheduler, onSlot);
    this.key = key;
    this.pollPeriodMs = periodMs;
    this.expireMs = UNLIMITED;
    this.timeoutMs = UNLIMITED;
    this.hist = historyDepth > 0 ? new Array<unknown>(2 * historyDepth).fill(0) : null;
  }

  /** Polled (appended on a threaded dict) rather than only set. */
  get polled(): boolean {
    return (this.flags & POLLED) !== 0;
  }
  set polled(v: boolean) {
    this.flags = v ? this.flags | POLLED : this.flags & ~POLLED;
  }
  /** Dropped from the dict: late results must not bring it back. */
  get removed(): boolean {
    return (this.flags & REMOVED) !== 0;
  }
  set removed(v: boolean) {
    this.flags = v ? this.flags | REMOVED : this.flags & ~REMOVED;
  }
  /** Its timer is on a one-shot retry backoff rather than the period. */
  get backoff(): boolean {
    return (this.flags & BACKOFF) !== 0;
  }
  set backoff(v: boolean) {
    this.flags = v ? this.flags | BACKOFF : this.flags & ~BACKOFF;
  }
  /** Whether it has a value at all. */
  get hasValue(): boolean {
    return (this.flags & HAS_VALUE) !== 0;
  }
  /** `expireMs` was given for this key (else it follows the period). */
  get ownExpire(): boolean {
    return (this.flags & OWN_EXPIRE) !== 0;
  }
  set ownExpire(v: boolean) {
    this.flags = v ? this.flags | OWN_EXPIRE : this.flags & ~OWN_EXPIRE;
  }
  /** Waiting for the end of its append burst to get a phase. */
  get spreading(): boolean {
    return (this.flags & SPREADING) !== 0;
  }
  set spreading(v: boolean) {
    this.flags = v ? this.flags | SPREADING : this.flags & ~SPREADING;
  }
  /** `timeoutMs` was given for this key (else it follows the expiry). */
  get ownTimeout(): boolean {
    return (this.flags & OWN_TIMEOUT) !== 0;
  }
  set ownTimeout(v: boolean) {
    this.flags = v ? this.flags | OWN_TIMEOUT : this.flags & ~OWN_TIMEOUT;
  }

  /** The side object, made on first need. */
  more(): KeyExtra<V> {
    let extra = this.extra;
    if (extra === null) {
      extra = new KeyExtra<V>();
      this.extra = extra;
    }
    return extra;
  }

  /** The last read's error, if it failed. */
  get error(): Error | undefined {
    return this.extra === null ? undefined : this.extra.error;
  }

  /**
   * Stores a good value sampled at `at` (relative ms), fresh for `freshMs`;
   * returns whether it is a change (a first value, a recovery, or a value
   * `equals` calls different). `equals` may throw; nothing is stored then.
   */
  store(value: V, at: number, equals: ((a: V, b: V) => boolean) | null, freshMs: number): boolean {
    const old = this.value;
    const changed =
      (this.flags & HAS_VALUE) === 0 ||
      this.outcome === FAILED ||
      (equals === null ? !sameValue(old, value) : !equals(old as V, value));
    this.value = value;
    this.flags |= HAS_VALUE;
    this.sampledAt = at;
    this.freshUntil = at + freshMs;
    this.outcome = OK;
    if (this.extra !== null && this.extra.error !== undefined) {
      this.extra.error = undefined;
      this.extra.consecutiveErrors = 0;
    }
    const hist = this.hist;
    if (hist !== null) {
      const i = this.histHead;
      hist[i] = value;
      hist[i + 1] = at;
      this.histHead = i + 2 === hist.length ? 0 : i + 2;
      if (this.histSize < hist.length >> 1) this.histSize++;
    }
    return changed;
  }

  /** Records a failed read at `at` (relative ms); returns whether the key was not failing before. */
  fail(error: Error, at: number): boolean {
    const wasFailing = this.outcome === FAILED;
    const extra = this.more();
    this.outcome = FAILED;
    extra.error = error;
    extra.errorAt = at;
    extra.consecutiveErrors++;
    return !wasFailing;
  }

  /** Failures in a row (0 after a success). */
  get consecutiveErrors(): number {
    return this.extra === null ? 0 : this.extra.consecutiveErrors;
  }

  /** Counts the start of a read at `start` (relative ms) for the slot at `readDue`; returns its lateness. */
  started(start: number): number {
    const late = start - this.readDue;
    const lateness = Math.max(late, 0);
    this.readStart = start;
    this.reads++;
    this.delay = lateness;
    this.accDelay += lateness;
    if (lateness > this.latMax) this.latMax = lateness;
    if (lateness < this.latMin || this.latMin < 0) this.latMin = lateness;
    return lateness;
  }

  /** Counts a read that took `durationMs`. */
  finished(durationMs: number, failed: boolean): void {
    this.count++;
    if (failed) this.errors++;
    this.lastDuration = durationMs;
    this.durSum += durationMs;
    if (durationMs > this.durMax) this.durMax = durationMs;
    if (durationMs < this.durMin || this.durMin < 0) this.durMin = durationMs;
  }

  /** Counters back to zero (on `start()`). */
  resetStats(): void {
    this.count = 0;
    this.errors = 0;
    this.reads = 0;
    this.skipped = 0;
    this.missed = 0;
    this.delay = 0;
    this.accDelay = 0;
    this.latMin = -1;
    this.latMax = 0;
    this.durSum = 0;
    this.durMin = -1;
    this.durMax = 0;
  }

  /** Drops the history (on removal, so values can be collected). */
  clearHistory(): void {
    this.hist?.fill(0);
    this.histHead = 0;
    this.histSize = 0;
  }

  /** Whether the value is missing or older than `expireMs` at `now` (relative ms). */
  isStale(now: number): boolean {
    if ((this.flags & HAS_VALUE) === 0) return true;
    return this.expireMs < UNLIMITED && now - this.sampledAt > this.expireMs;
  }

  /** Snapshot as an {@link Entry}; `epoch` turns relative times into epoch ms. */
  entry(now: number, epoch: number): Entry<V> {
    const has = this.hasValue;
    return {
      key: this.key,
      value: this.value,
      hasValue: has,
      sampledAt: has ? epoch + this.sampledAt : null,
      expiresAt: has ? epoch + this.sampledAt + fromLimit(this.expireMs) : null,
      stale: this.isStale(now),
      error: this.error,
      status: STATUS[this.outcome]!,
    };
  }

  /** History records, oldest first. */
  historyRecords(epoch: number): HistoryRecord<V>[] {
    const out: HistoryRecord<V>[] = [];
    const hist = this.hist;
    if (hist === null) return out;
    const len = hist.length;
    let i = (this.histHead - 2 * this.histSize + len) % len;
    for (let n = 0; n < this.histSize; n++) {
      out.push({ value: hist[i] as V, sampledAt: epoch + (hist[i + 1] as number) });
      i = i + 2 === len ? 0 : i + 2;
    }
    return out;
  }

  /** Gaps between consecutive history records, newest first, ms. */
  deltas(): number[] {
    const out: number[] = [];
    const hist = this.hist;
    if (hist === null) return out;
    const len = hist.length;
    let i = (this.histHead - 2 + len) % len;
    for (let n = 1; n < this.histSize; n++) {
      const prev = (i - 2 + len) % len;
      out.push((hist[i + 1] as number) - (hist[prev + 1] as number));
      i = prev;
    }
    return out;
  }

  /** Where polling stands, for {@link PollStatus.state}. */
  pollState(threaded: boolean, running: boolean): PollState {
    if (!this.polled || !threaded) return 'unpolled';
    if (this.phase === QUEUED || this.phase === BATCHED) return 'queued';
    if (this.phase >= READING) return 'reading';
    if (!running) return 'stopped';
    return this.backoff ? 'backoff' : 'idle';
  }

  /** Tango-style poll status at `now` (relative ms). */
  pollStatus(now: number, epoch: number, threaded: boolean, running: boolean): PollStatus {
    const has = this.hasValue;
    return {
      key: this.key,
      polled: this.polled && threaded,
      state: this.pollState(threaded, running),
      periodMs: this.pollPeriodMs,
      expireMs: fromLimit(this.expireMs),
      timeoutMs: fromLimit(this.timeoutMs),
      lastReadAt: this.readStart === NEVER ? null : epoch + this.readStart,
      lastReadMs: this.lastDuration < 0 ? null : this.lastDuration,
      sampledAt: has ? epoch + this.sampledAt : null,
      ageMs: has ? now - this.sampledAt : null,
      deltasMs: this.deltas(),
      lastError: this.lastErrorSnapshot(epoch),
      consecutiveErrors: this.consecutiveErrors,
      count: this.count,
      errors: this.errors,
      skipped: this.skipped,
      missed: this.missed,
      next: this.nextDue(),
    };
  }

  /** Mean read time over the period: above 1 the key cannot keep its period. */
  usage(): number {
    return this.count === 0 ? 0 : this.durSum / this.count / this.pollPeriodMs;
  }

  /** The key's counters in the shape every tickwork component reports. */
  stats(epoch: number, startedAt: number): StatsSnapshot {
    return {
      count: this.count,
      errors: this.errors,
      lastError: this.lastErrorSnapshot(epoch),
      lastSuccess: this.hasValue ? epoch + this.sampledAt : null,
      delay: this.delay,
      accDelay: this.accDelay,
      avgDelay: this.reads === 0 ? 0 : this.accDelay / this.reads,
      usage: this.usage(),
      next: this.nextDue(),
      last: this.readStart === NEVER ? null : epoch + this.readStart,
      started: Number.isNaN(startedAt) ? null : startedAt,
      skipped: this.skipped,
      missed: this.missed,
      running: this.phase >= READING ? 1 : 0,
      duration: summary(this.count, this.durSum, Math.max(this.durMin, 0), this.durMax),
      lateness: summary(this.reads, this.accDelay, Math.max(this.latMin, 0), this.latMax),
    };
  }

  private nextDue(): number | null {
    return this.scheduled ? this.dueAt : null;
  }

  private lastErrorSnapshot(epoch: number): LastErrorSnapshot | null {
    const extra = this.extra;
    if (extra === null || extra.error === undefined) return null;
    return errorSnapshot(extra.error, epoch + extra.errorAt);
  }
}
