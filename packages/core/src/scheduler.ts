import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { type Logger, silentLogger } from './logger.js';
import { MinHeap } from './minHeap.js';
import { checkNumber } from './validate.js';

/**
 * What a timer's callback is told about the slot it fires for. The scheduler
 * reuses one object for every call: read it inside the callback, copy what
 * you keep.
 */
export interface Slot {
  /** Scheduled time of this slot, epoch ms. */
  dueAt: number;
  /** When the scheduler fired it, epoch ms. */
  firedAt: number;
  /** `firedAt - dueAt`, ms, never negative. */
  latenessMs: number;
  /**
   * Slots passed over entirely before this one (periodic timers only): the
   * process was blocked or suspended, or the wall clock jumped forward.
   */
  missed: number;
}

/** Called when a {@link ScheduledTimer} falls due. */
export type SlotCallback = (slot: Readonly<Slot>, timer: ScheduledTimer) => void;

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** Time source. @defaultValue `systemClock` */
  clock?: Clock;
  /**
   * Longest single host-timer sleep, ms. Longer waits are split and the clock
   * re-checked on each wake, so delays over 2^31 ms, suspend and clock jumps
   * are safe. @defaultValue 30000
   */
  maxSleepMs?: number;
  /**
   * How far the wall clock may be behind the time a host timer was expected to
   * fire before it counts as a backward jump, ms. @defaultValue 1000
   */
  jumpToleranceMs?: number;
  /**
   * Width of a due-time bucket, ms: timers due within the same bucket fire in
   * one wake, at the end of the bucket. Wider buckets mean fewer host-timer
   * wakes (each costs tens of microseconds of CPU) for up to this much added
   * lateness. @defaultValue 1
   */
  resolutionMs?: number;
  /** Receives errors thrown by timer callbacks (they never reach the host timer). */
  logger?: Logger;
}

/** Options of {@link Scheduler.createTimer}. */
export interface TimerOptions {
  /**
   * `true` for timers due at a wall-clock time (cron): when the clock steps
   * back they keep their due time. Timers with `false` (the default: polling
   * periods, timeouts) are measured in elapsed time and move with the step, so
   * a period keeps its length and no slot fires twice. @defaultValue false
   */
  wallClock?: boolean;
}

/**
 * Timers due in one bucket. Keys are milliseconds since the scheduler's
 * origin: small integers, which V8 keeps unboxed (epoch milliseconds are not),
 * so the hot path allocates nothing. Buckets are reused once fired.
 */
interface Bucket {
  key: number;
  /**
   * Timers placed here, in `entries[0..size)`. The array keeps its capacity
   * when the bucket is fired and reused: emptying it with `length = 0` would
   * drop the backing store, and refilling a phase of hundreds of timers
   * regrows it, tens of bytes of garbage per fire.
   */
  readonly entries: (ScheduledTimer | null)[];
  size: number;
  /** Entries whose `bucket` is still this one. */
  live: number;
  /** Wake during which the bucket was made; one made during a wake waits for the next. */
  epoch: number;
}

/** Fired buckets kept for reuse, at most. */
const SPARE_BUCKETS = 256;

/**
 * A timer registered with a {@link Scheduler}: one-shot (`schedule(dueAt)`) or
 * periodic (`schedule(dueAt, periodMs)`). Periodic timers are drift-free: each
 * next due time is the previous due time plus the period, whatever the
 * callback did or how late it ran.
 */
export class ScheduledTimer {
  /** @internal */ bucket: Bucket | null = null;
  /**
   * Due time relative to the scheduler's origin, ms. Relative, and 0 rather
   * than NaN when unscheduled, so it stays a small integer: an epoch-ms field
   * lives in a separate heap box, one more cache line touched on every fire.
   * @internal
   */
  due = 0;
  /** @internal */ period = 0;
  /** @internal */ readonly wallClock: boolean;
  /** @internal */ readonly callback: SlotCallback;
  private readonly owner: Scheduler;

  /**
   * Most code calls {@link Scheduler.createTimer}. Subclassing is for code
   * running thousands of timers: a subclass holds the timer and the state it
   * drives in one object, and one `callback` shared by every instance (it is
   * given the timer) replaces a closure per timer, so a fire touches fewer
   * objects.
   * @param owner - the scheduler the timer runs on
   * @param callback - called on each slot with the slot and this timer
   * @param options - see {@link TimerOptions}
   */
  constructor(owner: Scheduler, callback: SlotCallback, options: TimerOptions = {}) {
    this.owner = owner;
    this.callback = callback;
    this.wallClock = options.wallClock ?? false;
  }

