import {
  type Clock,
  ConfigError,
  checkBoolean,
  checkOneOf,
  checkOptions,
  globalRegistry,
  type Registry,
} from '@tickwork/core';
import { Counter, collectDefaultMetrics, Gauge, Registry as PromRegistry } from 'prom-client';
import type { ComponentSnapshot } from './diagnosticsSnapshot.js';
import {
  DEFAULT_METRIC_FAMILIES,
  FAMILY_NAMES,
  type MetricFamily,
  TASK_STATES,
} from './metricFamilies.js';
import { snapshot } from './snapshot.js';
import { type ComponentLabels, SnapshotSummary } from './snapshotSummary.js';
import { queueSize, taskCounts, utilization } from './taskCounts.js';

/** Options of {@link metrics}. */
export interface MetricsOptions {
  /**
   * Also register prom-client's default Node.js metrics (`process_*`,
   * `nodejs_*`, among them `nodejs_eventloop_lag_seconds`). They keep an
   * event-loop delay monitor running for the life of the process, so make one
   * metrics registry per process. @defaultValue true
   */
  defaultMetrics?: boolean;
  /**
   * Extra component kinds and the {@link MetricFamily} they report under, on
   * top of {@link DEFAULT_METRIC_FAMILIES}; kinds mapped nowhere are `'run'`.
   * @defaultValue `{}`
   */
  families?: Readonly<Record<string, MetricFamily>>;
  /** Clock for ages derived from `lastSuccess`; see {@link SnapshotOptions.clock}. @defaultValue `systemClock` */
  clock?: Clock;
}

/** One component as the metrics see it on one scrape. */
interface Row {
  readonly labels: ComponentLabels;
  readonly family: MetricFamily;
  readonly c: ComponentSnapshot;
}

type Sample<L extends string> = { labels: Record<L, string>; value: number };

const FAMILIES: readonly MetricFamily[] = ['poll', 'task', 'cron', 'run'];

/**
 * Memoises `compute` for one scrape: prom-client calls every metric's
 * scrape hook synchronously in one loop, so all of them share one registry
 * snapshot (consistent values, one walk over hundreds of keys) and the next
 * scrape, after a microtask, takes a fresh one.
 */
function perScrape<T>(compute: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (cached === undefined) {
      cached = { value: compute() };
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}

/**
 * Labels are `{component, kind}`; two live components with the same kind and
 * name would produce duplicate series, which makes Prometheus reject the
 * whole scrape, so later ones get ` (2)`, ` (3)`, ... in registration order.
 */
function rowsOf(
  components: readonly ComponentSnapshot[],
  families: ReadonlyMap<string, MetricFamily>,
): Row[] {
  const seen = new Map<string, number>();
  return components.map((c) => {
    const id = `${c.kind}\u0000${c.name}`;
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    const component = n === 1 ? c.name : `${c.name} (${n})`;
    return { labels: { component, kind: c.kind }, family: families.get(c.kind) ?? 'run', c };
  });
}

function counter<L extends string>(
  register: PromRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  samples: () => Iterable<Sample<L>>,
): void {
  const metric: Counter<L> = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [register],
    collect: () => {
      // Values are absolute readings of Stats counters, not increments.
      metric.reset();
      for (const s of samples()) metric.inc(s.labels as Partial<Record<L, string>>, s.value);
    },
  });
}

function gauge<L extends string>(
  register: PromRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  samples: () => Iterable<Sample<L>>,
): void {
  const metric: Gauge<L> = new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [register],
    collect: () => {
      // Reset drops series of components that left the registry since the last scrape.
      metric.reset();
      for (const s of samples()) metric.set(s.labels as Partial<Record<L, string>>, s.value);
    },
  });
}

const LABELS = ['component', 'kind'] as const;
type BaseLabel = (typeof LABELS)[number];

function* each(
  rows: readonly Row[],
  value: (row: Row) => number | undefined,
): Iterable<Sample<BaseLabel>> {
  for (const row of rows) {
    const v = value(row);
    if (v !== undefined && Number.isFinite(v)) yield { labels: row.labels, value: v };
  }
}

/** A Map, not an object: a kind named `toString` or `__proto__` must not hit Object.prototype. */
function checkFamilies(families: unknown): ReadonlyMap<string, MetricFamily> {
  const o = checkOptions('metrics', 'options.families', families as object | undefined);
  const out = new Map<string, MetricFamily>(Object.entries(DEFAULT_METRIC_FAMILIES));
  for (const [kind, family] of Object.entries(o)) {
    out.set(kind, checkOneOf('metrics', `options.families.${kind}`, family, FAMILIES));
  }
  return out;
}

