import type { HistogramSnapshot } from '@tickwork/core';
import { type Registry as PromRegistry, Summary } from 'prom-client';

/** Labels every tickwork metric carries: one series per component, never per key. */
export type ComponentLabels = { component: string; kind: string };

/** One series of a {@link SnapshotSummary}: a component's histogram, in ms. */
export interface SummarySample {
  /** Which component. */
  labels: ComponentLabels;
  /** Its histogram snapshot, ms (tickwork Stats keep ms; the metric is in seconds). */
  histogram: HistogramSnapshot;
}

type Label = 'component' | 'kind' | 'quantile';
type Exported = Awaited<ReturnType<Summary<Label>['get']>>;

/**
 * The quantiles exposed, after Go's `go_gc_duration_seconds`: 0 and 1 are the
 * minimum and maximum, which HDR histograms keep exactly.
 */
const QUANTILES: ReadonlyArray<readonly [string, keyof HistogramSnapshot]> = [
  ['0', 'min'],
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
  ['1', 'max'],
];

const MS_PER_S = 1000;

/**
 * A Prometheus summary whose quantiles, `_sum` and `_count` are read on each
 * scrape from Stats histograms that tickwork already keeps (percentiles since
 * the component's last `start()`), rather than observed through prom-client.
 * prom-client's own `Summary` only computes quantiles from its own
 * observations, so `get()` (its scrape-time hook) is replaced.
 * @internal
 */
export class SnapshotSummary extends Summary<Label> {
  /** Reads the samples at scrape time; not a `collect` option, which `get()` would call again. */
  private readonly readSamples: () => readonly SummarySample[];
  private readonly metricName: string;

  /**
   * @param name - metric name, ending in `_seconds`
   * @param help - HELP text
   * @param register - the registry to join
   * @param read - returns one sample per component on each scrape
   */
  constructor(
    name: string,
    help: string,
    register: PromRegistry,
    read: () => readonly SummarySample[],
  ) {
    super({ name, help, labelNames: ['component', 'kind'], registers: [register] });
    this.readSamples = read;
    this.metricName = name;
  }

  /** The summary's series, computed from the current samples. */
  override async get(): Promise<Exported> {
    // Read before the first await so every metric of one scrape sees the same snapshot.
    const samples = this.readSamples();
    const base = await super.get();
    const values: Exported['values'] = [];
    for (const { labels, histogram: h } of samples) {
      // No runs, no quantiles: Go clients print NaN here, prom-client would print
      // `Nan`; leaving the series out is unambiguous to every parser.
      if (h.count > 0) {
        for (const [quantile, field] of QUANTILES) {
          values.push({ labels: { ...labels, quantile }, value: h[field] / MS_PER_S });
        }
      }
      values.push({
        metricName: `${this.metricName}_sum`,
        labels,
        value: (h.mean * h.count) / MS_PER_S,
      });
      values.push({ metricName: `${this.metricName}_count`, labels, value: h.count });
    }
    return { ...base, values };
  }
}