  /** Next due time, epoch ms; `NaN` when not scheduled. */
  get dueAt(): number {
    return this.bucket === null ? Number.NaN : this.owner.origin + this.due;
  }

  /** The period in ms, or 0 for a one-shot timer. */
  get periodMs(): number {
    return this.period;
  }

  /** Whether the timer is waiting to fire. */
  get scheduled(): boolean {
    return this.bucket !== null;
  }

  /**
   * Arms (or re-arms) the timer to fire at `dueAt` (epoch ms; a time already
   * past fires on the next wake) and, with `periodMs`, every `periodMs` after.
   * O(log buckets).
   */
  schedule(dueAt: number, periodMs = 0): this {
    checkNumber('ScheduledTimer', 'dueAt', dueAt, {});
    if (periodMs !== 0) checkNumber('ScheduledTimer', 'periodMs', periodMs, { min: 1 });
    this.period = periodMs;
    this.owner.insert(this, dueAt);
    return this;
  }

  /** Stops the timer from firing until scheduled again. O(1). */
  cancel(): void {
    this.owner.remove(this);
  }
}

/**
 * The one scheduler behind every tickwork timer. Timers register due times;
 * timers due in the same millisecond share a bucket, buckets sit in a min-heap,
 * and one host timer is armed for the earliest bucket, however many thousands
 * of timers there are.
 *
 * - Sleeps are capped at `maxSleepMs` and the clock re-checked on every wake.
 * - A periodic timer that wakes after several of its slots have passed fires
 *   once, for the latest passed slot, with `missed` counting the ones passed
 *   over; there are no catch-up bursts.
 * - When the wall clock steps back, elapsed-time timers move with it and
 *   wall-clock timers keep their time, so no slot already run fires again.
 *
 * Most code uses the shared instance from {@link getScheduler}.
 */
export class Scheduler {
  /** The clock this scheduler runs on. */
  readonly clock: Clock;
  private readonly maxSleepMs: number;
  private readonly jumpToleranceMs: number;
  private readonly resolutionMs: number;
  private readonly logger: Logger;
  private readonly buckets = new Map<number, Bucket>();
  private readonly spare: Bucket[] = [];
  private readonly heap = new MinHeap();
  /**
   * The bucket `place` used last: a wake re-places hundreds of periodic
   * timers of one phase into the same next bucket, so most placements skip
   * the Map lookup. Reset whenever a bucket leaves the Map.
   */
  private lastBucket: Bucket | null = null;
  /** Epoch ms that bucket keys and timers' `due` count from. @internal */
  readonly origin: number;
  private count = 0;
  /** The bucket a wake is firing: out of `buckets` by then, so `clear()` must reach it here. */
  private firingBucket: Bucket | null = null;
  private epoch = 0;
  private firing = false;
  private handle: TimerHandle | undefined;
  private armedKey = Number.POSITIVE_INFINITY;
  private expectedWake = Number.NaN;
  /** The latest clock reading, to catch a step back between wakes. */
  private lastNow: number;
  private readonly slot: Slot = { dueAt: 0, firedAt: 0, latenessMs: 0, missed: 0 };
  private readonly onWake = (): void => this.wake();

