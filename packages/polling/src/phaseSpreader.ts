/**
 * Default of `ThreadDict`'s `keysPerPhase`: keys read in one scheduler wake.
 *
 * A wake has a fixed cost besides its reads: the host timer, the event-loop
 * turn, and code and data gone cold in the CPU caches while the process
 * slept. Measured on a 2-vCPU VM that is 50-220 us of CPU a wake against
 * ~0.2 us (warm) to ~0.5 us (cold) for a synchronous read, so 500-key phases
 * spent more CPU waking than reading. 2000 keys of cheap synchronous reads
 * take about a millisecond: the last key of a phase starts that much after
 * the first.
 */
export const KEYS_PER_PHASE = 2000;

/**
 * Phase offsets for a burst of `count` keys with one period: the burst is cut
 * into `ceil(count / keysPerPhase)` phases (at most one per ms of the
 * period), evenly spaced over it; the `index`-th key of the burst gets the
 * offset of its phase. Consecutive keys share a phase, so a wake walks keys
 * that were appended, and allocated, together.
 * @internal
 */
export function phaseOffset(
  index: number,
  count: number,
  periodMs: number,
  keysPerPhase = KEYS_PER_PHASE,
): number {
  const phases = Math.max(1, Math.min(Math.ceil(count / keysPerPhase), Math.floor(periodMs)));
  const perPhase = Math.ceil(count / phases);
  return Math.floor((Math.floor(index / perPhase) * periodMs) / phases);
}

/**
 * Collects the keys appended in one synchronous burst (a loop appending
 * 10 000 keys) and hands them back when the burst ends, at the next
 * microtask, so they can be spread over their period with the burst's size
 * known: 10 000 keys at 100 ms get 20 phases 5 ms apart, 50 000 get 100
 * phases 1 ms apart, 300 keys all read together. The first phase reads at
 * once; every key reads within one period of its append.
 * @internal
 */
export class PhaseSpreader<T> {
  private pending: T[] = [];
  private queued = false;
  private readonly place: (burst: T[]) => void;
  private readonly flushBound = (): void => this.flush();

  /** @param place - called with each burst, in append order */
  constructor(place: (burst: T[]) => void) {
    this.place = place;
  }

  /** Adds an item to the current burst. */
  add(item: T): void {
    this.pending.push(item);
    if (!this.queued) {
      this.queued = true;
      queueMicrotask(this.flushBound);
    }
  }

  /** Ends the current burst now (e.g. on `start()`, where every key is known). */
  flush(): void {
    this.queued = false;
    if (this.pending.length === 0) return;
    const burst = this.pending;
    this.pending = [];
    this.place(burst);
  }
}
