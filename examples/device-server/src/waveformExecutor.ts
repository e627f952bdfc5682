/**
 * Worker-thread side of the demo: waveform analysis, run in the
 * `WorkerProcess` pool so the poller's event loop never does the number
 * crunching.
 * @module
 */
import { defineExecutor } from '@tickwork/workers/worker';

/** Summary statistics of one waveform. */
export interface WaveformStats {
  /** Samples analysed. */
  samples: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
  /** Mean. */
  mean: number;
  /** Root mean square. */
  rms: number;
  /** Peak-to-peak amplitude. */
  peakToPeak: number;
  /** Upward zero crossings, a cheap frequency estimate. */
  crossings: number;
}

/**
 * The handlers the demo's pool runs. Samples come as a `Float64Array` in
 * process, and as a plain array across Redis (JSON).
 */
export const handlers = defineExecutor({
  waveformStats(samples: ArrayLike<number>): WaveformStats {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let squares = 0;
    let crossings = 0;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      squares += v * v;
      if (i > 0 && samples[i - 1]! < 0 && v >= 0) crossings++;
    }
    const n = samples.length;
    return {
      samples: n,
      min,
      max,
      mean: n === 0 ? 0 : sum / n,
      rms: n === 0 ? 0 : Math.sqrt(squares / n),
      peakToPeak: n === 0 ? 0 : max - min,
      crossings,
    };
  },
});
