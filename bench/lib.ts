/**
 * Shared helpers for the benchmarks: command-line flags, percentiles from
 * perf_hooks histograms, markdown tables and JSON results.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** Whether `--quick` was given (shorter runs, for smoke checks). */
export const quick = process.argv.includes('--quick');

/** Sub-millisecond epoch time, the same for every side of a comparison. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

/** A latency histogram recording milliseconds at 1 us resolution. */
export function latencyHistogram(): RecordableHistogram {
  return createHistogram();
}

/** Records `ms` into `h` (microseconds, at least 1). */
export function recordMs(h: RecordableHistogram, ms: number): void {
  h.record(Math.max(1, Math.round(ms * 1000)));
}

/** Percentiles of a histogram filled by {@link recordMs}, in ms. */
export function percentilesMs(h: RecordableHistogram): { p50: number; p99: number; max: number } {
  if (h.count === 0) return { p50: 0, p99: 0, max: 0 };
  return { p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
}

/** A markdown table from rows of cells. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Writes `data` as JSON to `bench/results/<name>.json` and returns the path. */
export function writeResult(name: string, data: unknown): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ name, at: new Date().toISOString(), node: process.version, quick, data }, null, 2)}\n`,
  );
  return path;
}

/** Runs the garbage collector when node was started with --expose-gc. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Resolves after `ms` of real time (benchmarks only; tests never sleep). */
export function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Formats a number with `digits` decimals. */
export function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}
