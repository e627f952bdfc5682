import type { HistogramSnapshot } from '@tickwork/core';

/** Values below this many ms get a bucket each. */
const LINEAR = 1024;
/** Sub-buckets per power of two above {@link LINEAR} (about 1.6% precision). */
const SUB = 64;
/** Powers of two covered above {@link LINEAR}: up to 2^41 ms (about 70 years). */
const OCTAVES = 31;

function indexOf(ms: number): number {
  const v = ms <= 0 ? 0 : Math.round(ms);
  if (v < LINEAR) return v;
  const e = Math.min(Math.floor(Math.log2(v)), 10 + OCTAVES - 1);
  const sub = Math.min(Math.floor(v / 2 ** (e - 6)) - SUB, SUB - 1);
  return LINEAR + (e - 10) * SUB + sub;
}

function bucketValue(index: number): number {
  if (index < LINEAR) return index;
  const e = 10 + Math.floor((index - LINEAR) / SUB);
  const sub = (index - LINEAR) % SUB;
  return (SUB + sub) * 2 ** (e - 6);
}

/**
 * A histogram of millisecond values: exact whole-ms buckets below 1024 ms,
 * log buckets (about 1.6%) above. Recording is an array increment.
 *
 * `ThreadDict` records two values per poll, hundreds of thousands of times
 * a second; Node's `perf_hooks` histograms (behind core `Stats`) cost
 * 40-70 ns a record through their validating JS wrapper, most of the
 * per-poll budget, while the clock's 1 ms resolution makes microsecond
 * buckets moot for these values.
 * @internal
 */
export class MsHistogram {
  private readonly counts = new Float64Array(LINEAR + OCTAVES * SUB);
  private n = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  /** Records one value, ms. */
  record(ms: number): void {
    this.counts[ms >= 0 && ms < LINEAR ? Math.round(ms) : indexOf(ms)]!++;
    this.n++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Forgets every value. */
  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  /** Percentiles as plain data. */
  snapshot(): HistogramSnapshot {
    if (this.n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count: this.n,
      min: this.min,
      mean: this.sum / this.n,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.max,
    };
  }

  private percentile(p: number): number {
    const target = Math.ceil((p / 100) * this.n);
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= target) return Math.min(Math.max(bucketValue(i), this.min), this.max);
    }
    return this.max;
  }
}