  /** @param options - see {@link SchedulerOptions} */
  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxSleepMs = checkNumber('Scheduler', 'options.maxSleepMs', options.maxSleepMs ?? 30_000, {
      min: 1,
      max: 2 ** 31 - 1,
    });
    this.jumpToleranceMs = checkNumber(
      'Scheduler',
      'options.jumpToleranceMs',
      options.jumpToleranceMs ?? 1_000,
      { min: 0 },
    );
    this.resolutionMs = checkNumber(
      'Scheduler',
      'options.resolutionMs',
      options.resolutionMs ?? 1,
      {
        min: 1,
        max: 1_000,
        integer: true,
      },
    );
    this.logger = options.logger ?? silentLogger;
    this.origin = Math.floor(this.clock.now());
    this.lastNow = this.origin;
  }

  /** Number of scheduled timers. */
  get size(): number {
    return this.count;
  }

  /** Whether a host timer is armed (false when nothing is scheduled). */
  get armed(): boolean {
    return this.handle !== undefined;
  }

  /** Makes a timer; it fires only once scheduled with `timer.schedule(...)`. */
  createTimer(callback: SlotCallback, options: TimerOptions = {}): ScheduledTimer {
    return new ScheduledTimer(this, callback, options);
  }

  /** Shorthand: a one-shot timer firing at `dueAt`. */
  at(dueAt: number, callback: SlotCallback, options?: TimerOptions): ScheduledTimer {
    return this.createTimer(callback, options).schedule(dueAt);
  }

  /** Shorthand: a periodic timer firing at `firstDueAt` and every `periodMs` after. */
  every(
    periodMs: number,
    callback: SlotCallback,
    firstDueAt = this.clock.now() + periodMs,
    options?: TimerOptions,
  ): ScheduledTimer {
    return this.createTimer(callback, options).schedule(firstDueAt, periodMs);
  }

  /** Cancels every timer and disarms the host timer. */
  clear(): void {
    for (const bucket of this.buckets.values()) {
      for (const t of liveEntries(bucket)) t.bucket = null;
    }
    // Called from a callback: the rest of the bucket being fired is cancelled too.
    const firing = this.firingBucket;
    if (firing !== null) {
      for (const t of liveEntries(firing)) t.bucket = null;
      firing.live = 0;
    }
    this.buckets.clear();
    this.lastBucket = null;
    this.heap.clear();
    this.count = 0;
    this.disarm();
  }

  /** @internal */
  insert(timer: ScheduledTimer, dueAt: number): void {
    if (this.firing) {
      // Inside a wake: the clock was checked on waking and the host timer is
      // armed when the wake ends.
      this.place(timer, dueAt - this.origin);
      return;
    }
    const now = this.clock.now();
    // A step back must be caught before this timer (computed from the new
    // wall time) is placed, or the rebase would move it too.
    const rebased = this.observe(now);
    const key = this.place(timer, dueAt - this.origin);
    if (rebased || key < this.armedKey) this.arm(now);
  }

  /** Places a timer in its bucket, due `rel` ms after the origin; returns the bucket key. */
  private place(timer: ScheduledTimer, rel: number): number {
    const r = this.resolutionMs;
    const key = r === 1 ? Math.ceil(rel) : Math.ceil(rel / r) * r;
    const old = timer.bucket;
    timer.due = rel;
    if (old !== null) {
      if (old.key === key) return key;
      old.live--;
      this.count--;
    }
    const last = this.lastBucket;
    let bucket = last !== null && last.key === key ? last : this.buckets.get(key);
    if (bucket === undefined) {
      bucket = this.spare.pop();
      if (bucket === undefined) bucket = { key, entries: [], size: 0, live: 0, epoch: this.epoch };
      else {
        bucket.key = key;
        bucket.epoch = this.epoch;
      }
      this.buckets.set(key, bucket);
      this.heap.push(key);
    }
    this.lastBucket = bucket;
    bucket.entries[bucket.size++] = timer;
    bucket.live++;
    timer.bucket = bucket;
    this.count++;
    return key;
  }

  /**
   * Notes a clock reading outside a wake; when the wall clock went back more
   * than the tolerance since the last reading, moves elapsed-time timers back
   * with it. Returns whether it did.
   */
  private observe(now: number): boolean {
    const last = this.lastNow;
    this.lastNow = now;
    if (!(now < last - this.jumpToleranceMs)) return false;
    this.rebase(now - last);
    return true;
  }

  /** @internal */
  remove(timer: ScheduledTimer): void {
    if (timer.bucket === null) return;
    // The stale reference left in the bucket is skipped when it fires.
    const bucket = timer.bucket;
    bucket.live--;
    timer.bucket = null;
    this.count--;
    if (this.firing) return;
    if (this.count === 0) this.disarm();
    else if (bucket.live === 0 && bucket.key === this.armedKey) this.arm(this.clock.now());
  }

  private wake(): void {
    this.handle = undefined;
    this.armedKey = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const slot = this.slot;
    const deferred: number[] = [];
    this.firing = true;
    try {
      // The host timer measures elapsed time, so the wall clock reading on
      // waking tells how far it stepped back since the timer was armed.
      if (now < this.expectedWake - this.jumpToleranceMs) this.rebase(now - this.expectedWake);
      else if (now < this.lastNow - this.jumpToleranceMs) this.rebase(now - this.lastNow);
      this.lastNow = now;
      const epoch = ++this.epoch;
      const nowKey = now - this.origin;
      while (this.heap.size > 0 && this.heap.peek() <= nowKey) {
        const key = this.heap.pop();
        const bucket = this.buckets.get(key);
        if (bucket === undefined) continue;
        if (bucket.epoch === epoch) {
          deferred.push(key);
          continue;
        }
        this.buckets.delete(key);
        if (bucket === this.lastBucket) this.lastBucket = null;
        this.firingBucket = bucket;
        const entries = bucket.entries;
        const size = bucket.size;
        for (let i = 0; i < size; i++) {
          const t = entries[i]!;
          // Cleared as it goes, so a spare bucket holds on to no timer.
          entries[i] = null;
          if (t.bucket !== bucket) continue;
          t.bucket = null;
          bucket.live--;
          this.count--;
          let due = t.due;
          let missed = 0;
          if (t.period > 0) {
            if (nowKey - due >= t.period) {
              missed = Math.floor((nowKey - due) / t.period);
              due += missed * t.period;
            }
            this.place(t, due + t.period);
          }
          slot.dueAt = this.origin + due;
          slot.firedAt = now;
          slot.latenessMs = nowKey > due ? nowKey - due : 0;
          slot.missed = missed;
          try {
            t.callback(slot, t);
          } catch (error) {
            this.logger.error({ err: error }, 'tickwork scheduler: a timer callback threw');
          }
        }
        bucket.size = 0;
        bucket.live = 0;
        if (this.spare.length < SPARE_BUCKETS) this.spare.push(bucket);
      }
    } finally {
      this.firing = false;
      this.firingBucket = null;
      for (const key of deferred) this.heap.push(key);
    }
    this.arm(this.clock.now());
  }

  /** Moves elapsed-time timers by `deltaMs` after the wall clock stepped back. */
  private rebase(deltaMs: number): void {
    const moved: ScheduledTimer[] = [];
    for (const bucket of this.buckets.values()) {
      for (const t of liveEntries(bucket)) if (!t.wallClock) moved.push(t);
    }
    for (const t of moved) this.place(t, t.due + deltaMs);
  }

  private arm(now: number): void {
    // Drop buckets emptied by cancels so they do not wake the host timer.
    while (this.heap.size > 0) {
      const top = this.heap.peek();
      const bucket = this.buckets.get(top);
      if (bucket !== undefined && bucket.live > 0) break;
      this.heap.pop();
      if (bucket !== undefined) {
        this.buckets.delete(top);
        if (bucket === this.lastBucket) this.lastBucket = null;
      }
    }
    if (this.count === 0 || this.heap.size === 0) {
      this.disarm();
      return;
    }
    const key = this.heap.peek();
    if (this.handle !== undefined) {
      if (key === this.armedKey) return;
      this.clock.clearTimeout(this.handle);
    }
    const delay = Math.min(Math.max(key + this.origin - now, 0), this.maxSleepMs);
    this.armedKey = delay === this.maxSleepMs ? now + delay - this.origin : key;
    this.expectedWake = now + delay;
    this.handle = this.clock.setTimeout(this.onWake, delay);
  }

  private disarm(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedKey = Number.POSITIVE_INFINITY;
  }
}

/**
 * The timers still placed in `bucket` (a cancelled or moved timer leaves a
 * stale entry; in the bucket being fired, the entries fired so far are null).
 */
function liveEntries(bucket: Bucket): ScheduledTimer[] {
  const out: ScheduledTimer[] = [];
  for (let i = 0; i < bucket.size; i++) {
    const t = bucket.entries[i];
    if (t != null && t.bucket === bucket) out.push(t);
  }
  return out;
}

const shared = new WeakMap<Clock, Scheduler>();

/**
 * The shared scheduler for `clock` (the system clock by default): every
 * component on the same clock uses the same one, so all their timers cost one
 * host timer.
 */
export function getScheduler(clock: Clock = systemClock): Scheduler {
  let scheduler = shared.get(clock);
  if (scheduler === undefined) {
    scheduler = new Scheduler({ clock });
    shared.set(clock, scheduler);
  }
  return scheduler;
}