function registerFamily(register: PromRegistry, family: MetricFamily, read: () => Row[]): void {
  const names = FAMILY_NAMES[family];
  const rows = () => read().filter((r) => r.family === family);
  new SnapshotSummary(names.duration, names.durationHelp, register, () =>
    rows().map((r) => ({ labels: r.labels, histogram: r.c.stats.duration })),
  );
  new SnapshotSummary(names.lateness, names.latenessHelp, register, () =>
    rows().map((r) => ({ labels: r.labels, histogram: r.c.stats.lateness })),
  );
  if (family === 'task') {
    counter(register, names.runs, names.runsHelp, [...LABELS, 'state'], function* () {
      for (const r of rows()) {
        const counts = taskCounts(r.c);
        for (const state of TASK_STATES)
          yield { labels: { ...r.labels, state }, value: counts[state] };
      }
    });
    gauge(register, 'tickwork_task_queue_size', 'Worker tasks waiting in the queue.', LABELS, () =>
      each(rows(), (r) => queueSize(r.c)),
    );
    gauge(
      register,
      'tickwork_task_utilization_ratio',
      "Share of the pool's thread time spent running tasks since the last start, 0..1.",
      LABELS,
      () => each(rows(), (r) => utilization(r.c)),
    );
    return;
  }
  counter(register, names.runs, names.runsHelp, [...LABELS, 'result'], function* () {
    for (const r of rows()) {
      const { count, errors } = r.c.stats;
      yield { labels: { ...r.labels, result: 'success' }, value: Math.max(0, count - errors) };
      yield { labels: { ...r.labels, result: 'error' }, value: errors };
    }
  });
}

function registerCommon(register: PromRegistry, read: () => Row[]): void {
  const items = (r: Row) => r.c.items ?? [];
  gauge(
    register,
    'tickwork_up',
    'Whether the component is running (1) or idle, stopped or stopping (0).',
    LABELS,
    () => each(read(), (r) => (r.c.state === 'running' ? 1 : 0)),
  );
  gauge(
    register,
    'tickwork_items',
    'Items the component holds: ThreadDict keys, worker targets, cron jobs (0 for ThreadedObjects).',
    LABELS,
    () => each(read(), (r) => items(r).length),
  );
  gauge(register, 'tickwork_failing_items', 'Items whose last run failed.', LABELS, () =>
    each(read(), (r) => items(r).filter((i) => i.overview.failing).length),
  );
  gauge(
    register,
    'tickwork_stale_items',
    'Items whose value is older than its expiry.',
    LABELS,
    () => each(read(), (r) => items(r).filter((i) => i.overview.stale).length),
  );
  gauge(register, 'tickwork_running', 'Runs in flight now.', LABELS, () =>
    each(read(), (r) => r.c.stats.running),
  );
  gauge(
    register,
    'tickwork_usage_ratio',
    'Busy fraction over recent runs: run time / period; above 1 means overrunning.',
    LABELS,
    () => each(read(), (r) => r.c.stats.usage),
  );
  gauge(
    register,
    'tickwork_last_success_timestamp_seconds',
    'When a run of the component last succeeded, Unix time in seconds.',
    LABELS,
    () =>
      each(read(), (r) =>
        r.c.stats.lastSuccess === null ? undefined : r.c.stats.lastSuccess / 1000,
      ),
  );
  counter(
    register,
    'tickwork_overruns_total',
    'Slots skipped because the previous run was still going, since the component last started.',
    LABELS,
    () => each(read(), (r) => r.c.stats.skipped),
  );
  counter(
    register,
    'tickwork_missed_total',
    'Slots missed because the process was blocked or suspended or the clock jumped, since the last start.',
    LABELS,
    () => each(read(), (r) => r.c.stats.missed),
  );
}

/**
 * A prom-client `Registry` exposing the components of `registry` as
 * Prometheus metrics, read on every scrape (nothing runs between scrapes).
 * Series are labelled by `component` (its name) and `kind`, never by key:
 * per-key detail lives in {@link snapshot}. Counters are the Stats counters,
 * which restart from 0 when a component restarts (Prometheus' `rate()` reads
 * that as a counter reset). Latency metrics are summaries with quantiles 0
 * (min), 0.5, 0.9, 0.99 and 1 (max) read from the Stats histograms.
 *
 * @example
 * ```ts
 * const promRegistry = metrics();
 * const text = await promRegistry.metrics(); // Prometheus text format
 * ```
 *
 * @param registry - the components to expose @defaultValue `globalRegistry`
 * @param options - see {@link MetricsOptions}
 * @throws ConfigError on a bad option
 */
export function metrics(
  registry: Registry = globalRegistry,
  options: MetricsOptions = {},
): PromRegistry {
  if (typeof (registry as Partial<Registry> | null)?.snapshot !== 'function') {
    throw new ConfigError('metrics: registry must be a Registry from @tickwork/core', 'registry');
  }
  const o = checkOptions('metrics', 'options', options);
  const families = checkFamilies(o.families);
  const withDefaults = checkBoolean('metrics', 'options.defaultMetrics', o.defaultMetrics ?? true);
  const snapshotOptions = o.clock === undefined ? {} : { clock: o.clock };

  const register = new PromRegistry();
  const read = perScrape(() => rowsOf(snapshot(registry, snapshotOptions).components, families));
  for (const family of FAMILIES) registerFamily(register, family, read);
  registerCommon(register, read);
  if (withDefaults) collectDefaultMetrics({ register });
  return register;
}
